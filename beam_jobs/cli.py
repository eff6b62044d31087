"""The command line.

    image2tfrecord convert [CONFIG] [--set key=value ...] [--overwrite] [--dry-run --job-file PATH]
    image2tfrecord verify OUTPUT [--config CONFIG] [--set key=value ...]
    image2tfrecord inspect OUTPUT
    image2tfrecord preview OUTPUT [--split S] [--n 36] --output sheet.png

Every problem the user can fix is one line and exit status 2 (`--debug` adds the traceback).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import traceback
from typing import List, Optional, Tuple

from beam_jobs import interrupts
from beam_jobs.api import convert
from beam_jobs.config import load_config
from beam_jobs.errors import ConfigError, UserError
from transforms.dataset.manifest import Manifest
from transforms.runtime.native_memory import limit_malloc_arenas

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNACCOUNTED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="image2tfrecord", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show the traceback of any error")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="convert images into sharded TFRecords")
    convert.add_argument("config", nargs="?", help="launch YAML (see launch/); optional when --set gives "
                                                   "input.path and output.path")
    convert.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                         help="override a config key, e.g. --set output.shards=8 (repeatable)")
    convert.add_argument("--overwrite", action="store_true",
                         help="allow writing into a non-empty output path, replacing its dataset")
    convert.add_argument("--force-unlock", action="store_true",
                         help="take the output's lock even if another run (on another host) seems to hold it")
    convert.add_argument("--dry-run", action="store_true",
                         help="build the job offline without running it (needs --job-file)")
    convert.add_argument("--job-file", metavar="PATH", help="with --dry-run: where to write the job JSON")
    verify = commands.add_parser("verify", help="check every shard, record and image of a converted dataset")
    verify.add_argument("output", help="the converted dataset (local or gs://)")
    verify.add_argument("--config", help="launch YAML for the runner (runner, dataflow, pipeline_options)")
    verify.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    inspect = commands.add_parser("inspect", help="counts per split and class, shard and size statistics")
    inspect.add_argument("output")
    preview = commands.add_parser("preview", help="a contact sheet PNG of decoded records with their labels")
    preview.add_argument("output")
    preview.add_argument("--split", default="train")
    preview.add_argument("--n", type=int, default=36, help="how many records (default 36)")
    preview.add_argument("--output", dest="sheet", required=True, metavar="PNG")
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


def convert_command(args: argparse.Namespace) -> int:
    from beam_jobs.conversion import run_convert, summary_lines

    if args.dry_run != bool(args.job_file):
        raise ConfigError("--dry-run", "--dry-run and --job-file go together")
    cfg = load_config(args.config, args.overrides)
    if args.dry_run:
        run_convert(cfg, say=_say, job_file=args.job_file)
        return EXIT_OK
    manifest = convert(config=args.config, sets=args.overrides, overwrite=args.overwrite, say=_say,
                       force_unlock=args.force_unlock)
    if manifest is None:
        return EXIT_OK
    for line in summary_lines(manifest, cfg.output.path):
        _say(line)
    code, message = exit_status(manifest, cfg.errors.max_failed_fraction)
    if message:
        _say(f"{message}; see {cfg.output.path}/failures.jsonl" if code == EXIT_USAGE else message)
    return code


def exit_status(manifest: Manifest, max_failed_fraction: float) -> Tuple[int, Optional[str]]:
    """3 when the accounting does not add up (an input neither written nor failed), 2 when
    more failed than allowed, else 0; with the line that says why."""
    if not manifest.accounted:
        return EXIT_UNACCOUNTED, (f"error: {manifest.num_listed} listed but {manifest.num_examples} written "
                                  f"and {manifest.num_failed} failed")
    fraction = manifest.num_failed / max(1, manifest.num_listed)
    if fraction > max_failed_fraction:
        return EXIT_USAGE, (f"error: {fraction:.1%} of the images failed, over errors.max_failed_fraction="
                            f"{max_failed_fraction:g}")
    return EXIT_OK, None


def _say(line: str) -> None:
    print(line, flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `image2tfrecord inspect ... | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    interrupts.install()
    limit_malloc_arenas()  # before any thread starts (see transforms/native_memory.py)
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
    processes are stopped and streams are flushed, so the process ends at once.
    """
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
