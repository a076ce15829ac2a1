"""SQLite files: WAL mode, one writer at a time (``BEGIN IMMEDIATE``), the schema
version in ``user_version``."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import StorageError
from .backend import Cursor, Database
from .schema import MIGRATIONS

# The page size of a new database, and how much log is copied into it at a time.
PAGE_SIZE = 16384
CHECKPOINT_BYTES = 16 << 20


class SQLiteDatabase(Database):
    kind = "sqlite"
    errors = (sqlite3.DatabaseError,)

    def __init__(
        self, path: Path, *, busy_timeout: float, create: bool = True, read_only: bool = False
    ) -> None:
        self.path = path
        self.name = str(path)
        self.busy_timeout = busy_timeout
        if path.is_dir():
            raise StorageError(f"database {path}: a folder; give [storage] path a file in it")
        if (read_only or not create) and not path.is_file():
            raise StorageError(f"database {path}: no such file")
        if read_only:
            self._db = self._read_only(path, busy_timeout)
            return
        try:
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            existed = path.exists() and path.stat().st_size > 0
            if create and not path.exists():
                # Items and addresses are the owner's: made readable by nobody else.
                # SQLite gives its -wal and -shm files the mode of the database.
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            # Used from one thread at a time, not always the one that opened it
            # (`service.dbthread.DatabaseThread`).
            self._db = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            foreign = self._foreign_tables() if existed else []
            restored = dumped_version(self._db) if foreign else None
            if restored is not None:
                self._db.execute(f"PRAGMA user_version = {restored}")
                foreign = []
        except (sqlite3.Error, OSError) as e:
            raise StorageError(f"database {path}: cannot open: {self.explain(e)}") from e
        if foreign:
            self._db.close()
            shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
            if set(foreign) >= {"feeds", "items", "stories"}:
                raise StorageError(
                    f"database {path}: holds tables named like monitor's ({shown}) but "
                    "of no schema version this monitor knows, and no version number "
                    "(an SQL dump of a newer monitor?); restore it with that monitor"
                )
            raise StorageError(
                f"database {path}: holds another program's tables ({shown}); "
                "give [storage] path a file of monitor's own"
            )
        self._db.row_factory = sqlite3.Row
        try:
            # Storing was 10% faster with 16 kB pages than with 4 kB when an item
            # row held its markup (~5 kB); without it, 4 and 8 kB pages are still
            # slower, 32 and 64 kB no faster (a run of 200 feeds, 2026-11-29).
            # Only a new database takes it; an older one keeps its own.
            self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            # The log is copied into the database every 16 MB. Left to grow to 64 MB,
            # a first run's whole log was copied when the database closed: 0.15 s
            # at the end of a 3 s run, with nothing else left to do meanwhile.
            page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
            self._db.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_BYTES // page_size}")
            # Items' indexes (links, text hashes) are written at random places; with
            # SQLite's default 2 MB page cache a feed's writes spill to the log before
            # they are done. 8 MB is enough since the dedup index lives in memory:
            # 32 MB ran no faster (first runs of 200 and 1,000 real feeds in turns)
            # and held 20-40 MB more at the peak.
            self._db.execute("PRAGMA cache_size = -8192")
            self._db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise StorageError(f"database {path}: open: {self.explain(e)}") from e

    def _foreign_tables(self) -> list[str]:
        """The tables of a database monitor never set up (no schema version of its
        own), before anything in it is changed: another program's file, which
        monitor would otherwise fill with its tables and turn to WAL mode."""
        if int(self._db.execute("PRAGMA user_version").fetchone()[0]):
            return []
        rows = self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
        return [str(row[0]) for row in rows]

    @staticmethod
    def _read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
        """A connection that never writes, for a database this user may only read.

        A WAL database is read with its -shm file; where this user can neither
        open nor create that (a read-only folder), the file is read as it is,
        without the log (``immutable``): what a writer has not yet copied from
        its log into the file is not seen.
        """
        uri = path.resolve().as_uri()
        for options in ("mode=ro", "mode=ro&immutable=1"):
            connection = sqlite3.connect(
                f"{uri}?{options}", uri=True, timeout=busy_timeout,
                isolation_level=None, check_same_thread=False,
            )  # fmt: skip
            try:
                connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as e:
                connection.close()
                if "immutable" in options:
                    raise StorageError(f"database {path}: cannot read: {e}") from e
                continue
            connection.row_factory = sqlite3.Row
            return connection
        raise AssertionError("unreachable")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, version: int) -> None:
        self._db.execute(f"PRAGMA user_version = {int(version)}")

    def explain(self, error: Exception) -> str:
        message = str(error)
        if "file is not a database" in message or "malformed" in message:
            return "not a monitor database, or corrupted"
        if "locked" in message or "busy" in message:
            return (
                f"locked by another process (waited {self.busy_timeout:g} s); try again "
                "later, or raise storage.busy_timeout"
            )
        if "readonly" in message or ("unable to open" in message and not writable(self.path)):
            return (
                "read-only: this user cannot write the file or its folder "
                "(monitor status and monitor export can still read it)"
            )
        if "disk is full" in message or "disk I/O" in message:
            return f"{message}; nothing of this transaction was kept"
        return message

    def close(self) -> None:
        self._db.close()


def writable(path: Path) -> bool:
    """Whether this user may write `path` (or create it) and files beside it."""
    folder = path.parent if str(path.parent) else Path(".")
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def tables_of(db: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Each table's name and its columns in order, and each index's name with no
    columns (SQLite's own tables and indexes left out): a step of the schema may
    add only indexes."""
    rows = db.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index') "
        "AND name NOT LIKE 'sqlite%'"
    ).fetchall()
    return {
        str(name): tuple(str(column[1]) for column in db.execute(f'PRAGMA table_info("{name}")'))
        if kind == "table"
        else ()
        for kind, name in rows
    }


def dumped_version(db: sqlite3.Connection) -> int | None:
    """The schema version whose tables `db` holds, column for column; None if none.

    An SQL dump (``sqlite3 FILE .dump``, Python's ``iterdump``) leaves the schema
    version (``user_version``) out, so a backup restored from one would look like
    another program's file. Its tables and indexes tell the version: each
    version's are made in memory until one matches (no two versions have the
    same, a test holds).
    """
    found = tables_of(db)
    made = sqlite3.connect(":memory:")
    try:
        for version, step in enumerate(MIGRATIONS, start=1):
            made.executescript(step)
            if tables_of(made) == found:
                return version
    finally:
        made.close()
    return None
