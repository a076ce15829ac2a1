"""The in-memory dedup index: equal to plain dictionaries, and in step with the
database through savepoints, refused commits, other connections and pruning."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import Backend
from hypothesis import given, settings
from hypothesis import strategies as st
from test_batched_storing import poison
from test_storage import NOW, TEXT, add, add_all, article

from monitor.dedup import DedupIndex, Features
from monitor.dedup import index as dedupindex
from monitor.dedup.fingerprint import distinct
from monitor.dedup.index import SortedRuns, block_keys, lookup, pack
from monitor.dedup.rules import blocks
from monitor.errors import StorageError
from monitor.store import SCHEMA_VERSION, Storage
from monitor.store import index as storage_module

OTHER = "朝鲜中央通讯社报道说，朝鲜当天在东部海域附近试射了两枚短程弹道导弹。" * 3
# Shares every sentence of TEXT, with enough besides that only sentences find it.
AGGREGATED = "相关阅读：今日要闻一览表。广告：点击这里订阅我们的新闻简报吧。" * 6 + TEXT

signed = st.integers(-3, 3) | st.integers(-(1 << 63), (1 << 63) - 1)
# An item: a fingerprint (from few values, so that blocks are shared) and sentences.
items = st.tuples(
    st.sampled_from([0, 1, -1, 1 << 40, 12345]) | signed, st.lists(signed, max_size=6)
)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.lists(items, max_size=4), st.integers(0, 3)), min_size=1, max_size=12
    ),
    limit=st.integers(1, 5),
    block_count=st.sampled_from([1, 2, 4]),
)
def test_lookups_equal_dictionaries(
    steps: list[tuple[list[tuple[int, list[int]]], int]], limit: int, block_count: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dedupindex, "SMALL_RUN", 3)  # merge into the main run often
        patch.setattr(dedupindex, "MAX_ITEMS_PER_SENTENCE", limit)
        check_against_dictionaries(steps, limit, block_count)


def check_against_dictionaries(
    steps: list[tuple[list[tuple[int, list[int]]], int]], limit: int, block_count: int
) -> None:
    index, next_id, kept_from = DedupIndex(block_count), 1, 0
    by_sentence: dict[int, list[int]] = {}
    by_block: dict[int, list[tuple[int, int]]] = {}
    for added, drop in steps:
        rows = []
        for simhash, hashes in added:
            distinct = list(dict.fromkeys(hashes))
            rows.append((next_id, simhash, pack(distinct)))
            for h in distinct:
                by_sentence.setdefault(h, []).append(next_id)
            for key in block_keys(np.array([simhash]), block_count)[0].tolist():
                by_block.setdefault(key, []).append((next_id, simhash))
            next_id += 1
        index.add(rows)
        if drop:
            kept_from += drop
            index.drop_below(kept_from)
            by_sentence = {h: [i for i in ids if i >= kept_from] for h, ids in by_sentence.items()}
            by_block = {k: [e for e in found if e[0] >= kept_from] for k, found in by_block.items()}
        probes = list({h for _, hs in added for h in hs} | set(by_sentence) | {12345})
        expected = {h: [ids] for h in probes if 0 < len(ids := by_sentence.get(h, [])) <= limit}
        assert lookup([index.sentences], np.array(probes, dtype=np.int64), limit) == expected
        keys = np.array(list(by_block) + [77], dtype=np.int64)
        expected_blocks = {
            k: [[i for i, _ in found], [f for _, f in found]]
            for k, found in by_block.items()
            if found
        }
        assert lookup([index.blocks], keys) == expected_blocks
        assert len(index.sentences) == sum(len(ids) for ids in by_sentence.values())
        # What each of a batch shares with the stored items, summed in the order the
        # batch's sentences meet them (one sentence at a time, as it was done).
        batch = [
            [(h, 1 + (h % 7 if h >= 0 else 3)) for h in dict.fromkeys(hashes)]
            for _, hashes in [*added, (0, probes)]
        ]
        expected_overlaps = []
        for sentences in batch:
            shared: dict[int, int] = {}
            for h, length in sentences:
                ids = by_sentence.get(h, [])
                for item_id in ids if len(ids) <= limit else []:
                    shared[item_id] = shared.get(item_id, 0) + length
            expected_overlaps.append(list(shared.items()))
        features = [clauses(sentences) for sentences in batch]
        assert [list(found.items()) for _, found in index.hits(features, 0)] == expected_overlaps


def clauses(sentences: list[tuple[int, int]]) -> Features:
    """Features that are only these (hash, length) clauses."""
    lengths = [length for _, length in sentences]
    return Features(
        normalized_length=sum(lengths), text_hash="", simhash=0,
        sentence_hashes=pack(h for h, _ in sentences),
        sentence_lengths=np.array(lengths, dtype="<i4").tobytes(),
        sentence_chars=sum(lengths), figures={}, text="",
    )  # fmt: skip


@settings(max_examples=300)
@given(signed, st.integers(1, 16))
def test_block_keys_hold_each_block_and_its_number(simhash: int, count: int) -> None:
    (keys,) = block_keys(np.array([simhash]), count).tolist()
    unsigned = simhash % (1 << 64)
    if count == 1:
        assert keys == [simhash]
    else:
        assert [(k >> 32, k & 0xFFFFFFFF) for k in keys] == list(enumerate(blocks(unsigned, count)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 3) | signed, max_size=5, unique=True), max_size=8))
def test_keys_shared_with_earlier_owners_are_all_found(owned: list[list[int]]) -> None:
    keys = np.array([key for own in owned for key in own], dtype=np.int64)
    owners = np.repeat(np.arange(len(owned)), [len(own) for own in owned])
    expected: dict[int, dict[int, list[int]]] = {}
    position = 0
    for later, own in enumerate(owned):
        for key in own:
            for earlier in range(later):
                if key in owned[earlier]:
                    expected.setdefault(later, {}).setdefault(earlier, []).append(position)
            position += 1
    found = dedupindex.shared_with_earlier(keys, owners)
    assert {
        later: {earlier: sorted(at) for earlier, at in by.items()} for later, by in found.items()
    } == expected
    assert distinct(keys).tolist() == sorted(set(keys.tolist()))


def test_two_indexes_answer_as_one_older_first() -> None:
    older, newer = SortedRuns(2), SortedRuns(2)
    older.add((np.array([7, 8, 7]), np.array([1, 1, 2])))
    newer.add((np.array([9, 7]), np.array([3, 3])))
    probes = np.array([9, 8, 7], dtype=np.int64)
    assert lookup([older, newer], probes, 3) == {7: [[1, 2, 3]], 8: [[1]], 9: [[3]]}
    assert lookup([older, newer], probes, 2) == {8: [[1]], 9: [[3]]}  # 7 is in too many


def sharing(storage: Storage, text: str) -> set[int]:
    """The stored items that share a sentence with `text`."""
    ((_, overlap),) = storage.index_hits([Features.of(text)], max_distance=3)
    return set(overlap)


def test_an_undone_savepoint_leaves_no_sentences_behind(backend: Backend) -> None:
    with backend.open() as storage:
        feed = storage.feed_state("f", "u").id
        with storage.batch():
            with storage.dedup_transaction():
                first, _ = add(storage, feed, article("https://example.org/1"))
            with pytest.raises(RuntimeError), storage.dedup_transaction():
                assert sharing(storage, AGGREGATED) == {first}  # written, not yet committed
                undone, _ = add(storage, feed, article("https://example.org/2", OTHER))
                assert sharing(storage, OTHER) == {undone}
                raise RuntimeError("this feed fails")
            with storage.dedup_transaction():
                assert sharing(storage, OTHER) == set()
                again, _ = add(storage, feed, article("https://example.org/3", OTHER))
        assert sharing(storage, OTHER) == {again}
        assert sharing(storage, AGGREGATED) == {first}


def test_a_refused_commit_leaves_no_sentences_behind(tmp_path: Path) -> None:
    with Storage(tmp_path / "monitor.db") as storage:
        feed = storage.feed_state("f", "u").id
        with pytest.raises(StorageError, match="FOREIGN KEY"), storage.batch():
            with storage.dedup_transaction():
                add(storage, feed, article("https://example.org/1"))
            poison(storage)
        assert sharing(storage, AGGREGATED) == set()
        with storage.transaction():
            item, _ = add(storage, feed, article("https://example.org/2", OTHER))
        assert sharing(storage, OTHER) == {item}  # the same id again, other sentences
        assert sharing(storage, AGGREGATED) == set()


def test_what_another_connection_stores_and_prunes_is_seen(backend: Backend) -> None:
    with backend.open() as reader, backend.open() as writer:
        feed = writer.feed_state("f", "u").id
        assert sharing(reader, AGGREGATED) == set()  # read once, while empty
        with writer.transaction():
            old, _ = add(writer, feed, article("https://example.org/1"))
        assert sharing(reader, AGGREGATED) == {old}
        later = NOW + timedelta(days=20)
        with writer.transaction():
            story = writer.new_story(later)
            new = writer.insert_item(
                feed_id=feed, guid="n", article=article("https://example.org/n", TEXT + "新"),
                features=Features.of(TEXT + "新"), topics=(), story_id=story,
                match_reason=None, now=later,
            )  # fmt: skip
        assert sharing(reader, AGGREGATED) == {old, new}
        assert writer.prune_index(later - timedelta(days=14)) == 1
        assert sharing(reader, AGGREGATED) == {new}
        assert sharing(writer, AGGREGATED) == {new}


def test_items_stored_elsewhere_before_this_process_writes_are_not_skipped(
    backend: Backend,
) -> None:
    # This process's own items go into its index as they are written; those that
    # another stored since its index was last read must go in first, in id order.
    with backend.open() as this, backend.open() as other:
        feed = this.feed_state("f", "u").id
        assert sharing(this, AGGREGATED) == set()  # read once, while empty
        with other.transaction():
            theirs, _ = add(other, feed, article("https://example.org/1"))
        with this.transaction():
            ours, _ = add(this, feed, article("https://example.org/2", OTHER))
        assert sharing(this, AGGREGATED) == {theirs}
        assert sharing(this, OTHER) == {ours}


def test_a_version_6_database_gets_one_index_row_per_item(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    with Storage(path) as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            item, _ = add(storage, feed, article("https://example.org/1"))
    db = sqlite3.connect(path)  # as version 6 left it: rows per sentence and per block
    db.executescript(
        """DROP INDEX items_related;
           DROP INDEX stories_canonical;
           DROP TABLE item_index;
           CREATE TABLE sentences (hash INTEGER NOT NULL, item_id INTEGER NOT NULL,
               length INTEGER NOT NULL, PRIMARY KEY (hash, item_id)) WITHOUT ROWID;
           CREATE TABLE simhash_blocks (block INTEGER NOT NULL, value INTEGER NOT NULL,
               item_id INTEGER NOT NULL, simhash INTEGER NOT NULL,
               PRIMARY KEY (block, value, item_id)) WITHOUT ROWID;
           INSERT INTO meta (key, value) VALUES ('simhash_blocks', '4');
           ALTER TABLE feeds DROP COLUMN last_guids;
           ALTER TABLE items ADD COLUMN html TEXT NOT NULL DEFAULT '<p>x</p>';
           ALTER TABLE digests DROP COLUMN message;
           ALTER TABLE digests DROP COLUMN story_ids;
           ALTER TABLE digests DROP COLUMN left_out;
           ALTER TABLE deliveries DROP COLUMN shown;
           ALTER TABLE stories DROP COLUMN updated_at;
           DROP TABLE pages;
           DROP TABLE edit_pages;
           ALTER TABLE items DROP COLUMN split_at;
           ALTER TABLE items DROP COLUMN related_to;
           ALTER TABLE items DROP COLUMN related_reason;
           ALTER TABLE items DROP COLUMN signature;
           ALTER TABLE items DROP COLUMN undated;
           PRAGMA user_version = 6;"""
    )
    db.close()
    with Storage(path) as storage:
        assert sharing(storage, AGGREGATED) == {item}
        ((near, _),) = storage.index_hits([Features.of(TEXT)], max_distance=3)
        assert list(near) == [item]
        assert (storage.found_version, storage.schema_version()) == (6, SCHEMA_VERSION)
    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "item_index" in tables and not tables & {"sentences", "simhash_blocks"}
    assert db.execute("SELECT value FROM meta WHERE key = 'simhash_blocks'").fetchall() == []


def test_among_equal_keys_older_items_come_first_in_large_runs() -> None:
    """Sorting by key alone is not stable once runs are big enough for quicksort."""
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 50, 20_000)  # every key is shared by many items
    ids = np.arange(1, len(keys) + 1)
    runs = SortedRuns(2)
    runs.add((keys, ids))
    found = lookup([runs], np.arange(50))
    assert all(owners == sorted(owners) for (owners,) in found.values())
    assert sum(len(owners) for (owners,) in found.values()) == len(keys)


def test_features_are_recomputed_a_page_of_items_at_a_time(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [TEXT, OTHER, AGGREGATED, TEXT + "新", OTHER + "旧"]
    with backend.open() as storage:
        ids = add_all(storage, texts)
        storage._db.execute("UPDATE items SET text_hash = 'stale'")
        storage._db.execute("DELETE FROM item_index")
        storage._db.execute("DELETE FROM meta WHERE key = 'features_version'")
    monkeypatch.setattr(storage_module, "REFRESH_PAGE", 2)
    with backend.open() as storage:
        hashes = [row[0] for row in storage._db.execute("SELECT text_hash FROM items ORDER BY id")]
        assert hashes == [Features.of(t).text_hash for t in texts]
        indexed = storage._db.execute("SELECT item_id FROM item_index ORDER BY item_id")
        assert [row[0] for row in indexed] == ids
        assert sharing(storage, AGGREGATED) == {ids[0], ids[2], ids[3]}


def test_only_items_inside_the_window_are_held_in_memory(backend: Backend) -> None:
    """Even when older items still have index rows (an upgrade indexes every item)."""
    later = NOW + timedelta(days=20)
    with backend.open() as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            old, _ = add(storage, feed, article("https://example.org/old"))
        with storage.transaction():
            new = storage.insert_item(
                feed_id=feed, guid="n", article=article("https://example.org/n", TEXT + "新"),
                features=Features.of(TEXT + "新"), topics=(), story_id=storage.new_story(later),
                match_reason=None, now=later,
            )  # fmt: skip
        features = Features.of(AGGREGATED)
        ((_, overlap),) = storage.index_hits([features], 3, since=NOW)
        assert set(overlap) == {old, new}
        window = later - timedelta(days=14)
        ((_, overlap),) = storage.index_hits([features], 3, since=window)
        assert set(overlap) == {new}  # the old one dropped from memory
        assert storage._index is not None and len(storage._index.sentences) == 1
    with backend.open() as fresh:
        ((_, overlap),) = fresh.index_hits([features], 3, since=window)
        assert set(overlap) == {new}
        assert fresh._index is not None and len(fresh._index.sentences) == 1  # never read
        ((_, overlap),) = fresh.index_hits([features], 3, since=later + timedelta(days=1))
        assert overlap == {}
