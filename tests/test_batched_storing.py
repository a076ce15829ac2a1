"""Feeds stored while the database thread is busy share one transaction.

Each feed's writes are a savepoint of it: one that fails is undone alone, and
its caller hears of it; a commit that fails undoes them all and every caller
hears of it, so no feed is recorded as fetched when its items were not kept.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from conftest import Backend

from monitor.errors import StorageError
from monitor.service.dbthread import DatabaseThread
from monitor.store import Storage


def test_a_failing_transaction_inside_a_batch_undoes_only_its_own_writes(
    backend: Backend,
) -> None:
    storage = backend.open()
    try:
        with storage.batch():
            with storage.transaction():
                storage.set_meta("kept", "1")
            with pytest.raises(ValueError), storage.transaction():
                storage.set_meta("undone", "2")
                raise ValueError("this feed failed")
            # A statement the database refuses: on PostgreSQL this aborts the whole
            # transaction until it is rolled back to the savepoint.
            with pytest.raises(StorageError), storage.transaction():
                storage.set_meta("refused", "4")
                with storage._errors("write"):
                    storage._db.execute("INSERT INTO meta (key, value) VALUES (NULL, NULL)")
            with storage.transaction():
                storage.set_meta("kept too", "3")
        assert storage.get_meta("kept") == "1"
        assert storage.get_meta("undone") is None
        assert storage.get_meta("refused") is None
        assert storage.get_meta("kept too") == "3"
    finally:
        storage.close()


def poison(storage: Storage) -> None:
    """A write the commit will refuse: a foreign key checked only at COMMIT."""
    storage._db.execute("PRAGMA defer_foreign_keys = ON")
    storage._db.execute(
        "INSERT INTO item_index (item_id, simhash, sentences) VALUES (999999, 0, x'')"
    )


def test_a_refused_commit_leaves_nothing_and_the_database_usable(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "monitor.db")
    try:
        with pytest.raises(StorageError, match="FOREIGN KEY"), storage.transaction():
            storage.set_meta("lost", "1")
            poison(storage)
        assert storage.get_meta("lost") is None
        with storage.transaction():  # a new transaction starts: the failed one is gone
            storage.set_meta("after", "1")
        assert storage.get_meta("after") == "1"
    finally:
        storage.close()


def run_batched(storage: Storage, calls: list[tuple[str, str]]) -> list[object]:
    """Queue `calls` (key, "ok" | "fail" | "poison" | "lost" | "stop") while the database thread is
    held busy, then let them run; each notes whether it ran in a shared transaction."""
    inside: dict[str, bool] = {}

    def write(key: str, action: str) -> str:
        with storage.transaction():
            inside[key] = storage._depth > 1
            storage.set_meta(key, "stored")
            if action == "fail":
                raise StorageError(f"feed {key!r}: refused")
            if action == "poison":
                poison(storage)
            if action == "lost":  # what SQLite does by itself on a full disk
                storage._db.execute("ROLLBACK")
                raise StorageError(f"feed {key!r}: disk full")
            if action == "stop":
                raise StopIteration
        return key

    async def main() -> list[object]:
        db = DatabaseThread()
        release = threading.Event()
        try:
            busy = asyncio.ensure_future(db(release.wait, 10))
            queued = [asyncio.ensure_future(db.batched(storage, write, k, a)) for k, a in calls]
            await asyncio.sleep(0.2)  # the batch has formed, and waits for the thread
            release.set()
            await busy
            gathered = asyncio.gather(*queued, return_exceptions=True)
            results = await asyncio.wait_for(gathered, 10)  # a lost caller fails, not hangs
            return [*results, inside]
        finally:
            db.close()

    return asyncio.run(main())


def test_a_call_alone_runs_in_its_own_transaction(backend: Backend) -> None:
    storage = backend.open()
    try:
        *results, inside = run_batched(storage, [("alone", "ok")])
        assert results == ["alone"] and inside == {"alone": False}
        assert storage.get_meta("alone") == "stored"
    finally:
        storage.close()


def test_calls_queued_while_the_thread_is_busy_share_a_transaction(backend: Backend) -> None:
    storage = backend.open()
    try:
        *results, inside = run_batched(storage, [("a", "ok"), ("b", "fail"), ("c", "ok")])
        assert results[0] == "a" and results[2] == "c"
        assert isinstance(results[1], StorageError) and "'b'" in str(results[1])
        assert inside == {"a": True, "b": True, "c": True}
        assert [storage.get_meta(k) for k in ("a", "b", "c")] == ["stored", None, "stored"]
    finally:
        storage.close()


def test_a_refused_batch_commit_fails_every_call_in_it(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "monitor.db")
    try:
        *results, _ = run_batched(storage, [("a", "ok"), ("b", "poison"), ("c", "ok")])
        assert all(isinstance(r, StorageError) for r in results), results
        assert [storage.get_meta(k) for k in ("a", "b", "c")] == [None, None, None]
        storage.set_meta("after", "1")  # no transaction was left open
        assert storage.get_meta("after") == "1"
    finally:
        storage.close()


def test_a_batch_whose_transaction_the_database_ended_stores_nothing(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "monitor.db")
    try:
        *results, _ = run_batched(storage, [("a", "ok"), ("b", "lost"), ("c", "ok")])
        assert all(isinstance(r, StorageError) for r in results), results
        assert "ended before it was committed" in str(results[2])
        assert [storage.get_meta(k) for k in ("a", "b", "c")] == [None, None, None]
    finally:
        storage.close()


def test_a_call_raising_stopiteration_fails_alone(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "monitor.db")
    try:
        *results, _ = run_batched(storage, [("a", "ok"), ("b", "stop"), ("c", "ok")])
        assert results[0] == "a" and results[2] == "c"
        assert isinstance(results[1], RuntimeError)
    finally:
        storage.close()


def test_one_database_thread_serves_one_event_loop_after_another(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "monitor.db")
    db = DatabaseThread()
    try:

        async def store(keys: list[str]) -> list[str]:
            def write(key: str) -> str:
                with storage.transaction():
                    storage.set_meta(key, "stored")
                return key

            calls = [db.batched(storage, write, key) for key in keys]
            return await asyncio.wait_for(asyncio.gather(*calls), 10)

        keys = [f"k{n}" for n in range(20)]
        assert asyncio.run(store(keys[:18])) == keys[:18]  # more than a batch holds
        assert asyncio.run(store(keys[18:])) == keys[18:]
        assert all(storage.get_meta(key) == "stored" for key in keys)
    finally:
        db.close()
        storage.close()
