"""What `Storage` needs of a database: one connection, in one dialect of SQL.

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

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit


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
