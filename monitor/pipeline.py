"""The top level: fetch → parse (site adapter) → dedup → store → digest → send.

`ingest` runs the first four stages for every configured feed; `send_digest`
runs the last two. Feeds are fetched concurrently and each is processed as
soon as its bytes arrive, in one database transaction per feed, so a failing
feed never stops the others and a crash never leaves half a feed stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .adapters import Adapter, adapter_for, adapter_named
from .archive import parse_archive
from .config import Config, FeedConfig
from .dedup import MIN_TEXT_CHARS, Features, best_match
from .deliver import deliver
from .digest import build_digest
from .errors import MonitorError, ParseError
from .fetch import Fetcher, Validators
from .models import Digest, FetchResult
from .parse import parse_feed
from .render import compose, render_html
from .storage import FeedState, Storage
from .topics import match_topics

log = logging.getLogger("monitor")

# Verbatim copies shorter than this are not merged by text hash alone: short
# texts such as "图片新闻" repeat across unrelated items.
MIN_EXACT_CHARS = 30


@dataclass
class FeedReport:
    name: str
    status: str = "ok"
    new: int = 0
    reposts: int = 0
    repeats: int = 0
    error: str | None = None
    item_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RunReport:
    feeds: list[FeedReport]

    @property
    def failed(self) -> list[FeedReport]:
        return [f for f in self.feeds if f.error]

    @property
    def new(self) -> int:
        return sum(f.new for f in self.feeds)

    @property
    def reposts(self) -> int:
        return sum(f.reposts for f in self.feeds)

    def summary(self) -> str:
        failed = len(self.failed)
        tail = " (see the lines above)" if failed else ""
        return (
            f"{len(self.feeds)} feeds · {self.new:,} new items · "
            f"{self.reposts:,} reposts collapsed · {failed} feeds failed{tail}"
        )


@dataclass(frozen=True)
class DigestOutcome:
    digest: Digest
    transport: str


Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def ingest(config: Config, storage: Storage, clock: Clock = _utcnow) -> RunReport:
    """Fetch every feed once and store what is new."""
    return asyncio.run(_ingest(config, storage, clock))


async def _ingest(config: Config, storage: Storage, clock: Clock) -> RunReport:
    reports: list[FeedReport] = []
    async with Fetcher(config.fetch, config.base_dir) as fetcher:

        async def one(feed: FeedConfig) -> None:
            started = time.monotonic()
            report = FeedReport(feed.name)
            state = storage.feed_state(feed.name, feed.url)
            try:
                result = await fetcher.fetch(feed, Validators(state.etag, state.last_modified))
                store_feed(config, storage, feed, state, result, report, clock())
            except MonitorError as e:
                report.status, report.error = "failed", str(e)
                storage.record_failure(state.id, str(e), clock())
            report.seconds = time.monotonic() - started
            reports.append(report)

        await asyncio.gather(*(one(feed) for feed in config.feeds))
    order = {feed.name: index for index, feed in enumerate(config.feeds)}
    reports.sort(key=lambda r: order[r.name])
    return RunReport(reports)


def store_feed(
    config: Config,
    storage: Storage,
    feed: FeedConfig,
    state: FeedState,
    result: FetchResult,
    report: FeedReport,
    now: datetime,
) -> None:
    """Parse, adapt, dedup and store one feed's items in one transaction."""
    if result.not_modified or (result.content is None and not result.files):
        report.status = "not modified"
        with storage.transaction():
            storage.record_fetch(
                state.id,
                status=result.status,
                etag=result.etag,
                last_modified=result.last_modified,
                new_items=0,
                now=now,
            )
        return
    if result.files:
        parsed = parse_archive(result.files, feed.name)
    else:
        parsed = parse_feed(result.content or b"", feed.name)
    if parsed.warning:
        report.item_errors.append(parsed.warning)
    chosen: Adapter | None = adapter_named(feed.adapter) if feed.adapter else None
    since = now - timedelta(days=config.dedup.window_days)
    with storage.transaction():
        for item in parsed.items:
            if storage.has_guid(state.id, item.guid):
                report.repeats += 1
                continue
            try:
                article = (chosen or adapter_for(item.url)).adapt(item, feed.name, now)
            except Exception as e:  # an adapter bug must not lose the rest of the feed
                error = ParseError(f"feed {feed.name!r}: item {item.guid!r}: cannot adapt: {e}")
                report.item_errors.append(str(error))
                continue
            if article.url and storage.has_url(article.url):
                report.repeats += 1
                continue
            features = Features.of(article.text or article.title)
            story_id, reason = find_story(storage, features, since, config.dedup.max_distance)
            if story_id is None:
                story_id = storage.new_story(now)
            else:
                report.reposts += 1
            topics = match_topics(article.title, article.text, config.topics, feed.topics)
            storage.insert_item(
                feed_id=state.id,
                guid=item.guid,
                article=article,
                features=features,
                topics=topics,
                story_id=story_id,
                match_reason=reason,
                now=now,
            )
            report.new += 1
        storage.record_fetch(
            state.id,
            status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
            new_items=report.new,
            now=now,
        )


def find_story(
    storage: Storage, features: Features, since: datetime, max_distance: int
) -> tuple[int | None, str | None]:
    """The story an article belongs to (and why), or None for a new story."""
    exact = storage.story_with_text(features.text_hash)
    if exact and features.normalized_length >= MIN_EXACT_CHARS:
        return exact[1], "same text"
    if features.normalized_length >= MIN_TEXT_CHARS:
        match = best_match(features, storage.candidates(features, since), max_distance)
        if match:
            return match.story_id, match.reason
    return None, None


def pending_digest(config: Config, storage: Storage, now: datetime) -> Digest | None:
    stories = storage.pending_stories()
    return build_digest(stories, config, now) if stories else None


def preview_digest(config: Config, storage: Storage, clock: Clock = _utcnow) -> str | None:
    """The pending digest as HTML, without delivering or marking anything."""
    digest = pending_digest(config, storage, clock())
    return render_html(config, digest) if digest else None


def send_digest(config: Config, storage: Storage, clock: Clock = _utcnow) -> DigestOutcome | None:
    """Deliver the pending digest; its stories are marked delivered only on success."""
    now = clock()
    digest = pending_digest(config, storage, now)
    if digest is None:
        return None
    message, html = compose(config, digest)
    digest_id = storage.begin_digest(
        digest.subject, str(message["Message-ID"]), digest.story_count, now
    )
    try:
        transport = deliver(config, message, html, now)
    except MonitorError as e:
        storage.digest_failed(digest_id, str(e))
        raise
    storage.digest_delivered(digest_id, list(digest.story_ids), transport, now)
    return DigestOutcome(digest, transport)
