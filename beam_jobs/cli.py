"""The command line.

    image2tfrecord convert [CONFIG] [--set key=value ...] [--overwrite] [--dry-run --job-file PATH]
    image2tfrecord verify OUTPUT [--config CONFIG] [--set key=value ...]
    image2tfrecord inspect OUTPUT
    image2tfrecord preview OUTPUT [--split S] [--n 36] --output sheet.png

Every problem the user can fix is one line and exit status 2 (`--debug` adds the traceback).
"""
from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import signal
import sys
import traceback
from typing import List, NoReturn, Optional, Tuple

from beam_jobs.api import convert
from beam_jobs.config import load_config
from beam_jobs.console import interrupts
from beam_jobs.errors import ConfigError, UserError, too_many_failed
from transforms.dataset.manifest import Manifest
from transforms.runtime.annotation_files import prefetch
from transforms.runtime.collector import collector_paused
from transforms.runtime.native import limit_malloc_arenas, one_blas_thread

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNACCOUNTED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


EXAMPLES = {
    "convert": """examples:
  image2tfrecord convert --set input.path=photos/ --set output.path=out/photos
  image2tfrecord convert launch/local.yaml --set image.resize.mode=shorter_side --set image.resize.size=256
  image2tfrecord convert launch/local.yaml --plan            # what would be converted, written nothing
  image2tfrecord convert launch/local.yaml --limit 50        # the first 50 images of each split
  image2tfrecord convert launch/dataflow.yaml --dry-run --job-file job.json""",
    "verify": "example:\n  image2tfrecord verify out/photos",
    "inspect": "example:\n  image2tfrecord inspect out/photos",
    "preview": "example:\n  image2tfrecord preview out/photos --split validation --n 36 --output sheet.png",
}


class _Parser(argparse.ArgumentParser):
    """argparse that suggests the command meant (`convrt` -> convert)."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        match = re.search(r"invalid choice: '([^']*)'", message)
        if match:
            close = difflib.get_close_matches(match.group(1), list(EXAMPLES), n=1)
            if close:
                message += f"; did you mean {close[0]}?"
        super().error(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="image2tfrecord", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show the traceback of any error")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub = {"formatter_class": argparse.RawDescriptionHelpFormatter}
    convert = commands.add_parser("convert", help="convert images into sharded TFRecords", epilog=EXAMPLES["convert"],
                                  description="Convert images into sharded TFRecords of tf.train.Example.", **sub)
    convert.add_argument("config", nargs="?", help="launch YAML (see launch/); optional when --set gives "
                                                   "input.path and output.path")
    convert.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                         help="override a config key, e.g. --set output.shards=8 (repeatable)")
    convert.add_argument("--overwrite", action="store_true",
                         help="allow writing into a non-empty output path, replacing its dataset")
    convert.add_argument("--force-unlock", action="store_true",
                         help="take the output's lock even if another run (on another host) seems to hold it")
    convert.add_argument("--quiet", action="store_true", help="no progress line")
    convert.add_argument("--plan", action="store_true",
                         help="list what would be converted (files, layout, classes, splits, shards, size, time); "
                              "write nothing")
    convert.add_argument("--limit", type=_positive, metavar="N",
                         help="convert only the first N images of each split (in the job's order), to try settings")
    convert.add_argument("--dry-run", action="store_true",
                         help="build the job offline without running it (needs --job-file)")
    convert.add_argument("--job-file", metavar="PATH", help="with --dry-run: where to write the job JSON")
    verify = commands.add_parser("verify", help="check every shard, record and image of a converted dataset",
                                 epilog=EXAMPLES["verify"], **sub)
    verify.add_argument("output", help="the converted dataset (local or gs://)")
    verify.add_argument("--config", help="launch YAML for the runner (runner, dataflow, pipeline_options)")
    verify.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    inspect = commands.add_parser("inspect", help="counts per split and class, shard and size statistics",
                                  epilog=EXAMPLES["inspect"], **sub)
    inspect.add_argument("output", help="the converted dataset (local or gs://)")
    preview = commands.add_parser("preview", help="a contact sheet PNG of decoded records with their labels",
                                  epilog=EXAMPLES["preview"], **sub)
    preview.add_argument("output", help="the converted dataset (local or gs://)")
    preview.add_argument("--split", default="train", help="which split (default train)")
    preview.add_argument("--n", type=_positive, default=36, help="how many records (default 36)")
    preview.add_argument("--output", dest="sheet", required=True, metavar="PNG", help="where to write the sheet")
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("image2tfrecord")
    except metadata.PackageNotFoundError:
        return "unknown"


def verify_command(args: argparse.Namespace) -> int:
    from beam_jobs.verify import run_verify

    root = args.output.rstrip("/")
    cfg = load_config(args.config, [f"input.path={root}", f"output.path={root}", *args.overrides])
    return run_verify(cfg, root, _say)


def inspect_command(args: argparse.Namespace) -> int:
    from beam_jobs.describe import inspect_lines

    for line in inspect_lines(args.output.rstrip("/")):
        _say(line)
    return 0


def preview_command(args: argparse.Namespace) -> int:
    from beam_jobs.describe import preview

    count = preview(args.output.rstrip("/"), args.split, args.n, args.sheet)
    _say(f"wrote a contact sheet of {count} {args.split} records to {args.sheet}")
    return 0


HOW_TO_START = """nothing to convert: say where the images are and where the dataset goes, e.g.
  image2tfrecord convert --set input.path=photos/ --set output.path=out/photos
or give a launch YAML (launch/local.yaml lists every key). See image2tfrecord convert --help."""


def convert_command(args: argparse.Namespace) -> int:
    if not args.config and not args.overrides:
        print(HOW_TO_START, file=sys.stderr)
        return EXIT_USAGE
    check_set_syntax(args.config, args.overrides)
    if args.dry_run != bool(args.job_file):
        raise ConfigError("--dry-run", "--dry-run and --job-file go together")
    if args.limit is not None:
        args.overrides = [*args.overrides, f"input.limit={args.limit}"]
    cfg = load_config(args.config, args.overrides)  # config errors come before Beam is imported (1 s)
    if args.plan:
        from beam_jobs.plan import plan_lines

        for line in plan_lines(cfg):
            _say(line)
        return EXIT_OK
    annotations = cfg.input.annotations
    for _, path in annotations.files_by_split() if annotations.given else ():
        prefetch(annotations.format, path)  # read on another core while Beam is imported
    with collector_paused():  # importing Beam and building the job: the run collects, frozen (runtime/collector)
        from beam_jobs.conversion import RunHeld, run_convert, summary_lines

        if args.dry_run:
            run_convert(cfg, say=_say, job_file=args.job_file)
            return EXIT_OK
        from beam_jobs.console.progress import ProgressDisplay

        try:
            manifest = convert(config=args.config, sets=args.overrides, overwrite=args.overwrite, say=_say,
                               force_unlock=args.force_unlock, progress=None if args.quiet else ProgressDisplay)
        except RunHeld as held:  # what the held run did, then the error line (main says it)
            for line in summary_lines(held.manifest, held.area, held=True):
                _say(line)
            raise
    if manifest is None:
        return EXIT_OK
    for line in summary_lines(manifest, cfg.output.path):
        _say(line)
    code, message = exit_status(manifest, cfg.errors.max_failed_fraction)
    if message:
        _say(f"{message}; see {cfg.output.path}/failures.jsonl" if code == EXIT_USAGE else message)
    return code


def _positive(text: str) -> int:
    """An argparse type: a whole number of 1 or more (argparse says so in one line, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def check_set_syntax(config: Optional[str], overrides: List[str]) -> None:
    """`--set key value` (a space, not `=`) leaves the value where the YAML path goes: say so."""
    for text in overrides:
        if "=" not in text:
            value = f"{config}" if config and not config.endswith((".yaml", ".yml")) else "VALUE"
            raise ConfigError("--set", f"{text!r} has no '=': write --set {text}={value} (one word)")


def exit_status(manifest: Manifest, max_failed_fraction: float) -> Tuple[int, Optional[str]]:
    """3 when the accounting does not add up (an input neither written nor failed), 2 when
    more failed than allowed, else 0; with the line that says why."""
    if not manifest.accounted:
        return EXIT_UNACCOUNTED, (f"error: {manifest.num_listed} listed but {manifest.num_examples} written "
                                  f"and {manifest.num_failed} failed")
    if manifest.failed_fraction > max_failed_fraction:
        return EXIT_USAGE, f"error: {too_many_failed(manifest.failed_fraction, max_failed_fraction)}"
    return EXIT_OK, None


def _say(line: str) -> None:
    print(line, flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `image2tfrecord inspect ... | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    interrupts.install()
    limit_malloc_arenas()  # before any thread starts (see transforms/runtime/native.py)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if not args.debug:  # the runner logs a failing step with its traceback; the command says it in one line
        logging.getLogger("apache_beam.runners").setLevel(logging.CRITICAL)
    command = {"convert": convert_command, "verify": verify_command,
               "inspect": inspect_command, "preview": preview_command}[args.command]
    try:
        return command(args)
    except UserError as exc:
        _debug(args)
        for line in exc.lines():
            print(line, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return interrupts.received() or EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback unless --debug
        _debug(args)
        message = " ".join(str(exc).split())
        print(f"error: {type(exc).__name__}: {message}" + ("" if args.debug else " (--debug shows the traceback)"),
              file=sys.stderr)
        return EXIT_FAILED


def _debug(args: argparse.Namespace) -> None:
    if args.debug:
        traceback.print_exc()


def run() -> None:
    """The console script: main(), then exit without tearing the interpreter down.

    Finalizing an interpreter that has loaded Beam takes a quarter of a second (docs/decisions.md);
    by now every output is written and closed, worker
    processes are stopped and streams are flushed, so the process ends at once. Before main(),
    numpy's BLAS gets one thread (transforms/runtime/native.py): here, where the process is the
    command's, not in main(), which a program may call and then use numpy as it likes.
    """
    one_blas_thread()
    code = main()
    pool = sys.modules.get("transforms.runtime.pool")
    if pool is not None:  # only if this run used it
        pool.shutdown_pools()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
