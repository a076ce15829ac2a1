"""PostgreSQL: configuration, explicit migrations, copying a SQLite database over,
and the guarantees several processes on one database rely on (claims, the dedup lock)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from conftest import Backend, FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import load_config
from monitor.dedup import Features
from monitor.errors import ConfigError, StorageError
from monitor.models import Article
from monitor.service.pipeline import find_story
from monitor.store import SCHEMA_VERSION, Storage
from monitor.store.leases import HOST

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TEXT = (
    "据韩国媒体报道，韩国国防部3月17日着手进入恢复《韩日军事情报保护协定》正常化所需程序。"
    "韩国国防部已向日本防卫省发送公文，要求日方确认协定的正常运作。"
    "日本方面表示将积极回应，两国防长预计在下月举行会谈，讨论情报共享的具体安排。"
)


def config_with(tmp_path: Path, storage: str) -> Path:
    return write_config(tmp_path, [("f", "https://example.org/f.xml")], storage=storage)


def test_a_password_in_the_url_is_refused(tmp_path: Path) -> None:
    path = config_with(tmp_path, 'url = "postgresql://monitor:secret@db.example/monitor"')
    with pytest.raises(ConfigError, match=r"config\.toml:2: storage\.url: .*PGPASSWORD") as e:
        load_config(path)
    assert "secret" not in str(e.value)


def test_path_and_url_together_are_refused(tmp_path: Path) -> None:
    path = config_with(tmp_path, 'path = "monitor.db"\nurl = "postgresql://db.example/monitor"')
    with pytest.raises(ConfigError, match="storage.url: set path .SQLite. or url .PostgreSQL."):
        load_config(path)


def test_a_sqlite_url_names_a_file_beside_the_config(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, 'url = "sqlite:///data/m.db"'))
    assert config.storage.target == tmp_path / "data" / "m.db"


def test_an_unreachable_server_is_one_line_naming_it() -> None:
    with pytest.raises(StorageError) as e:
        Storage("postgresql://monitor:hidden@127.0.0.1:1/monitor", busy_timeout=1)
    message = str(e.value)
    assert message.startswith("database postgresql://monitor@127.0.0.1:1/monitor: cannot connect")
    assert "\n" not in message and "hidden" not in message


def test_a_new_database_needs_monitor_migrate(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, f'url = "{postgres_url}"')
    assert main(["status", "--config", str(config)]) == 1
    assert "schema version 0, this monitor needs" in capsys.readouterr().err
    assert main(["migrate", "--config", str(config)]) == 0
    assert f"schema version {SCHEMA_VERSION}, upgraded from 0" in capsys.readouterr().out
    assert main(["migrate", "--config", str(config)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["status", "--config", str(config)]) == 0
    expected = f"database {postgres_url}: schema version {SCHEMA_VERSION}; daemons: none running"
    assert expected in capsys.readouterr().out


def test_a_newer_schema_is_refused_and_left_alone(postgres_url: str) -> None:
    Storage(postgres_url, migrate=True).close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    with pytest.raises(StorageError, match="is newer than this monitor knows"):
        Storage(postgres_url, migrate=True)
    with psycopg.connect(postgres_url) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert row == (str(SCHEMA_VERSION + 1),)


def test_a_sqlite_database_is_carried_over_whole(
    tmp_path: Path,
    postgres_url: str,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    samples = build()
    feeds = []
    for name in ("dw.xml", "aggregator.xml", "cri.xml"):
        feed_server.routes[f"/{name}"] = Response(samples[name].encode(), etag='"1"')
        feeds.append((name.removesuffix(".xml"), feed_server.url(f"/{name}")))
    old = write_config(tmp_path, feeds)
    assert main(["run", "--config", str(old)]) == 0
    before = export(old, capsys)

    new_folder = tmp_path / "new"
    new_folder.mkdir()
    new = write_config(new_folder, feeds, storage=f'url = "{postgres_url}"')
    source = f"sqlite:///{tmp_path / 'monitor.db'}"
    assert main(["migrate", "--config", str(new), "--from", source]) == 0
    assert f"copied 3 feeds, {len(before)} items" in capsys.readouterr().out
    assert export(new, capsys) == before
    # Validators came along (every feed answers 304), and nothing is pending twice.
    requests = len(feed_server.requests)
    assert main(["run", "--config", str(new)]) == 0
    assert all("If-None-Match" in h for _, h in feed_server.requests[requests:])
    assert "no pending stories" in capsys.readouterr().err
    # New rows continue after the copied ids.
    with Storage(postgres_url) as storage:
        feed = storage.feed_state("new", "https://example.org/new").id
        with storage.transaction():
            story = storage.new_story(NOW)
        assert feed > 3 and story > max(int(str(r["story"])) for r in before)
    # Copying into a database that is not empty is refused, and changes nothing.
    assert main(["migrate", "--config", str(new), "--from", source]) == 1
    assert "not empty; copy only into a new database" in capsys.readouterr().err


def export(config: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["export", "--config", str(config)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_concurrent_claims_never_give_one_feed_to_two_holders(postgres_url: str) -> None:
    names = {f"feed{n}" for n in range(60)}
    with Storage(postgres_url, migrate=True) as storage:
        storage.ensure_feeds([(name, f"https://example.org/{name}") for name in names])
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def worker(holder: str) -> None:
        with Storage(postgres_url) as storage:
            barrier.wait()
            got: list[str] = []
            # 16 at most each: three holders cannot take all 60, however the
            # threads are scheduled, and four can.
            for _ in range(4):
                got += storage.claim_due_feeds(names, holder, NOW, 60, 4)
            claimed[holder] = got

    threads = [threading.Thread(target=worker, args=(f"host pid {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [name for got in claimed.values() for name in got]
    assert sorted(every) == sorted(names)  # each feed once, none left over
    assert all(claimed.values())  # and the work was shared


def test_a_claim_ends_with_the_fetch_or_when_it_expires(backend_storage: Storage) -> None:
    storage = backend_storage
    storage.ensure_feeds([("a", "https://example.org/a"), ("b", "https://example.org/b")])
    assert storage.claim_due_feeds({"a", "b"}, "one", NOW, 60, 1) == ["a"]
    assert storage.claim_due_feeds({"a", "b"}, "two", NOW, 60, 5) == ["b"]
    assert storage.claim_due_feeds({"a", "b"}, "two", NOW, 60, 5) == []  # being fetched
    # Recorded: the claim ends, and the feed waits for its next time.
    state = storage.feed_state("b", "https://example.org/b")
    with storage.transaction():
        storage.record_fetch(
            state.id, status=200, etag=None, last_modified=None, new_items=0, now=NOW,
            next_fetch_at=NOW + timedelta(minutes=30),
        )  # fmt: skip
    assert storage.claim_due_feeds({"a", "b"}, "two", NOW, 60, 5) == []
    # "one" vanished: its claim on "a" is taken over once it expires.
    later = NOW + timedelta(seconds=61)
    assert storage.claim_due_feeds({"a", "b"}, "two", later, 60, 5) == ["a"]
    # A holder killed on this host loses its claims at once.
    dead = subprocess.Popen(["true"])
    dead.wait()
    storage.release_claims("two")
    assert storage.claim_due_feeds({"a"}, f"{HOST} pid {dead.pid}", later, 60, 5) == ["a"]
    assert storage.claim_due_feeds({"a"}, "two", later, 60, 5) == ["a"]


@pytest.fixture
def backend_storage(backend: Backend) -> Iterator[Storage]:
    with backend.open() as storage:
        yield storage


def test_reposts_stored_by_two_processes_at_once_make_one_story(postgres_url: str) -> None:
    Storage(postgres_url, migrate=True).close()
    since = NOW - timedelta(days=14)
    barrier = threading.Barrier(2)
    stories: dict[str, int] = {}

    def store(feed: str, text: str) -> None:
        with Storage(postgres_url) as storage:
            feed_id = storage.feed_state(feed, f"https://{feed}.example/rss").id
            features = Features.of(text)
            barrier.wait()
            with storage.dedup_transaction():
                story, _ = find_story(storage, features, since, 3)
                story = story if story is not None else storage.new_story(NOW)
                article = Article("标题", f"https://{feed}.example/1", NOW, (), text, "", (), feed)
                storage.insert_item(
                    feed_id=feed_id, guid="1", article=article, features=features, topics=(),
                    story_id=story, match_reason=None, now=NOW,
                )  # fmt: skip
                time.sleep(0.3)  # both would decide before either commits, without the lock
            stories[feed] = story

    threads = [
        threading.Thread(target=store, args=("cri", TEXT)),
        threading.Thread(target=store, args=("aggregator", "相关阅读 " + TEXT + " 广告")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stories["cri"] == stories["aggregator"]


def test_a_nul_character_from_a_feed_is_dropped_not_fatal(
    tmp_path: Path,
    feed_server: FeedServer,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed = build()["dw.xml"].replace("<title>对抗朝鲜", "<title>对抗&#0;朝鲜", 1)
    assert "&#0;" in feed
    feed_server.routes["/dw.xml"] = Response(feed.encode())
    Storage(postgres_url, migrate=True).close()
    config = write_config(
        tmp_path, [("dw", feed_server.url("/dw.xml"))], storage=f'url = "{postgres_url}"'
    )
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    (record,) = export(config, capsys)
    assert str(record["title"]).startswith("对抗朝鲜")


def test_copying_leaves_the_source_index_as_it_was(
    tmp_path: Path, feed_server: FeedServer, postgres_url: str
) -> None:
    import sqlite3

    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    feeds = [("dw", feed_server.url("/dw.xml"))]
    assert main(["run", "--no-digest", "--config", str(write_config(tmp_path, feeds))]) == 0
    source = tmp_path / "monitor.db"
    (tmp_path / "new").mkdir()
    new = write_config(
        tmp_path / "new", feeds, storage=f'url = "{postgres_url}"',
        extra="[dedup]\nmax_distance = 1",
    )  # fmt: skip
    assert main(["migrate", "--config", str(new), "--from", f"sqlite:///{source}"]) == 0
    query = "SELECT item_id, simhash, sentences FROM item_index ORDER BY item_id"
    with Storage(postgres_url, block_count=2) as storage:
        copied = [(i, simhash, bytes(blob)) for i, simhash, blob in storage._db.execute(query)]
        (text,) = storage._db.execute("SELECT text FROM items").fetchone()
        ((near, _),) = storage.index_hits([Features.of(text)], max_distance=1)
    assert copied == sqlite3.connect(source).execute(query).fetchall() != []
    assert list(near) == [copied[0][0]]  # found through blocks cut for max_distance 1
