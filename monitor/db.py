"""The two database backends behind `Storage`: SQLite files and PostgreSQL servers.

`Storage` writes one dialect of SQL, SQLite's ``?`` placeholders and the
portable subset both servers share (``ON CONFLICT``, ``RETURNING``); each
backend here turns it into what its driver takes, runs the schema's DDL in
its own types, keeps the schema version where its server keeps such things,
and turns driver errors into one line that names the database.

SQLite serialises writers by itself (``BEGIN IMMEDIATE``); PostgreSQL lets
writers run side by side, so `lock` takes a transaction-scoped advisory lock
where `Storage` needs one writer at a time (the dedup decision, leases).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigError, StorageError

POSTGRES_SCHEMES = ("postgresql", "postgres")
# SQLite: the page size of a new database, and how much log is copied into it at a time.
PAGE_SIZE = 16384
CHECKPOINT_BYTES = 16 << 20


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database:
    """One connection; `Storage` is the only user."""

    kind = ""
    # Appended to a SELECT whose rows the transaction is about to claim.
    skip_locked = ""
    name: str
    errors: tuple[type[Exception], ...] = ()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def begin(self) -> None:
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError

    def lock(self, key: str) -> None:
        """Hold `key` until the transaction ends; other processes taking it wait."""

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see the database as it was at the start, whatever others write."""
        self.execute("BEGIN")
        try:
            yield
        finally:
            self.execute("COMMIT")

    def stream(self, sql: str, size: int) -> Iterator[list[Any]]:
        """The rows of `sql` in lists of up to `size`, never all in memory at once."""
        cursor = self.execute(sql)
        while rows := cursor.fetchmany(size):
            yield rows

    def member(self, column: str, values: Sequence[str] | Sequence[int]) -> tuple[str, Any]:
        """SQL testing `column` against a list of `values`, passed as one parameter."""
        return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(values))

    def schema_version(self) -> int:
        raise NotImplementedError

    def set_schema_version(self, version: int) -> None:
        raise NotImplementedError

    def ddl(self, statement: str) -> str:
        """`statement`, written for SQLite, in this database's types."""
        return statement

    def reset_sequences(self, tables: Sequence[str]) -> None:
        """Continue generated ids after rows copied in with their own ids."""

    def explain(self, error: Exception) -> str:
        """A driver error as the one-line reason a user can act on."""
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

    def close(self) -> None:
        raise NotImplementedError


def is_postgres(target: str | Path) -> bool:
    return isinstance(target, str) and target.split(":", 1)[0] in POSTGRES_SCHEMES


def sqlite_path(target: str | Path) -> Path:
    """The file behind ``sqlite:///relative`` / ``sqlite:////absolute``, or a plain path."""
    if isinstance(target, Path):
        return target
    if target.startswith("sqlite:///"):
        return Path(target.removeprefix("sqlite:///"))
    if target.startswith("sqlite:"):
        raise ConfigError(f"{target}: write a SQLite database as sqlite:///path/to/monitor.db")
    return Path(target)


def display_url(url: str) -> str:
    """`url` without its password, to name the database in messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def connect(target: str | Path, *, busy_timeout: float = 30.0) -> Database:
    if is_postgres(target):
        return PostgresDatabase(str(target), connect_timeout=busy_timeout)
    return SQLiteDatabase(sqlite_path(target), busy_timeout=busy_timeout)


class SQLiteDatabase(Database):
    kind = "sqlite"
    errors = (sqlite3.DatabaseError,)

    def __init__(self, path: Path, *, busy_timeout: float) -> None:
        self.path = path
        self.name = str(path)
        self.busy_timeout = busy_timeout
        try:
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            # Used from one thread at a time, not always the one that opened it
            # (`dbthread.DatabaseThread`).
            self._db = sqlite3.connect(
                path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except (sqlite3.Error, OSError) as e:
            raise StorageError(f"database {path}: cannot open: {e}") from e
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
            # The dedup index is written at random places; with SQLite's default
            # 2 MB page cache a feed's writes spill to the log before they are done.
            self._db.execute("PRAGMA cache_size = -32768")
            self._db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise StorageError(f"database {path}: open: {self.explain(e)}") from e

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
        if "readonly" in message:
            return "the file (or its folder) is read-only"
        if "disk is full" in message or "disk I/O" in message:
            return f"{message}; nothing of this transaction was kept"
        return message

    def close(self) -> None:
        self._db.close()


class PostgresDatabase(Database):
    """A PostgreSQL server through psycopg 3, in autocommit mode with explicit BEGIN.

    The password comes from the environment (``PGPASSWORD``) or ``~/.pgpass``,
    as for every libpq program, never from the config file. A connection lost
    between transactions (a server restart) is opened again on next use.
    """

    kind = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, connect_timeout: float) -> None:
        try:
            import psycopg
        except ImportError as e:
            raise StorageError(
                f"database {display_url(url)}: PostgreSQL needs psycopg: "
                "pip install 'monitor[postgresql]'"
            ) from e
        self._psycopg = psycopg
        self.url = url
        self.name = display_url(url)
        self.connect_timeout = max(1, round(connect_timeout))
        self.errors = (psycopg.Error,)
        self._conn = self._connect()

    def _connect(self) -> Any:
        psycopg = self._psycopg
        try:
            return psycopg.connect(
                self.url,
                autocommit=True,
                row_factory=_row_factory,
                connect_timeout=self.connect_timeout,
                application_name="monitor",
                # A plan cached while the index tables were small (a sequential
                # scan) stays in use as they grow within one run: 30x slower
                # look-ups by the end of a first run. Plan with the sizes of now.
                options="-c plan_cache_mode=force_custom_plan",
            )
        except psycopg.Error as e:
            raise StorageError(f"database {self.name}: cannot connect: {self.explain(e)}") from e

    def _live(self) -> Any:
        if self._conn.broken or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        conn = self._conn if self.in_transaction else self._live()
        cursor: Cursor = conn.execute(_placeholders(sql), params)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_placeholders(sql), list(rows))

    def begin(self) -> None:
        self._live().execute("BEGIN")

    @property
    def in_transaction(self) -> bool:
        status = self._conn.info.transaction_status
        return bool(status != self._psycopg.pq.TransactionStatus.IDLE) and not self._conn.broken

    def lock(self, key: str) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(key),))

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self._live().execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    def stream(self, sql: str, size: int) -> Iterator[list[Any]]:
        """Through a server-side cursor (inside `snapshot`): rows arrive as read."""
        with self._conn.cursor(name="monitor_stream") as cursor:
            cursor.execute(sql)
            while rows := cursor.fetchmany(size):
                yield rows

    def member(self, column: str, values: Sequence[str] | Sequence[int]) -> tuple[str, Any]:
        return f"{column} = ANY(?)", list(values)

    def schema_version(self) -> int:
        if self.execute("SELECT to_regclass('meta')").fetchone()[0] is None:
            return 0
        row = self.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def set_schema_version(self, version: int) -> None:
        self.execute(
            """INSERT INTO meta (key, value) VALUES ('schema_version', ?)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
            (str(version),),
        )

    def ddl(self, statement: str) -> str:
        statement = statement.replace(" WITHOUT ROWID", "")
        statement = re.sub(
            r"\bINTEGER PRIMARY KEY\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            statement,
        )  # fmt: skip
        statement = re.sub(r"\bINTEGER\b", "BIGINT", statement)
        statement = re.sub(r"\bBLOB\b", "BYTEA", statement)
        # Timestamps are ISO text compared as strings: byte order, whatever the locale.
        return re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', statement)

    def reset_sequences(self, tables: Sequence[str]) -> None:
        for table in tables:
            self.execute(
                f"""SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                        COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"""
            )

    def explain(self, error: Exception) -> str:
        message = super().explain(error)
        if "does not exist" in message and "database" in message:
            return f"{message} (create it first: createdb)"
        if "password authentication failed" in message or "no password supplied" in message:
            return f"{message} (set PGPASSWORD, or use ~/.pgpass)"
        return message

    def close(self) -> None:
        self._conn.close()


def lock_key(name: str) -> int:
    """A stable signed 64-bit number for an advisory lock called `name`."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


def _placeholders(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class Row(tuple[Any, ...]):
    """A result row read by position or by column name, like `sqlite3.Row`."""

    _index: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Any:
    index = {column.name: number for number, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row._index = index
        return row

    return make
