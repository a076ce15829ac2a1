"""One open database: its connection, transactions, schema upgrades and meta values.

The parts of `Storage` (feeds, items and their index, digests, leases, export)
each subclass `StorageBase` and write their own SQL on its connection; they
share its transactions, so that a feed's fetch record and its items are
committed together. Every driver error is re-raised as a `StorageError`
naming the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Self

from ..errors import StorageError
from .connection import connect
from .schema import MIGRATIONS, SCHEMA_VERSION

# Held while deciding which story a new item belongs to and storing it, so that
# two processes storing reposts of each other at once still make one story.
DEDUP_LOCK = "monitor:dedup"
MIGRATE_LOCK = "monitor:migrate"

SQLITE_MAX_ID = (1 << 63) - 1
"""Past it, SQLite takes new ids at random."""


class StorageBase:
    """The connection and its transactions; see `storage.Storage` for the whole."""

    def __init__(
        self,
        target: Path | str,
        *,
        busy_timeout: float = 30.0,
        migrate: bool | None = None,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        self._depth = 0
        """Open `transaction`s: those inside the first are savepoints."""
        self._db = connect(target, busy_timeout=busy_timeout, create=create, read_only=read_only)
        self.read_only = read_only
        self.name = self._db.name
        self.kind = self._db.kind
        try:
            with self._errors("open"):
                # The version found on opening, before any upgrade (``monitor migrate`` says it).
                self.found_version = self._db.schema_version()
                upgrade = self.kind == "sqlite" and not read_only if migrate is None else migrate
                self._migrate(upgrade)
        except BaseException:
            self._db.close()
            raise

    @property
    def shared(self) -> bool:
        """Whether several daemons may work on this database at once."""
        return self.kind == "postgresql"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except self._db.errors as e:
            raise StorageError(f"database {self.name}: {doing}: {self._db.explain(e)}") from e

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[None]:
        """All writes inside happen together or not at all.

        With `lock`, no other process holding the same lock runs its
        transaction at the same time (SQLite never runs two writers anyway).
        Inside another transaction (see `batch`) it is a savepoint: when it
        fails, its own writes are undone and the outer ones kept.
        """
        with self._errors("write"):
            savepoint = None
            mark = self._undo_mark()
            if self._depth:
                self._check_open()
                savepoint = f"nested_{self._depth}"
                self._db.execute(f"SAVEPOINT {savepoint}")
            else:
                self._db.begin()
            self._depth += 1
            try:
                if lock:
                    self._db.lock(lock)
                yield
            except BaseException:
                self._undone(mark)
                # SQLite rolls back by itself on some errors (a full disk, for one).
                if self._db.in_transaction:
                    if savepoint:
                        self._db.execute(f"ROLLBACK TO {savepoint}")
                        self._db.execute(f"RELEASE {savepoint}")
                    else:
                        self._db.execute("ROLLBACK")
                raise
            else:
                try:
                    self._check_open()
                    self._db.execute(f"RELEASE {savepoint}" if savepoint else "COMMIT")
                except BaseException:
                    self._undone(mark)
                    # A commit refused (a deferred constraint) leaves the transaction open.
                    if not savepoint and self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            finally:
                self._depth -= 1
                if not self._depth:
                    self._ended()

    def _undo_mark(self) -> int:
        """Where a transaction's writes begin, for `_undone` (see `index.IndexStore`)."""
        return 0

    def _undone(self, mark: int) -> None:
        """The writes after `mark` were rolled back: forget what was kept of them."""

    def _ended(self) -> None:
        """The outermost transaction was committed or rolled back."""

    def _insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        ids: bool = True,
    ) -> list[int]:
        """Insert `rows` into `table`, many to a statement; with `ids`, their
        generated ids, in the order of `rows`.

        Ids are generated in the order of the VALUES list within one statement.
        PostgreSQL returns them (RETURNING promises no order: they are sorted).
        SQLite gives a statement's rows consecutive ids from one above the
        largest (up to the largest possible id, then at random: checked), so
        they are known without reading them back, a row at a time.
        """
        found: list[int] = []
        width = len(columns)
        per_statement = max(1, 900 // width)
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(chunk))
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"
            parameters = [x for row in chunk for x in row]
            if not ids:
                self._db.execute(insert, parameters)
                continue
            if self.kind == "sqlite":
                ((largest,),) = self._db.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
                if largest + len(chunk) <= SQLITE_MAX_ID:
                    self._db.execute(insert, parameters)
                    found += range(largest + 1, largest + len(chunk) + 1)
                    continue
            cursor = self._db.execute(insert + " RETURNING id", parameters)
            found += sorted(row[0] for row in cursor.fetchall())
        return found

    def _check_open(self) -> None:
        """Refuse to go on in a transaction the database already ended.

        SQLite rolls a transaction back by itself on a full disk or an I/O
        error, and a PostgreSQL connection can break: the writes of a batch
        before that are gone, so nothing after it may be written, let alone
        reported as stored.
        """
        if not self._db.in_transaction:
            raise StorageError(
                f"database {self.name}: the transaction ended before it was committed "
                "(an earlier error undid it); nothing of it was stored"
            )

    def batch(self) -> AbstractContextManager[None]:
        """One transaction around several: each `transaction` inside it is a savepoint.

        A commit costs about as much as the writes before it (SQLite writes
        every page they touched), and the dedup index's pages are touched
        again by every feed; feeds stored in one batch share one commit.
        """
        return self.transaction()

    def dedup_transaction(self) -> AbstractContextManager[None]:
        """A transaction in which no other process decides stories at the same time."""
        return self.transaction(DEDUP_LOCK)

    def schema_version(self) -> int:
        with self._errors("read schema version"):
            return self._db.schema_version()

    def _migrate(self, upgrade: bool) -> int:
        """Bring the schema up to `SCHEMA_VERSION`; returns the number of steps taken."""
        version = self._db.schema_version()
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"database {self.name}: schema version {version} is newer than this "
                f"monitor knows ({SCHEMA_VERSION}); upgrade monitor"
            )
        if version == SCHEMA_VERSION:
            return 0
        if not upgrade:
            raise StorageError(
                f"database {self.name}: schema version {version}, this monitor needs "
                f"{SCHEMA_VERSION}; run `monitor migrate` first"
            )
        steps = 0
        while True:
            with self.transaction(MIGRATE_LOCK):
                # Read again under the lock: another process may have just migrated.
                version = self._db.schema_version()
                if version >= SCHEMA_VERSION:
                    return steps
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self._db.execute(self._db.ddl(statement))
                self._db.set_schema_version(version + 1)
                steps += 1

    def migrate(self) -> int:
        """Upgrade the schema now (``monitor migrate``); returns the steps taken."""
        with self._errors("migrate"):
            return self._migrate(True)

    def get_meta(self, key: str) -> str | None:
        with self._errors("read meta"):
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._errors("write meta"):
            self._put_meta(key, value)

    def _put_meta(self, key: str, value: str) -> None:
        self._db.execute(
            """INSERT INTO meta (key, value) VALUES (?, ?)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
            (key, value),
        )

    def integrity_check(self) -> str:
        """SQLite's own check of the file; PostgreSQL keeps its files itself."""
        if self.kind != "sqlite":
            return "ok"
        with self._errors("integrity check"):
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])
