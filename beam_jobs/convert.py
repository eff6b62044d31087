"""The conversion job: image listings in, sharded TFRecords of tf.train.Example out."""
from __future__ import annotations

import os
import uuid
from importlib import metadata
from typing import Callable, Dict, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import GoogleCloudOptions

from beam_jobs.config import ConfigError, JobConfig, config_as_dict
from beam_jobs import dataflow
from beam_jobs.dry_run import job_document, write_job_file
from beam_jobs.inputs import offline_input_plan, resolve_input
from beam_jobs.runner import make_runner, pipeline_options
from transforms.gcs import use_emulator_anonymously
from transforms.facts import SAMPLE_SIZE, GatherFacts
from transforms.finalize import Finalize, OutputSettings
from transforms.list_images import InputPlan, ListImages
from transforms.listing import is_remote
from transforms.pool import local_processes, shared_pool
from transforms.reading import load_manifest
from transforms.beam_sink import WriteWithBeamSink
from transforms.write_shards import ShardSettings, WriteShards

TEMP_PREFIX = ".image2tfrecord-tmp-"


def versions() -> Dict[str, str]:
    """Versions of what made the shards, for the manifest."""
    out = {}
    for name in ("image2tfrecord", "apache-beam", "pillow", "simplejpeg"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def convert_processes(cfg: JobConfig) -> int:
    """Worker processes per runner process: `auto` is one per core on local machines with
    more than two cores, none on Dataflow (whose SDK harness already runs a process per
    core); a number in the config wins."""
    setting = cfg.parallelism.processes
    if setting == "auto" and cfg.runner != "direct":
        return 0
    return local_processes(setting)


def shard_settings(cfg: JobConfig, temp_dir: str) -> ShardSettings:
    out = cfg.output
    return ShardSettings(
        temp_dir=temp_dir, image=cfg.image.spec(),
        shards=None if out.shards == "auto" else out.shards,
        target_bytes=out.shard_size_mb * 1024 * 1024,
        compression=out.compression, index=out.index,
        threads=0 if cfg.parallelism.threads == "auto" else cfg.parallelism.threads,
        processes=convert_processes(cfg),
    )


def build_pipeline(p: beam.Pipeline, cfg: JobConfig, plan: InputPlan, temp_dir: str) -> beam.PCollection:
    """Wire the job; it reads as its table of contents."""
    listed = p | "ListImages" >> ListImages(plan, cfg.split_fractions)
    refs = listed.refs
    if cfg.runner != "direct":  # one worker lists; spread the refs (locally: one bundle at a time)
        refs = refs | "SpreadRefs" >> beam.Reshuffle()
    # -> ImageRef(key, uri, label, split, extra)
    sample = SAMPLE_SIZE if cfg.output.shards == "auto" and cfg.output.sink == "shards" else 0
    facts = (refs, listed.failures) | "GatherFacts" >> GatherFacts(sample)
    # -> one DatasetFacts(labels, kinds, num_listed, bucket_counts, sample)
    shards, shard_failures = refs | "WriteShards" >> write_shards(cfg, plan, temp_dir, facts)
    # -> ShardResult(split, index, num_shards, temp_path, file_name, num_examples, num_bytes)
    failures = (listed.failures, shard_failures) | "AllFailures" >> beam.Flatten()
    # -> Failure(uri, stage, error)
    settings = OutputSettings(cfg.output.path, temp_dir, config_as_dict(cfg), versions())
    return p | "Finalize" >> Finalize(settings, shards, failures, facts)


def write_shards(cfg: JobConfig, plan: InputPlan, temp_dir: str, facts: beam.PCollection) -> beam.PTransform:
    """The configured sink: exact hash-ranked shards (default), or Beam's WriteToTFRecord."""
    settings = shard_settings(cfg, temp_dir)
    if cfg.output.sink == "beam":
        splits = tuple(sorted(set(cfg.splits) | set(plan.splits_seen)))
        return WriteWithBeamSink(settings, splits, facts)
    return WriteShards(settings, facts)


def check_output(path: str, overwrite: bool) -> None:
    """Refuse a non-empty output unless --overwrite; nothing is deleted here."""
    if not is_remote(path) and os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"config error: output.path: {path} is a file, not a folder")
    found = FileSystems.match([f"{path}/**"], limits=[1])[0].metadata_list
    if found and not overwrite:
        raise ConfigError(f"output.path: {path} is not empty (holds {found[0].path}); "
                          "pass --overwrite to replace its dataset")


def run_convert(cfg: JobConfig, overwrite: bool = False, say: Callable[[str], None] = print,
                job_file: Optional[str] = None) -> Optional[dict]:
    """Run the conversion to the end and return the manifest.

    With `job_file`, build the Dataflow job offline, write it there and return None.
    """
    if cfg.runner == "dataflow":
        dataflow.check(cfg)
    if job_file:
        if cfg.runner != "dataflow":
            raise ConfigError("config error: runner: --dry-run builds a Dataflow job; set runner: dataflow")
        return dry_run(cfg, job_file, say)
    use_emulator_anonymously()
    plan = resolve_input(cfg.input)
    say(f"input: {plan.kind} {plan.pattern}, layout {plan.layout} ({plan.reason})")
    check_output(cfg.output.path, overwrite)
    processes = convert_processes(cfg)
    if cfg.runner == "direct" and processes:
        shared_pool(processes).warm_up()  # starts while the input is listed
    options = pipeline_options(cfg)
    pipeline = new_pipeline(cfg, options)
    build_pipeline(pipeline, cfg, plan, _temp_dir(cfg))
    result = pipeline.run()
    if cfg.runner == "dataflow":
        template = options.view_as(GoogleCloudOptions).template_location
        if template:
            say(f"wrote a Dataflow template to {template}; the project is staged beside it")
            return None
        say(f"submitted Dataflow job {result.job_id()}; waiting for it to finish")
    result.wait_until_finish()
    return load_manifest(cfg.output.path)


def new_pipeline(cfg: JobConfig, options) -> beam.Pipeline:
    """A Pipeline on the configured runner; Beam's option errors become config errors."""
    try:
        return beam.Pipeline(runner=make_runner(cfg, options), options=options)
    except ValueError as exc:
        lines = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()] or [str(exc)]
        raise ConfigError("\n".join(f"config error: pipeline_options: {line}" for line in lines)) from None


def _temp_dir(cfg: JobConfig) -> str:
    return f"{cfg.output.path}/{TEMP_PREFIX}{uuid.uuid4().hex[:12]}"


def dry_run(cfg: JobConfig, job_file: str, say: Callable[[str], None]) -> None:
    """Build the job without contacting any service (nothing is listed, staged or submitted)."""
    plan = offline_input_plan(cfg.input)
    say(f"dry run: input {plan.kind} {plan.pattern}, layout {plan.layout} ({plan.reason})")
    options = pipeline_options(cfg, dry_run=True)
    pipeline = new_pipeline(cfg, options)
    build_pipeline(pipeline, cfg, plan, _temp_dir(cfg))
    result = pipeline.run()
    write_job_file(job_file, job_document(pipeline, result, options))
    say(f"wrote the {cfg.runner} job to {job_file}")


def summary_lines(manifest: dict, path: str) -> list:
    """The end-of-run summary: what was written, what failed and why."""
    lines = [f"wrote {manifest['num_examples']} of {manifest['num_listed']} images to {path}"]
    for split, entry in manifest["splits"].items():
        lines.append(f"  {split}: {entry['num_examples']} records in {entry['num_shards']} shards, "
                     f"{entry['num_bytes'] / 1e6:.1f} MB")
    if manifest["labels"]:
        lines.append(f"  labels: {len(manifest['labels'])} classes in labels.txt")
    if manifest["num_failed"]:
        lines.append(f"  failed: {manifest['num_failed']} (listed in failures.jsonl)")
        for reason, count in manifest["failures_by_reason"].items():
            lines.append(f"    {count:6d}  {reason}")
    return lines
