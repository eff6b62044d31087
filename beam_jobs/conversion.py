"""The conversion job: image listings in, sharded TFRecords of tf.train.Example out."""
from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import tempfile
import uuid
from importlib import metadata
from typing import Callable, ContextManager, Dict, List, Optional

import apache_beam as beam

from beam_jobs.config import JobConfig, config_as_dict
from beam_jobs.console import interrupts
from beam_jobs.errors import ConfigError, UserError, too_many_failed
from beam_jobs.inputs import check_annotations, check_cloud_access, label_rule, offline_input_plan, resolve_input
from beam_jobs.runners import JobRunner, runner_for
from beam_jobs.runners.dry_run import job_document, write_job_file
from transforms.dataset import tfds_metadata
from transforms.dataset.manifest import Manifest
from transforms.dataset.names import FAILURES, HIDDEN_PREFIX, SPILL, TEMP_PREFIX
from transforms.inputs.input_plan import InputPlan
from transforms.inputs.paths import is_remote
from transforms.pipeline.annotations import AttachAnnotations, AttachMasks
from transforms.pipeline.assign_splits import AssignSplits, LimitPerSplit
from transforms.pipeline.beam_sink import WriteWithBeamSink
from transforms.pipeline.facts import SAMPLE_SIZE, GatherFacts
from transforms.pipeline.finalize import Finalize, OutputSettings
from transforms.pipeline.list_images import ListImages
from transforms.pipeline.metrics import counters
from transforms.pipeline.write_shards import ShardSettings, WriteShards
from transforms.readback.image_records import load_manifest, read_manifest
from transforms.runtime import annotation_files
from transforms.runtime.collector import collector_frozen
from transforms.runtime.pool import local_processes, shared_pool
from transforms.runtime.work import DetectionSpec
from transforms.storage import files, lock, shard_markers, transaction
from transforms.storage.gcs import use_emulator_anonymously


def versions() -> Dict[str, str]:
    """Versions of what made the shards, for the manifest."""
    out = {}
    for name in ("image2tfrecord", "apache-beam", "pillow", "simplejpeg"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def convert_processes(cfg: JobConfig, runner: JobRunner) -> int:
    """Worker processes per runner process: `auto` is one per core on local machines with
    more than two cores, none on distributed runners (their SDK harness already runs a
    process per core); a number in the config wins."""
    setting = cfg.parallelism.processes
    if setting == "auto" and runner.distributed:
        return 0
    return local_processes(setting)


def shard_settings(cfg: JobConfig, runner: JobRunner, temp_dir: str, spill_dir: Optional[str] = None) -> ShardSettings:
    out = cfg.output
    return ShardSettings(
        temp_dir=temp_dir, image=cfg.image.spec(),
        shards=out.shards_of(), min_records=out.min_shard_records, detection=detection_spec(cfg),
        mask_ignore=cfg.input.mask_ignore if cfg.input.masks else None,
        target_bytes=out.shard_size_mb * 1024 * 1024,
        compression=out.compression, index=out.index,
        threads=0 if cfg.parallelism.threads == "auto" else cfg.parallelism.threads,
        processes=convert_processes(cfg, runner), spill_dir=spill_dir,
    )


def build_pipeline(p: beam.Pipeline, cfg: JobConfig, runner: JobRunner, plan: InputPlan,
                   temp_dir: str, run_id: str = "", spill_dir: Optional[str] = None) -> beam.PCollection:
    """Wire the job; it reads as its table of contents."""
    rule = cfg.split_rule()
    labels = label_rule(cfg, plan.classes)
    listed = p | "ListImages" >> ListImages(plan, rule, labels)
    refs, list_failures = listed.refs, listed.failures
    annotations = cfg.input.annotations
    if annotations.format not in ("none", "yolo"):  # detection: refs and their objects, joined by file stem
        joined = refs | "AttachAnnotations" >> AttachAnnotations(annotations.format, annotations.files_by_split(),
                                                                 lookup=not runner.distributed)
        refs = joined.refs
        list_failures = (list_failures, joined.failures) | "ListAndAnnotationFailures" >> beam.Flatten()
    if cfg.input.masks:  # segmentation: refs and their class-index masks, joined by file stem
        paired = refs | "AttachMasks" >> AttachMasks(cfg.input.masks, lookup=not runner.distributed)
        refs = paired.refs
        list_failures = (list_failures, paired.failures) | "ListAndMaskFailures" >> beam.Flatten()
    if rule.ranked:  # exact or stratified: by rank among all keys
        refs = refs | "AssignSplits" >> AssignSplits(rule)
    if cfg.input.limit is not None:  # trying settings: the first N of each split
        refs = refs | "LimitPerSplit" >> LimitPerSplit(cfg.input.limit)
    if runner.distributed:  # one worker lists; spread the refs (locally: one bundle at a time)
        refs = refs | "SpreadRefs" >> beam.Reshuffle()
    # -> ImageRef(key, uri, label, split, extra)
    sample = SAMPLE_SIZE if _sizes_shards(cfg) and cfg.output.sink == "shards" else 0
    facts = (refs, list_failures) | "GatherFacts" >> GatherFacts(sample, labels)
    # -> one DatasetFacts(labels, kinds, num_listed, bucket_counts, sample)
    shards, shard_failures = refs | "WriteShards" >> write_shards(cfg, runner, plan, temp_dir, facts, spill_dir)
    # -> ShardResult(split, index, num_shards, temp_path, file_name, num_examples, num_bytes)
    failures = (list_failures, shard_failures) | "AllFailures" >> beam.Flatten()
    # -> Failure(uri, stage, error, error_type)
    detection = annotations.given
    settings = OutputSettings(cfg.output.path, temp_dir, config_as_dict(cfg), versions(), run_id,
                              tfds_metadata.blocker(config_as_dict(cfg)["image"], cfg.output.compression),
                              detection, bool(cfg.input.masks), cfg.errors.max_failed_fraction)
    return p | "Finalize" >> Finalize(settings, shards, failures, facts)
    # -> Manifest


def detection_spec(cfg: JobConfig) -> Optional[DetectionSpec]:
    """What input.annotations says about boxes (class ids come from the listed objects)."""
    a = cfg.input.annotations
    if a.format == "none":
        return None
    return DetectionSpec((), a.frame, a.crowd == "drop", a.difficult == "drop", a.min_visible)


def _sizes_shards(cfg: JobConfig) -> bool:
    """Whether any split's shard count is `auto` (sized from a sample's record size)."""
    shards = cfg.output.shards
    if isinstance(shards, dict):
        return "auto" in shards.values() or set(shards) != set(cfg.splits)
    return shards == "auto"


def write_shards(cfg: JobConfig, runner: JobRunner, plan: InputPlan, temp_dir: str,
                 facts: beam.PCollection, spill_dir: Optional[str] = None) -> beam.PTransform:
    """The configured sink: exact hash-ranked shards (default), or Beam's WriteToTFRecord."""
    settings = shard_settings(cfg, runner, temp_dir, spill_dir)
    if cfg.output.sink == "beam":
        splits = tuple(sorted(set(cfg.splits) | set(plan.splits_seen)))
        return WriteWithBeamSink(settings, splits, facts)
    return WriteShards(settings, facts)


# What does not change the bytes written, and so does not change a run's fingerprint.
_NOT_IN_FINGERPRINT = ("parallelism", "runner", "dataflow", "portable", "pipeline_options", "errors")


def fingerprint(cfg: JobConfig) -> str:
    """Names the temp area: two runs share one (and resume each other) only if they would
    write the same bytes: same input, same config, same code and codecs."""
    config = {k: v for k, v in config_as_dict(cfg).items() if k not in _NOT_IN_FINGERPRINT}
    config["output"] = {k: v for k, v in config["output"].items() if k != "path"}
    text = json.dumps([config, versions()], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_output(path: str, overwrite: bool, area: str) -> None:
    """Refuse an output that holds anything but this run's own resumable state, unless
    --overwrite; with it, temp areas of other configs are removed (they cannot be resumed).
    The dataset there is replaced only by the commit, at the end."""
    entries = files.list_top(path)
    others = [e for e in entries if not e.startswith(HIDDEN_PREFIX)]
    foreign = [e for e in entries if e.startswith(TEMP_PREFIX) and e != area]
    if others and not overwrite:
        raise ConfigError("output.path", f"{path} is not empty (holds {path}/{others[0]}); "
                                         "pass --overwrite to replace its dataset")
    if foreign and not overwrite:
        raise ConfigError("output.path", f"{path} holds an unfinished conversion (interrupted or held) with "
                                         f"another input or config ({foreign[0]}): rerun that command to resume "
                                         "it, or pass --overwrite to start over")
    for name in foreign:
        files.remove_tree(f"{path}/{name}")


def run_convert(cfg: JobConfig, overwrite: bool = False, say: Callable[[str], None] = print,
                job_file: Optional[str] = None, force_unlock: bool = False,
                progress: Optional[Callable[[], ContextManager[object]]] = None) -> Optional[Manifest]:
    """Run the conversion to the end and return the manifest.

    With `job_file`, build the job offline (Dataflow), write it there and return None.
    The output is locked for the run; shards finished by an interrupted run of the same
    input and config are reused; the dataset is committed at the end as a transaction.
    """
    runner = runner_for(cfg)
    if job_file:
        runner.options(cfg, dry_run=True)  # refuses runners without a dry run, before any check
        runner.check(cfg)
        return dry_run(cfg, runner, job_file, say)
    runner.check(cfg)
    check_cloud_access(cfg)
    use_emulator_anonymously()
    classes = check_annotations(cfg, keep=not runner.distributed)
    plan = dataclasses.replace(resolve_input(cfg.input, cfg.output.path), classes=classes)
    say(f"input: {plan.describe(cfg.input.annotations.given)}")
    out = cfg.output.path
    if not is_remote(out) and os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError("output.path", f"{out} is a file, not a folder")
    run_id = uuid.uuid4().hex[:12]
    try:
        lock.acquire(out, run_id, force=force_unlock)
    except OSError as exc:  # read-only, no permission, disk full: before any conversion
        raise ConfigError("output.path", f"cannot write to {out}: {exc.strerror or exc}") from None
    try:
        transaction.roll_forward(out)  # a commit an earlier run began and did not finish
        transaction.discard_unwritten_journals(out)  # one killed before its journal was in place
        area = TEMP_PREFIX + fingerprint(cfg)
        check_output(out, overwrite, area)
        temp_dir = f"{out}/{area}"
        reused = shard_markers.count_finished(temp_dir)
        if reused:
            say(f"resuming: {reused} shard{'' if reused == 1 else 's'} finished by an interrupted or held run "
                "of the same input and config are kept")
        with progress() if progress else contextlib.nullcontext():
            return _run(cfg, runner, plan, temp_dir, run_id, say)
    except BaseException as exc:
        done = shard_markers.count_finished(f"{out}/{TEMP_PREFIX}{fingerprint(cfg)}")
        status = interrupts.received()
        if status is not None:
            raise Interrupted(f"interrupted: {done} shards finished and kept; rerun the same command to resume",
                              status) from None
        if _disk_full(exc):
            raise ConfigError("output.path", f"no space left on the device of {out}; {done} shards finished and "
                                             "kept: free space and rerun the same command to resume") from None
        raise
    finally:
        annotation_files.forget()  # a read the launch kept for a job that did not take it
        lock.release(out)


def spill_folder(runner: JobRunner, temp_dir: str) -> Optional[str]:
    """Where the local runner's refs wait while they are grouped (transforms/storage/spill.py),
    emptied first (a killed run's); none on distributed runners, whose shuffles spill."""
    if runner.distributed:
        return None
    if is_remote(temp_dir):
        return tempfile.mkdtemp(prefix="image2tfrecord-spill-")
    folder = f"{temp_dir}/{SPILL}"
    files.remove_tree(folder)
    return folder


def _disk_full(exc: BaseException) -> bool:
    """Whether the run failed for a full disk (Beam re-raises a DoFn's error under its own types)."""
    while exc is not None:
        if getattr(exc, "errno", None) == errno.ENOSPC or "No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def _run(cfg: JobConfig, runner: JobRunner, plan: InputPlan, temp_dir: str, run_id: str,
         say: Callable[[str], None]) -> Optional[Manifest]:
    processes = convert_processes(cfg, runner)
    if not runner.distributed and processes:
        shared_pool(processes).warm_up()  # starts while the input is listed
    options = runner.options(cfg)
    pipeline = new_pipeline(runner, options)
    spill = spill_folder(runner, temp_dir)
    build_pipeline(pipeline, cfg, runner, plan, temp_dir, run_id, spill)
    try:
        with collector_frozen():  # collects again (the command line paused it), over what the run makes
            result = pipeline.run()
            if not runner.started(result, options, say):
                return None
            runner.follow(result, say)
    finally:
        if spill:
            files.remove_tree(spill)
    counted = counters(result)
    if counted.get("files_skipped"):
        skipped = counted["files_skipped"]
        say(f"skipped {skipped} file{'' if skipped == 1 else 's'} whose name input.extensions does not take")
    for line in join_lines(counted):
        say(line)
    if counted.get("shards_reused"):
        reused, converted = counted["shards_reused"], counted.get("images_converted", 0)
        say(f"reused {reused} finished shard{'' if reused == 1 else 's'}; "
            f"converted {converted} image{'' if converted == 1 else 's'}")
    published = load_manifest(cfg.output.path)
    if published.run_id != run_id:  # Finalize held this run: over the failure limit, a dataset was there
        raise RunHeld(read_manifest(temp_dir), cfg.output.path, temp_dir, cfg.errors.max_failed_fraction)
    return published


def join_lines(counted: Dict[str, int]) -> List[str]:
    """What pairing (by file stem and path) left unpaired: images with no annotation or mask (records
    without objects or mask) and annotations naming no image; a file-name mismatch shows here."""
    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    lines, parts = [], []
    if counted.get("images_without_annotation"):
        parts.append(count(counted["images_without_annotation"], "image has no annotation (a record with no objects)",
                           "images have no annotation (records with no objects)"))
    if counted.get("annotations_without_image"):
        parts.append(count(counted["annotations_without_image"], "annotation names no image in input.path",
                           "annotations name no image in input.path"))
    if parts:
        lines.append("annotations: " + "; ".join(parts) + " (paired by file stem and path)")
    if counted.get("images_without_mask"):
        lines.append("masks: " + count(counted["images_without_mask"], "image has", "images have")
                     + " no mask in input.masks (paired by file stem and path)")
    return lines


class Interrupted(UserError):
    """Ctrl-C or SIGTERM: the finished shards stay for a rerun to resume from."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def lines(self) -> List[str]:
        return [str(self)]


class RunHeld(UserError):
    """More images failed than errors.max_failed_fraction allows, and the output held a dataset:
    that dataset stays as it was, and this run waits, staged whole, in its temp area (its
    manifest and failures.jsonl there), for a rerun to finish it."""

    def __init__(self, manifest: Manifest, path: str, area: str, limit: float) -> None:
        super().__init__(f"{too_many_failed(manifest.failed_fraction, limit)}: {path} keeps its dataset; this run is "
                         f"held in {area} (its failures.jsonl says why); fix the inputs, or raise the limit, and "
                         "rerun the same command to finish it")
        self.manifest, self.path, self.area = manifest, path, area


def new_pipeline(runner: JobRunner, options) -> beam.Pipeline:
    """A Pipeline on the configured runner; Beam's option errors become config errors."""
    try:
        return beam.Pipeline(runner=runner.make(options), options=options)
    except ValueError as exc:
        lines = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()] or [str(exc)]
        raise ConfigError(problems=[("pipeline_options", line) for line in lines]) from None


def dry_run(cfg: JobConfig, runner: JobRunner, job_file: str, say: Callable[[str], None]) -> None:
    """Build the job without contacting any service (nothing is listed, staged or submitted)."""
    plan = offline_input_plan(cfg.input)
    say(f"dry run: input {plan.describe(cfg.input.annotations.given)}")
    options = runner.options(cfg, dry_run=True)
    pipeline = new_pipeline(runner, options)
    build_pipeline(pipeline, cfg, runner, plan, f"{cfg.output.path}/{TEMP_PREFIX}{fingerprint(cfg)}")
    result = pipeline.run()
    write_job_file(job_file, job_document(pipeline, result, options))
    say(f"wrote the {cfg.runner} job to {job_file}")


def summary_lines(manifest: Manifest, path: str, held: bool = False) -> list:
    """The end-of-run summary: what was written, what failed and why; `held`: a run RunHeld
    left staged in `path`, its temp area (not a dataset a reader opens)."""
    done = "converted" if held else "wrote"
    lines = [f"{done} {manifest.num_examples} of {manifest.num_listed} images to {path}"]
    for split, entry in manifest.splits.items():
        shards = "shard" if entry.num_shards == 1 else "shards"
        lines.append(f"  {split}: {entry.num_examples} records in {entry.num_shards} {shards}, "
                     f"{entry.num_bytes / 1e6:.1f} MB")
    classes = sum(1 for name in manifest.labels if name)  # not the unnamed ids below the first (0: the background)
    if classes:
        lines.append(f"  labels: {classes} {'class' if classes == 1 else 'classes'} in labels.txt")
    tfds = "" if held else manifest.tfds  # a held run's shards have their temp names yet
    if tfds == "written":
        lines.append(f"  tfds: tfds.builder_from_directory({path!r}) reads it")
    elif tfds:
        lines.append(f"  tfds: no TFDS metadata: {manifest.tfds}")
    if manifest.num_failed:
        lines.append(f"  failed: {manifest.num_failed} (all in failures.jsonl); the most common reasons:")
        examples = failure_examples(path, list(manifest.failures_by_reason)[:TOP_REASONS])
        for reason, count in list(manifest.failures_by_reason.items())[:TOP_REASONS]:
            lines.append(f"    {count:6d}  {reason}")
            if reason in examples:
                lines.append(f"            e.g. {examples[reason]}")
        if len(manifest.failures_by_reason) > TOP_REASONS:
            lines.append(f"            ... and {len(manifest.failures_by_reason) - TOP_REASONS} more reasons")
    return lines


TOP_REASONS = 3


def failure_examples(path: str, reasons: List[str], longest: int = 160) -> Dict[str, str]:
    """One failure line's uri and message for each of `reasons` (read until all are found)."""
    found: Dict[str, str] = {}
    try:
        with files.open_read(f"{path}/{FAILURES}") as handle:
            for raw in handle:
                failure = json.loads(raw)
                reason = f"{failure['stage']}: {failure['error'].split(':', 1)[0]}"
                if reason in reasons and reason not in found:
                    text = f"{failure['uri'].rsplit('/', 1)[-1]}: {failure['error']}"
                    found[reason] = text if len(text) <= longest else text[:longest - 3] + "..."
                    if len(found) == len(reasons):
                        break
    except (OSError, ValueError, KeyError):
        pass
    return found
