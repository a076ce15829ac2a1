"""The command line's arguments: every command, its options and its examples."""

from __future__ import annotations

import argparse

from .. import __version__
from .commands import (
    cmd_daemon,
    cmd_digest,
    cmd_export,
    cmd_export_opml,
    cmd_feeds_add,
    cmd_feeds_change,
    cmd_feeds_list,
    cmd_import_opml,
    cmd_init,
    cmd_migrate,
    cmd_parse,
    cmd_prune,
    cmd_redecide,
    cmd_run,
    cmd_split,
    cmd_status,
    cmd_story,
)

EPILOG_RUN = """example:
  monitor run --config config.example.toml
  monitor run --no-digest          # fetch only, keep the digest for later"""
EPILOG_DIGEST = """examples:
  monitor digest --preview digest.html   # look at it in a browser, send nothing
  monitor digest --preview digest.txt    # as a mail reader showing text only shows it"""
EPILOG_EXPORT = """example:
  monitor export --format jsonl > items.jsonl"""
EPILOG_PRUNE = """examples:
  monitor prune --dry-run          # what [storage] keep_days would remove now
  monitor prune --keep-days 90"""
EPILOG_DAEMON = """example:
  monitor daemon --config /etc/monitor/config.toml --log-format json"""
EPILOG_INIT = """examples:
  monitor init                       # ~/.config/monitor/config.toml on Linux
  monitor init ./config.toml && monitor run --config ./config.toml"""
EPILOG_FEEDS = """examples:
  monitor feeds list
  monitor feeds add https://www.rfi.fr/cn/rss --name 'RFI 中文' --topics 朝鲜半岛
  monitor feeds pause 'RFI 中文'"""
EPILOG_STORY = """example:
  monitor story https://www.dw.com/zh/a-55240000   # its members and why each joined"""
EPILOG_SPLIT = """example:
  monitor split https://www.rfi.fr/cn/…/20200917-…   # merged by mistake: a story of its own"""
EPILOG_REDECIDE = """example:
  monitor redecide --since 7   # after an upgrade: the last week's stories by today's rules"""
EPILOG_STATUS = """examples:
  monitor status
  monitor status --json | jq '.feeds[] | select(.errors > 0)'"""
EPILOG_MIGRATE = """examples:
  monitor migrate                                   # upgrade the configured database
  monitor migrate --from sqlite:///monitor.db       # copy into the configured (new) one
  monitor migrate --from sqlite:///monitor.db --to postgresql://monitor@db.example/monitor"""
EPILOG_PARSE = """examples:
  monitor parse https://rss.dw.com/rdf/rss-chi-all      # every item of a feed
  monitor parse saved-item.txt --adapter dw --json      # one archived item
  monitor parse https://rss.dw.com/rdf/rss-chi-all --full-text   # with each article's page"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Watch news feeds, collapse reposts, and send one digest a day.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  monitor run --config config.example.toml",
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    # The global options go before the command or after it (`monitor -c FILE status`,
    # `monitor status -c FILE`): given after it, they win; not given there, the
    # command's parser leaves what came before alone (SUPPRESS).
    _global_options(parser, None)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
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
        "--preview",
        metavar="FILE",
        help="write the digest as HTML to FILE (its plain text to FILE.txt, its data to "
        "FILE.json); deliver nothing",
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

    prune = commands.add_parser(
        "prune",
        parents=[common],
        help="remove stories older than [storage] keep_days that no digest will send",
        description=(
            "Remove the stories created more than keep_days ago that no digest will send "
            "any more (not updated within [dedup] window_days, or had by every recipient "
            "of every digest), with their items, index rows and delivery records, in short "
            "batches. A story whose feed still lists one of its items stays. The daemon "
            "and monitor run do this once a day."
        ),
        epilog=EPILOG_PRUNE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prune.add_argument(
        "--keep-days", type=int, metavar="DAYS", help="instead of [storage] keep_days"
    )
    prune.add_argument("--dry-run", action="store_true", help="count only; remove nothing")
    prune.set_defaults(command=cmd_prune)

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
        parents=[common],  # `monitor feeds --config X list` as well as `... list --config X`
        help="list, add, remove, pause or resume feeds in the config",
        description="Edit the feeds in the config file, keeping its comments and layout.",
        epilog=EPILOG_FEEDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    feeds.set_defaults(help_of=feeds)  # `monitor feeds` alone lists its actions
    feed_commands = feeds.add_subparsers(title="feed commands", metavar="ACTION")
    listing = feed_commands.add_parser(
        "list", parents=[common], help="list the feeds",
        epilog="example:\n  monitor feeds list --config config.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    listing.set_defaults(command=cmd_feeds_list)
    add = feed_commands.add_parser(
        "add", parents=[common], help="add a feed, after fetching it once",
        epilog="example:\n  monitor feeds add https://rss.dw.com/rdf/rss-chi-all --name 'DW 中文'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add.add_argument("url", metavar="URL")
    add.add_argument("--name", help="the feed's name (default: its own title, else its host)")
    add.add_argument("--topics", default="", help="default topics, comma-separated")
    add.add_argument("--adapter", help="force a site adapter")
    add.add_argument("--no-check", action="store_true", help="add without fetching it first")
    add.set_defaults(command=cmd_feeds_add)
    for action, helptext in (
        ("remove", "remove a feed (its stored items stay)"),
        ("pause", "stop fetching a feed for now"),
        ("resume", "fetch a paused feed again"),
    ):
        sub = feed_commands.add_parser(
            action, parents=[common], help=helptext,
            epilog=f"examples:\n  monitor feeds {action} 'DW 中文'\n"
            f"  monitor feeds {action} https://rss.dw.com/rdf/rss-chi-all",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        sub.add_argument("name", metavar="NAME_OR_URL", help="the feed's name, or its URL")
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
    importer.add_argument(
        "--no-check",
        action="store_true",
        help="add the entries as they are, without reading them (or finding a page's feed)",
    )
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

    story = commands.add_parser(
        "story",
        parents=[common],
        help="show the story an item is in: its members and why each joined",
        description=(
            "Show the story of the stored item at URL: each member (outlet, feed, time, "
            "title, link) with the rule and score that joined it to the story: the same "
            "text, a simhash distance, a containment share. The canonical member, the "
            "headline's source, is marked."
        ),
        epilog=EPILOG_STORY,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    story.add_argument("url", metavar="URL", help="the item's link, as stored or as given")
    story.add_argument(
        "--guid", help="the item's GUID, where its feed links several items to one page"
    )
    story.add_argument("--json", action="store_true", help="one JSON document for scripts")
    story.set_defaults(command=cmd_story)

    split = commands.add_parser(
        "split",
        parents=[common],
        help="take an item out of its story: it becomes a story of its own",
        description=(
            "Take the stored item at URL out of the story it was merged into: it becomes a "
            "story of its own, pending for every digest that has not had it, and keeps the "
            "time it was split. The items that joined the story through it stay where "
            "they are; split them too if they belong with it."
        ),
        epilog=EPILOG_SPLIT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    split.add_argument("url", metavar="URL", help="the item's link, as stored or as given")
    split.add_argument(
        "--guid", help="the item's GUID, where its feed links several items to one page"
    )
    split.set_defaults(command=cmd_split)

    again = commands.add_parser(
        "redecide",
        parents=[common],
        help="decide again the stories of the last DAYS days, by today's rules",
        description=(
            "Decide again which story each item fetched in the last DAYS days belongs to, "
            "in the order the items were stored, as a run would today: after an upgrade "
            "changed the dedup rules. What digests recorded stays: a story already sent "
            "keeps its id while the item that began it still begins it; an item that now "
            "begins a story of its own (it had been merged into another) is pending for "
            "the digests. Items split by hand stay on their own."
        ),
        epilog=EPILOG_REDECIDE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    again.add_argument(
        "--since", type=float, metavar="DAYS", required=True, help="how many days back"
    )
    again.set_defaults(command=cmd_redecide)

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
    status.add_argument(
        "--utc", action="store_true", help="times in UTC (default: this machine's time zone)"
    )
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
    parse.add_argument(
        "--full-text",
        action="store_true",
        help="fetch each item's article page and show the article the feed and page make",
    )
    parse.set_defaults(command=cmd_parse)
    return parser


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    """--config, --debug and --log-format, with `default` for each (SUPPRESS: none)."""
    parser.add_argument(
        "-c",
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $MONITOR_CONFIG, then ./config.toml, then the "
        "user's config folder)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if default is None else default,
        help="show tracebacks and debug logs",
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text" if default is None else default,
        help="log lines for people or machines",
    )
