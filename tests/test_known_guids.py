"""A changed feed: only the items its last fetch did not have are parsed again.

The GUIDs of a feed's last fetch are recorded with it; the next fetch skips
those before adapting, whatever the feed's age (reading every GUID it ever
stored grew with it). An item that comes back after leaving the feed is found
stored when storing; one that could not be adapted is tried again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Backend, FeedServer, Response, write_config

from monitor.cli import main
from monitor.parse.adapters.base import SiteAdapter
from monitor.store import Storage

ARTICLES = {
    "a": "韩国国防部周三表示，朝鲜向东部海域发射了一枚弹道导弹，飞行约三百公里。",
    "b": "日本首相在东京会见来访的美国国防部长，双方同意加强导弹防御合作。",
    "c": "中国外交部发言人表示，希望有关各方保持克制，通过对话解决半岛问题。",
    "d": "俄罗斯与朝鲜签署新的军事合作协议，引发韩国和日本的强烈关注。",
}


def rss(*keys: str) -> bytes:
    items = "".join(
        f"<item><title>{key} 标题</title><link>https://news.example/{key}.html</link>"
        f"<guid>https://news.example/{key}.html</guid>"
        f"<pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate>"
        f"<description><![CDATA[<p>{ARTICLES[key]}</p>]]></description></item>"
        for key in keys
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        f"{items}</channel></rss>"
    ).encode()


def serve(feed_server: FeedServer, version: int, *keys: str) -> None:
    feed_server.routes["/feed.xml"] = Response(rss(*keys), etag=f'"v{version}"')


def run(config: Path) -> None:
    assert main(["run", "--no-digest", "--config", str(config)]) == 0


def stored(backend: Backend) -> list[str]:
    with backend.open() as storage:
        return sorted(item["guid"] for item in storage.export_items())


def last_guids(backend: Backend, feed_server: FeedServer) -> list[str]:
    with backend.open() as storage:
        state = storage.feed_state("news", feed_server.url("/feed.xml"))
        return sorted(state.last_guids or ())


def first_run(backend: Backend, tmp_path: Path, feed_server: FeedServer) -> Path:
    """A config for the feed, after a first run that stored "a" and "b"; its path."""
    config = write_config(
        tmp_path, [("news", feed_server.url("/feed.xml"))], storage=backend.storage
    )
    serve(feed_server, 1, "a", "b")
    run(config)
    return config


def count_adapted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The GUIDs of the items adapted from now on, in order."""
    adapted: list[str] = []
    adapt = SiteAdapter.adapt

    def counting(self: SiteAdapter, item: object, *args: object, **kwargs: bool) -> object:
        adapted.append(getattr(item, "guid", ""))
        return adapt(self, item, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SiteAdapter, "adapt", counting)
    return adapted


def guid(key: str) -> str:
    return f"https://news.example/{key}.html"


def test_a_changed_feed_parses_only_what_its_last_fetch_lacked(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = first_run(backend, tmp_path, feed_server)
    assert stored(backend) == [guid("a"), guid("b")]
    assert last_guids(backend, feed_server) == [guid("a"), guid("b")]

    def every_guid(self: Storage, feed_id: int) -> dict[str, str | None]:
        raise AssertionError("every GUID the feed stored was read")

    adapted = count_adapted(monkeypatch)
    monkeypatch.setattr(Storage, "signatures", every_guid)
    serve(feed_server, 2, "b", "c")
    run(config)
    assert adapted == [guid("c")]
    assert stored(backend) == [guid("a"), guid("b"), guid("c")]
    assert last_guids(backend, feed_server) == [guid("b"), guid("c")]

    # "a" left the feed and comes back: parsed again, and found stored.
    serve(feed_server, 3, "a", "c", "d")
    run(config)
    assert adapted == [guid("c"), guid("a"), guid("d")]
    assert stored(backend) == [guid("a"), guid("b"), guid("c"), guid("d")]
    assert last_guids(backend, feed_server) == [guid("a"), guid("c"), guid("d")]


def test_an_item_that_could_not_be_adapted_is_tried_again(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path, [("news", feed_server.url("/feed.xml"))], storage=backend.storage
    )
    adapt = SiteAdapter.adapt

    def failing(self: SiteAdapter, item: object, *args: object, **kwargs: bool) -> object:
        if getattr(item, "guid", None) == guid("b"):
            raise ValueError("broken markup")
        return adapt(self, item, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(SiteAdapter, "adapt", failing)
        serve(feed_server, 1, "a", "b")
        run(config)
    assert stored(backend) == [guid("a")]
    assert last_guids(backend, feed_server) == [guid("a")]
    serve(feed_server, 2, "a", "b", "c")
    run(config)
    assert stored(backend) == [guid("a"), guid("b"), guid("c")]


def test_the_last_guids_are_kept_until_a_fetch_reads_the_feed_again(backend: Backend) -> None:
    now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    with backend.open() as storage:
        state = storage.feed_state("news", "https://news.example/feed.xml")
        assert state.last_guids == {}  # new: it has stored nothing
        listed = {"g1": "0123456789abcdef", "g2 \u4e2d\"'": "fedcba9876543210"}
        with storage.transaction():
            storage.record_fetch(
                state.id, status=200, etag='"1"', last_modified=None, new_items=2, now=now,
                guids=listed,
            )  # fmt: skip
        with storage.transaction():  # a 304: the feed was not read
            storage.record_fetch(
                state.id, status=304, etag='"1"', last_modified=None, new_items=0, now=now
            )
        state = storage.feed_state("news", "https://news.example/feed.xml")
        assert state.last_guids == listed
        with storage.transaction():  # read, and empty
            storage.record_fetch(
                state.id, status=200, etag='"2"', last_modified=None, new_items=0, now=now,
                guids={},
            )  # fmt: skip
        assert storage.feed_state("news", "https://news.example/feed.xml").last_guids == {}
        raw = storage._db.execute("SELECT last_guids FROM feeds").fetchone()[0]
        assert json.loads(raw) == {}
        # As versions before signatures recorded them: GUIDs alone, none of them edited.
        storage._db.execute("""UPDATE feeds SET last_guids = '["g1", "g2"]'""")
        state = storage.feed_state("news", "https://news.example/feed.xml")
        assert state.last_guids == {"g1": None, "g2": None}


def test_a_feed_stored_before_its_guids_were_recorded_skips_every_stored_guid(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = first_run(backend, tmp_path, feed_server)
    with backend.open() as storage:  # as schema 7 left it
        storage._db.execute("UPDATE feeds SET last_guids = NULL")
        assert storage.feed_state("news", feed_server.url("/feed.xml")).last_guids is None
    adapted = count_adapted(monkeypatch)
    serve(feed_server, 2, "a", "b", "c")
    run(config)
    assert adapted == [guid("c")]
    assert stored(backend) == [guid("a"), guid("b"), guid("c")]
    assert last_guids(backend, feed_server) == [guid("a"), guid("b"), guid("c")]
