"""The top level: fetch → parse (site adapter) → dedup → store → digest → send.

`ingest` runs the first four stages for every configured feed (`digests`
runs the last two). Feeds are fetched concurrently; as each one's bytes
arrive, they are parsed, adapted and fingerprinted (`preparation`, in a worker
process per core when there are many feeds), then deduplicated and stored in
one database transaction per feed (a savepoint, when feeds that reach the
database together share a commit), so a failing feed never stops the others
and a crash never leaves half a feed stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from ..config import Config, FeedConfig
from ..errors import FetchError, MonitorError
from ..fetch import Fetcher, Validators
from ..models import FetchResult
from ..store import EditPage, FeedState, NewItem, Storage, StoredVersion, guid_aside
from ..words import counted
from .clock import Clock, utcnow
from .dbthread import DatabaseThread
from .known import KnownItems
from .schedule import ServerHints, next_fetch
from .settle import Prepare, RunLog, Settled, Watched, publication_order, settle_run
from .workers import POOL_MIN_FEEDS, BrokenPool, LazyPool

# Parsing, adapting, deciding stories and rendering are imported where they are
# used: a run where every feed answers 304 needs none of them, and starts sooner.
if TYPE_CHECKING:
    from ..dedup import Decision, Features
    from .preparation import PreparedFeed, PreparedItem

log = logging.getLogger("monitor")
P = ParamSpec("P")
T = TypeVar("T")


PROBLEMS_SHOWN = 5
"""Item problems logged one by one for a feed's fetch (`FeedReport.problem_lines`)."""


@dataclass
class FeedReport:
    name: str
    status: str = "ok"
    new: int = 0
    reposts: int = 0
    repeats: int = 0
    error: str | None = None
    item_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    """The article pages that failed, a line each (`problem_lines`)."""
    seconds: float = 0.0
    http_status: int | None = None
    next_fetch_at: datetime | None = None
    pages: int = 0
    """Article pages fetched for teaser items (`full_text`), failures included."""
    pages_failed: int = 0
    edited: int = 0
    """Stored items the feed edited in place, stored again as their new version."""

    def problem_lines(self, shown: int = PROBLEMS_SHOWN) -> list[str]:
        """The feed's problems to log, a line each: every item problem, and the first
        `shown` failed pages, then one line counting the rest, so that a feed whose
        fifty article pages fail does not fill a cron mail (`monitor status`
        counts its failed pages)."""
        pages = self.page_errors
        if len(pages) > shown + 1:
            more = f"feed {self.name!r}: {len(pages) - shown:,} more article pages failed"
            pages = [*pages[:shown], more]
        return [*self.item_errors, *pages]

    def pages_line(self) -> str | None:
        """ "feed 'x': 12 pages fetched, 1 failed", when the feed fetched any."""
        if not self.pages:
            return None
        return (
            f"feed {self.name!r}: {counted(self.pages, 'page')} fetched, "
            f"{self.pages_failed:,} failed"
        )


@dataclass
class RunReport:
    feeds: list[FeedReport]
    settled: Settled = Settled(0, 0)
    """What settling the run's stories in publication order changed (`settle_run`)."""

    @property
    def failed(self) -> list[FeedReport]:
        return [f for f in self.feeds if f.error]

    @property
    def new(self) -> int:
        return sum(f.new for f in self.feeds)

    @property
    def reposts(self) -> int:
        return sum(f.reposts for f in self.feeds) + self.settled.reposts

    @property
    def edited(self) -> int:
        return sum(f.edited for f in self.feeds)

    def summary(self) -> str:
        failed = len(self.failed)
        tail = " (see the lines above)" if failed else ""
        edited = f"{counted(self.edited, 'item')} edited · " if self.edited else ""
        return (
            f"{counted(len(self.feeds), 'feed')} · {counted(self.new, 'new item')} · {edited}"
            f"{counted(self.reposts, 'repost')} collapsed · {counted(failed, 'feed')} failed{tail}"
        )


def follow_renames(config: Config, storage: Storage) -> list[tuple[str, str]]:
    """Keep the history of the feeds the config renamed (`Storage.follow_renames`);
    their (old, new) names."""
    renamed = storage.follow_renames([(feed.name, feed.url) for feed in config.feeds])
    for old, new in renamed:
        log.info("feed %r was %r: its items and history stay with it", new, old)
    return renamed


def ingest(
    config: Config,
    storage: Storage,
    clock: Clock = utcnow,
    on_feed: Callable[[FeedReport], None] | None = None,
) -> RunReport:
    """Fetch every feed once and store what is new; `on_feed` hears of each as it ends."""
    return asyncio.run(_ingest(config, storage, clock, on_feed))


async def _ingest(
    config: Config, storage: Storage, clock: Clock, on_feed: Callable[[FeedReport], None] | None
) -> RunReport:
    feeds = config.active_feeds
    follow_renames(config, storage)
    # Read at once, before the database thread exists (so that the workers can be
    # forked from a process with one thread, `LazyPool.start`), rather than each
    # feed waiting its turn on the database while others are stored. Nothing else
    # changes them during a run: `monitor run` refuses to start while a daemon
    # works on the database.
    states = storage.feed_states([(feed.name, feed.url) for feed in feeds])
    run = RunLog(clock())
    pool = LazyPool(config.fetch.workers) if len(feeds) >= POOL_MIN_FEEDS else None
    unvalidated = sum(1 for state in states.values() if not state.validated)
    if pool is not None and unvalidated >= POOL_MIN_FEEDS:
        # Their bodies come for certain: the workers get ready during the first fetches.
        pool.start()
    db = DatabaseThread()
    # Feeds between their fetch and the end of their storing. Fetching and parsing
    # outrun storing; without a bound, every parsed feed of a big run would wait
    # in memory for the database.
    in_flight = asyncio.Semaphore(2 * config.fetch.concurrency)
    # Feeds are fetched and parsed in any order but stored in the config's: which
    # story an item joins depends on what was stored before it, and a run must not
    # decide differently because one server answered faster. A feed waits only for
    # the one before it to be queued on the database thread (which runs its calls
    # in order, and in batches: waiting for the commit would undo those), and that
    # one took its place in `in_flight` first.
    queued = [asyncio.Event() for _ in feeds]
    try:
        async with Fetcher(config.fetch, config.base_dir, config.local_roots) as fetcher:

            async def one(index: int, feed: FeedConfig) -> FeedReport:
                before = queued[index - 1] if index else None
                try:
                    async with in_flight:
                        report = await fetch_feed(
                            config, storage, fetcher, feed, clock, pool, db, states[feed.name],
                            after=before, queued=queued[index], run=run,
                        )  # fmt: skip
                except MonitorError:
                    raise  # the database's, not the feed's: the run cannot go on
                except Exception as e:
                    # A bug met on this feed's items: the other feeds are stored still.
                    # Its fetch is not recorded, so it is fetched again next time.
                    log.debug("feed %r", feed.name, exc_info=True)
                    report = FeedReport(feed.name, status="failed")
                    report.error = (
                        f"feed {feed.name!r}: unexpected {type(e).__name__}: "
                        f"{e} (a bug in monitor; --debug shows where)"
                    )
                finally:
                    try:
                        # Not stored (it failed, or was interrupted): the order holds still.
                        if before is not None and not queued[index].is_set():
                            await before.wait()
                    finally:
                        # Even when cancelled while waiting (the run is ending): the
                        # feeds after it would wait for it for ever.
                        queued[index].set()
                if on_feed is not None:
                    on_feed(report)
                return report

            reports = await asyncio.gather(*(one(i, feed) for i, feed in enumerate(feeds)))
        settled = await settle_run(config, storage, run, clock(), db, _preparing(pool))
        await db(prune_daily, config, storage, clock())
    finally:
        db.close()
        if pool is not None:
            # Interrupted, feeds not yet sent to a worker never are: they are fetched
            # again next time, as their fetch was not recorded.
            pool.shutdown(cancel_futures=True)
    return RunReport(list(reports), settled)


async def _prepare(pool: LazyPool | None, job: tuple[Any, ...]) -> PreparedFeed:
    """Prepare a feed in the pool; in this process when there is none, or it broke."""
    # Needed here anyway, to unpickle what the workers send back.
    from .preparation import prepare_feed

    return await _in_pool(pool, prepare_feed, *job)


def _preparing(pool: LazyPool | None) -> Prepare:
    """How a run's settling gets the features of the items it decides again
    (`settle_run`): with their shingles, split among the worker processes, when
    they run; else in this process, the shingles when first compared."""

    async def prepare(texts: list[str], titles: list[str]) -> list[Features]:
        from ..dedup import Features, compared_many

        if pool is None or not pool.started or not pool.usable or len(texts) < pool.workers:
            return Features.of_many(texts, titles=titles)
        share = -(-len(texts) // pool.workers)
        parts = await asyncio.gather(
            *(
                _in_pool(pool, compared_many, texts[at : at + share], titles[at : at + share])
                for at in range(0, len(texts), share)
            )
        )
        return [found.knowing(shingles) for part in parts for found, shingles in part]

    return prepare


async def _in_pool(pool: LazyPool | None, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in the pool; in this process when there is none, or it broke."""
    if pool is None or not pool.usable:
        return fn(*args)
    try:
        done: T = await pool.run(fn, *args)
        return done
    except BrokenPool as e:
        if pool.usable:
            log.warning("worker processes failed (%s); parsing in one process", e)
            pool.usable = False
        return fn(*args)


async def _full_text(
    config: Config,
    storage: Storage,
    fetcher: Fetcher,
    feed: FeedConfig,
    state: FeedState,
    prepared: PreparedFeed | None,
    now: datetime,
    pool: LazyPool | None,
    call: Callable[..., Any],
    report: FeedReport,
) -> tuple[PreparedFeed | None, list[PreparedItem]]:
    """The feed's teaser items completed from their article pages, and the stored
    teasers whose failed pages were due again (`pages`). An edit whose page failed
    before is tried again only when its time has come (`edit_tries`)."""
    from .pages import due_items, edit_tries, fetch_pages, wanted

    new = wanted(feed, prepared.items) if prepared is not None else []
    noted = new
    if new:
        # Items stored already (by GUID, or by link through another feed) are not fetched,
        # nor a page the feed links other items to: it is none of theirs (`known`).
        known = KnownItems(
            state.id,
            *await call(
                storage.known_items, state.id, [i.guid for i in new], [i.article.url for i in new]
            ),
        )
        edits = [i for i in new if known.is_edit(i)]
        new = [
            i
            for i in new
            if known.is_edit(i)
            or not (
                known.stored(i.guid, i.article.url, i.article.title)
                or known.shared(i.article.url, i.article.title)
            )
        ]
        guids = [i.guid for i in edits]
        tried = await call(storage.edit_pages, state.id, guids) if guids else {}
        noted = edit_tries(new, tried, now) if tried else new
    due = due_items(await call(storage.pages_due, state.id, now)) if state.pages_pending else []
    fetching = [i for i in noted if not (i.page and i.page.waiting)]
    if not noted and not due:
        return prepared, []
    done: list[PreparedItem] = []
    if fetching or due:
        fetched, pages = await fetch_pages(fetcher, feed, [*fetching, *due])
        from .preparation import complete_items

        done = await _in_pool(
            pool, complete_items, feed.name, fetched, pages, feed.adapter, now, config.topics,
            feed.topics,
        )  # fmt: skip
    for item in done:
        assert item.page is not None
        report.pages += 1
        if item.page.error is not None:
            report.pages_failed += 1
            report.page_errors.append(item.page.error)
    completed, retried = iter(done[: len(fetching)]), done[len(fetching) :]
    if prepared is not None and new:
        # By place, not by GUID: a feed may give one GUID to items of different pages.
        by_item = {
            id(item): noted_item if noted_item.page and noted_item.page.waiting else next(completed)
            for item, noted_item in zip(new, noted, strict=True)
        }
        prepared = replace(prepared, items=[by_item.get(id(i), i) for i in prepared.items])
    return prepared, retried


async def fetch_feed(
    config: Config,
    storage: Storage,
    fetcher: Fetcher,
    feed: FeedConfig,
    clock: Clock = utcnow,
    pool: LazyPool | None = None,
    db: DatabaseThread | None = None,
    state: FeedState | None = None,
    after: asyncio.Event | None = None,
    queued: asyncio.Event | None = None,
    run: RunLog | None = None,
) -> FeedReport:
    """Fetch one feed and store what is new; record the outcome and the next fetch time.

    With `db`, every database call runs on that thread, never on the event loop.
    `state` is the feed's stored state when the caller read it already. With
    `after`, the feed is queued for storing once that is set, and then sets
    `queued`. With `run`, its items are noted there for settling the run's stories
    (`settle_run`).
    """
    call = db or _here
    started = time.monotonic()
    report = FeedReport(feed.name)
    if state is None:
        state = await call(storage.feed_state, feed.name, feed.url)
    if state.gone:
        report.status = "gone"
        report.error = f"feed {feed.name!r}: gone (HTTP 410); not fetched until its url changes"
        return report
    try:
        validators = Validators(state.etag, state.last_modified)
        if state.edits_due is not None and state.edits_due <= clock():
            validators = Validators()  # an edit's page is due: the feed gives the edit
        result = await fetcher.fetch(feed, validators, state.moved_to)
        report.http_status = result.status
        if result.moved_to and result.moved_to != state.moved_to:
            await call(storage.record_move, state.id, result.moved_to)
            report.item_errors.append(
                f"feed {feed.name!r}: moved permanently to {result.moved_to}; fetching it "
                "from there (update the config to keep it)"
            )
        prepared = None
        if not (result.not_modified or (result.content is None and not result.files)):
            # The GUIDs of the last fetch: all of the feed's stored ones, with what the
            # feed said of each when stored, before those were recorded or once its
            # address changed (the rest are found stored when storing).
            known = state.last_guids
            if known is None:
                known = await call(storage.signatures, state.id)
            # An undated item is dated when fetched: in a run, when the run began, the
            # time its settling orders it by (`settle`), and `redecide` after it too.
            fetched = run.started if run is not None else clock()
            job = (
                feed.name, result.content, result.files, result.content_type, feed.adapter,
                fetched, known, config.topics, feed.topics, config.fetch.max_items,
                result.url,
            )  # fmt: skip
            prepared = await _prepare(pool, job)
            del job
        # Storing reads the fetch's headers, not its body: every feed waiting for its
        # turn to be stored would hold one (`in_flight`).
        result = replace(result, content=None, files=())
        retried: list[PreparedItem] = []
        if feed.fetches_pages:
            prepared, retried = await _full_text(
                config, storage, fetcher, feed, state, prepared, clock(), pool, call, report
            )
        if after is not None:
            await after.wait()
        stored = (config, storage, feed, state, result, report, clock(), prepared, retried, run)
        if db is None:
            store_feed(*stored)
        else:
            done = db.submit(storage, store_feed, *stored)
            if queued is not None:
                queued.set()
            await done
    except MonitorError as e:
        now = clock()
        status = e.status if isinstance(e, FetchError) else None
        retry_after = e.retry_after if isinstance(e, FetchError) else None
        report.status, report.error, report.http_status = "failed", str(e), status
        report.next_fetch_at = next_fetch(
            feed.name,
            now,
            feed.interval or config.fetch.interval,
            config.fetch.min_interval,
            state.error_count + 1,
            ServerHints(retry_after=retry_after),
        )
        await call(
            storage.record_failure,
            state.id, str(e), now, status=status, next_fetch_at=report.next_fetch_at,
        )  # fmt: skip
    report.seconds = time.monotonic() - started
    return report


async def _here(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """A database call made right here, on the event loop (for tests and tools)."""
    return fn(*args, **kwargs)


def store_feed(
    config: Config,
    storage: Storage,
    feed: FeedConfig,
    state: FeedState,
    result: FetchResult,
    report: FeedReport,
    now: datetime,
    prepared: PreparedFeed | None,
    retried: Sequence[PreparedItem] = (),
    run: RunLog | None = None,
) -> None:
    """Dedup and store one feed's prepared items in one transaction, with the full
    texts of stored teasers whose pages came at last (`retried`); the new items are
    noted in `run` for settling its stories (`settle_run`)."""
    interval = feed.interval or config.fetch.interval
    hints = ServerHints(None, result.cache_control, result.expires, result.date)
    since = now - timedelta(days=config.dedup.window_days)
    if prepared is None:
        report.status = "not modified"
        report.next_fetch_at = next_fetch(
            feed.name, now, interval, config.fetch.min_interval, 0, hints
        )
        # Replacing teasers decides stories: under the dedup lock, as new items are.
        with storage.dedup_transaction() if retried else storage.transaction():
            _store_retried(config, storage, state, retried, now, since, run)
            storage.record_fetch(
                state.id,
                status=result.status,
                etag=result.etag,
                last_modified=result.last_modified,
                new_items=0,
                now=now,
                next_fetch_at=report.next_fetch_at,
            )
        return
    report.item_errors.extend(prepared.problems)
    report.repeats += prepared.known
    hints = replace(hints, ttl_minutes=prepared.ttl_minutes)
    report.next_fetch_at = next_fetch(feed.name, now, interval, config.fetch.min_interval, 0, hints)
    from ..dedup import same_article
    from .pages import failures

    with storage.dedup_transaction():
        items = prepared.items
        listed = state.last_guids or {}
        returning = [(guid, mark) for guid, mark in prepared.over if guid not in listed]
        known = KnownItems(
            state.id,
            *storage.known_items(
                state.id,
                [*(i.guid for i in items), *(guid for guid, _ in returning)],
                [i.article.url for i in items if i.article.url],
            ),
        )
        fresh: list[PreparedItem] = []
        # A stored GUID the last fetch did not list may come back edited (`known`):
        # an edit, where its other versions that the feed gave before are repeats.
        editing = [i for i in items if known.is_edit(i)]
        edits = storage.stored_versions(state.id, [i.guid for i in editing])
        editing = [i for i in editing if i.guid in edits]
        # Such an edit left over max_items (any version of its GUID that the feed did
        # not give before) is taken by a later fetch, as others are.
        unsettled = [(guid, mark) for guid, mark in returning if known.changed(guid, mark)]
        # What the feed said of each when stored, kept for the edits left for later
        # (`_settled`), before the edits' own are noted below.
        pending = {i.guid for i in editing} | {guid for guid, _ in unsettled}
        was = {guid: known.guids.get(guid) for guid in pending}
        for item in editing:
            # What an edit will store, so that the same correction under another GUID
            # of its link (a section's) is found stored, not stored again.
            article = item.article
            known.add(
                item.guid, article.url, article.title, item.features.text_hash, item.signature
            )
        compared = {id(item) for item in editing}
        versions: dict[str, set[tuple[str, str]]] = {}  # by GUID, each text and headline
        held: dict[str, int] = {}  # by GUID, the place in `fresh` of its latest version
        # Decided oldest first, whatever order the feed lists them in (most list the
        # newest first, some change their order between fetches): an item is compared
        # with those before it, so the order is part of the decision.
        for item in sorted(items, key=publication_order):
            if item.guid in edits:
                # Stored again below, in place of its stored version; or a version the
                # feed gave before, beside an edit of its GUID.
                report.repeats += id(item) not in compared
                continue
            url, title, text = item.article.url, item.article.title, item.features.text_hash
            if item.guid in held and (text, title) not in versions[item.guid]:
                # The feed gives a GUID twice, with another text or headline: a later
                # version, in the earlier's place, or another article, stored beside it.
                versions[item.guid].add((text, title))
                at = held[item.guid]
                earlier = fresh[at]
                if text == earlier.features.text_hash and (
                    item.article.published <= earlier.article.published
                ):
                    # Another headline given at the same time: nothing tells which is
                    # the newer, and the one taken first stays.
                    report.repeats += 1
                    continue
                if same_article(
                    storage, item.features, earlier.features, config.dedup.max_distance,
                    state.id, same_link=item.link == earlier.link,
                ):  # fmt: skip
                    fresh[at] = item
                    report.edited += 1
                    continue
                fresh[at] = replace(earlier, guid=guid_aside(earlier.guid))
            elif known.stored(item.guid, url, title, text):
                report.repeats += 1
                continue
            known.add(item.guid, url, title, text, item.signature)
            versions.setdefault(item.guid, set()).add((text, title))
            held[item.guid] = len(fresh)
            fresh.append(item)
        decisions, watched = _assign(config, storage, state, fresh, since, run)
        ids = storage.insert_items(
            state.id,
            [_new_item(item, decision) for item, decision in zip(fresh, decisions, strict=True)],
            now,
        )
        if run is not None and watched is not None:
            run.record(state.id, ids, fresh, watched)
        by_guid = {item.guid: item_id for item, item_id in zip(fresh, ids, strict=True)}
        storage.record_page_failures(failures(fresh, by_guid, now))
        edited = _sharing_pages(sorted(editing, key=publication_order), report)
        later, replaced = _store_edits(
            config, storage, state, edited, edits, now, since, report, run
        )
        if state.edits_due is not None:
            waiting = {(i.guid, i.signature) for i in later if i.signature is not None}
            storage.keep_edit_pages(state.id, waiting)
        # A teaser edited and completed from its page in this fetch needs no older try.
        _store_retried(
            config, storage, state, [i for i in retried if i.replaces not in replaced], now, since,
            run,
        )  # fmt: skip
        report.new += len(fresh)
        report.reposts += sum(1 for decision in decisions if decision.reason)
        settled = _settled(prepared.settled, later, state, unsettled, was)
        # An item stored before signatures were kept is known by what its feed says
        # of it now, the first time it is listed since (`ItemStore.record_first_signatures`):
        # the last fetch listed it without one (its list is from before them).
        before = state.last_guids or {}
        first = {
            guid: mark
            for guid, mark in settled.items()
            if mark and guid in before and before[guid] is None
        }
        if first:
            storage.record_first_signatures(state.id, first)
        storage.record_fetch(
            state.id,
            status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
            new_items=report.new,
            now=now,
            next_fetch_at=report.next_fetch_at,
            guids=settled,
        )


def _settled(
    settled: dict[str, str | None],
    later: Sequence[PreparedItem],
    state: FeedState,
    unsettled: Collection[tuple[str, str]] = (),
    stored: Mapping[str, str | None] | None = None,
) -> Mapping[str, str | None]:
    """The signatures to record for the fetch's items, those of the edits left for
    later (`_store_edits`) and of `unsettled` GUIDs (edits left over max_items,
    back after a gap, by GUID and signature) as they were: as the last fetch
    listed them, or, back after a gap, as their items were stored (`stored`); a
    later version's not at all. The next fetch finds them edited still, and
    until then their items are listed, which retention keeps."""
    if not later and not unsettled:
        return settled
    from ..parse import version_key

    before = state.last_guids or {}
    stored = stored or {}
    recorded = dict(settled)

    def as_it_was(guid: str) -> None:
        was = before[guid] if guid in before else stored.get(guid)
        if was is None:
            recorded.pop(guid, None)
        else:
            recorded[guid] = was

    for guid, mark in unsettled:
        recorded.pop(version_key(guid, mark), None)
        as_it_was(guid)
    for item in later:
        if item.version is None:
            as_it_was(item.guid)
        else:
            recorded.pop(item.version, None)
    return recorded


def _store_retried(
    config: Config,
    storage: Storage,
    state: FeedState,
    retried: Sequence[PreparedItem],
    now: datetime,
    since: datetime,
    run: RunLog | None = None,
) -> None:
    """Replace stored teasers by the full texts their pages gave at last; note the
    pages that failed again. A teaser's story is decided anew only when it was the
    teaser's alone and no digest has had it; else the full text stays in it."""
    if not retried:
        return
    from .pages import failures

    still = [item for item in retried if item.page is not None and item.page.error]
    storage.record_page_failures(
        failures(still, {item.guid: item.replaces for item in still if item.replaces}, now)
    )
    for item in retried:
        if item.page is None or item.page.error or item.replaces is None:
            continue
        _replace_item(config, storage, state, item, item.replaces, now, since, run=run)


def _store_edits(
    config: Config,
    storage: Storage,
    state: FeedState,
    edited: Sequence[PreparedItem],
    stored: dict[str, StoredVersion],
    now: datetime,
    since: datetime,
    report: FeedReport,
    run: RunLog | None,
) -> tuple[list[PreparedItem], set[int]]:
    """Items the feed edited in place (`PreparedItem.edited`), stored in place of
    their stored versions: where only the feed's markup changed, not what monitor
    keeps of them (the text and the headline), the stored version stays. A new
    headline or a text a fifth longer is news (`_replace_item`); a corrected word is
    not. A new version that is not a copy of the stored one is another article under
    the old GUID (`dedup.same_article`): it is stored beside it, as a new item,
    whatever its date, unless the feed stored its text already. Those left for a
    later fetch (teasers whose page failed for now, tried again on a stored
    teaser's back-off: their stored full text stays meanwhile), and the stored
    items replaced or set aside. A teaser whose page is gone, or failed as often as
    a stored teaser's may (`PAGE_RETRIES`), is compared as it is: at another link
    and under another headline, a teaser too short to compare is another article (a
    feed may give one GUID to all its items); the same article's stored text, read
    from its page, stays."""
    from ..dedup import headlines_agree, same_article
    from .pages import failures, retry_at

    later: list[PreparedItem] = []
    replaced: set[int] = set()
    for item in edited:
        version = stored[item.guid]
        item_id, title = version.id, version.title
        page = item.page
        again = retry_at(page, now) if page is not None and page.error is not None else None
        if page is not None and again is not None:
            # Its page is tried again when its time comes, the edit taken then.
            later.append(item)
            if not page.waiting and item.signature is not None:
                storage.record_edit_page(
                    state.id,
                    EditPage(item.guid, item.signature, page.url, page.attempts,
                             page.error or "", again),
                )  # fmt: skip
            continue
        failed = page is not None and page.error is not None  # gone, or tried enough
        length = item.features.normalized_length
        text = item.features.text_hash
        same = version.text_hash == text and title == item.article.title
        if same or (version.text_hash != text and storage.feed_has_text(state.id, text)):
            report.repeats += 1  # or a text it stored already: a version set aside, come back
            if same:
                _decided(storage, item_id, item)
            continue
        # A stored version read from its page has the address the page names, which
        # a teaser whose page is gone cannot give: its headline may show it instead.
        same_link = version.url in (item.article.url, item.link) or (
            failed and headlines_agree(item.article.title, title)
        )
        if not same_article(
            storage, item.features, item_id, config.dedup.max_distance, state.id,
            same_link=same_link,
        ):  # fmt: skip
            storage.set_aside(item_id, guid_aside(item.guid))
            replaced.add(item_id)  # its page, if due, is tried under its new GUID later
            stored_id = _store_beside(config, storage, state, item, now, since, report, run)
        elif (older := _older(item, version)) or (failed and version.length >= 2 * length):
            # An older version the feed lists with the newer one is no edit; nor is a
            # teaser whose page is gone, where the stored text is fuller (read from
            # its page: twice as long at least, where an edited teaser loses a clause).
            report.repeats += 1
            if not older:
                _decided(storage, item_id, item)
            continue
        else:
            longer = length >= 1.2 * version.length
            news = title != item.article.title or longer
            found = _replace_item(
                config, storage, state, item, item_id, now, since, edited=True, news=news, run=run
            )
            if found is None:
                continue
            stored_id = found
            report.edited += 1
            replaced.add(item_id)
        storage.record_page_failures(failures([item], {item.guid: stored_id}, now))
        stored[item.guid] = StoredVersion(
            stored_id, item.features.text_hash, item.article.title,
            length, item.article.published, item.article.url, item.article.dated,
        )  # fmt: skip
    return later, replaced


def _sharing_pages(edited: list[PreparedItem], report: FeedReport) -> list[PreparedItem]:
    """The edits to compare with their stored versions: not a teaser whose page a
    newer version of its GUID had (`pages.wanted`), which is that page's older
    version (counted a repeat), whatever its link says."""
    paged = {item.guid for item in edited if item.page is not None}
    if not paged:
        return edited
    from ..parse import is_teaser

    kept = []
    for item in edited:
        if item.guid in paged and item.page is None and is_teaser(item.article):
            report.repeats += 1
        else:
            kept.append(item)
    return kept


def _decided(storage: Storage, item_id: int, item: PreparedItem) -> None:
    """An edit found to be the stored item (the same text and headline, or a teaser
    whose page is gone): what the feed says of it now is recorded with the item, so
    that the GUID back after a gap, saying the same, is not compared (nor its page
    asked for) again."""
    if item.signature is not None:
        storage.record_signature(item_id, item.signature)


def _older(item: PreparedItem, version: StoredVersion) -> bool:
    """Whether `item` is an older version of the article than the one stored: dated
    earlier, or at the same time shorter where the document lists other versions
    of its GUID too (as versions in one document are taken, `publication_order`).
    A version without a date of its own carries when it was fetched, which says
    nothing of its age: then only the document's other versions tell, the
    shorter being the older."""
    published = item.article.published
    shorter = item.versioned and item.features.normalized_length < version.length
    if not (item.article.dated and version.dated):
        return shorter
    return published < version.published or (published == version.published and shorter)


def _new_item(item: PreparedItem, decision: Decision) -> NewItem:
    """A prepared item to store, in the story dedup decided for it."""
    return NewItem(
        item.guid, item.article, item.features, item.topics, decision.story, decision.reason,
        decision.related, decision.related_reason, item.signature,
    )  # fmt: skip


def _store_beside(
    config: Config,
    storage: Storage,
    state: FeedState,
    item: PreparedItem,
    now: datetime,
    since: datetime,
    report: FeedReport,
    run: RunLog | None,
) -> int:
    """Store `item` as a new item of its feed, its story decided by the rules; its id."""
    (decision,), watched = _assign(config, storage, state, [item], since, run)
    (item_id,) = storage.insert_items(state.id, [_new_item(item, decision)], now)
    if run is not None and watched is not None:
        run.record(state.id, [item_id], [item], watched)
    report.new += 1
    report.reposts += 1 if decision.reason else 0
    return item_id


def _replace_item(
    config: Config,
    storage: Storage,
    state: FeedState,
    item: PreparedItem,
    stored_id: int,
    now: datetime,
    since: datetime,
    *,
    edited: bool = False,
    news: bool = False,
    run: RunLog | None = None,
) -> int | None:
    """Store `item` in place of the stored item `stored_id`: a teaser whose page came
    at last, or (`edited`) an item the feed edited; its new id, None when the
    stored item was no longer stored.

    Its story is decided anew when it was the stored item's alone, no digest has
    had it and no hand split it there (`ItemPlace.free`); the stories related to
    it are then related to its new one. An edit is also decided anew when its
    story holds others recent enough to compare with: it stays with them only as
    long as it still is a copy of them (an outlet may put another article under
    an old link). Else the new version stays in its story, with what the stored
    one had of its place; with `news` (an edit worth telling) the story is marked
    updated, and a digest that had it shows it again.
    """
    place = storage.item_place(stored_id, since)
    if place is None:  # removed meanwhile (`prune`)
        return None
    storage.remove_item(stored_id, with_story=place.free)
    story, reason = place.story, place.reason
    related, why = None, None
    watched = None
    if place.free or (edited and place.recent_others and place.split_at is None):
        (decision,), watched = _assign(config, storage, state, [item], since, run)
        news = news and decision.story == story
        story, reason = decision.story, decision.reason
        related, why = decision.related, decision.related_reason
        if story > 0 and story != place.story and storage.split_stories([story]):
            story, reason = -1, None  # a hand split that story apart from this one
    (item_id,) = storage.insert_items(
        state.id,
        [NewItem(item.guid, item.article, item.features, item.topics, story, reason,
                 related, why, item.signature)],
        now,
    )  # fmt: skip
    if place.free:
        storage.relate_to_item_story(place.story, item_id)
    elif story == place.story:
        kept = None
        if place.related_to is not None and related is None:
            kept = (place.related_to, place.related_reason)
        storage.keep_place(item_id, place.split_at, kept)
    if news and not place.free:
        storage.mark_updated([story], now)
    if run is not None and watched is not None:
        run.record(state.id, [item_id], [item], watched)
        if not place.free:
            run.vacate(place.story, item_id)
    return item_id


def _assign(
    config: Config,
    storage: Storage,
    state: FeedState,
    items: Sequence[PreparedItem],
    since: datetime,
    run: RunLog | None,
) -> tuple[list[Decision], Watched | None]:
    """The stories the rules give `items` of a feed; in a run, with what they were
    compared with, for `RunLog.record` once they are stored: settling the run
    decides again those that met another feed's items of it, edits and other
    articles under an old GUID as well as new items."""
    from ..dedup import assign_stories

    watched = run.watch(storage) if run is not None else None
    decisions = assign_stories(
        watched or storage,
        [i.features for i in items],
        since,
        config.dedup.max_distance,
        state.id,
        findings=watched.findings if watched is not None else None,
    )
    return decisions, watched


def prune_daily(config: Config, storage: Storage, now: datetime) -> int:
    """Prune the dedup index of items older than the window, and the stories older
    than `[storage] keep_days` (`prune_old`), at most once a day."""
    from .retention import prune_old

    last = storage.get_meta("pruned_at")
    if last and datetime.fromisoformat(last) > now - timedelta(days=1):
        return 0
    pruned = storage.prune_index(now - timedelta(days=config.dedup.window_days))
    prune_old(config, storage, now)
    storage.set_meta("pruned_at", now.isoformat())
    return pruned


def find_story(
    storage: Storage, features: Features, since: datetime, max_distance: int
) -> tuple[int | None, str | None]:
    """The stored story an article belongs to (and why), or None for a new story."""
    from ..dedup import assign_stories

    (decision,) = assign_stories(storage, [features], since, max_distance)
    return (decision.story, decision.reason) if decision.story > 0 else (None, None)
