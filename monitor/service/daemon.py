"""`monitor daemon`: every feed on its own schedule, every digest on time.

APScheduler runs three kinds of job on the asyncio loop:

- *dispatch*, every `TICK` seconds and whenever a fetch ends: claims feeds
  whose stored ``next_fetch_at`` has come (`schedule.next_fetch` decides it
  after each fetch) and starts as many as there are free fetch slots. It
  claims those due within the next `TICK` too, up to ``fetch.concurrency``
  more, and starts each when its time comes: at 1,000 feeds a claim is a
  millisecond of the database's time, and feeds fall due one by one (each has
  its own jitter), so a cycle of 1,000 fetches had made a claim for each.
  When no feed is left due, it claims nothing until the next feed's time has
  come, or for `QUIET_MAX` seconds at most (a feed made due by another
  process: a claim left to expire): claiming at every tick, a daemon with
  nothing to do spent 7.5 ms of CPU a second, 27 CPU-seconds an hour.
  A claim in the database, not a lock in memory, keeps runs of one feed
  from overlapping, also between daemons sharing a PostgreSQL database; a
  fetch that hangs is cut off by the fetch timeout, and the scheduler itself
  never waits on a feed.
- one cron job per digest at its ``send_at`` in its time zone (APScheduler's
  cron trigger follows daylight-saving changes). A slot missed while the
  daemon was down is sent once at start-up; the last slot handled is stored
  per digest, so it is never sent twice.
- *lease*, renewing this daemon's lease and its feed claims. On SQLite the
  lease makes it the only daemon on the database: a second daemon refuses
  to start with a message naming the holder. On PostgreSQL every daemon has
  its own lease and they share the feeds; ``monitor run`` refuses while any
  daemon is running. A claim or lease whose holder was killed on this host is
  taken over at once, one whose holder vanished elsewhere when it expires.
  A digest is sent by whichever daemon takes its lease first; the others see
  its slot handled and send nothing.

SIGHUP reloads the configuration (feeds added or removed take effect at the
next tick; a broken file is reported and the old configuration kept).
SIGTERM and SIGINT stop the scheduler, let running fetches finish (each
feed is stored in one transaction, so a fetch cut off stores nothing), and
release the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from ..config import Config, DigestConfig, FeedConfig, load_config
from ..errors import ConfigError, DeliveryError, MonitorError, StorageError
from ..fetch import Fetcher
from ..store import DAEMON_LEASE, HOLDER, Storage
from ..words import counted
from .clock import utcnow
from .dbthread import DatabaseThread
from .digests import DigestBusy, DigestOutcome, send_digests, slot_key
from .pipeline import FeedReport, fetch_feed, follow_renames, prune_daily
from .schedule import digest_due, digest_slot
from .workers import POOL_MIN_FEEDS, LazyPool

log = logging.getLogger("monitor")

TICK = 0.5
QUIET_MAX = timedelta(seconds=5)
LEASE_SECONDS = 60
RENEW_SECONDS = 15
STOP_GRACE = 5.0
# A send waits on the server at most this many times (connect, greeting, TLS,
# login, envelope, message), each bounded by `smtp.timeout`.
SEND_STEPS = 6
BUSY_RETRY = timedelta(seconds=5)


class Daemon:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.config = load_config(config_path)
        self.storage = Storage.open(self.config)
        self.fetcher = Fetcher(self.config.fetch, self.config.base_dir, self.config.local_roots)
        self.running: dict[str, asyncio.Task[None]] = {}
        self.sending: set[asyncio.Future[None]] = set()
        """Digest sends in flight: a stop waits for them (`finish_sends`)."""
        self.stopping = asyncio.Event()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.lease = daemon_lease(self.storage)
        self._dispatching = False
        self.queued: list[tuple[datetime, str]] = []
        """Feeds claimed ahead (a heap by fetch time), for the next free fetch slots."""
        self.quiet_until: datetime | None = None
        """Until when no feed can be due: no claim is tried before then."""
        # Parsing a big feed takes tens of milliseconds of CPU: in worker
        # processes it uses every core and never holds up the event loop.
        many = len(self.config.active_feeds) >= POOL_MIN_FEEDS
        self.pool = LazyPool(self.config.fetch.workers) if many else None
        # Once the scheduler runs, every database call goes through this thread.
        self.db = DatabaseThread()

    async def run(self) -> int:
        take_daemon_lease(self.storage, self.config)
        follow_renames(self.config, self.storage)
        self.storage.ensure_feeds([(f.name, f.url) for f in self.config.active_feeds])
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        try:
            self.scheduler.add_job(
                self.dispatch, "interval", seconds=TICK, id="dispatch",
                max_instances=1, coalesce=True, next_run_time=utcnow(),
            )  # fmt: skip
            self.scheduler.add_job(
                self.renew_lease, "interval", seconds=RENEW_SECONDS, id="lease",
                max_instances=1, coalesce=True,
            )  # fmt: skip
            self.schedule_digests()
            self.scheduler.start()
            log.info(
                "daemon started: %d feeds, digests %s",
                len(self.config.feeds),
                ", ".join(
                    f"{d.name} at {d.send_at:%H:%M:%S} {d.timezone}" for d in self.config.digests
                ),
            )
            await self.catch_up_digests()
            await self.stopping.wait()
            log.info(
                "stopping: waiting for %s",
                counted(len(self.running), "running fetch", "running fetches"),
            )
            self.scheduler.shutdown(wait=False)
            if self.running:
                _, late = await asyncio.wait(list(self.running.values()), timeout=STOP_GRACE)
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
            await self.finish_sends()
        finally:
            await self.fetcher.__aexit__()
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
            self.db.close()  # lets a store in progress finish
            self.storage.release_claims(HOLDER)
            self.storage.release_lease(self.lease, HOLDER)
            self.storage.close()
        log.info("daemon stopped")
        return 0

    # feeds

    async def dispatch(self) -> None:
        if self._dispatching or self.stopping.is_set():
            return
        await self._start_queued()
        concurrency = self.config.fetch.concurrency
        free = concurrency - len(self.running)
        now = utcnow()
        if free <= 0 or (self.quiet_until is not None and now < self.quiet_until):
            return
        self._dispatching = True
        try:
            names = {feed.name for feed in self.config.active_feeds}
            names -= {*self.running, *(name for _, name in self.queued)}
            wanted = free + concurrency
            until = now + timedelta(seconds=TICK)
            claimed: list[tuple[str, datetime]] = await self.db(
                self.storage.claim_feeds_due_by, names, HOLDER, now, until, LEASE_SECONDS, wanted
            )
            self.quiet_until = None
            if len(claimed) < wanted:  # none other due by `until`
                later = await self.db(self.storage.next_due, until)
                self.quiet_until = min(later or now + QUIET_MAX, now + QUIET_MAX)
        except StorageError as e:
            log.error("%s", e)
            return
        finally:
            self._dispatching = False
        for name, due in claimed:
            heapq.heappush(self.queued, (due, name))
        await self._start_queued()

    async def _start_queued(self) -> None:
        """Start the feeds claimed ahead whose time has come, as many as there are
        free fetch slots (or give them back, when stopping or no longer configured)."""
        if not self.queued:
            return
        by_name = {feed.name: feed for feed in self.config.active_feeds}
        now = utcnow()
        while self.queued and (
            self.stopping.is_set()
            or (len(self.running) < self.config.fetch.concurrency and self.queued[0][0] <= now)
        ):
            _, name = heapq.heappop(self.queued)
            if self.stopping.is_set() or name not in by_name or name in self.running:
                await self.give_back(name)
                continue
            task = asyncio.create_task(self.fetch(by_name[name]), name=f"fetch {name}")
            self.running[name] = task
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.running.pop(task.get_name().removeprefix("fetch "), None)
        if not self.stopping.is_set():
            # A free slot: the next due feed need not wait for the tick.
            asyncio.ensure_future(self.dispatch())

    async def fetch(self, feed: FeedConfig) -> None:
        try:
            report = await fetch_feed(
                self.config, self.storage, self.fetcher, feed, pool=self.pool, db=self.db
            )
        except MonitorError as e:  # the database, not the feed
            log.error("%s", e)
            await self.give_back(feed.name)
            return
        except BaseException:
            await asyncio.shield(self.give_back(feed.name))
            raise
        log_fetch(report)
        due = report.next_fetch_at
        if due is not None and self.quiet_until is not None and due < self.quiet_until:
            self.quiet_until = due  # a feed due again sooner than any other

    async def give_back(self, name: str) -> None:
        """End the claim on a feed whose fetch ended without recording it."""
        try:
            await self.db(self.storage.release_claim, HOLDER, name)
        except MonitorError as e:
            log.error("%s", e)  # the claim expires by itself

    # digests

    def schedule_digests(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        for digest in self.config.digests:
            trigger = CronTrigger(
                hour=digest.send_at.hour,
                minute=digest.send_at.minute,
                second=digest.send_at.second,
                timezone=digest.zone,
            )
            self.scheduler.add_job(
                self.send_digest, trigger, args=[digest.name], id=f"digest:{digest.name}",
                max_instances=1, coalesce=True, misfire_grace_time=3600,
            )  # fmt: skip

    async def catch_up_digests(self) -> None:
        now = utcnow()
        for digest in self.config.digests:
            last = await self.last_slot(digest)
            if last is None:
                # First start on this database: nothing was missed.
                await self.db(
                    self.storage.set_meta,
                    slot_key(digest.name),
                    digest_slot(now, digest.send_at, digest.zone).isoformat(),
                )
            elif digest_due(now, digest.send_at, digest.zone, last):
                log.info(
                    "digest %s: sending the one missed at %s",
                    digest.name,
                    digest_slot(now, digest.send_at, digest.zone),
                )
                await self.send_digest(digest.name)

    async def last_slot(self, digest: DigestConfig) -> datetime | None:
        value = await self.db(self.storage.get_meta, slot_key(digest.name))
        return datetime.fromisoformat(value) if value else None

    async def send_digest(self, name: str) -> None:
        try:
            digest = self.config.digest_named(name)
        except ConfigError:
            return  # removed by a reload
        now = utcnow()
        slot = digest_slot(now, digest.send_at, digest.zone)
        last = await self.last_slot(digest)
        if last is not None and last >= slot:
            return
        if self.stopping.is_set():
            return
        send = asyncio.ensure_future(self.send_and_report(name, now, slot))
        self.sending.add(send)
        send.add_done_callback(self.sending.discard)
        # A stop cancels this job (the scheduler's shutdown does): the send goes
        # on, and the stop waits for it (`finish_sends`).
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(send)

    async def send_and_report(self, name: str, now: datetime, slot: datetime) -> None:
        try:
            outcomes = await asyncio.to_thread(self.send_alone, name, slot)
        except DigestBusy as e:
            # Another daemon is sending it; look again once it is done.
            log.info("%s; checking again in %s", e, BUSY_RETRY)
            self.retry_digest(name, now + BUSY_RETRY)
            return
        except MonitorError as e:
            if isinstance(e, DeliveryError) and e.permanent:
                # Asking again in minutes would get the same answer: the recipients
                # it failed for get what is pending for them at the next send.
                log.error("%s; not tried again before the next scheduled digest", e)
                return
            retry = max(self.config.fetch.min_interval, timedelta(seconds=1))
            log.error("%s; trying again in %s", e, retry)
            self.retry_digest(name, now + retry)
            return
        if not outcomes:
            log.info("digest %s: no pending stories", name)
        for outcome in outcomes:
            log.info(
                "digest %s delivered: %s to %s → %s",
                name, outcome.shown, ", ".join(outcome.recipients), outcome.transport,
            )  # fmt: skip

    async def finish_sends(self) -> None:
        """Let digest sends in flight end before stopping, as long as a send may take.

        A send cut off in the middle is not lost (it is sent again, as the
        same message, at the next start), but one that ends now is settled
        now, and its reader gets it once.
        """
        if not self.sending:
            return
        smtp = self.config.smtp
        bound = (SEND_STEPS * smtp.timeout if smtp else 0) + STOP_GRACE
        sends = counted(len(self.sending), "digest send")
        log.info("stopping: waiting up to %g s for %s", bound, sends)
        _, late = await asyncio.wait(list(self.sending), timeout=bound)
        if late:
            log.error(
                "stopping with %d digest sends unfinished after %g s: each is sent again, "
                "as the same message, at the next start",
                len(late),
                bound,
            )

    def send_alone(self, name: str, slot: datetime) -> list[DigestOutcome]:
        """Send on a connection of its own, off the database thread: a slow mail
        server then holds up neither fetching nor storing nor lease renewal."""
        with Storage.open(self.config) as storage:
            return send_digests(self.config, storage, names=(name,), slot=slot)

    def retry_digest(self, name: str, when: datetime) -> None:
        if self.stopping.is_set():
            return  # the next start sends what is pending
        self.scheduler.add_job(
            self.send_digest, "date", run_date=when, args=[name],
            id=f"retry:{name}", replace_existing=True,
        )  # fmt: skip

    # housekeeping

    async def renew_lease(self) -> None:
        try:
            pruned = await self.db(prune_daily, self.config, self.storage, utcnow())
            if pruned:
                log.info(
                    "dedup index: dropped the rows of %s outside the window",
                    counted(pruned, "item"),
                )
            taken = await self.db(
                self.storage.acquire_lease, self.lease, HOLDER, LEASE_SECONDS, utcnow()
            )
            if taken is None:
                log.error("lost the daemon lease to another process; stopping")
                self.stopping.set()
                return
            held = [*self.running, *(name for _, name in self.queued)]
            await self.db(self.storage.renew_claims, HOLDER, held, utcnow(), LEASE_SECONDS)
        except StorageError as e:
            log.error("%s", e)

    def reload(self) -> None:
        asyncio.ensure_future(self._reload())

    async def _reload(self) -> None:
        try:
            config = load_config(self.config_path)
        except ConfigError as e:
            log.error("reload failed, keeping the running configuration: %s", e)
            return
        if config.storage != self.config.storage:
            log.warning("reload: [storage] changed; restart the daemon to use the new database")
            config = _with_storage(config, self.config)
        try:
            renamed = await self.db(follow_renames, config, self.storage)
            await self.db(self.storage.ensure_feeds, [(f.name, f.url) for f in config.active_feeds])
        except StorageError as e:
            log.error("reload failed, keeping the running configuration: %s", e)
            return
        if config.fetch != self.config.fetch:
            old = self.fetcher
            self.fetcher = Fetcher(config.fetch, config.base_dir, config.local_roots)
            asyncio.get_running_loop().call_later(
                config.fetch.timeout + STOP_GRACE, lambda: asyncio.ensure_future(old.__aexit__())
            )
        added = {f.name for f in config.feeds} - {f.name for f in self.config.feeds}
        removed = {f.name for f in self.config.feeds} - {f.name for f in config.feeds}
        added -= {new for _, new in renamed}
        removed -= {old for old, _ in renamed}
        self.config = config
        self.quiet_until = None  # added feeds are due at once
        self.schedule_digests()
        log.info(
            "configuration reloaded: %d feeds (%d added, %d removed, %d renamed)",
            len(config.feeds), len(added), len(removed), len(renamed),
        )  # fmt: skip


def _with_storage(new: Config, old: Config) -> Config:
    from dataclasses import replace

    return replace(new, storage=old.storage)


def daemon_lease(storage: Storage) -> str:
    """The lease this daemon holds: the one for the database, or its own when shared."""
    return f"{DAEMON_LEASE}:{HOLDER}" if storage.shared else DAEMON_LEASE


def take_daemon_lease(storage: Storage, config: Config) -> None:
    lease = daemon_lease(storage)
    if storage.acquire_lease(lease, HOLDER, LEASE_SECONDS, utcnow()) is None:
        holder = storage.lease_holder(lease, utcnow()) or "another process"
        raise StorageError(
            f"database {config.storage.location}: a monitor daemon ({holder}) is already "
            "running on it; stop it first"
        )


def log_fetch(report: FeedReport) -> None:
    status = report.http_status if report.http_status is not None else report.status
    fields = {
        "event": "fetch",
        "feed": report.name,
        "status": status,
        "new": report.new,
        "edited": report.edited,
        "reposts": report.reposts,
        "seconds": round(report.seconds, 3),
        "next": report.next_fetch_at.isoformat() if report.next_fetch_at else None,
    }
    if report.error:
        when = f"; next try {report.next_fetch_at:%H:%M:%S}" if report.next_fetch_at else ""
        log.error("%s%s", report.error, when, extra={"fields": {**fields, "error": report.error}})
    else:
        when = f"{report.next_fetch_at:%H:%M:%S}" if report.next_fetch_at else "-"
        edited = f", {report.edited} edited" if report.edited else ""
        log.info(
            "feed %r: %s, %d new%s, %d reposts, %.2f s, next %s",
            report.name, status, report.new, edited, report.reposts, report.seconds, when,
            extra={"fields": fields},
        )  # fmt: skip
    if pages := report.pages_line():
        log.info(
            "%s", pages,
            extra={"fields": {"event": "pages", "feed": report.name, "pages": report.pages,
                              "failed": report.pages_failed}},
        )  # fmt: skip
    for problem in report.problem_lines():
        log.warning("%s", problem, extra={"fields": {"event": "item", "feed": report.name}})


def run_daemon(config_path: Path) -> int:
    daemon_loop = asyncio.new_event_loop()
    try:
        return daemon_loop.run_until_complete(_start(config_path))
    finally:
        daemon_loop.close()


async def _start(config_path: Path) -> int:
    return await Daemon(config_path).run()
