"""The collector helpers: what they change is undone, and garbage made under them is still collected."""
from __future__ import annotations

import gc
import weakref

from transforms.runtime.collector import collector_frozen, collector_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_paused_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_frozen_collects_while_it_runs_even_when_paused_before() -> None:
    with collector_paused(), collector_frozen():
        assert gc.isenabled() and gc.get_freeze_count() > 0
        cycle = weakref.ref(_Node())
        gc.collect()
        assert cycle() is None  # garbage made during the run is collected
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_what_was_frozen_is_collected_once_thawed() -> None:
    node = _Node()
    cycle = weakref.ref(node)
    with collector_frozen():
        del node
        gc.collect()
        assert cycle() is not None  # frozen: out of the collector's reach for the run
    gc.collect()
    assert cycle() is None
