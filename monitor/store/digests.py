"""Digests and deliveries: which stories each recipient has had, and each digest's fate.

A story is recorded as delivered to a recipient only once the message was
accepted (`digest_delivered`), in one transaction with the digest's status,
so a failed send leaves its stories pending for the next digest. The message
itself is recorded before it is sent (`begin_digest`): a send whose end is
not known is sent again as the same message (`unsettled_digests`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..models import StoredItem, Story
from .base import StorageBase
from .encoding import ITEM_COLUMNS, iso, stored_item

ALL_RECIPIENTS = "*"


@dataclass(frozen=True)
class UnsettledDigest:
    """A digest recorded as being sent, whose end is not known."""

    id: int
    message_id: str
    recipients: tuple[str, ...]
    message: bytes
    story_ids: tuple[int, ...]
    left_out: tuple[int, ...]
    error: str | None
    created_at: str


@dataclass(frozen=True)
class DeliveryProblems:
    failed: int
    """Digests that failed since the last one sent (their stories went out later or wait)."""
    last_failure: tuple[str, str] | None
    """When the last of them was tried, and why it failed."""
    uncertain: tuple[tuple[str, str, str], ...]
    """(when, Message-ID, why) of each digest whose end is not known: sent again next time."""


class DigestStore(StorageBase):
    """Digests sent or tried, and which stories each recipient has had."""

    def pending_story_ids(self, digest: str, recipient: str, since: datetime) -> set[int]:
        """Stories created (or updated) since `since` that `recipient` has not had in
        `digest`, or had before a more complete version arrived (`updated_story_ids`)."""
        with self._errors("read pending stories"):
            rows = self._db.execute(
                """SELECT s.id FROM stories s
                   WHERE s.canonical_item_id IS NOT NULL
                   AND (s.created_at >= ? OR s.updated_at >= ?)
                   AND NOT EXISTS (
                       SELECT 1 FROM deliveries d
                       WHERE d.digest = ? AND d.story_id = s.id AND d.recipient IN (?, ?)
                       AND d.shown != 2)""",
                (iso(since), iso(since), digest, recipient, ALL_RECIPIENTS),
            ).fetchall()
        return {row[0] for row in rows}

    def updated_story_ids(self, digest: str, recipient: str, story_ids: set[int]) -> set[int]:
        """Of `story_ids`, those `recipient` was shown before in `digest`, pending again
        because a more complete version of them arrived (a delivery of `shown` 2)."""
        if not story_ids:
            return set()
        member, value = self._db.member("story_id", sorted(story_ids))
        with self._errors("read deliveries"):
            rows = self._db.execute(
                f"""SELECT DISTINCT story_id FROM deliveries
                    WHERE digest = ? AND recipient IN (?, ?) AND shown = 2 AND {member}""",
                (digest, recipient, ALL_RECIPIENTS, value),
            ).fetchall()
        return {int(row[0]) for row in rows}

    def expired_story_ids(self, digest: str, recipient: str, before: datetime) -> set[int]:
        """Stories created before `before` that `recipient` never had in `digest`, nor
        had counted as left out: past the window, no digest would ever show them."""
        with self._errors("read expired stories"):
            rows = self._db.execute(
                """SELECT s.id FROM stories s
                   WHERE s.created_at < ? AND s.canonical_item_id IS NOT NULL
                   AND (s.updated_at IS NULL OR s.updated_at < ?)
                   AND NOT EXISTS (
                       SELECT 1 FROM deliveries d
                       WHERE d.digest = ? AND d.story_id = s.id AND d.recipient IN (?, ?))""",
                (iso(before), iso(before), digest, recipient, ALL_RECIPIENTS),
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
                    f"""SELECT {ITEM_COLUMNS}, s.canonical_item_id FROM stories s
                        JOIN items i ON i.story_id = s.id
                        JOIN feeds f ON f.id = i.feed_id
                        WHERE s.id IN ({",".join("?" * len(chunk))})
                        ORDER BY s.id, i.id != s.canonical_item_id, i.published, i.id""",
                    chunk,
                ).fetchall()
                for row in rows:
                    found.setdefault(row["story_id"], []).append(stored_item(row))
        return [Story(id=story_id, items=tuple(items)) for story_id, items in found.items()]

    def pending_stories(
        self, digest: str = "daily", recipient: str = ALL_RECIPIENTS
    ) -> list[Story]:
        """Every story `recipient` has not had in `digest` (for tests and tools)."""
        since = datetime(1970, 1, 1, tzinfo=UTC)
        return self.stories(self.pending_story_ids(digest, recipient, since))

    def begin_digest(
        self, name: str, subject: str, message_id: str, recipients: list[str], now: datetime,
        story_count: int, message: bytes = b"", story_ids: Sequence[int] = (),
        left_out: Sequence[int] = (),
    ) -> int:  # fmt: skip
        """Record a digest about to be sent: 'pending' until its end is known.

        With its `message` and `story_ids`, a send whose end never came (the
        process was killed, the server did not answer after the message) can
        be sent again as the same message (`unsettled_digests`).
        """
        with self._errors("record digest"):
            cursor = self._db.execute(
                """INSERT INTO digests (created_at, status, subject, message_id, story_count,
                       name, recipients, message, story_ids, left_out)
                   VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    iso(now), subject, message_id, story_count, name, " ".join(recipients),
                    message or None, " ".join(map(str, story_ids)), " ".join(map(str, left_out)),
                ),
            )  # fmt: skip
            return int(cursor.fetchone()[0])

    def unsettled_digests(self, name: str) -> list[UnsettledDigest]:
        """Digests of `name` recorded as being sent whose end is not known, oldest first.

        Only its sender's digest lease makes a pending digest one being sent
        right now; whoever holds the lease finds here those left by others.
        """
        with self._errors("read digests"):
            rows = self._db.execute(
                """SELECT id, message_id, recipients, message, story_ids, error, created_at,
                          left_out
                   FROM digests WHERE name = ? AND status = 'pending' AND message IS NOT NULL
                   ORDER BY id""",
                (name,),
            ).fetchall()
        return [
            UnsettledDigest(
                id=row[0],
                message_id=row[1],
                recipients=tuple(row[2].split()),
                message=bytes(row[3]),
                story_ids=tuple(int(n) for n in (row[4] or "").split()),
                error=row[5],
                created_at=row[6],
                left_out=tuple(int(n) for n in (row[7] or "").split()),
            )
            for row in rows
        ]

    def digest_uncertain(self, digest_id: int, error: str) -> None:
        """The send ended without a known outcome: kept pending, to be sent again."""
        with self._errors("record digest outcome"):
            self._db.execute("UPDATE digests SET error = ? WHERE id = ?", (error, digest_id))

    def delivery_problems(self, name: str) -> DeliveryProblems:
        """What `monitor status` says of `name` beyond its last delivery."""
        with self._errors("read digests"):
            last_sent = self._db.execute(
                "SELECT MAX(id) FROM digests WHERE name = ? AND status = 'sent'", (name,)
            ).fetchone()[0]
            failed = self._db.execute(
                """SELECT COUNT(*), MAX(id) FROM digests
                   WHERE name = ? AND status = 'failed' AND id > ?""",
                (name, last_sent or 0),
            ).fetchone()
            last_error = None
            if failed[0]:
                last_error = self._db.execute(
                    "SELECT created_at, error FROM digests WHERE id = ?", (failed[1],)
                ).fetchone()
        unsettled = self.unsettled_digests(name)
        return DeliveryProblems(
            failed=int(failed[0]),
            last_failure=(last_error[0], last_error[1]) if last_error else None,
            uncertain=tuple((d.created_at, d.message_id, d.error or "") for d in unsettled),
        )

    def digest_delivered(
        self,
        digest_id: int,
        name: str,
        recipients: list[str],
        story_ids: list[int],
        transport: str,
        now: datetime,
        left_out: Sequence[int] = (),
    ) -> None:
        """Record the digest accepted for `recipients`: the stories it shows are theirs
        now, those it only counted (`left_out`) are settled for them too."""
        with self.transaction():
            self._db.execute(
                """UPDATE digests SET status = 'sent', delivered_at = ?, transport = ?
                   WHERE id = ?""",
                (iso(now), transport, digest_id),
            )
            self._db.executemany(
                """INSERT INTO deliveries (digest, recipient, story_id, digest_id, shown)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (digest, recipient, story_id) DO UPDATE
                   SET digest_id = excluded.digest_id, shown = excluded.shown""",
                [
                    (name, r, story_id, digest_id, shown)
                    for shown, ids in ((1, story_ids), (0, left_out))
                    for r in recipients
                    for story_id in ids
                ],
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

    def digests(self) -> list[dict[str, Any]]:
        with self._errors("read digests"):
            rows = self._db.execute("SELECT * FROM digests ORDER BY id").fetchall()
        return [dict(row) for row in rows]

    def last_counts(self, digest: str) -> tuple[int, int]:
        """Stories the last sent digest of `digest` showed, and those it left out."""
        with self._errors("read digests"):
            row = self._db.execute(
                """SELECT story_count, left_out FROM digests
                   WHERE name = ? AND status = 'sent' ORDER BY id DESC LIMIT 1""",
                (digest,),
            ).fetchone()
        return (int(row[0]), len((row[1] or "").split())) if row else (0, 0)

    def last_delivery(self, digest: str) -> str | None:
        with self._errors("read digests"):
            row = self._db.execute(
                "SELECT MAX(delivered_at) FROM digests WHERE name = ? AND status = 'sent'",
                (digest,),
            ).fetchone()
        return row[0] if row else None
