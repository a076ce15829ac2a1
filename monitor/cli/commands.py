"""What each command does: the stages it drives, imported when it runs, and what it
reports."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..config import Config
    from ..models import Article
    from ..store import Storage


log = logging.getLogger("monitor")


def _load(args: argparse.Namespace) -> Config:
    from ..config import find_config, load_config

    config = load_config(find_config(args.config))
    for warning in config.warnings:
        log.warning("warning: %s", warning)
    return config


def _warn_if_no_feeds(config: Config) -> None:
    if not config.active_feeds:
        state = "all paused" if config.feeds else "none configured"
        log.warning(
            "warning: %s: no feeds to fetch (%s); add one with monitor feeds add URL",
            config.path,
            state,
        )


def _open(config: Config, *, to_read: bool = False, stored: bool = False) -> Storage:
    """The configured database; `to_read` for commands that only read it, which work
    on a database this user may only read; `stored` for those about items stored
    already, which have nothing to do on a database not made yet, and make none."""
    from ..store import Storage

    return Storage.open(config, to_read=to_read, create=not stored)


def cmd_migrate(args: argparse.Namespace) -> int:
    from ..store import SCHEMA_VERSION, Storage

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
        Storage(args.source, migrate=True, maintain=False, create=False) as source,
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
    from ..errors import StorageError
    from ..service import ingest
    from ..store import daemon_holder

    config = _load(args)
    _warn_if_no_feeds(config)
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
            if pages := feed.pages_line():
                log.info("%s", pages)
            for problem in feed.problem_lines():
                log.warning("%s", problem)
        log.info("%s", report.summary())
        if not args.no_digest:
            _deliver(config, storage)
    return 0


def cmd_daemon(args: argparse.Namespace) -> int:
    from ..config import find_config
    from ..service import run_daemon

    path = find_config(args.config)
    _warn_if_no_feeds(_load(args))  # report config problems and warnings before starting
    return run_daemon(path)


def cmd_digest(args: argparse.Namespace) -> int:
    from ..store import Storage

    config = _load(args)
    for name in args.name or ():
        config.digest_named(name)
    if not Storage.exists(config):  # nothing stored, nothing to send: made by the first run
        nothing = "nothing to preview" if args.preview else "no digest sent"
        log.info("no pending stories; %s", nothing)
        return 0
    with _open(config, to_read=bool(args.preview)) as storage:
        if args.preview:
            from ..service import preview_digest

            chosen = config.digest_named(args.name[0]) if args.name else config.digest
            suffix = Path(args.preview).suffix.lower()
            form: Literal["html", "text", "json"] = (
                "json" if suffix == ".json" else "text" if suffix == ".txt" else "html"
            )
            written = preview_digest(config, storage, chosen, form=form)
            if written is None:
                log.info("no pending stories; nothing to preview")
                return 0
            write_output(Path(args.preview), written)
            log.info("digest preview written to %s (nothing delivered)", args.preview)
            return 0
        _deliver(config, storage, tuple(args.name or ()))
    return 0


def _deliver(config: Config, storage: Storage, names: tuple[str, ...] = ()) -> None:
    from ..service import send_digests

    outcomes = send_digests(config, storage, names=names)
    if not outcomes:
        log.info("no pending stories; no digest sent")
    for outcome in outcomes:
        log.info(
            "digest %s delivered: %s to %s → %s",
            outcome.digest.name,
            outcome.shown,
            ", ".join(outcome.recipients),
            outcome.transport,
        )


def cmd_prune(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ..config import MAX_DAYS
    from ..errors import ConfigError
    from ..service import prune_old
    from ..words import counted

    config = _load(args)
    days = config.storage.keep_days if args.keep_days is None else args.keep_days
    if days > MAX_DAYS:
        raise ConfigError(f"--keep-days {days}: give at most {MAX_DAYS:,} days")
    if days and days < config.dedup.window_days:
        raise ConfigError(
            f"--keep-days {days} is shorter than [dedup] window_days "
            f"({config.dedup.window_days}): a story must be kept as long as a repost can join it"
        )
    if days <= 0:
        print("keep_days is 0: every story is kept, nothing is removed")
        return 0
    with _open(config, stored=True) as storage:
        pruned = prune_old(config, storage, datetime.now(UTC), keep_days=days, dry_run=args.dry_run)
    assert pruned is not None
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{verb} {counted(pruned.stories, 'story', 'stories')} "
        f"({counted(pruned.items, 'item')}) older than {counted(days, 'day')}; kept "
        f"{pruned.kept_unsettled:,} not yet sent by every digest and {pruned.kept_listed:,} "
        "still listed by their feeds"
        + (f"; dropped {counted(pruned.messages, 'old digest message')}" if pruned.messages else "")
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    config = _load(args)
    with _open(config, to_read=True, stored=True) as storage:
        out = sys.stdout
        for record in storage.export_items():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .manage import init

    path = init(Path(args.path) if args.path else None, args.force)
    follow = "monitor run" if not args.path else f"monitor run --config {path}"
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
    log.info("%s", import_opml(config, Path(args.file), check=not args.no_check))
    return 0


def cmd_export_opml(args: argparse.Namespace) -> int:
    from .manage import export_opml

    text = export_opml(_load(args))
    if args.file:
        write_output(Path(args.file), text)
        log.info("wrote %s", args.file)
    else:
        sys.stdout.write(text)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import UTC

    from ..store import Storage
    from .status import render_status, status_report

    config = _load(args)
    zone = UTC if args.utc else None
    if not Storage.exists(config):  # told as it is before the first run, and not made
        report = status_report(config, None, zone=zone)
    else:
        with _open(config, to_read=True) as storage:
            report = status_report(config, storage, zone=zone)
    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_status(report))
    return 0


def cmd_story(args: argparse.Namespace) -> int:
    from ..urls import canonical_url
    from ..words import counted

    config = _load(args)
    with _open(config, to_read=True, stored=True) as storage:
        item_id, story_id = _stored_item(storage, args.url, canonical_url, args.guid)
        members = storage.story_members(story_id)
    if args.json:
        record = {"story": story_id, "item": item_id, "members": [asdict(m) for m in members]}
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return 0
    sys.stdout.write(f"story {story_id}: {counted(len(members), 'item')}\n")
    for number, member in enumerate(members):
        why = member.reason or ("split from another story by hand" if member.split_at else None)
        marks = " (the headline's source)" if member.canonical else ""
        marks += " ← this item" if member.item_id == item_id else ""
        sys.stdout.write(
            f"{member.published[:16].replace('T', ' ')}  {member.source} [{member.feed}]{marks}\n"
            f"    {member.title}\n    {member.url}\n"
            f"    {why or ('began the story' if number == 0 else 'joined by its link or text')}\n"
        )
        if member.related_to is not None:
            sys.stdout.write(
                f"    related to story {member.related_to} ({member.related_reason}): "
                "shown with it\n"
            )
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ..urls import canonical_url

    config = _load(args)
    with _open(config, stored=True) as storage, storage.dedup_transaction():
        item_id, story_id = _stored_item(storage, args.url, canonical_url, args.guid)
        split = storage.split_item(item_id, datetime.now(UTC))
    if split is None:
        log.info("%s is the only item of story %d; nothing to split", args.url, story_id)
        return 0
    new, headed = split
    log.info(
        "%s taken out of story %d: now story %d, %s",
        args.url, story_id, new,
        "pending for the digests but those that showed it as that story's headline"
        if headed else "pending for the digests",
    )  # fmt: skip
    return 0


def cmd_redecide(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ..config import MAX_DAYS
    from ..errors import ConfigError
    from ..service import redecide
    from ..words import counted

    if not 0 < args.since <= MAX_DAYS:
        raise ConfigError(
            f"--since {args.since:g}: give a number of days above 0 and at most {MAX_DAYS:,}"
        )
    config = _load(args)
    with _open(config, stored=True) as storage:
        done = redecide(config, storage, args.since, datetime.now(UTC))
    days = f"{args.since:g} day" + ("" if args.since == 1 else "s")
    print(
        f"decided again {counted(done.items, 'item')} of the last {days}: "
        f"{done.moved:,} moved to another story, {counted(done.new_stories, 'story', 'stories')} "
        "begun by an item that had been merged into another (pending for the digests)"
    )
    return 0


def _stored_item(
    storage: Storage, url: str, canonical: Callable[[str], str], guid: str | None = None
) -> tuple[int, int]:
    """The item stored at `url` (as given, or as `monitor` spells links) and its story;
    with `guid`, the one of that GUID where several items share the link."""
    from ..errors import StorageError

    found = storage.items_with_url(url) or storage.items_with_url(canonical(url))
    if guid is not None:
        found = [item for item in found if item[2] == guid]
    if not found:
        under = f" under the GUID {guid}" if guid is not None else ""
        raise StorageError(f"database {storage.name}: no stored item has the link {url}{under}")
    if len(found) > 1:
        named = "; ".join(f"{item[2]} ({item[3]})" for item in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        raise StorageError(
            f"{url}: {len(found)} stored items share this link; name one with --guid: {named}{more}"
        )
    return found[0][0], found[0][1]


def cmd_parse(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ..parse import adapter_for, adapter_named, completed, page_article
    from .targets import load_items, load_pages

    forced = adapter_named(args.adapter) if args.adapter else None
    default_source, items = load_items(args.target)
    now = datetime.now(UTC)
    pages = load_pages(args.target, items) if args.full_text else {}
    for item in items:
        adapter = forced or adapter_for(item.url)
        article = adapter.adapt(item, args.source or default_source, now)
        if item.guid in pages:
            url, page_html = pages[item.guid]
            page = page_article(page_html, url, forced or adapter_for(url), article.source, now)
            article = completed(article, page)
        record = {"adapter": adapter.name, **article_record(article)}
        if args.json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            continue
        for key in ("adapter", "title", "url", "published", "authors", "source"):
            value = record[key]
            shown = ", ".join(value) if isinstance(value, list) else value
            sys.stdout.write(f"{key}: {shown}\n")
        sys.stdout.write(f"original_source: {record['original_source'] or '-'}\n")
        if article.truncated:
            sys.stdout.write("truncated: yes, by the feed (its page has the rest)\n")
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
        "truncated": article.truncated,
        "images": list(article.images),
        "text": article.text,
        "html": article.html,
    }


def write_output(path: Path, text: str) -> None:
    """Write a file the user named on the command line, or say in one line why not."""
    from ..errors import MonitorError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise MonitorError(f"cannot write {path}: {e.strerror or e}") from e
