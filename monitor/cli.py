"""The `monitor` command line.

Heavy modules (httpx, feedparser, lxml, jinja2) are imported inside the
commands, so ``monitor --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .errors import MonitorError

if TYPE_CHECKING:
    from .config import Config
    from .models import Article
    from .storage import Storage

log = logging.getLogger("monitor")

EPILOG_RUN = """example:
  monitor run --config config.example.toml
  monitor run --no-digest          # fetch only, keep the digest for later"""
EPILOG_DIGEST = """example:
  monitor digest --preview digest.html   # look at it in a browser, send nothing"""
EPILOG_EXPORT = """example:
  monitor export --format jsonl > items.jsonl"""
EPILOG_DAEMON = """example:
  monitor daemon --config /etc/monitor/config.toml --log-format json"""
EPILOG_INIT = """examples:
  monitor init                       # ~/.config/monitor/config.toml on Linux
  monitor init ./config.toml && monitor run --config ./config.toml"""
EPILOG_FEEDS = """examples:
  monitor feeds list
  monitor feeds add https://www.rfi.fr/cn/rss --name 'RFI 中文' --topics 朝鲜半岛
  monitor feeds pause 'RFI 中文'"""
EPILOG_STATUS = """examples:
  monitor status
  monitor status --json | jq '.feeds[] | select(.errors > 0)'"""
EPILOG_MIGRATE = """examples:
  monitor migrate                                   # upgrade the configured database
  monitor migrate --from sqlite:///monitor.db       # copy into the configured (new) one
  monitor migrate --from sqlite:///monitor.db --to postgresql://monitor@db.example/monitor"""
EPILOG_PARSE = """examples:
  monitor parse https://rss.dw.com/rdf/rss-chi-all      # every item of a feed
  monitor parse saved-item.txt --adapter dw --json      # one archived item"""


def run() -> NoReturn:
    """The `monitor` command: `main`, then out of the process at once.

    Python's own exit would collect and free every object the command made
    (after a run: the dedup index, thousands of items), 40–60 ms of a run's
    two seconds. By then `main` has closed the database and stopped the
    workers; only the output remains to be flushed. (mypy ends the same way.)
    """
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe: whoever read it is gone
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    # NumPy's vector operations here are small, and a run's worker processes use
    # every core already: a BLAS thread pool would only compete with them, and
    # its threads would keep a run from forking its workers (`workers.LazyPool`).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging(debug=args.debug, json_lines=getattr(args, "log_format", "text") == "json")
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
        print("monitor: interrupted; what was stored is kept", file=sys.stderr)
        return 130


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the structured fields a log line carries."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False)


def _setup_logging(*, debug: bool, json_lines: bool = False) -> None:
    """Log lines go to the current stderr, prefixed so they stand out in cron mail."""
    for handler in list(log.handlers):
        log.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("monitor: %(message)s")
    )
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False
    # The scheduler's own errors in the same format, not as bare lines in the
    # middle of JSON ones; its warnings (a tick skipped while the last one waits
    # on the database) only with --debug.
    scheduler = logging.getLogger("apscheduler")
    for old in list(scheduler.handlers):
        scheduler.removeHandler(old)
    scheduler.addHandler(handler)
    scheduler.setLevel(logging.DEBUG if debug else logging.ERROR)
    scheduler.propagate = False


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
    common.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="log lines for people or machines",
    )
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
    run.add_argument(
        "--quiet", action="store_true", help="no progress bar: only problems and the summary"
    )
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
    digest.add_argument(
        "--name", metavar="DIGEST", action="append", help="only this digest (repeatable)"
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

    daemon = commands.add_parser(
        "daemon",
        parents=[common],
        help="run as a service: fetch each feed on its schedule, send digests on time",
        description=(
            "Run until stopped: fetch each feed on its own interval, honouring what the "
            "server asks, and deliver each digest at its send_at. SIGHUP reloads the "
            "configuration; SIGTERM or SIGINT stops cleanly."
        ),
        epilog=EPILOG_DAEMON,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    daemon.set_defaults(command=cmd_daemon)

    init = commands.add_parser(
        "init",
        help="write a starter config with the sample feeds",
        description=(
            "Write a commented starter config, with the bundled sample feeds copied "
            "beside it, to PATH (default: your config folder, with the database and "
            "outbox in your data folder)."
        ),
        epilog=EPILOG_INIT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("path", nargs="?", metavar="PATH")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(command=cmd_init, debug=False)

    feeds = commands.add_parser(
        "feeds",
        help="list, add, remove, pause or resume feeds in the config",
        description="Edit the feeds in the config file, keeping its comments and layout.",
        epilog=EPILOG_FEEDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    feed_commands = feeds.add_subparsers(title="feed commands", metavar="ACTION")
    listing = feed_commands.add_parser("list", parents=[common], help="list the feeds")
    listing.set_defaults(command=cmd_feeds_list)
    add = feed_commands.add_parser(
        "add", parents=[common], help="add a feed, after fetching it once",
        epilog="example:\n  monitor feeds add https://rss.dw.com/rdf/rss-chi-all --name 'DW 中文'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add.add_argument("url", metavar="URL")
    add.add_argument("--name", help="the feed's name (default: the host)")
    add.add_argument("--topics", default="", help="default topics, comma-separated")
    add.add_argument("--adapter", help="force a site adapter")
    add.add_argument("--no-check", action="store_true", help="add without fetching it first")
    add.set_defaults(command=cmd_feeds_add)
    for action, helptext in (
        ("remove", "remove a feed (its stored items stay)"),
        ("pause", "stop fetching a feed for now"),
        ("resume", "fetch a paused feed again"),
    ):
        sub = feed_commands.add_parser(action, parents=[common], help=helptext)
        sub.add_argument("name", metavar="NAME")
        sub.set_defaults(command=cmd_feeds_change, action=action)

    importer = commands.add_parser(
        "import-opml",
        parents=[common],
        help="add the feeds of an OPML file (categories become topics)",
        description="Add the feeds of an OPML file; feeds already present are skipped.",
        epilog="example:\n  monitor import-opml miniflux-export.opml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("file", metavar="FILE")
    importer.set_defaults(command=cmd_import_opml)
    exporter = commands.add_parser(
        "export-opml",
        parents=[common],
        help="write the feeds as OPML 2.0",
        description="Write the configured feeds as OPML 2.0, their topics as categories.",
        epilog="example:\n  monitor export-opml feeds.opml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    exporter.add_argument("file", nargs="?", metavar="FILE", help="default: standard output")
    exporter.set_defaults(command=cmd_export_opml)

    migrate = commands.add_parser(
        "migrate",
        parents=[common],
        help="upgrade the database schema, or copy a database into a new one",
        description=(
            "Apply the schema migrations this version of monitor brings (SQLite files are "
            "upgraded on opening anyway; PostgreSQL databases only by this command). With "
            "--from, copy every feed, item, story and delivery of that database into the "
            "configured one (or --to), which must be new and empty."
        ),
        epilog=EPILOG_MIGRATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.add_argument(
        "--from", dest="source", metavar="URL", help="sqlite:///path or postgresql://… to copy"
    )
    migrate.add_argument("--to", dest="target", metavar="URL", help="default: the configured one")
    migrate.set_defaults(command=cmd_migrate)

    status = commands.add_parser(
        "status",
        parents=[common],
        help="show each feed's last fetch, errors and next fetch, and the digests",
        description=(
            "Show each configured feed: last fetch, HTTP status, items stored, last new "
            "item, errors in a row and the last error, next fetch; then each digest: "
            "last delivered and next due."
        ),
        epilog=EPILOG_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="one JSON document for scripts")
    status.set_defaults(command=cmd_status)

    parse = commands.add_parser(
        "parse",
        parents=[common],
        help="show the article an adapter makes of an item or of each item of a feed",
        description=(
            "Show what a site adapter makes of one item (an archived item file or an "
            "article page) or of each item of a feed (a URL, a feed file or a folder of "
            "archived items). Nothing is stored."
        ),
        epilog=EPILOG_PARSE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parse.add_argument("target", metavar="PATH_OR_URL")
    parse.add_argument("--adapter", metavar="NAME", help="use this adapter instead of by host")
    parse.add_argument("--source", metavar="NAME", help="the outlet name for sites without one")
    parse.add_argument("--json", action="store_true", help="one JSON object per article")
    parse.set_defaults(command=cmd_parse)
    return parser


def _load(args: argparse.Namespace) -> Config:
    from .config import find_config, load_config

    config = load_config(find_config(args.config))
    for warning in config.warnings:
        log.warning("warning: %s", warning)
    return config


def _open(config: Config) -> Storage:
    from .storage import Storage

    return Storage.open(config)


def cmd_migrate(args: argparse.Namespace) -> int:
    from .storage import SCHEMA_VERSION, Storage

    if args.target:
        target: Path | str = args.target
        options: dict[str, Any] = {}
    else:
        config = _load(args)
        target = config.storage.target
        options = {
            "block_count": config.dedup.max_distance + 1,
            "busy_timeout": config.storage.busy_timeout,
        }
    if args.source is None:
        with Storage(target, migrate=True, **options) as storage:
            before = storage.found_version
        change = "up to date" if before == SCHEMA_VERSION else f"upgraded from {before}"
        print(f"database {storage.name}: schema version {SCHEMA_VERSION}, {change}")
        return 0
    # The source is read as it is: upgraded if older, its index left alone.
    with (
        Storage(args.source, migrate=True, maintain=False) as source,
        Storage(target, migrate=True, **options) as destination,
    ):
        copied = destination.copy_from(source)
        print(
            f"copied {copied['feeds']:,} feeds, {copied['items']:,} items, "
            f"{copied['stories']:,} stories and {copied['digests']:,} digests "
            f"from {source.name} to {destination.name} (schema version {SCHEMA_VERSION})"
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .errors import StorageError
    from .instance import daemon_holder
    from .pipeline import ingest

    config = _load(args)
    with _open(config) as storage:
        holder = daemon_holder(storage)
        if holder:
            raise StorageError(
                f"database {config.storage.location}: monitor daemon ({holder}) is running on it "
                "and fetches and sends by itself; stop it to use monitor run"
            )
        if sys.stderr.isatty() and not args.quiet:
            from .progress import RunProgress

            with RunProgress(len(config.active_feeds)) as progress:
                report = ingest(config, storage, on_feed=progress.feed_done)
        else:
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


def cmd_daemon(args: argparse.Namespace) -> int:
    from .config import find_config
    from .daemon import run_daemon

    path = find_config(args.config)
    _load(args)  # report config problems and warnings before starting
    return run_daemon(path)


def cmd_digest(args: argparse.Namespace) -> int:
    config = _load(args)
    with _open(config) as storage:
        if args.preview:
            from .pipeline import preview_digest

            chosen = config.digest_named(args.name[0]) if args.name else config.digest
            html = preview_digest(config, storage, chosen)
            if html is None:
                log.info("no pending stories; nothing to preview")
                return 0
            Path(args.preview).write_text(html, encoding="utf-8")
            log.info("digest preview written to %s (nothing delivered)", args.preview)
            return 0
        for name in args.name or ():
            config.digest_named(name)
        _deliver(config, storage, tuple(args.name or ()))
    return 0


def _deliver(config: Config, storage: Storage, names: tuple[str, ...] = ()) -> None:
    from .pipeline import send_digests

    outcomes = send_digests(config, storage, names=names)
    if not outcomes:
        log.info("no pending stories; no digest sent")
    for outcome in outcomes:
        log.info(
            "digest %s delivered: %d stories in %d sections to %s → %s",
            outcome.digest.name,
            outcome.digest.story_count,
            len(outcome.digest.sections),
            ", ".join(outcome.recipients),
            outcome.transport,
        )


def cmd_export(args: argparse.Namespace) -> int:
    config = _load(args)
    with _open(config) as storage:
        out = sys.stdout
        for record in storage.export_items():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .manage import init

    path = init(Path(args.path) if args.path else None, args.force)
    follow = "monitor run" if not args.path else f"monitor run --config {args.path}"
    log.info("wrote %s with the sample feeds; next: %s", path, follow)
    return 0


def cmd_feeds_list(args: argparse.Namespace) -> int:
    config = _load(args)
    for feed in config.feeds:
        flags = " (paused)" if feed.paused else ""
        topics = f"  [{', '.join(feed.topics)}]" if feed.topics else ""
        sys.stdout.write(f"{feed.name}{flags}\t{feed.url}{topics}\n")
    return 0


def cmd_feeds_add(args: argparse.Namespace) -> int:
    from .manage import add_feed

    config = _load(args)
    topics = [t.strip() for t in args.topics.split(",") if t.strip()]
    log.info("%s", add_feed(config, args.url, args.name, topics, args.adapter, not args.no_check))
    return 0


def cmd_feeds_change(args: argparse.Namespace) -> int:
    from .manage import remove_feed, set_paused

    config = _load(args)
    if args.action == "remove":
        log.info("%s", remove_feed(config, args.name))
    else:
        log.info("%s", set_paused(config, args.name, args.action == "pause"))
    return 0


def cmd_import_opml(args: argparse.Namespace) -> int:
    from .manage import import_opml

    config = _load(args)
    log.info("%s", import_opml(config, Path(args.file)))
    return 0


def cmd_export_opml(args: argparse.Namespace) -> int:
    from .manage import export_opml

    text = export_opml(_load(args))
    if args.file:
        Path(args.file).write_text(text, encoding="utf-8")
        log.info("wrote %s", args.file)
    else:
        sys.stdout.write(text)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .status import render_status, status_report

    config = _load(args)
    with _open(config) as storage:
        report = status_report(config, storage)
    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_status(report))
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .adapters import adapter_for, adapter_named
    from .load import load_items

    forced = adapter_named(args.adapter) if args.adapter else None
    default_source, items = load_items(args.target)
    now = datetime.now(UTC)
    for item in items:
        adapter = forced or adapter_for(item.url)
        article = adapter.adapt(item, args.source or default_source, now)
        record = {"adapter": adapter.name, **article_record(article)}
        if args.json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            continue
        for key in ("adapter", "title", "url", "published", "authors", "source"):
            value = record[key]
            shown = ", ".join(value) if isinstance(value, list) else value
            sys.stdout.write(f"{key}: {shown}\n")
        sys.stdout.write(f"original_source: {record['original_source'] or '-'}\n")
        for image in record["images"]:
            sys.stdout.write(f"image: {image}\n")
        sys.stdout.write(f"\n{article.text}\n\n")
    if not items:
        log.info("%s: no items", args.target)
    return 0


def article_record(article: Article) -> dict[str, Any]:
    """An `Article` as plain JSON values, for `monitor parse --json` and golden files."""
    return {
        "title": article.title,
        "url": article.url,
        "published": article.published.isoformat(),
        "authors": list(article.authors),
        "source": article.source,
        "original_source": article.original_source,
        "images": list(article.images),
        "text": article.text,
        "html": article.html,
    }


if __name__ == "__main__":
    sys.exit(main())
