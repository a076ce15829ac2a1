"""The in-memory sentence index: equal to a plain dictionary, and in step with
the database through savepoints, refused commits, other connections and pruning."""

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
from test_storage import NOW, TEXT, add, article

from monitor import sentenceindex
from monitor.dedup import Features
from monitor.errors import StorageError
from monitor.sentenceindex import SentenceIndex, lookup, pack
from monitor.storage import SCHEMA_VERSION, Storage

OTHER = "朝鲜中央通讯社报道说，朝鲜当天在东部海域附近试射了两枚短程弹道导弹。" * 3
# Shares every sentence of TEXT, with enough besides that only sentences find it.
AGGREGATED = "相关阅读：今日要闻一览表。广告：点击这里订阅我们的新闻简报吧。" * 6 + TEXT

hash_lists = st.lists(st.integers(-3, 3) | st.integers(-(1 << 63), (1 << 63) - 1), max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.lists(hash_lists, max_size=4), st.integers(0, 3)), min_size=1, max_size=12
    ),
    limit=st.integers(1, 5),
)
def test_lookups_equal_a_dictionary(steps: list[tuple[list[list[int]], int]], limit: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sentenceindex, "SMALL_RUN", 3)  # merge into the main run often
        check_against_a_dictionary(steps, limit)


def check_against_a_dictionary(steps: list[tuple[list[list[int]], int]], limit: int) -> None:
    index, model, next_id, kept_from = SentenceIndex(), {}, 1, 0
    for items, drop in steps:
        rows = []
        for hashes in items:
            distinct = list(dict.fromkeys(hashes))
            rows.append((next_id, pack(distinct)))
            for h in distinct:
                model.setdefault(h, []).append(next_id)
            next_id += 1
        index.add(rows)
        if drop:
            kept_from += drop
            index.drop_below(kept_from)
            model = {h: [i for i in ids if i >= kept_from] for h, ids in model.items()}
        probes = list({h for hs in items for h in hs} | set(model) | {12345})
        expected = {h: model[h] for h in probes if 0 < len(model.get(h, ())) <= limit}
        assert lookup([index], np.array(probes, dtype=np.int64), limit) == expected
        assert len(index) == sum(len(ids) for ids in model.values())


def test_two_indexes_answer_as_one_older_first() -> None:
    older, newer = SentenceIndex(), SentenceIndex()
    older.add([(1, pack([7, 8])), (2, pack([7]))])
    newer.add([(3, pack([7, 9]))])
    probes = np.array([9, 8, 7], dtype=np.int64)
    assert lookup([older, newer], probes, 3) == {7: [1, 2, 3], 8: [1], 9: [3]}
    assert lookup([older, newer], probes, 2) == {8: [1], 9: [3]}  # 7 is in too many


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


def test_a_version_6_database_gets_its_sentences_as_blobs(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    with Storage(path) as storage:
        feed = storage.feed_state("f", "u").id
        with storage.transaction():
            item, _ = add(storage, feed, article("https://example.org/1"))
    db = sqlite3.connect(path)  # as version 6 left it: one row per sentence
    db.executescript(
        """DROP TABLE item_sentences;
           CREATE TABLE sentences (hash INTEGER NOT NULL, item_id INTEGER NOT NULL,
               length INTEGER NOT NULL, PRIMARY KEY (hash, item_id)) WITHOUT ROWID;
           PRAGMA user_version = 6;"""
    )
    db.close()
    with Storage(path) as storage:
        assert sharing(storage, AGGREGATED) == {item}
        assert (storage.found_version, storage.schema_version()) == (6, SCHEMA_VERSION)
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "item_sentences" in tables and "sentences" not in tables
