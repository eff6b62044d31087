"""The command line: `image2tfrecord convert CONFIG [--set key=value ...] [--overwrite]`."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from beam_jobs.config import ConfigError, load_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="image2tfrecord", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="convert images into sharded TFRecords")
    convert.add_argument("config", help="launch YAML (see launch/)")
    convert.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                         help="override a config key, e.g. --set output.shards=8 (repeatable)")
    convert.add_argument("--overwrite", action="store_true",
                         help="allow writing into a non-empty output path, replacing its dataset")
    convert.add_argument("--dry-run", action="store_true",
                         help="build the job offline without running it (needs --job-file)")
    convert.add_argument("--job-file", metavar="PATH", help="with --dry-run: where to write the job JSON")
    return parser


def convert_command(args: argparse.Namespace) -> int:
    from beam_jobs.convert import run_convert, summary_lines

    cfg = load_config(args.config, args.overrides)
    if args.dry_run != bool(args.job_file):
        raise ConfigError("error: --dry-run and --job-file go together")
    manifest = run_convert(cfg, overwrite=args.overwrite, say=_say, job_file=args.job_file)
    if manifest is None:
        return 0
    for line in summary_lines(manifest, cfg.output.path):
        _say(line)
    if not manifest["accounted"]:
        _say(f"error: {manifest['num_listed']} listed but {manifest['num_examples']} written "
             f"and {manifest['num_failed']} failed")
        return 3
    listed = max(1, manifest["num_listed"])
    fraction = manifest["num_failed"] / listed
    if fraction > cfg.errors.max_failed_fraction:
        _say(f"error: {fraction:.1%} of the images failed, over errors.max_failed_fraction="
             f"{cfg.errors.max_failed_fraction:g}; see {cfg.output.path}/failures.jsonl")
        return 2
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return convert_command(args)
    except ConfigError as exc:
        print(str(exc) if str(exc).startswith("config error") else f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
