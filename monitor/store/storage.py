"""`Storage`: one open database, SQLite or PostgreSQL, with every part's operations.

The schema is versioned and upgraded step by step (`schema`), the same steps
on both backends; a database newer than this program is refused, never
touched. A SQLite file is upgraded when opened (the zero-setup path); a
PostgreSQL database only by ``monitor migrate``, so several daemons sharing
it never race to change it. Every feed's items are written in one
transaction, so a crash or kill leaves either all of a feed's new items or
none of them, and the next run catches up. Every driver error is re-raised as
a `StorageError` naming the database.

Each part's SQL lives in its own module: feed state and claims (`feeds`),
items and stories (`items`) with the dedup index (`index`), failed article
pages (`pages`), stories by hand (`stories`), digests and
deliveries (`digests`), leases (`leases`), export and copying (`export`),
retention (`retention`).
`Storage` joins them so that a caller holds one connection, whose
transactions span the parts.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from .connection import database_exists, read_only_here
from .digests import DigestStore
from .export import ExportStore
from .feeds import FeedStore
from .leases import LeaseStore
from .pages import PageStore
from .retention import RetentionStore
from .stories import StoryStore


class Storage(
    FeedStore, PageStore, StoryStore, DigestStore, LeaseStore, ExportStore, RetentionStore
):
    """One open database. Use as a context manager, or call `close()`.

    `target` is a SQLite file (a path, or ``sqlite:///…``) or a
    ``postgresql://`` URL. `migrate` upgrades an older schema on opening; by
    default SQLite files are upgraded and PostgreSQL databases are not. Without
    `maintain`, the stored features and index are left as they are, even if
    this program would compute them differently (a database being copied).
    Without `create`, a SQLite file that does not exist is an error, not a new
    database (the source of a copy). `read_only` opens a SQLite file this user
    may only read, for the commands that only read (`status`, `export`).
    """

    def __init__(
        self,
        target: Path | str,
        *,
        block_count: int = 4,
        busy_timeout: float = 30.0,
        migrate: bool | None = None,
        maintain: bool = True,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        super().__init__(
            target,
            block_count=block_count,
            busy_timeout=busy_timeout,
            migrate=migrate,
            create=create,
            read_only=read_only,
        )
        if maintain and not read_only:
            try:
                with self._errors("open"):
                    self._refresh_features()
            except BaseException:
                self.close()
                raise

    @staticmethod
    def exists(config: Config) -> bool:
        """Whether the configured database has been made (`connection.database_exists`)."""
        return database_exists(config.storage.target)

    @classmethod
    def open(
        cls,
        config: Config,
        *,
        migrate: bool | None = None,
        to_read: bool = False,
        create: bool = True,
    ) -> Storage:
        """The configured database; `to_read`, for a command that only reads it: then
        a SQLite file this user may not write is opened read-only. Without `create`,
        a SQLite file must exist already."""
        return cls(
            config.storage.target,
            block_count=config.dedup.max_distance + 1,
            busy_timeout=config.storage.busy_timeout,
            migrate=migrate,
            create=create,
            read_only=to_read and read_only_here(config.storage.target),
        )
