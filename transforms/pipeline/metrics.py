"""Counters and the failures output, named once for every DoFn, and read back after a run."""
from __future__ import annotations

from typing import Dict

from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter

NAMESPACE = "image2tfrecord"
FAILURES = "failures"  # the tagged output every DoFn sends its Failures to


def counter(name: str):
    """A Beam counter of this job (snake_case nouns: images_converted, images_failed_decode)."""
    return Metrics.counter(NAMESPACE, name)


def counters(result) -> Dict[str, int]:
    """The job's counters after a run, summed over steps (committed values where the
    runner has them, attempted otherwise)."""
    totals: Dict[str, int] = {}
    for item in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        value = item.committed if item.committed is not None else item.attempted
        totals[item.key.metric.name] = totals.get(item.key.metric.name, 0) + int(value or 0)
    return totals
