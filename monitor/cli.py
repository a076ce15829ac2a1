"""The `monitor` command line.

Heavy modules (httpx, feedparser, lxml, jinja2) are imported inside the
commands, so ``monitor --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import MonitorError

if TYPE_CHECKING:
    from .config import Config
    from .storage import Storage

log = logging.getLogger("monitor")

EPILOG_RUN = """example:
  monitor run --config config.example.toml
  monitor run --no-digest          # fetch only, keep the digest for later"""
EPILOG_DIGEST = """example:
  monitor digest --preview digest.html   # look at it in a browser, send nothing"""
EPILOG_EXPORT = """example:
  monitor export --format jsonl > items.jsonl"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging(debug=args.debug)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.command(args))
    except MonitorError as e:
        if args.debug:
            log.exception("error")
        print(f"monitor: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130


def _setup_logging(*, debug: bool) -> None:
    """Log lines go to the current stderr, prefixed so they stand out in cron mail."""
    for handler in list(log.handlers):
        log.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("monitor: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Watch news feeds, collapse reposts, and send one digest a day.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  monitor run --config config.example.toml",
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $MONITOR_CONFIG, then ./config.toml)",
    )
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.set_defaults(debug=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        parents=[common],
        help="fetch every feed once, store new items, deliver the digest",
        description="Fetch every feed once, store new items, then deliver the pending digest.",
        epilog=EPILOG_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--no-digest", action="store_true", help="only fetch and store")
    run.set_defaults(command=cmd_run)

    digest = commands.add_parser(
        "digest",
        parents=[common],
        help="deliver the pending digest now",
        description="Deliver the digest of everything not yet delivered.",
        epilog=EPILOG_DIGEST,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    digest.add_argument(
        "--preview", metavar="FILE", help="write the digest as HTML to FILE; deliver nothing"
    )
    digest.set_defaults(command=cmd_digest)

    export = commands.add_parser(
        "export",
        parents=[common],
        help="print every stored item, with its story",
        description="Print every stored item as one JSON object per line.",
        epilog=EPILOG_EXPORT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--format", choices=["jsonl"], default="jsonl")
    export.set_defaults(command=cmd_export)
    return parser


def _load(args: argparse.Namespace) -> Config:
    from .config import find_config, load_config

    config = load_config(find_config(args.config))
    for warning in config.warnings:
        log.warning("warning: %s", warning)
    return config


def _open(config: Config) -> Storage:
    from .storage import Storage

    return Storage(config.storage.path, block_count=config.dedup.max_distance + 1)


def cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import ingest

    config = _load(args)
    with _open(config) as storage:
        report = ingest(config, storage)
        for feed in report.feeds:
            if feed.error:
                log.error("%s", feed.error)
            for problem in feed.item_errors:
                log.warning("%s", problem)
        log.info("%s", report.summary())
        if not args.no_digest:
            _deliver(config, storage)
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    config = _load(args)
    with _open(config) as storage:
        if args.preview:
            from .pipeline import preview_digest

            html = preview_digest(config, storage)
            if html is None:
                log.info("no pending stories; nothing to preview")
                return 0
            Path(args.preview).write_text(html, encoding="utf-8")
            log.info("digest preview written to %s (nothing delivered)", args.preview)
            return 0
        _deliver(config, storage)
    return 0


def _deliver(config: Config, storage: Storage) -> None:
    from .pipeline import send_digest

    outcome = send_digest(config, storage)
    if outcome is None:
        log.info("no pending stories; no digest sent")
    else:
        log.info(
            "digest delivered: %d stories in %d sections → %s",
            outcome.digest.story_count,
            len(outcome.digest.sections),
            outcome.transport,
        )


def cmd_export(args: argparse.Namespace) -> int:
    config = _load(args)
    with _open(config) as storage:
        out = sys.stdout
        for record in storage.export_items():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
