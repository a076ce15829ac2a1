"""`monitor daemon` as a real process against loopback HTTP and SMTP servers.

Schedules are compressed to seconds (``min_interval = 1``); each test runs
the daemon for a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import FeedServer, MailHandler, Response, running_smtp, smtp_table
from fixtures.make_samples import build

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Daemon:
    def __init__(self, config: Path, log: str = "daemon.log") -> None:
        self.config = config
        self.log = config.parent / log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        stream = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "daemon", "--config", str(self.config)],
            stdout=stream,
            stderr=stream,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=20)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        if daemon.process and daemon.process.poll() is None:
            daemon.kill()


def wait_for(check: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def config_file(
    folder: Path,
    feeds: list[tuple[str, str]],
    extra: str = "",
    digest: str = "",
    storage: str = 'path = "monitor.db"',
    fetch: str = "interval = 1\nmin_interval = 1\ntimeout = 3",
) -> Path:
    lines = [
        "[storage]", storage,
        "[fetch]", fetch,
        "[digest]", 'timezone = "Asia/Shanghai"', 'recipients = ["reader@example.org"]',
        'sender = "monitor@example.org"', 'outbox = "outbox"', digest, extra,
    ]  # fmt: skip
    for name, url in feeds:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_urls(config: Path) -> set[str]:
    db = sqlite3.connect(config.parent / "monitor.db")
    try:
        return {row[0] for row in db.execute("SELECT url FROM items")}
    except sqlite3.OperationalError:
        return set()
    finally:
        db.close()


def integrity(config: Path) -> str:
    db = sqlite3.connect(config.parent / "monitor.db")
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def send_at(seconds_from_now: float) -> str:
    when = datetime.now(SHANGHAI) + timedelta(seconds=seconds_from_now)
    return f'send_at = "{when:%H:%M:%S}"'


def test_feeds_on_their_intervals_and_a_failing_feed_backs_off_and_recovers(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    samples = build()
    feed_server.routes["/good.xml"] = Response(samples["dw.xml"].encode())
    attempts = {"n": 0}

    def flaky(_: object) -> Response:
        attempts["n"] += 1
        if attempts["n"] <= 3:
            return Response(b"down", 500)
        return Response(samples["rfi.xml"].encode())

    feed_server.routes["/flaky.xml"] = flaky
    config = config_file(
        tmp_path, [("good", feed_server.url("/good.xml")), ("flaky", feed_server.url("/flaky.xml"))]
    )
    daemon = Daemon(config).start()
    daemons.append(daemon)
    wait_for(lambda: len(stored_urls(config)) == 3, seconds=25)  # 1 from good, 2 from flaky
    started = feed_server.hits("/good.xml")
    time.sleep(4)
    assert 2 <= feed_server.hits("/good.xml") - started <= 6  # every ~1 s, not a hammering loop
    # Claimed up to a tick ahead, a feed is still fetched no sooner than its time.
    good = [t for p, t in feed_server.request_times if p == "/good.xml"]
    assert min(b - a for a, b in zip(good, good[1:], strict=False)) > 0.95
    assert daemon.stop() == 0
    log = daemon.text()
    assert log.count("feed 'flaky': HTTP 500 Internal Server Error; next try") == 3
    times = [t for p, t in feed_server.request_times if p == "/flaky.xml"][:4]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] < gaps[1] < gaps[2] and gaps[2] > 2.5 * gaps[0]  # exponential back-off
    assert "feed 'good': 200, 1 new" in log and "daemon stopped" in log
    assert integrity(config) == "ok"


def test_digest_is_sent_at_its_time_and_not_again_after_a_restart(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    handler = MailHandler()
    with running_smtp(handler) as smtp:
        config = config_file(
            tmp_path, [("dw", feed_server.url("/dw.xml"))], smtp_table(smtp.port), send_at(5)
        )
        daemon = Daemon(config).start()
        daemons.append(daemon)
        wait_for(lambda: handler.messages, seconds=20)
        assert daemon.stop() == 0
        second = Daemon(config).start()
        daemons.append(second)
        time.sleep(3)
        assert second.stop() == 0
        assert len(handler.messages) == 1
        assert "对抗朝鲜" in handler.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def miss_a_digest(config: Path) -> None:
    """Record that the last digest sent was two days ago, as if the daemon had been down."""
    db = sqlite3.connect(config.parent / "monitor.db")
    old = (datetime.now(SHANGHAI) - timedelta(days=2)).isoformat()
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('digest_slot:daily', ?)", (old,))
    db.commit()
    db.close()


def run_once(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args, "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_missed_digest_is_sent_once_at_start_up(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    handler = MailHandler()
    with running_smtp(handler) as smtp:
        config = config_file(
            tmp_path, [("dw", feed_server.url("/dw.xml"))], smtp_table(smtp.port), send_at(-3600)
        )
        assert run_once(config, "run", "--no-digest").returncode == 0
        miss_a_digest(config)
        for _ in range(2):
            daemon = Daemon(config).start()
            daemons.append(daemon)
            time.sleep(4)
            assert daemon.stop() == 0
        assert len(handler.messages) == 1
        assert "sending the one missed" in daemon.log.read_text(encoding="utf-8")


def test_kill_9_in_the_middle_of_a_fetch_loses_nothing(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    samples = build()
    feed_server.routes["/rfi.xml"] = Response(samples["rfi.xml"].encode(), delay=2.5)
    config = config_file(tmp_path, [("rfi", feed_server.url("/rfi.xml"))])
    daemon = Daemon(config).start()
    daemons.append(daemon)
    wait_for(lambda: feed_server.hits("/rfi.xml") >= 1)
    time.sleep(1)
    daemon.kill()
    assert stored_urls(config) == set()
    feed_server.routes["/rfi.xml"] = Response(samples["rfi.xml"].encode())
    again = Daemon(config).start()
    daemons.append(again)
    wait_for(lambda: len(stored_urls(config)) == 2)
    assert again.stop() == 0
    assert integrity(config) == "ok"


class SlowMail(MailHandler):
    """Takes seconds to accept a message; one whose sender went away is not accepted."""

    receiving = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.receiving = True
        await asyncio.sleep(3)
        if server.transport is None or server.transport.is_closing():
            return "451 sender went away"
        return await super().handle_DATA(server, session, envelope)


def test_kill_9_in_the_middle_of_a_digest_sends_it_once(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    handler = SlowMail()
    with running_smtp(handler) as smtp:
        config = config_file(
            tmp_path, [("dw", feed_server.url("/dw.xml"))], smtp_table(smtp.port), send_at(-3600)
        )
        assert run_once(config, "run", "--no-digest").returncode == 0
        miss_a_digest(config)
        daemon = Daemon(config).start()
        daemons.append(daemon)
        wait_for(lambda: "sending the one missed" in daemon.text())
        time.sleep(1)
        daemon.kill()  # while the server is still taking the message
        time.sleep(3)
        assert handler.messages == []
        again = Daemon(config).start()
        daemons.append(again)
        wait_for(lambda: handler.messages, seconds=20)
        time.sleep(1)
        assert again.stop() == 0
        assert len(handler.messages) == 1
        assert integrity(config) == "ok"


def test_sigterm_in_the_middle_of_a_digest_lets_it_finish_and_it_goes_once(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    handler = SlowMail()
    with running_smtp(handler) as smtp:
        config = config_file(
            tmp_path, [("dw", feed_server.url("/dw.xml"))], smtp_table(smtp.port), send_at(6)
        )
        daemon = Daemon(config).start()
        daemons.append(daemon)
        wait_for(lambda: handler.receiving)  # the scheduled send, at its time
        time.sleep(0.5)
        assert daemon.stop() == 0  # while the server is still taking the message
        assert len(handler.messages) == 1  # the sender stayed for the answer
        log = daemon.text()
        assert "waiting up to 185 s for 1 digest send" in log
        assert "digest daily delivered" in log
        for bad in ("Traceback", "Task was destroyed", "GeneratorExit"):
            assert bad not in log
        again = Daemon(config).start()
        daemons.append(again)
        time.sleep(4)
        assert again.stop() == 0
        assert len(handler.messages) == 1
        assert integrity(config) == "ok"


def test_one_daemon_per_database_and_run_refuses_while_it_works(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    config = config_file(tmp_path, [("dw", feed_server.url("/dw.xml"))])
    first = Daemon(config).start()
    daemons.append(first)
    wait_for(lambda: "daemon started" in first.text())
    second = run_once(config, "daemon")
    assert second.returncode == 1
    assert "a monitor daemon" in second.stderr and "is already running on it" in second.stderr
    refused = run_once(config, "run")
    assert refused.returncode == 1 and "is running on it" in refused.stderr
    assert first.stop() == 0


def test_sighup_reloads_the_feeds(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    samples = build()
    feed_server.routes["/dw.xml"] = Response(samples["dw.xml"].encode())
    feed_server.routes["/nyt.xml"] = Response(samples["nytimes.xml"].encode())
    config = config_file(tmp_path, [("dw", feed_server.url("/dw.xml"))])
    daemon = Daemon(config).start()
    daemons.append(daemon)
    wait_for(lambda: len(stored_urls(config)) == 1)
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[[feeds]]\nname = "nyt"\nurl = "{feed_server.url("/nyt.xml")}"\n',
        encoding="utf-8",
    )
    assert daemon.process is not None
    os.kill(daemon.process.pid, signal.SIGHUP)
    wait_for(lambda: len(stored_urls(config)) == 2)
    assert "configuration reloaded: 2 feeds (1 added, 0 removed, 0 renamed)" in daemon.text()
    # A feed renamed keeps its row: its items are not stored again under the new name.
    config.write_text(
        config.read_text(encoding="utf-8").replace('name = "nyt"', 'name = "NYT"'),
        encoding="utf-8",
    )
    os.kill(daemon.process.pid, signal.SIGHUP)
    wait_for(lambda: "feed 'NYT' was 'nyt': its items and history stay with it" in daemon.text())
    wait_for(lambda: "2 feeds (0 added, 0 removed, 1 renamed)" in daemon.text())
    db = sqlite3.connect(config.parent / "monitor.db")
    names = [row[0] for row in db.execute("SELECT name FROM feeds ORDER BY id")]
    db.close()
    assert names == ["dw", "NYT"]
    assert daemon.stop(signal.SIGINT) == 0


def test_per_host_politeness_and_json_log_lines(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    import json
    import threading

    lock = threading.Lock()
    state = {"now": 0, "most": 0}
    body = build()["dw.xml"].encode()

    def slow(_: object) -> Response:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.5)
        with lock:
            state["now"] -= 1
        return Response(body)

    for n in range(4):
        feed_server.routes[f"/f{n}.xml"] = slow
    feeds = [(f"f{n}", feed_server.url(f"/f{n}.xml")) for n in range(4)]
    config = config_file(tmp_path, feeds)
    text = config.read_text(encoding="utf-8").replace("timeout = 3", "timeout = 3\nper_host = 1")
    config.write_text(text, encoding="utf-8")
    daemon = Daemon(config)
    daemon.process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "daemon", "--log-format", "json", "--config", str(config)],
        stdout=daemon.log.open("ab"), stderr=daemon.log.open("ab"),
    )  # fmt: skip
    daemons.append(daemon)
    wait_for(lambda: feed_server.hits("/f3.xml") >= 1 and len(stored_urls(config)) >= 1)
    time.sleep(1)
    assert daemon.stop() == 0
    assert state["most"] == 1  # one request at a time to 127.0.0.1
    events = [json.loads(line) for line in daemon.text().splitlines()]
    fetches = [e for e in events if e.get("event") == "fetch"]
    assert {e["feed"] for e in fetches} == {"f0", "f1", "f2", "f3"}
    assert all(
        {"status", "new", "edited", "seconds", "next", "time", "level"} <= set(e) for e in fetches
    )


def test_a_fetch_log_line_counts_the_items_edited_when_there_are_some(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from monitor.service.daemon import log_fetch
    from monitor.service.pipeline import FeedReport

    caplog.set_level("INFO", logger="monitor")
    log_fetch(FeedReport("news", new=2, edited=1, http_status=200))
    log_fetch(FeedReport("other", new=1, http_status=200))
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("feed 'news': 200, 2 new, 1 edited, 0 reposts,")
    assert lines[1].startswith("feed 'other': 200, 1 new, 0 reposts,")
    assert [record.fields["edited"] for record in caplog.records] == [1, 0]  # type: ignore[attr-defined]


def test_three_daemons_on_one_postgresql_share_the_feeds(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon], postgres_url: str
) -> None:
    """Each due feed fetched by one daemon, reposts in one story, one digest, and a
    killed daemon's feeds taken over by the others."""
    from monitor.store import Storage

    samples = build()
    feeds = []
    for name in ("dw.xml", "aggregator.xml", "nytimes.xml", "rfi.xml", "cri.xml"):
        feed_server.routes[f"/{name}"] = Response(samples[name].encode(), etag='"1"')
        feeds.append((name.removesuffix(".xml"), feed_server.url(f"/{name}")))
    for number in range(5):
        path = f"/extra{number}.xml"
        feed_server.routes[path] = Response(samples["rfi.xml"].encode(), etag='"1"')
        feeds.append((f"extra{number}", feed_server.url(path)))
    Storage(postgres_url, migrate=True).close()
    handler = MailHandler()
    with running_smtp(handler) as smtp:
        lines = [
            "[storage]", f'url = "{postgres_url}"',
            # concurrency 2: fewer feeds than there are at once, so that all three share them
            "[fetch]", "interval = 2", "min_interval = 1", "timeout = 3", "concurrency = 2",
            "[digest]", 'timezone = "Asia/Shanghai"', 'recipients = ["reader@example.org"]',
            'sender = "monitor@example.org"', send_at(6), smtp_table(smtp.port),
        ]  # fmt: skip
        for name, url in feeds:
            lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
        config = tmp_path / "config.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        workers = [Daemon(config, f"daemon{n}.log").start() for n in range(3)]
        daemons.extend(workers)
        wait_for(lambda: handler.messages, seconds=30)
        wait_for(lambda: all(feed_server.hits(f"/{n}.xml") >= 3 for n, _ in feeds), seconds=30)
        refused = run_once(config, "run")  # not while daemons share the database
        assert refused.returncode == 1 and "is running on it" in refused.stderr
        status = json.loads(run_once(config, "status", "--json").stdout)
        assert len(status["database"]["daemons"]) == 3
        assert status["database"]["location"] == postgres_url
        killed_at = time.monotonic()
        workers[0].kill()
        wait_for(
            lambda: all(
                any(p == f"/{n}.xml" and t > killed_at + 0.5 for p, t in feed_server.request_times)
                for n, _ in feeds
            ),
            seconds=30,
        )
        time.sleep(3)
        for worker in workers[1:]:
            assert worker.stop() == 0
    assert len(handler.messages) == 1
    # Never two fetches of a feed within its interval (2 s, less its jitter of 10 %).
    for name, _ in feeds:
        times = [t for p, t in feed_server.request_times if p == f"/{name}.xml"]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 1.6, (name, gaps)
    # All three did some of the fetching.
    for worker in workers:
        assert "feed '" in worker.text(), worker.text()
    with Storage(postgres_url) as storage:
        items = list(storage.export_items())
        assert len(items) == len({(i["feed"], i["guid"]) for i in items})
        by_url = {i["url"]: i for i in items}
        copy = by_url["https://www.qukanredian.com/news/20230319/dw-korea-japan.html"]
        original = next(i for i in items if i["feed"] == "dw")
        assert copy["story"] == original["story"]
        holders = storage._db.execute("SELECT claimed_by FROM feeds").fetchall()
        assert all(row[0] is None for row in holders)  # stopped daemons left no claims


def test_a_daemon_waiting_on_the_database_goes_on_fetching(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon], postgres_url: str
) -> None:
    """While another process holds the dedup lock, fetches in flight finish (none is cut
    off by its 2 s timeout) and their items are stored once the lock is free."""
    import psycopg

    from monitor.store import Storage
    from monitor.store.base import DEDUP_LOCK
    from monitor.store.postgres import lock_key

    samples = build()
    feeds = []
    for name in ("dw.xml", "nytimes.xml", "rfi.xml", "cri.xml"):
        feed_server.routes[f"/{name}"] = Response(samples[name].encode(), delay=0.5)
        feeds.append((name.removesuffix(".xml"), feed_server.url(f"/{name}")))
    Storage(postgres_url, migrate=True).close()
    config = config_file(
        tmp_path, feeds, storage=f'url = "{postgres_url}"',
        fetch="interval = 60\nmin_interval = 1\ntimeout = 2",
    )  # fmt: skip
    with psycopg.connect(postgres_url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(DEDUP_LOCK),))
        daemon = Daemon(config).start()
        daemons.append(daemon)
        wait_for(lambda: all(feed_server.hits(f"/{n}.xml") for n, _ in feeds))
        time.sleep(5)  # well past the fetch timeout, with the lock still held
        other.rollback()
    with Storage(postgres_url) as storage:
        wait_for(lambda: {i["feed"] for i in storage.export_items()} == {n for n, _ in feeds})
    assert daemon.stop() == 0
    assert "timed out" not in daemon.text()
    assert all(feed_server.hits(f"/{n}.xml") == 1 for n, _ in feeds)


def test_feeds_are_claimed_in_batches_and_not_at_all_while_none_is_due(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A claim is a write to the feeds table (a millisecond at 1,000 feeds): the
    daemon claims ahead, for the next free slots and the next tick, instead of
    once per fetch that ends, and claims nothing while no feed can be due,
    where it had tried at every tick."""
    from monitor.service.daemon import Daemon as InProcess

    rss = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"
    paths = [f"/f{n}.xml" for n in range(24)]
    for path in paths:
        feed_server.routes[path] = Response(rss, delay=0.02)
    config = config_file(
        tmp_path,
        [(path, feed_server.url(path)) for path in paths],
        fetch="interval = 3600\nmin_interval = 3600\ntimeout = 3\nconcurrency = 3\nper_host = 3",
    )
    claims: list[int] = []

    async def go() -> tuple[int, int]:
        daemon = InProcess(config)
        claim = daemon.storage.claim_feeds_due_by

        def counted(*args: Any) -> list[tuple[str, datetime]]:
            claimed = claim(*args)
            claims.append(len(claimed))
            return claimed

        daemon.storage.claim_feeds_due_by = counted  # type: ignore[method-assign]
        running = asyncio.create_task(daemon.run())
        while sum(feed_server.hits(path) for path in paths) < len(paths):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        settled = len(claims)
        await asyncio.sleep(2)  # four ticks with no feed due
        idle = len(claims) - settled
        daemon.stopping.set()
        assert await running == 0
        return settled, idle

    settled, idle = asyncio.run(go())
    assert [feed_server.hits(path) for path in paths] == [1] * len(paths)
    assert sum(claims) == len(paths)
    assert settled <= len(paths) // 3  # once per fetch ended, it was 24 and more
    assert idle == 0
