"""A run that meets a bug on one feed, or loses its database half way.

Feeds are prepared in worker processes and stored in publication order behind
each other; whatever goes wrong, the run ends, and says what in one line.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config

from monitor.cli import main
from monitor.errors import StorageError


def heavy_rss(name: str) -> bytes:
    """A feed of 100 long items: enough to keep the worker processes busy."""
    items = "".join(
        f"<item><title>{name} {n}</title><link>https://news.example.com/{name}/{n}</link>"
        f"<description>{(name + str(n) + '号报道的内容，') * 150}</description></item>"
        for n in range(100)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def serve(feed_server: FeedServer, folder: Path, count: int) -> Path:
    names = [f"f{n:02d}" for n in range(count)]
    for name in names:
        feed_server.routes[f"/{name}"] = Response(
            heavy_rss(name), headers={"Content-Type": "application/rss+xml"}
        )
    return write_config(folder, [(name, feed_server.url(f"/{name}")) for name in names])


def run_within(config: Path, seconds: float) -> int:
    """`monitor run`'s exit code; fails the test if it has not ended in `seconds`."""
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(main(["run", "--config", str(config), "--no-digest"])),
        daemon=True,
    )
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the run never ended"
    return codes[0]


def test_a_bug_met_on_one_feed_fails_that_feed_only(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from monitor.service import pipeline

    store = pipeline.store_feed

    def buggy(config, storage, feed, *args):  # type: ignore[no-untyped-def]
        if feed.name == "f03":
            raise ZeroDivisionError("division by zero")
        return store(config, storage, feed, *args)

    monkeypatch.setattr(pipeline, "store_feed", buggy)
    config = serve(feed_server, tmp_path, 12)
    assert run_within(config, 60) == 0  # as when a feed fails to answer
    errors = [line for line in capsys.readouterr().err.splitlines() if "f03" in line]
    assert errors == [
        "monitor: feed 'f03': unexpected ZeroDivisionError: division by zero "
        "(a bug in monitor; --debug shows where)"
    ]
    assert main(["export", "--config", str(config), "--format", "jsonl"]) == 0
    stored = capsys.readouterr().out
    assert stored.count("\n") == 11 * 100 and "/f03/" not in stored


def test_a_run_that_loses_its_database_ends_and_says_so(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The first feed fails and its failure cannot be recorded: the run stops while
    the other feeds wait in the worker processes or for their turn to be stored.
    Those waiting for it gave up too, and the run ends (it waited for ever)."""
    from monitor.store import Storage

    def no_disk(*args: object, **kwargs: object) -> None:
        raise StorageError("database: disk I/O error")

    monkeypatch.setattr(Storage, "record_failure", no_disk)
    config = serve(feed_server, tmp_path, 60)
    feed_server.routes["/f00"] = Response(b"", status=500, delay=0.5)
    assert run_within(config, 60) != 0
    assert capsys.readouterr().err.splitlines()[-1] == "monitor: error: database: disk I/O error"
