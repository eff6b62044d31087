"""`image2tfrecord verify OUTPUT`: a Beam job that reads every shard and checks it end to end.

Per shard: the framing and both CRCs of every record, every Example parses, every image
decodes to the height, width and channels its features declare, the .idx file (if any)
matches, and the count matches the manifest. A missing shard is a problem of its own. Beside
the shards (read here, not in the job): no shard file the manifest does not list, and labels,
label map, failures and TFDS metadata that agree with it.
"""
from __future__ import annotations

import json
from typing import Callable, List

from beam_jobs.config import JobConfig
from beam_jobs.conversion import new_pipeline
from beam_jobs.runners import runner_for
from transforms.pipeline.verify_shards import VerifyShards
from transforms.readback.checks import ShardCheck, dataset_file_problems, shards_to_check
from transforms.readback.image_records import load_manifest
from transforms.storage import files


def read_report(prefix: str) -> List[ShardCheck]:
    checks = []
    for path in files.list_files(f"{prefix}*.jsonl"):
        for line in files.read_text(path).splitlines():
            raw = json.loads(line)
            checks.append(ShardCheck(raw["file"], raw["records"], tuple(raw["problems"])))
    return sorted(checks, key=lambda c: c.file)


def run_verify(cfg: JobConfig, root: str, say: Callable[[str], None]) -> int:
    """Verify the dataset at `root`; 0 when sound, 1 with every bad shard and record named."""
    manifest = load_manifest(root)
    runner = runner_for(cfg)
    runner.check(cfg)
    scratch = runner.scratch_prefix(cfg, root)
    prefix = f"{scratch}/report"
    pipeline = new_pipeline(runner, runner.options(cfg))
    _ = pipeline | "VerifyShards" >> VerifyShards(root, shards_to_check(manifest), prefix)
    pipeline.run().wait_until_finish()
    checks = read_report(prefix)
    files.remove_tree(scratch)
    bad = [c for c in checks if c.problems]
    total = sum(c.records for c in checks)
    for check in bad:
        for problem in check.problems:
            say(f"{check.file}: {problem}")
    beside = dataset_file_problems(root, manifest)
    for name, problem in beside:
        say(f"{name}: {problem}")
    if bad or beside:
        others = f"; {len(beside)} problem{'' if len(beside) == 1 else 's'} beside them" if beside else ""
        say(f"verify failed: {len(bad)} of {len(checks)} shards have problems ({total} records read){others}")
        return 1
    say(f"verify passed: {len(checks)} shards, {total} records, every image decodes as declared")
    return 0
