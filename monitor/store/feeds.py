"""Feed state: validators, errors, the fetch schedule and the claims that share feeds out.

Per-feed state lives in the feed's row, not in memory, so a restart loses
nothing: the daemon continues each feed's schedule where it was. Claims keep
two daemons on one PostgreSQL database from fetching one feed at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .base import StorageBase
from .encoding import iso, precise
from .leases import is_stale


@dataclass(frozen=True)
class FeedState:
    id: int
    etag: str | None
    last_modified: str | None
    error_count: int = 0
    next_fetch_at: datetime | None = None
    gone: bool = False
    moved_to: str | None = None
    last_guids: dict[str, str | None] | None = None
    """The GUIDs of the feed's items at its last fetch that the next need not adapt
    again (stored, found stored under their URL, or left over `[fetch]
    max_items`), each with what the feed said of it (`parse.newest.signature`;
    of an edit left for a later fetch, what it said before; None where a version
    before signatures recorded it); None before a fetch recorded them."""
    pages_pending: bool = False
    """Whether some of its items' article pages failed and are to be tried again."""
    edits_due: datetime | None = None
    """When the first of its edits waiting for their page (`edit_pages`) is due: the
    feed is then fetched whole, not validated, so that it gives the edit again."""

    @property
    def validated(self) -> bool:
        """Whether the feed has an ETag or Last-Modified: only then can it answer 304."""
        return self.etag is not None or self.last_modified is not None


class FeedStore(StorageBase):
    """Each feed's row: its state between fetches, and who is fetching it now."""

    def ensure_feeds(self, feeds: Sequence[tuple[str, str]]) -> None:
        """Rows for these (name, url) feeds, so that they can be claimed."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO feeds (name, url) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                feeds,
            )

    def follow_renames(self, feeds: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Give a feed the config renamed its row back: a configured (name, url) with
        no row of its name takes the row of the one feed at the same address that
        the config no longer names, with its items, validators and history (else
        the renamed feed would start again: every item stored twice, every cache
        lost). The (old, new) names of the rows renamed."""
        names = {name for name, _ in feeds}
        renamed: list[tuple[str, str]] = []
        with self._errors("read feeds"):
            stored = {str(row[0]) for row in self._db.execute("SELECT name FROM feeds")}
        if names <= stored:
            return renamed  # as on nearly every start: no write lock taken
        with self.transaction():
            rows = self._db.execute("SELECT id, name, url FROM feeds").fetchall()
            stored = {str(row[1]) for row in rows}
            left: dict[str, list[tuple[int, str]]] = {}
            for row in rows:
                if row[1] not in names:
                    left.setdefault(str(row[2]), []).append((int(row[0]), str(row[1])))
            for name, url in feeds:
                if name in stored or len(left.get(url, ())) != 1:
                    continue
                ((row_id, old),) = left.pop(url)
                self._db.execute("UPDATE feeds SET name = ? WHERE id = ?", (name, row_id))
                renamed.append((old, name))
        return renamed

    def claim_due_feeds(
        self, names: set[str], holder: str, now: datetime, seconds: float, limit: int
    ) -> list[str]:
        """Claim up to `limit` of these feeds whose fetch time has come, for `holder`."""
        claimed = self.claim_feeds_due_by(names, holder, now, now, seconds, limit)
        return [name for name, _ in claimed]

    def claim_feeds_due_by(
        self,
        names: set[str],
        holder: str,
        now: datetime,
        until: datetime,
        seconds: float,
        limit: int,
    ) -> list[tuple[str, datetime]]:
        """Claim up to `limit` of these feeds whose fetch time comes by `until`, for
        `holder`; each with that time (`now` for a feed never fetched), earliest first.

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
                f"""SELECT id, name, next_fetch_at FROM feeds
                    WHERE gone = 0 AND (next_fetch_at IS NULL OR next_fetch_at <= ?)
                    AND (claimed_by IS NULL OR claimed_until <= ?) AND {member}
                    ORDER BY next_fetch_at IS NOT NULL, next_fetch_at, id
                    LIMIT ?{self._db.skip_locked}""",
                (precise(until), iso(now), value, limit),
            ).fetchall()
            self._db.executemany(
                "UPDATE feeds SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                [(holder, iso(now + timedelta(seconds=seconds)), row[0]) for row in rows],
            )
        return [(row[1], datetime.fromisoformat(row[2]) if row[2] else now) for row in rows]

    def next_due(self, after: datetime) -> datetime | None:
        """The earliest fetch time after `after` of a feed not gone; None when no
        feed has one. A feed no longer configured may make it earlier than it
        need be, never later."""
        with self._errors("read the schedule"):
            row = self._db.execute(
                "SELECT MIN(next_fetch_at) FROM feeds WHERE gone = 0 AND next_fetch_at > ?",
                (precise(after),),
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def _end_dead_claims(self, holder: str, now: datetime) -> None:
        with self._errors("read claims"):
            rows = self._db.execute(
                """SELECT DISTINCT claimed_by FROM feeds
                   WHERE claimed_by IS NOT NULL AND claimed_by != ? AND claimed_until > ?""",
                (holder, iso(now)),
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
                (iso(now + timedelta(seconds=seconds)), holder, value),
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
            # CROSS JOIN: the few pages first, not all of the feed's items (which
            # SQLite chose: 34 ms for a feed of 500,000 items, against microseconds).
            row = self._db.execute(
                """SELECT id, url, etag, last_modified, error_count, next_fetch_at, gone,
                       moved_to, last_guids,
                       EXISTS (SELECT 1 FROM pages CROSS JOIN items
                               WHERE items.id = pages.item_id AND items.feed_id = feeds.id
                                     AND pages.retry_at IS NOT NULL)
                       AS pages_pending,
                       (SELECT MIN(retry_at) FROM edit_pages WHERE feed_id = feeds.id)
                       AS edits_due
                   FROM feeds WHERE name = ?""",
                (name,),
            ).fetchone()
            if row is None:
                cursor = self._db.execute(
                    """INSERT INTO feeds (name, url) VALUES (?, ?)
                       ON CONFLICT (name) DO UPDATE SET url = excluded.url RETURNING id""",
                    (name, url),
                )
                # New, it has stored nothing: no GUID to look up.
                return FeedState(int(cursor.fetchone()[0]), None, None, last_guids={})
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
                _listed(row["last_guids"]),
                bool(row["pages_pending"]),
                datetime.fromisoformat(row["edits_due"]) if row["edits_due"] else None,
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
        guids: Mapping[str, str | None] | None = None,
    ) -> None:
        """A successful fetch; `guids`, when it was read, are its items' GUIDs, every
        one stored (or found stored) by now, with their signatures: the next fetch
        need not adapt those again unless the feed says something else of them."""
        self._db.execute(
            """UPDATE feeds SET last_fetched_at = ?, last_status = ?, last_error = NULL,
                   error_count = 0, etag = ?, last_modified = ?,
                   last_new_at = CASE WHEN ? > 0 THEN ? ELSE last_new_at END,
                   next_fetch_at = ?, claimed_by = NULL, claimed_until = NULL,
                   last_guids = COALESCE(?, last_guids)
               WHERE id = ?""",
            (
                iso(now), status, etag, last_modified, new_items, iso(now),
                precise(next_fetch_at) if next_fetch_at else None,
                json.dumps(guids, ensure_ascii=False) if guids is not None else None, feed_id,
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
                    iso(now), error, status, precise(next_fetch_at) if next_fetch_at else None,
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


def _listed(stored: str | None) -> dict[str, str | None] | None:
    """`last_guids` as stored: GUID → signature, or a list of GUIDs (older versions)."""
    if stored is None:
        return None
    listed = json.loads(stored)
    return dict(listed) if isinstance(listed, dict) else dict.fromkeys(listed)
