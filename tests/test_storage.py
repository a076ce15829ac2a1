"""The store, on real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Backend
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.dedup import Features
from monitor.errors import StorageError
from monitor.figures import figures_of
from monitor.models import Article
from monitor.store import SCHEMA_VERSION, Storage
from monitor.store.encoding import json_list
from monitor.store.sqlite import dumped_version

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TEXT = "据韩国媒体报道，韩国国防部3月17日着手进入恢复《韩日军事情报保护协定》正常化所需程序。" * 3


def article(
    url: str, text: str = TEXT, original_source: str | None = None, day: int = 18
) -> Article:
    return Article(
        title="标题",
        url=url,
        published=datetime(2023, 3, day, tzinfo=UTC),
        authors=("甲",),
        text=text,
        html=f"<p>{text}</p>",
        images=(),
        source="源",
        original_source=original_source,
    )


def add(storage: Storage, feed_id: int, a: Article, story: int | None = None) -> tuple[int, int]:
    story_id = story if story is not None else storage.new_story(NOW)
    item_id = storage.insert_item(
        feed_id=feed_id,
        guid=a.url,
        article=a,
        features=Features.of(a.text),
        topics=("朝鲜半岛",),
        story_id=story_id,
        match_reason=None,
        now=NOW,
    )
    return item_id, story_id


def add_all(storage: Storage, texts: list[str]) -> list[int]:
    """Each of `texts` stored as an item of its own story, in one transaction; their ids."""
    feed = storage.feed_state("f", "u").id
    with storage.transaction():
        return [
            add(storage, feed, article(f"https://example.org/{n}", text))[0]
            for n, text in enumerate(texts)
        ]


def test_schema_is_versioned(tmp_path: Path) -> None:
    with Storage(tmp_path / "m.db"):
        pass
    db = sqlite3.connect(tmp_path / "m.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_new_database_has_16_kb_pages_and_an_older_one_keeps_its_own(tmp_path: Path) -> None:
    with Storage(tmp_path / "new.db") as storage:
        add(storage, storage.feed_state("f", "u").id, article("https://example.org/1"))
        assert storage._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1024
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("PRAGMA page_size").fetchone()[0] == 16384
    db = sqlite3.connect(tmp_path / "old.db")  # made with SQLite's own page size
    db.execute("PRAGMA page_size = 4096")
    db.execute("VACUUM")
    db.close()
    with Storage(tmp_path / "old.db") as storage:
        item_id, _ = add(storage, storage.feed_state("f", "u").id, article("https://example.org/1"))
        # 16 MB of log between checkpoints, whatever the page size.
        assert storage._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 4096
    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert db.execute("SELECT id FROM items").fetchall() == [(item_id,)]


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StorageError, match="is newer than this monitor knows"):
        Storage(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_corrupted_file_is_reported_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match=r"m\.db.*not a monitor database, or corrupted"):
        Storage(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_a_failed_transaction_leaves_nothing(backend: Backend) -> None:
    with backend.open() as storage:
        feed = storage.feed_state("f", "https://example.org/f").id
        with pytest.raises(RuntimeError), storage.transaction():
            add(storage, feed, article("https://example.org/1"))
            raise RuntimeError("crash in the middle of a feed")
        assert storage.pending_stories() == []
        assert list(storage.export_items()) == []  # nothing of the failed feed
        assert storage.integrity_check() == "ok"


def test_canonical_item_is_the_original_then_the_earliest(backend: Backend) -> None:
    with backend.open() as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            _, story = add(
                storage, feed, article("https://agg.example/1", original_source="国际在线", day=17)
            )
            add(storage, feed, article("https://cri.example/1", day=18), story)
            add(storage, feed, article("https://later.example/1", day=19), story)
        (pending,) = storage.pending_stories()
        assert [i.url for i in pending.items] == [
            "https://cri.example/1",
            "https://agg.example/1",
            "https://later.example/1",
        ]
        records = {r["url"]: r for r in storage.export_items()}
        assert records["https://cri.example/1"]["duplicate_of"] is None
        assert records["https://agg.example/1"]["duplicate_of"] == "https://cri.example/1"


def test_an_item_s_figures_come_back_with_its_story(backend: Backend) -> None:
    """The digest keeps two reports of a template series apart by them."""
    text = "人民币对美元汇率中间价12日报6.9448，较前一交易日上调37个基点。" * 3
    with backend.open() as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            add(storage, feed, article("https://example.org/1", text))
        (pending,) = storage.pending_stories()
        stored = figures_of(pending.canonical.figures)
        assert stored == Features.of(text).figures and stored


def test_candidates_come_from_blocks_and_paragraphs(backend: Backend) -> None:
    with backend.open() as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            item_id, story = add(storage, feed, article("https://example.org/1"))
        features = Features.of(TEXT)
        (found,) = storage.candidates(features, since=NOW, max_distance=3)
        assert (found.item_id, found.story_id, found.simhash) == (item_id, story, features.simhash)
        assert (
            storage.candidates(features, since=datetime(2027, 1, 1, tzinfo=UTC), max_distance=3)
            == []
        )


@pytest.mark.parametrize("block_count", [1, 2, 6])
def test_any_max_distance_finds_what_another_stored(backend: Backend, block_count: int) -> None:
    """The blocks are cut in memory for the configured distance: nothing to rebuild."""
    with backend.open() as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            item_id, _ = add(storage, feed, article("https://example.org/1"))
    near = Features.of(TEXT[:-1] + "。")  # a few bits away
    distance = bin(near.simhash ^ Features.of(TEXT).simhash).count("1")
    with backend.open(block_count=block_count) as storage:
        ((found, _),) = storage.index_hits([near], max_distance=block_count - 1)
        assert (item_id in found) == (distance <= block_count - 1)
        ((exact, _),) = storage.index_hits([Features.of(TEXT)], max_distance=block_count - 1)
        assert item_id in exact


def test_deliveries_are_per_digest_and_recipient(backend: Backend) -> None:
    with backend.open() as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            _, story = add(storage, feed, article("https://example.org/1"))
        since = datetime(2000, 1, 1, tzinfo=UTC)
        failed = storage.begin_digest("daily", "s", "<m1@x>", ["a@x", "b@x"], NOW, 1)
        storage.digest_failed(failed, "SMTP server down")
        assert storage.pending_story_ids("daily", "a@x", since) == {story}
        sent = storage.begin_digest("daily", "s", "<m2@x>", ["a@x", "b@x"], NOW, 1)
        storage.digest_delivered(sent, "daily", ["a@x"], [story], "smtp", NOW)
        assert storage.pending_story_ids("daily", "a@x", since) == set()
        assert storage.pending_story_ids("daily", "b@x", since) == {story}
        assert storage.pending_story_ids("weekly", "a@x", since) == {story}
        assert [d["status"] for d in storage.digests()] == ["failed", "sent"]
        # A repost joining a delivered story does not make it pending again.
        with storage.transaction():
            add(storage, feed, article("https://example.org/copy"), story)
        assert storage.pending_story_ids("daily", "a@x", since) == set()
        # Stories created before the window are not pending any more.
        assert storage.pending_story_ids("daily", "b@x", datetime(2027, 1, 1, tzinfo=UTC)) == set()


def test_a_lease_is_held_until_released_or_expired(backend: Backend) -> None:
    with backend.open() as one, backend.open() as two:
        assert one.acquire_lease("digest:daily", "one", 60, NOW) == ""
        assert two.acquire_lease("digest:daily", "two", 60, NOW) is None
        assert two.lease_holder("digest:daily", NOW) == "one"
        later = datetime(2026, 11, 22, 8, 2, tzinfo=UTC)
        assert two.acquire_lease("digest:daily", "two", 60, later) == "one"  # expired
        two.release_lease("digest:daily", "two")
        assert one.acquire_lease("digest:daily", "one", 60, later) == ""


def test_feed_validators_are_forgotten_when_the_url_changes(backend: Backend) -> None:
    with backend.open() as storage:
        state = storage.feed_state("f", "https://a.example/feed")
        with storage.transaction():
            storage.record_fetch(
                state.id, status=200, etag='"1"', last_modified=None, new_items=0, now=NOW
            )
        assert storage.feed_state("f", "https://a.example/feed").etag == '"1"'
        assert storage.feed_state("f", "https://b.example/feed").etag is None


def test_feeds_with_validators_are_counted(backend: Backend) -> None:
    with backend.open() as storage:
        for name, etag, modified in [
            ("e", '"1"', None),
            ("m", None, "Sun, 22 Nov 2026"),
            ("n", None, None),
        ]:
            state = storage.feed_state(name, f"https://a.example/{name}")
            with storage.transaction():
                storage.record_fetch(
                    state.id, status=200, etag=etag, last_modified=modified, new_items=0, now=NOW
                )

        def validated(names: list[str]) -> int:
            states = storage.feed_states([(n, f"https://a.example/{n}") for n in names])
            return sum(1 for state in states.values() if state.validated)

        assert validated(["e", "m", "n", "never seen"]) == 2
        assert validated(["n", "never seen"]) == 0
        assert validated([]) == 0


def test_unwritable_location_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot open"):
        Storage(blocker / "sub" / "m.db")


def restored_from_a_dump(source: Path, path: Path) -> Path:
    """`source` backed up as SQL text and read back into `path`, as
    ``sqlite3 SOURCE .dump | sqlite3 PATH`` does: without the schema version."""
    with sqlite3.connect(source) as db:
        dump = "\n".join(db.iterdump())
    with sqlite3.connect(path) as db:
        db.executescript(dump)
    db.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 0
    return path


def test_a_database_restored_from_an_sql_dump_is_known_by_its_tables(tmp_path: Path) -> None:
    with Storage(tmp_path / "m.db") as storage:
        (item_id,) = add_all(storage, [TEXT])
    restored = restored_from_a_dump(tmp_path / "m.db", tmp_path / "restored.db")
    with Storage(restored) as storage:
        assert storage.schema_version() == SCHEMA_VERSION
        (found,) = storage.candidates(Features.of(TEXT), since=NOW, max_distance=3)
        assert found.item_id == item_id


def test_an_older_versions_dump_is_restored_at_its_version_and_migrated(tmp_path: Path) -> None:
    from monitor.store.schema import MIGRATIONS

    old = tmp_path / "old.db"
    with sqlite3.connect(old) as db:
        for step in MIGRATIONS[:6]:
            db.executescript(step)
        db.execute("INSERT INTO feeds (id, name, url) VALUES (1, 'kept', 'u')")
    db.close()
    restored = restored_from_a_dump(old, tmp_path / "restored.db")
    with sqlite3.connect(restored) as db:
        assert dumped_version(db) == 6
    db.close()
    with Storage(restored) as storage:
        assert storage.schema_version() == SCHEMA_VERSION
        assert storage.feed_state("kept", "u").id == 1
    columns = {row[1] for row in sqlite3.connect(restored).execute("PRAGMA table_info(items)")}
    assert "undated" in columns  # the last step was taken


def test_every_schema_version_is_told_by_its_tables_and_indexes(tmp_path: Path) -> None:
    from monitor.store.schema import MIGRATIONS

    for version in range(1, len(MIGRATIONS) + 1):
        made = tmp_path / f"v{version}.db"
        with sqlite3.connect(made) as db:
            for step in MIGRATIONS[:version]:
                db.executescript(step)
        db.close()
        restored = restored_from_a_dump(made, tmp_path / f"r{version}.db")
        with sqlite3.connect(restored) as db:
            assert dumped_version(db) == version
        db.close()
        with Storage(restored) as storage:  # and migrated from there
            assert storage.schema_version() == SCHEMA_VERSION


def test_tables_like_monitors_of_no_known_version_are_refused_untouched(tmp_path: Path) -> None:
    with Storage(tmp_path / "m.db"):
        pass
    restored = restored_from_a_dump(tmp_path / "m.db", tmp_path / "restored.db")
    with sqlite3.connect(restored) as db:
        db.execute("ALTER TABLE items ADD COLUMN from_a_newer_monitor TEXT")
    db.close()
    before = restored.read_bytes()
    with pytest.raises(StorageError) as refused:
        Storage(restored)
    assert str(refused.value) == (
        f"database {restored}: holds tables named like monitor's (deliveries, digests, "
        "edit_pages, …) but of no schema version this monitor knows, and no version number "
        "(an SQL dump of a newer monitor?); restore it with that monitor"
    )
    assert restored.read_bytes() == before


def test_a_version_1_database_is_migrated_and_its_features_recomputed(tmp_path: Path) -> None:
    from monitor.store.schema import MIGRATIONS

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO feeds (id, name, url) VALUES (1, 'f', 'u')")
    db.execute(
        "INSERT INTO stories (id, created_at, canonical_item_id) VALUES (1, '2026-11-22', 1)"
    )
    db.execute(
        """INSERT INTO items (id, feed_id, guid, url, title, published, fetched_at, authors,
               source, text, html, images, topics, text_hash, simhash, text_length,
               paragraph_chars, story_id)
           VALUES (1, 1, 'g', 'https://example.org/1', 't', '2023-03-18T00:00:00+00:00',
               '2026-11-22T08:00:00+00:00', '[]', 's', ?, '', '[]', '[]', 'old', 0, 0, 0, 1)""",
        (TEXT,),
    )
    db.commit()
    db.close()
    with Storage(path) as storage:
        (found,) = storage.candidates(Features.of(TEXT), since=NOW, max_distance=3)
        assert found.item_id == 1
        text_hash = Features.of(TEXT).text_hash
        assert storage.stories_with_texts([text_hash]) == {text_hash: 1}
        (item,) = storage.stories({1})[0].items
        assert item.text == TEXT
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # The markup column (version 9) is gone; the text stays.
    assert "html" not in {row[1] for row in db.execute("PRAGMA table_info(items)")}


def test_the_dedup_index_is_pruned_outside_the_window(backend: Backend) -> None:
    from datetime import timedelta

    with backend.open() as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            add(storage, feed, article("https://example.org/old"))
        later = NOW + timedelta(days=20)
        with storage.transaction():
            story = storage.new_story(later)
            storage.insert_item(
                feed_id=feed, guid="new", article=article("https://example.org/new", TEXT + "新"),
                features=Features.of(TEXT + "新"), topics=(), story_id=story,
                match_reason=None, now=later,
            )  # fmt: skip
        assert storage.prune_index(later - timedelta(days=14)) == 1
        assert storage.candidates(Features.of(TEXT), since=NOW, max_distance=3) != []  # the new one
        rows = storage._db.execute("SELECT item_id FROM item_index").fetchall()
        assert [r[0] for r in rows] == [2]
        assert len(list(storage.export_items())) == 2  # items themselves stay
        assert storage.prune_index(later - timedelta(days=14)) == 0


@pytest.mark.parametrize("block_count", [1, 2])
def test_every_max_distance_stores_and_finds_on_both_backends(
    backend: Backend, block_count: int
) -> None:
    """One 64-bit block (max_distance 0) or two 32-bit ones fit the signed columns."""
    texts = [TEXT + f"第{n}段。" * n for n in range(6)]
    with backend.open(block_count=block_count) as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            for n, text in enumerate(texts):
                add(storage, feed, article(f"https://example.org/{n}", text))
        for text in texts:
            features = Features.of(text)
            found = storage.candidates(features, since=NOW, max_distance=block_count - 1)
            assert features.simhash in {c.simhash for c in found}


def test_only_the_feeds_being_fetched_keep_their_claims(backend: Backend) -> None:
    from datetime import timedelta

    with backend.open() as storage:
        storage.ensure_feeds([("a", "https://example.org/a"), ("b", "https://example.org/b")])
        assert storage.claim_due_feeds({"a", "b"}, "one", NOW, 60, 5) == ["a", "b"]
        # "b"'s fetch ended without recording it: its claim is not renewed, and lapses.
        storage.renew_claims("one", ["a"], NOW + timedelta(seconds=50), 60)
        later = NOW + timedelta(seconds=70)
        assert storage.claim_due_feeds({"a", "b"}, "two", later, 60, 5) == ["b"]


@pytest.mark.parametrize("count", [1, 9, 60])
def test_a_batch_of_any_size_finds_each_stored_item_by_its_blocks(
    backend: Backend, count: int
) -> None:
    chars = "朝鲜韩国日本美国中国军事演习导弹发射外交部长会谈声明制裁联合国安理会"
    texts = ["".join(random.Random(n).choices(chars, k=120)) + "。" for n in range(count)]
    with backend.open() as storage:
        ids = add_all(storage, texts)
        hits = storage.index_hits([Features.of(t) for t in texts], max_distance=3)
        assert [item_id in near for item_id, (near, _) in zip(ids, hits, strict=True)] == [
            True
        ] * count


@settings(max_examples=300)
@given(st.lists(st.text()))
def test_lists_are_stored_as_json_dumps_writes_them(values: list[str]) -> None:
    assert json_list(values) == json.dumps(values, ensure_ascii=False)
    assert json.loads(json_list(tuple(values))) == values


def test_replacing_an_item_finds_its_storys_relations_and_heading_by_index(
    tmp_path: Path,
) -> None:
    """Replacing an item (a teaser's full text, an edit) moves what relates to its
    story and clears the story it heads: without an index, a scan of every item
    and story for each one replaced."""
    with Storage(tmp_path / "m.db") as storage:
        relations = storage._db.execute(
            "EXPLAIN QUERY PLAN UPDATE items SET related_to = 1 WHERE related_to = ? AND id != ?",
            (2, 3),
        ).fetchall()
        heading = storage._db.execute(
            "EXPLAIN QUERY PLAN UPDATE stories SET canonical_item_id = NULL "
            "WHERE canonical_item_id = ?",
            (2,),
        ).fetchall()
    assert "USING INDEX items_related" in str([tuple(row) for row in relations])
    assert "USING INDEX stories_canonical" in str([tuple(row) for row in heading])
