"""Storage: the only module that writes SQL, on SQLite or PostgreSQL (`db`).

The schema is versioned and upgraded step by step by `MIGRATIONS`, the same
steps on both backends; a database newer than this program is refused, never
touched. A SQLite file is upgraded when opened (the zero-setup path); a
PostgreSQL database only by ``monitor migrate``, so several daemons sharing
it never race to change it. Every feed's items are written in one
transaction, so a crash or kill leaves either all of a feed's new items or
none of them, and the next run catches up. Every driver error is re-raised as
a `StorageError` naming the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config
from .db import connect
from .errors import StorageError
from .instance import is_stale
from .models import Article, StoredItem, Story

# The dedup look-ups (NumPy and the index) are imported where they are used: a
# run where every feed answers 304 never needs them.
if TYPE_CHECKING:
    from .dedup import Candidate, Features
    from .dedupindex import DedupIndex

MIGRATIONS: tuple[str, ...] = (
    # 1: feeds, items, stories, the near-duplicate index and digests.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        last_fetched_at TEXT,
        last_status INTEGER,
        last_error TEXT,
        error_count INTEGER NOT NULL DEFAULT 0,
        last_new_at TEXT
    );
    CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        subject TEXT NOT NULL,
        message_id TEXT NOT NULL,
        story_count INTEGER NOT NULL,
        delivered_at TEXT,
        transport TEXT,
        error TEXT
    );
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        canonical_item_id INTEGER,
        delivered_digest_id INTEGER REFERENCES digests (id)
    );
    CREATE INDEX stories_pending ON stories (delivered_digest_id);
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds (id),
        guid TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        published TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        authors TEXT NOT NULL,
        source TEXT NOT NULL,
        original_source TEXT,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        images TEXT NOT NULL,
        topics TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        simhash INTEGER NOT NULL,
        text_length INTEGER NOT NULL,
        paragraph_chars INTEGER NOT NULL,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        match_reason TEXT,
        UNIQUE (feed_id, guid)
    );
    CREATE INDEX items_url ON items (url);
    CREATE INDEX items_text_hash ON items (text_hash);
    CREATE INDEX items_story ON items (story_id);
    CREATE INDEX items_fetched ON items (fetched_at);
    CREATE TABLE simhash_blocks (
        block INTEGER NOT NULL,
        value INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        PRIMARY KEY (block, value, item_id)
    ) WITHOUT ROWID;
    CREATE TABLE paragraphs (
        hash INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        length INTEGER NOT NULL,
        PRIMARY KEY (hash, item_id)
    ) WITHOUT ROWID;
    """,
    # 2: sentence hashes replace paragraph hashes; figures kept for the template veto.
    """
    DROP TABLE paragraphs;
    CREATE TABLE sentences (
        hash INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        length INTEGER NOT NULL,
        PRIMARY KEY (hash, item_id)
    ) WITHOUT ROWID;
    ALTER TABLE items RENAME COLUMN paragraph_chars TO sentence_chars;
    ALTER TABLE items ADD COLUMN figures TEXT NOT NULL DEFAULT '';
    """,
    # 3: deliveries per digest and recipient; leases so two processes never
    # send the same digest at once. Stories delivered before are recorded as
    # delivered to every recipient ('*') of the default digest.
    """
    ALTER TABLE digests ADD COLUMN name TEXT NOT NULL DEFAULT 'daily';
    ALTER TABLE digests ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
    CREATE TABLE deliveries (
        digest TEXT NOT NULL,
        recipient TEXT NOT NULL,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        digest_id INTEGER NOT NULL REFERENCES digests (id),
        PRIMARY KEY (digest, recipient, story_id)
    ) WITHOUT ROWID;
    INSERT INTO deliveries (digest, recipient, story_id, digest_id)
        SELECT 'daily', '*', id, delivered_digest_id FROM stories
        WHERE delivered_digest_id IS NOT NULL;
    CREATE INDEX stories_created ON stories (created_at);
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
    # 4: the fingerprint beside its blocks, so a block match is checked by exact
    # Hamming distance without reading the item (rebuilt by _sync_blocks).
    """
    DROP TABLE simhash_blocks;
    CREATE TABLE simhash_blocks (
        block INTEGER NOT NULL,
        value INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        simhash INTEGER NOT NULL,
        PRIMARY KEY (block, value, item_id)
    ) WITHOUT ROWID;
    DELETE FROM meta WHERE key = 'simhash_blocks';
    """,
    # 5: the fetch schedule lives with the feed, so a restart continues it.
    """
    ALTER TABLE feeds ADD COLUMN next_fetch_at TEXT;
    ALTER TABLE feeds ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE feeds ADD COLUMN moved_to TEXT;
    """,
    # 6: claims, so that several daemons on one database fetch each due feed once.
    """
    ALTER TABLE feeds ADD COLUMN claimed_by TEXT;
    ALTER TABLE feeds ADD COLUMN claimed_until TEXT;
    CREATE INDEX feeds_due ON feeds (next_fetch_at);
    """,
    # 7: one dedup row per item, appended in id order: its fingerprint and its
    # sentence hashes in one blob; the blocks and hashes are indexed in memory
    # (`dedupindex`). The stored features are recomputed on opening, which
    # fills the new table.
    """
    CREATE TABLE item_index (
        item_id INTEGER NOT NULL PRIMARY KEY REFERENCES items (id),
        simhash INTEGER NOT NULL,
        sentences BLOB NOT NULL
    );
    DROP TABLE sentences;
    DROP TABLE simhash_blocks;
    DELETE FROM meta WHERE key IN ('features_version', 'simhash_blocks');
    """,
    # 8: the GUIDs of each feed's last fetch, which need no parsing when they come
    # again: bounded by the feed's size, where all of its GUIDs grow with its age.
    """
    ALTER TABLE feeds ADD COLUMN last_guids TEXT;
    """,
    # 9: no item markup: nothing read it (the digest is made from the text), and
    # it was nearly half of the database (60 → 33 MB for 10,000 items).
    """
    ALTER TABLE items DROP COLUMN html;
    """,
)
# Tables in the order their rows can be copied (references first), and the
# columns of each, for `copy_from`; leases belong to running processes, not data.
TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "feeds": (
        "id", "name", "url", "etag", "last_modified", "last_fetched_at", "last_status",
        "last_error", "error_count", "last_new_at", "next_fetch_at", "gone", "moved_to",
        "last_guids",
    ),
    "digests": (
        "id", "created_at", "status", "subject", "message_id", "story_count", "delivered_at",
        "transport", "error", "name", "recipients",
    ),
    "stories": ("id", "created_at", "canonical_item_id", "delivered_digest_id"),
    "items": (
        "id", "feed_id", "guid", "url", "title", "published", "fetched_at", "authors", "source",
        "original_source", "text", "images", "topics", "text_hash", "simhash",
        "text_length", "sentence_chars", "story_id", "match_reason", "figures",
    ),
    "item_index": ("item_id", "simhash", "sentences"),
    "deliveries": ("digest", "recipient", "story_id", "digest_id"),
}  # fmt: skip
# Held while deciding which story a new item belongs to and storing it, so that
# two processes storing reposts of each other at once still make one story.
DEDUP_LOCK = "monitor:dedup"
MIGRATE_LOCK = "monitor:migrate"
ALL_RECIPIENTS = "*"
FEATURES_VERSION = 2
"""Raised whenever `features.Features.of` computes something else: on opening,
the stored features and index are then computed again."""
# Items whose features are recomputed at a time, when `Features.of` changed.
REFRESH_PAGE = 2000
# A sentence found in more stored items than this is boilerplate ("白宫拒绝置评。"),
# not evidence; looking it up would only cost time.
MAX_ITEMS_PER_SENTENCE = 50
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class NewItem:
    """An item to store: `story` is a stored story's id, or -n for a batch's n-th new one."""

    guid: str
    article: Article
    features: Features
    topics: tuple[str, ...]
    story: int
    match_reason: str | None


@dataclass(frozen=True)
class FeedState:
    id: int
    etag: str | None
    last_modified: str | None
    error_count: int = 0
    next_fetch_at: datetime | None = None
    gone: bool = False
    moved_to: str | None = None
    last_guids: tuple[str, ...] | None = None
    """The GUIDs of the feed's items at its last fetch, all stored (or found stored
    under their URL); None before a fetch recorded them."""

    @property
    def validated(self) -> bool:
        """Whether the feed has an ETag or Last-Modified: only then can it answer 304."""
        return self.etag is not None or self.last_modified is not None


SQLITE_MAX_ID = (1 << 63) - 1
"""Past it, SQLite takes new ids at random."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _precise(moment: datetime) -> str:
    """A schedule time, to the microsecond: with intervals of seconds, rounding matters."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _signed(value: int) -> int:
    """A 64-bit unsigned fingerprint as SQLite's signed INTEGER."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def _without_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL, which a SQLite database may have stored."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class Storage:
    """One open database. Use as a context manager, or call `close()`.

    `target` is a SQLite file (a path, or ``sqlite:///…``) or a
    ``postgresql://`` URL. `migrate` upgrades an older schema on opening; by
    default SQLite files are upgraded and PostgreSQL databases are not. Without
    `maintain`, the stored features and index are left as they are, even if
    this program would compute them differently (a database being copied).
    """

    def __init__(
        self,
        target: Path | str,
        *,
        block_count: int = 4,
        busy_timeout: float = 30.0,
        migrate: bool | None = None,
        maintain: bool = True,
    ) -> None:
        self.block_count = block_count
        self._depth = 0
        """Open `transaction`s: those inside the first are savepoints."""
        self._index: DedupIndex | None = None
        """The committed items' dedup keys, read when first needed."""
        self._index_through = 0
        """The highest item id `_index` has read."""
        self._index_from = 0
        """The lowest item id `_index` may hold: the window's first, or the table's."""
        self._written: list[int] = []
        """The ids of the items written in the open transaction, not yet committed:
        they are in `_index` already, and leave it if their writes are undone."""
        self._db = connect(target, busy_timeout=busy_timeout)
        self.name = self._db.name
        self.kind = self._db.kind
        try:
            with self._errors("open"):
                # The version found on opening, before any upgrade (``monitor migrate`` says it).
                self.found_version = self._db.schema_version()
                self._migrate(self.kind == "sqlite" if migrate is None else migrate)
                if maintain:
                    self._refresh_features()
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open(cls, config: Config, *, migrate: bool | None = None) -> Storage:
        return cls(
            config.storage.target,
            block_count=config.dedup.max_distance + 1,
            busy_timeout=config.storage.busy_timeout,
            migrate=migrate,
        )

    @property
    def shared(self) -> bool:
        """Whether several daemons may work on this database at once."""
        return self.kind == "postgresql"

    def __enter__(self) -> Storage:
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
            written = len(self._written)
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
                self._forget_written(written)
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
                    self._forget_written(written)
                    # A commit refused (a deferred constraint) leaves the transaction open.
                    if not savepoint and self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            finally:
                self._depth -= 1
                if not self._depth:
                    self._written.clear()  # committed, or undone and forgotten

    def _forget_written(self, keep: int) -> None:
        """Take the items written after the first `keep` out of the index: their
        writes were undone. Nothing else can be above them: they were written
        under the dedup lock."""
        if len(self._written) > keep:
            first = self._written[keep]
            del self._written[keep:]
            if self._index is not None and self._index_through >= first:
                self._index.drop_from(first)
                self._index_through = first - 1

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

    def _refresh_features(self) -> None:
        """Recompute stored features when `Features.of` changed since they were written."""
        if self.get_meta("features_version") == str(FEATURES_VERSION):
            return
        with self.transaction(MIGRATE_LOCK):
            if self.get_meta("features_version") == str(FEATURES_VERSION):
                return
            self._db.execute("DELETE FROM item_index")
            last = 0
            while True:  # a page of items at a time: a database's texts may not fit in memory
                rows = self._db.execute(
                    "SELECT id, text, title FROM items WHERE id > ? ORDER BY id LIMIT ?",
                    (last, REFRESH_PAGE),
                ).fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                from .features import Features

                computed = Features.of_many([text or title for _, text, title in rows])
                self._db.executemany(
                    """UPDATE items SET text_hash = ?, simhash = ?, text_length = ?,
                           sentence_chars = ?, figures = ? WHERE id = ?""",
                    [
                        (
                            features.text_hash,
                            _signed(features.simhash),
                            features.normalized_length,
                            features.sentence_chars,
                            _figures_text(features.figures),
                            item_id,
                        )
                        for (item_id, _, _), features in zip(rows, computed, strict=True)
                    ],
                )
                self._insert_index(
                    [
                        (item_id, _signed(features.simhash), features.sentence_hashes)
                        for (item_id, _, _), features in zip(rows, computed, strict=True)
                    ]
                )
            self._index = None
            self._put_meta("features_version", str(FEATURES_VERSION))

    def ensure_feeds(self, feeds: Sequence[tuple[str, str]]) -> None:
        """Rows for these (name, url) feeds, so that they can be claimed."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO feeds (name, url) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                feeds,
            )

    def claim_due_feeds(
        self, names: set[str], holder: str, now: datetime, seconds: float, limit: int
    ) -> list[str]:
        """Claim up to `limit` of these feeds whose fetch time has come, for `holder`.

        A feed claimed by anyone (`holder` too: it is fetching it) is skipped
        until the claim ends, when the fetch is recorded (`record_fetch`,
        `record_failure`), or expires; the claims of a holder that died on this
        host end at once. On PostgreSQL only the rows claimed are locked, with
        SKIP LOCKED, so daemons claiming at the same moment take different
        feeds instead of waiting for each other.
        """
        if limit <= 0 or not names:
            return []
        self._end_dead_claims(holder, now)
        member, value = self._db.member("name", sorted(names))
        with self.transaction():
            rows = self._db.execute(
                f"""SELECT id, name FROM feeds
                    WHERE gone = 0 AND (next_fetch_at IS NULL OR next_fetch_at <= ?)
                    AND (claimed_by IS NULL OR claimed_until <= ?) AND {member}
                    ORDER BY next_fetch_at IS NOT NULL, next_fetch_at, id
                    LIMIT ?{self._db.skip_locked}""",
                (_precise(now), _iso(now), value, limit),
            ).fetchall()
            self._db.executemany(
                "UPDATE feeds SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                [(holder, _iso(now + timedelta(seconds=seconds)), row[0]) for row in rows],
            )
        return [row[1] for row in rows]

    def _end_dead_claims(self, holder: str, now: datetime) -> None:
        with self._errors("read claims"):
            rows = self._db.execute(
                """SELECT DISTINCT claimed_by FROM feeds
                   WHERE claimed_by IS NOT NULL AND claimed_by != ? AND claimed_until > ?""",
                (holder, _iso(now)),
            ).fetchall()
        dead = [row[0] for row in rows if is_stale(row[0])]
        if dead:
            self.release_claims(*dead)

    def renew_claims(
        self, holder: str, names: Sequence[str], now: datetime, seconds: float
    ) -> None:
        """Keep `holder`'s claims on `names`, the feeds it is still fetching.

        Only those: a claim its fetch failed to end (the database was down when
        it came to record it) then expires, and the feed is fetched again.
        """
        if not names:
            return
        member, value = self._db.member("name", sorted(names))
        with self.transaction():
            self._db.execute(
                f"UPDATE feeds SET claimed_until = ? WHERE claimed_by = ? AND {member}",
                (_iso(now + timedelta(seconds=seconds)), holder, value),
            )

    def release_claim(self, holder: str, name: str) -> None:
        """End `holder`'s claim on feed `name`, if it still has it."""
        with self._errors("release claim"):
            self._db.execute(
                """UPDATE feeds SET claimed_by = NULL, claimed_until = NULL
                   WHERE name = ? AND claimed_by = ?""",
                (name, holder),
            )

    def release_claims(self, *holders: str) -> None:
        with self._errors("release claims"):
            self._db.executemany(
                "UPDATE feeds SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?",
                [(holder,) for holder in holders],
            )

    def feed_states(self, feeds: Sequence[tuple[str, str]]) -> dict[str, FeedState]:
        """`feed_state` of each (name, url), in one transaction."""
        with self.transaction():
            return {name: self.feed_state(name, url) for name, url in feeds}

    def feed_state(self, name: str, url: str) -> FeedState:
        """The stored state of feed `name`, created on first sight.

        A changed URL forgets the validators, which belong to the old address.
        """
        with self._errors("read feed"):
            row = self._db.execute(
                """SELECT id, url, etag, last_modified, error_count, next_fetch_at, gone,
                       moved_to, last_guids FROM feeds WHERE name = ?""",
                (name,),
            ).fetchone()
            if row is None:
                cursor = self._db.execute(
                    """INSERT INTO feeds (name, url) VALUES (?, ?)
                       ON CONFLICT (name) DO UPDATE SET url = excluded.url RETURNING id""",
                    (name, url),
                )
                # New, it has stored nothing: no GUID to look up.
                return FeedState(int(cursor.fetchone()[0]), None, None, last_guids=())
            if row["url"] != url:
                self._db.execute(
                    """UPDATE feeds SET url = ?, etag = NULL, last_modified = NULL,
                           error_count = 0, next_fetch_at = NULL, gone = 0, moved_to = NULL
                       WHERE id = ?""",
                    (url, row["id"]),
                )
                return FeedState(row["id"], None, None)
            return FeedState(
                row["id"],
                row["etag"],
                row["last_modified"],
                row["error_count"],
                datetime.fromisoformat(row["next_fetch_at"]) if row["next_fetch_at"] else None,
                bool(row["gone"]),
                row["moved_to"],
                tuple(json.loads(row["last_guids"])) if row["last_guids"] is not None else None,
            )

    def record_move(self, feed_id: int, url: str) -> None:
        """The feed moved permanently (301/308): fetch it from `url` from now on."""
        with self._errors("record feed move"):
            self._db.execute("UPDATE feeds SET moved_to = ? WHERE id = ?", (url, feed_id))

    def record_fetch(
        self,
        feed_id: int,
        *,
        status: int,
        etag: str | None,
        last_modified: str | None,
        new_items: int,
        now: datetime,
        next_fetch_at: datetime | None = None,
        guids: Sequence[str] | None = None,
    ) -> None:
        """A successful fetch; `guids`, when it was read, are its items' GUIDs, every
        one stored (or found stored) by now: the next fetch need not parse those."""
        self._db.execute(
            """UPDATE feeds SET last_fetched_at = ?, last_status = ?, last_error = NULL,
                   error_count = 0, etag = ?, last_modified = ?,
                   last_new_at = CASE WHEN ? > 0 THEN ? ELSE last_new_at END,
                   next_fetch_at = ?, claimed_by = NULL, claimed_until = NULL,
                   last_guids = COALESCE(?, last_guids)
               WHERE id = ?""",
            (
                _iso(now), status, etag, last_modified, new_items, _iso(now),
                _precise(next_fetch_at) if next_fetch_at else None,
                _json_list(guids) if guids is not None else None, feed_id,
            ),
        )  # fmt: skip

    def record_failure(
        self,
        feed_id: int,
        error: str,
        now: datetime,
        *,
        status: int | None = None,
        next_fetch_at: datetime | None = None,
    ) -> None:
        """Count a failed fetch; a 410 Gone marks the feed gone until its URL changes."""
        with self._errors("record feed error"):
            self._db.execute(
                """UPDATE feeds SET last_fetched_at = ?, last_error = ?, last_status = ?,
                       error_count = error_count + 1, next_fetch_at = ?,
                       claimed_by = NULL, claimed_until = NULL,
                       gone = CASE WHEN ? = 410 THEN 1 ELSE gone END
                   WHERE id = ?""",
                (
                    _iso(now), error, status, _precise(next_fetch_at) if next_fetch_at else None,
                    status, feed_id,
                ),
            )  # fmt: skip

    def feed_statuses(self) -> dict[str, dict[str, Any]]:
        """Everything `monitor status` shows of each feed, by name."""
        with self._errors("read feeds"):
            rows = self._db.execute(
                """SELECT f.name, f.url, f.moved_to, f.last_fetched_at, f.last_status,
                       f.last_error, f.error_count, f.next_fetch_at, f.gone, f.last_new_at,
                       (SELECT COUNT(*) FROM items i WHERE i.feed_id = f.id) AS items
                   FROM feeds f"""
            ).fetchall()
        return {row["name"]: dict(row) for row in rows}

    def last_delivery(self, digest: str) -> str | None:
        with self._errors("read digests"):
            row = self._db.execute(
                "SELECT MAX(delivered_at) FROM digests WHERE name = ? AND status = 'sent'",
                (digest,),
            ).fetchone()
        return row[0] if row else None

    def prune_index(self, before: datetime) -> int:
        """Drop the dedup index rows of items fetched before `before`.

        Only items inside ``[dedup] window_days`` are ever compared, so older
        rows only cost space; the items themselves stay. Returns the number of
        items whose rows were dropped.
        """
        with self.transaction():
            row = self._db.execute(
                "SELECT MIN(id) FROM items WHERE fetched_at >= ?", (_iso(before),)
            ).fetchone()
            first_kept = row[0] if row[0] is not None else (1 << 62)
            deleted = self._db.execute(
                "DELETE FROM item_index WHERE item_id < ?", (first_kept,)
            ).rowcount
        return max(deleted, 0)

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

    # dedup look-ups

    def guids(self, feed_id: int) -> list[str]:
        """Every GUID the feed has stored (its `last_guids` are enough once recorded)."""
        return [
            row[0]
            for row in self._db.execute("SELECT guid FROM items WHERE feed_id = ?", (feed_id,))
        ]

    def candidates(self, features: Features, since: datetime, max_distance: int) -> list[Candidate]:
        """Items fetched since `since` within `max_distance` bits or sharing a sentence.

        A block match is checked by exact Hamming distance on the stored
        fingerprint first, without reading the item: at a million items every
        16-bit block value is shared by ~15 unrelated items. Only items that
        share a sentence are read in full, to confirm by containment.
        """
        from .dedup import confirmable

        ((near, overlap),) = self.index_hits([features], max_distance, since)
        shared = confirmable(overlap, features.sentence_chars)
        rows = self.candidate_rows(sorted(near.keys() | shared), since)
        return [candidate_of(row, row[0] in shared) for row in rows.values()]

    def index_hits(
        self, batch: Sequence[Features], max_distance: int, since: datetime | None = None
    ) -> list[tuple[dict[int, int], dict[int, int]]]:
        """For each of `batch`: the stored items within `max_distance` bits (id →
        fingerprint) and those sharing sentences (id → characters shared).

        Looked up in memory (`dedupindex`), for the whole batch at once; with
        `since`, the memory holds only items fetched since then.
        """
        import numpy as np

        from .dedup import hamming
        from .dedupindex import block_keys, lookup, sentence_table
        from .fingerprint import distinct

        memory = self._read_index(since)
        prints = np.fromiter((f.simhash for f in batch), dtype=np.uint64, count=len(batch))
        keys = block_keys(prints.view(np.int64), self.block_count)
        in_blocks = lookup([memory.blocks], distinct(keys))
        near: list[dict[int, int]] = [{} for _ in batch]
        for index, features in enumerate(batch):
            for key in keys[index].tolist():
                for item_id, stored in zip(*in_blocks.get(key, ((), ())), strict=True):
                    simhash = _unsigned(stored)
                    if hamming(features.simhash, simhash) <= max_distance:
                        near[index][item_id] = simhash
        hashes, owners, lengths = sentence_table(batch)
        sentences = lookup([memory.sentences], distinct(hashes), MAX_ITEMS_PER_SENTENCE)
        overlaps: list[dict[int, int]] = [{} for _ in batch]
        if sentences:
            # Only the batch's sentences found stored are visited, in the batch's order.
            found = np.sort(np.fromiter(sentences, dtype=np.int64, count=len(sentences)))
            at = np.minimum(np.searchsorted(found, hashes), len(found) - 1)
            for position in np.flatnonzero(found[at] == hashes).tolist():
                overlap = overlaps[int(owners[position])]
                length = int(lengths[position])
                for item_id in sentences[int(hashes[position])][0]:
                    overlap[item_id] = overlap.get(item_id, 0) + length
        return list(zip(near, overlaps, strict=True))

    def _read_index(self, since: datetime | None) -> DedupIndex:
        """The in-memory index, brought up to date with what is committed.

        Items are stored under the dedup lock, one process at a time, so ids
        are committed in order: the rows above the last id read are new. Those
        this process writes go into the index as they are written (and out
        again if their writes are undone), rather than being read back. Ids
        also follow the fetch time, so the items before the first one fetched
        `since` (or pruned by any process) are dropped by id, and never
        read: after an upgrade, every stored item has its row until the next
        prune.
        """
        from .dedupindex import DedupIndex

        if self._index is None:
            self._index, self._index_through, self._index_from = DedupIndex(self.block_count), 0, 0
        (lowest, first_recent) = self._db.execute(
            """SELECT (SELECT MIN(item_id) FROM item_index),
                      (SELECT MIN(id) FROM items WHERE fetched_at >= ?)""",
            (_iso(since) if since is not None else "",),
        ).fetchone()
        if lowest is None or first_recent is None:
            # Nothing committed is indexed within the window: hold nothing.
            self._index, self._index_through, self._index_from = DedupIndex(self.block_count), 0, 0
            return self._index
        window = max(lowest, first_recent)
        if window > self._index_from:
            self._index.drop_below(window)
            self._index_from = window
        self._read_rows(max(self._index_through + 1, window))
        return self._index

    def _read_rows(self, start: int, stop: int | None = None) -> None:
        """Add the stored `item_index` rows from `start` (up to `stop`) to the index."""
        assert self._index is not None
        rows = self._db.execute(
            "SELECT item_id, simhash, sentences FROM item_index WHERE item_id >= ?"
            + (" AND item_id < ?" if stop is not None else "")
            + " ORDER BY item_id",
            (start,) if stop is None else (start, stop),
        ).fetchall()
        if rows:
            self._index.add((item_id, simhash, bytes(blob)) for item_id, simhash, blob in rows)
            self._index_through = rows[-1][0]

    def candidate_rows(self, ids: list[int], since: datetime) -> dict[int, Any]:
        """The rows `candidate_of` reads, of these items fetched since `since`, by id."""
        if not ids:
            return {}
        member, value = self._db.member("id", ids)
        rows = self._db.execute(
            f"""SELECT id, story_id, simhash, text_length, figures, text, title
                FROM items WHERE {member} AND fetched_at >= ?""",
            (value, _iso(since)),
        ).fetchall()
        return {row[0]: row for row in rows}

    def known_items(
        self, feed_id: int, guids: Sequence[str], urls: Sequence[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these GUIDs this feed has stored, and which of these URLs any feed has."""
        known_guids: set[str] = set()
        known_urls: set[str] = set()
        if guids:
            member, value = self._db.member("guid", guids)
            query = f"SELECT guid FROM items WHERE feed_id = ? AND {member}"
            known_guids = {row[0] for row in self._db.execute(query, (feed_id, value))}
        if urls:
            member, value = self._db.member("url", urls)
            known_urls = {
                row[0]
                for row in self._db.execute(f"SELECT url FROM items WHERE {member}", (value,))
            }
        return known_guids, known_urls

    def stories_with_texts(self, text_hashes: Sequence[str]) -> dict[str, int]:
        """Story of the earliest item with each of these normalised texts, by text hash."""
        if not text_hashes:
            return {}
        member, value = self._db.member("text_hash", text_hashes)
        rows = self._db.execute(
            f"SELECT text_hash, story_id FROM items WHERE {member} ORDER BY id DESC", (value,)
        ).fetchall()
        return {row[0]: row[1] for row in rows}  # the earliest written last, so it wins

    # writes

    def new_story(self, now: datetime) -> int:
        cursor = self._db.execute(
            "INSERT INTO stories (created_at) VALUES (?) RETURNING id", (_iso(now),)
        )
        return int(cursor.fetchone()[0])

    def insert_item(
        self,
        *,
        feed_id: int,
        guid: str,
        article: Article,
        features: Features,
        topics: tuple[str, ...],
        story_id: int,
        match_reason: str | None,
        now: datetime,
    ) -> int:
        """Store one item in the story `story_id` (see `insert_items`)."""
        item = NewItem(guid, article, features, topics, story_id, match_reason)
        return self.insert_items(feed_id, [item], now)[0]

    def insert_items(self, feed_id: int, items: Sequence[NewItem], now: datetime) -> list[int]:
        """Store a feed's new items with their index rows; returns their ids, in order.

        An item's `story` is a stored story's id, or -n for the n-th new story
        of this batch (its stories are created here). A handful of statements
        for the whole batch, whatever its size: per item, the round trips to
        PostgreSQL cost more than the work.
        """
        if not items:
            return []
        count = max((-item.story for item in items if item.story < 0), default=0)
        fetched = _iso(now)
        created = self._insert_rows("stories", ("created_at",), [(fetched,)] * count)
        story_ids = [item.story if item.story > 0 else created[-item.story - 1] for item in items]
        rows = [
            (
                feed_id,
                item.guid,
                item.article.url,
                item.article.title,
                _iso(item.article.published),
                fetched,
                _json_list(item.article.authors),
                item.article.source,
                item.article.original_source,
                item.article.text,
                _json_list(item.article.images),
                _json_list(item.topics),
                item.features.text_hash,
                _signed(item.features.simhash),
                item.features.normalized_length,
                item.features.sentence_chars,
                _figures_text(item.features.figures),
                story_id,
                item.match_reason,
            )
            for item, story_id in zip(items, story_ids, strict=True)
        ]
        item_ids = self._insert_rows("items", _ITEM_INSERT_COLUMNS, rows)
        written = [
            (item_id, _signed(item.features.simhash), item.features.sentence_hashes)
            for item, item_id in zip(items, item_ids, strict=True)
        ]
        self._insert_index(written)
        self._written += item_ids
        if self._index is not None:  # else read in full, these included, when first needed
            if item_ids[0] > self._index_through + 1:
                # Rows stored before this transaction that the index has not read
                # (ids are not always consecutive: PostgreSQL skips those of undone
                # writes). The index takes ids in order.
                self._read_rows(self._index_through + 1, item_ids[0])
            self._index.add(written)
            self._index_through = item_ids[-1]
        self._update_canonical(sorted(set(story_ids)))
        return item_ids

    def _insert_index(self, rows: Sequence[tuple[int, int, bytes]]) -> None:
        """`item_index` rows; on PostgreSQL one statement over arrays, since it runs
        each statement of an executemany on its own."""
        if self.kind == "postgresql":
            self._db.execute(
                "INSERT INTO item_index (item_id, simhash, sentences) "
                "SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bytea[])",
                [[row[n] for row in rows] for n in range(3)],
            )
            return
        self._insert_rows("item_index", ("item_id", "simhash", "sentences"), rows, ids=False)

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

    def _update_canonical(self, story_ids: list[int]) -> None:
        """Each story's canonical item: an original over a repost, then the earliest."""
        member, value = self._db.member("id", story_ids)
        self._db.execute(
            f"""UPDATE stories SET canonical_item_id = (
                    SELECT id FROM items WHERE story_id = stories.id
                    ORDER BY original_source IS NOT NULL, published, id LIMIT 1)
                WHERE {member}""",
            (value,),
        )

    # digests

    def pending_story_ids(self, digest: str, recipient: str, since: datetime) -> set[int]:
        """Stories created since `since` that `recipient` has not had in `digest`."""
        with self._errors("read pending stories"):
            rows = self._db.execute(
                """SELECT s.id FROM stories s
                   WHERE s.created_at >= ? AND s.canonical_item_id IS NOT NULL
                   AND NOT EXISTS (
                       SELECT 1 FROM deliveries d
                       WHERE d.digest = ? AND d.story_id = s.id AND d.recipient IN (?, ?))""",
                (_iso(since), digest, recipient, ALL_RECIPIENTS),
            ).fetchall()
        return {row[0] for row in rows}

    def stories(self, story_ids: set[int]) -> list[Story]:
        """The stories with these ids, each with its canonical item first."""
        found: dict[int, list[StoredItem]] = {}
        ids = sorted(story_ids)
        with self._errors("read stories"):
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = self._db.execute(
                    f"""SELECT {_ITEM_COLUMNS}, s.canonical_item_id FROM stories s
                        JOIN items i ON i.story_id = s.id
                        JOIN feeds f ON f.id = i.feed_id
                        WHERE s.id IN ({",".join("?" * len(chunk))})
                        ORDER BY s.id, i.id != s.canonical_item_id, i.published, i.id""",
                    chunk,
                ).fetchall()
                for row in rows:
                    found.setdefault(row["story_id"], []).append(_stored_item(row))
        return [Story(id=story_id, items=tuple(items)) for story_id, items in found.items()]

    def pending_stories(
        self, digest: str = "daily", recipient: str = ALL_RECIPIENTS
    ) -> list[Story]:
        """Every story `recipient` has not had in `digest` (for tests and tools)."""
        since = datetime(1970, 1, 1, tzinfo=UTC)
        return self.stories(self.pending_story_ids(digest, recipient, since))

    def begin_digest(
        self, name: str, subject: str, message_id: str, recipients: list[str], now: datetime,
        story_count: int,
    ) -> int:  # fmt: skip
        with self._errors("record digest"):
            cursor = self._db.execute(
                """INSERT INTO digests (created_at, status, subject, message_id, story_count,
                       name, recipients)
                   VALUES (?, 'pending', ?, ?, ?, ?, ?) RETURNING id""",
                (_iso(now), subject, message_id, story_count, name, " ".join(recipients)),
            )
            return int(cursor.fetchone()[0])

    def digest_delivered(
        self,
        digest_id: int,
        name: str,
        recipients: list[str],
        story_ids: list[int],
        transport: str,
        now: datetime,
    ) -> None:
        """Record the digest accepted for `recipients`: its stories are theirs now."""
        with self.transaction():
            self._db.execute(
                """UPDATE digests SET status = 'sent', delivered_at = ?, transport = ?
                   WHERE id = ?""",
                (_iso(now), transport, digest_id),
            )
            self._db.executemany(
                """INSERT INTO deliveries (digest, recipient, story_id, digest_id)
                   VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                [(name, r, story_id, digest_id) for r in recipients for story_id in story_ids],
            )
            self._db.executemany(
                """UPDATE stories SET delivered_digest_id = ?
                   WHERE id = ? AND delivered_digest_id IS NULL""",
                [(digest_id, story_id) for story_id in story_ids],
            )

    def digest_failed(self, digest_id: int, error: str) -> None:
        with self._errors("record digest failure"):
            self._db.execute(
                "UPDATE digests SET status = 'failed', error = ? WHERE id = ?",
                (error, digest_id),
            )

    def acquire_lease(self, name: str, holder: str, seconds: float, now: datetime) -> str | None:
        """Take (or renew) the lease `name` for `seconds`.

        None if another live holder has it; else who held it before ("" if nobody).
        """
        with self.transaction(f"lease:{name}"):
            row = self._db.execute(
                "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if (
                row is not None
                and row["holder"] != holder
                and row["expires_at"] > _iso(now)
                and not is_stale(row["holder"])
            ):
                return None
            self._db.execute(
                """INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
                   ON CONFLICT (name) DO UPDATE
                   SET holder = excluded.holder, expires_at = excluded.expires_at""",
                (name, holder, _iso(now + timedelta(seconds=seconds))),
            )
            return row["holder"] if row is not None else ""

    def lease_holder(self, name: str, now: datetime) -> str | None:
        row = self._db.execute(
            "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
        ).fetchone()
        return row["holder"] if row is not None and row["expires_at"] > _iso(now) else None

    def live_leases(self, prefix: str, now: datetime) -> list[str]:
        """Holders of unexpired leases whose names start with `prefix`."""
        with self._errors("read leases"):
            rows = self._db.execute(
                "SELECT name, holder, expires_at FROM leases WHERE expires_at > ?", (_iso(now),)
            ).fetchall()
        return [row["holder"] for row in rows if row["name"].startswith(prefix)]

    def release_lease(self, name: str, holder: str) -> None:
        with self._errors("release lease"):
            self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def digests(self) -> list[dict[str, Any]]:
        with self._errors("read digests"):
            rows = self._db.execute("SELECT * FROM digests ORDER BY id").fetchall()
        return [dict(row) for row in rows]

    # export

    def export_items(self) -> Iterator[dict[str, Any]]:
        """Every stored item with its story and the URL of the story's canonical item."""
        with self._errors("export"):
            cursor = self._db.execute(
                f"""SELECT {_ITEM_COLUMNS}, s.canonical_item_id, c.url AS canonical_url,
                       i.fetched_at, i.match_reason
                    FROM items i JOIN feeds f ON f.id = i.feed_id
                    JOIN stories s ON s.id = i.story_id
                    LEFT JOIN items c ON c.id = s.canonical_item_id
                    ORDER BY i.id"""
            )
            for row in cursor:
                item = _stored_item(row)
                yield {
                    "url": item.url,
                    "title": item.title,
                    "feed": item.feed,
                    "published": item.published.isoformat(),
                    "story": item.story,
                    "duplicate_of": None
                    if row["canonical_item_id"] == item.id
                    else row["canonical_url"],
                    "topics": list(item.topics),
                    "source": item.source,
                    "original_source": item.original_source,
                    "guid": row["guid"],
                    "fetched_at": row["fetched_at"],
                    "match": row["match_reason"],
                }

    def is_empty(self) -> bool:
        with self._errors("read"):
            return all(
                self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
                for table in ("feeds", "items", "digests")
            )

    def copy_from(self, source: Storage, batch: int = 2000) -> dict[str, int]:
        """Copy every row of `source` into this empty database, ids and all.

        One transaction: an interrupted copy leaves this database empty, ready
        for another try. Returns the rows copied per table.
        """
        if not self.is_empty():
            raise StorageError(f"database {self.name}: not empty; copy only into a new database")
        copied: dict[str, int] = {}
        with source._errors("read for copy"), source._db.snapshot(), self.transaction():
            for table, columns in TABLES.items():
                names = ", ".join(columns)
                marks = ", ".join("?" * len(columns))
                insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"
                if table == "meta":
                    # The copied index rows come with the features version they were made with.
                    insert += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                count = 0
                for batch_rows in source._db.stream(f"SELECT {names} FROM {table}", batch):
                    rows = [
                        tuple(_without_nul(value) for value in row)
                        for row in batch_rows
                        if not (table == "meta" and row[0] == "schema_version")
                    ]
                    self._db.executemany(insert, rows)
                    count += len(rows)
                copied[table] = count
            self._db.reset_sequences(["feeds", "digests", "stories", "items"])
        return copied

    def integrity_check(self) -> str:
        """SQLite's own check of the file; PostgreSQL keeps its files itself."""
        if self.kind != "sqlite":
            return "ok"
        with self._errors("integrity check"):
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def candidate_of(row: Any, confirm: bool) -> Candidate:
    """A `candidate_rows` row as a dedup candidate; with `confirm`, with its shingles."""
    from .dedup import Candidate, shingles_of

    return Candidate(
        item_id=row[0],
        story_id=row[1],
        simhash=_unsigned(row[2]),
        normalized_length=row[3],
        figures=_figures_of(row[4]),
        shingles=shingles_of(row[5] or row[6]) if confirm else None,
    )


def _json_list(values: Sequence[str]) -> str:
    """`json.dumps(list(values), ensure_ascii=False)`, a quarter of its cost: an item
    has three lists to store."""
    return "[" + ", ".join(map(encode_basestring, values)) + "]"


def _figures_text(figures: dict[int, int]) -> str:
    return " ".join(f"{shape}:{digits}" for shape, digits in figures.items())


def _figures_of(text: str) -> dict[int, int]:
    pairs = (part.split(":") for part in text.split())
    return {int(shape): int(digits) for shape, digits in pairs}


_ITEM_INSERT_COLUMNS = (
    "feed_id", "guid", "url", "title", "published", "fetched_at", "authors", "source",
    "original_source", "text", "images", "topics", "text_hash", "simhash",
    "text_length", "sentence_chars", "figures", "story_id", "match_reason",
)  # fmt: skip
_ITEM_COLUMNS = """i.id, f.name AS feed, i.guid, i.url, i.title, i.published, i.source,
    i.original_source, i.text, i.story_id, i.topics"""


def _stored_item(row: Any) -> StoredItem:
    return StoredItem(
        id=row["id"],
        feed=row["feed"],
        guid=row["guid"],
        url=row["url"],
        title=row["title"],
        published=datetime.fromisoformat(row["published"]),
        source=row["source"],
        original_source=row["original_source"],
        text=row["text"],
        story=row["story_id"],
        topics=tuple(json.loads(row["topics"])),
    )
