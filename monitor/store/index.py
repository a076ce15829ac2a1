"""The dedup index as stored: one row per item, read into memory (`dedup.DedupIndex`).

Items are compared only with those fetched within ``[dedup] window_days``;
the index of older items is pruned (`prune_index`), the items themselves
stay. When `dedup.Features` computes something new, `FEATURES_VERSION` goes
up and the stored features and index are computed again on opening.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..figures import figures_of, figures_text
from .base import MIGRATE_LOCK, StorageBase
from .encoding import iso, signed, unsigned

# The dedup look-ups (NumPy and the index) are imported where they are used: a
# run where every feed answers 304 never needs them.
if TYPE_CHECKING:
    from ..dedup import Candidate, DedupIndex, Features, Shingles

FEATURES_VERSION = 7
"""Raised whenever `features.Features.of` computes something else: on opening,
the stored features and index are then computed again."""
# Items whose features are recomputed at a time, when `Features.of` changed.
REFRESH_PAGE = 2000
# Stored items whose shingles are kept for the next comparison: about 8 MB.
SHINGLES_KEPT = 512


class IndexStore(StorageBase):
    """The `item_index` rows and the in-memory `DedupIndex` kept in step with them:
    rows this process writes go in as they are written, out if they are undone."""

    def __init__(
        self,
        target: Path | str,
        *,
        block_count: int = 4,
        busy_timeout: float = 30.0,
        migrate: bool | None = None,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        self.block_count = block_count
        self._index: DedupIndex | None = None
        """The committed items' dedup keys, read when first needed."""
        self._index_through = 0
        """The highest item id `_index` has read."""
        self._index_from = 0
        """The lowest item id `_index` may hold: the window's first, or the table's."""
        self._shingles: dict[tuple[int, int, int], Shingles] = {}
        """The shingles of the items confirmed last (`candidate`): a story told by
        many outlets has its first items compared with each newcomer."""
        self._recent_clauses: dict[int, tuple[list[tuple[int, bytes]], frozenset[int] | None]]
        self._recent_clauses = {}
        """Of each feed looked up: its last items (story, clause hashes), oldest
        first, and the boilerplate learned from them (None until asked for)."""
        self._written: list[int] = []
        """The ids of the items written in the open transaction, not yet committed:
        they are in `_index` already, and leave it if their writes are undone."""
        super().__init__(
            target, busy_timeout=busy_timeout, migrate=migrate, create=create, read_only=read_only
        )

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
                from ..dedup import Features

                computed = Features.of_many([text or title for _, text, title in rows])
                self._db.executemany(
                    """UPDATE items SET text_hash = ?, simhash = ?, text_length = ?,
                           sentence_chars = ?, figures = ? WHERE id = ?""",
                    [
                        (
                            features.text_hash,
                            signed(features.simhash),
                            features.normalized_length,
                            features.sentence_chars,
                            figures_text(features.figures),
                            item_id,
                        )
                        for (item_id, _, _), features in zip(rows, computed, strict=True)
                    ],
                )
                self._insert_index(
                    [
                        (item_id, signed(features.simhash), features.sentence_hashes)
                        for (item_id, _, _), features in zip(rows, computed, strict=True)
                    ]
                )
            self._index = None
            self._put_meta("features_version", str(FEATURES_VERSION))

    def prune_index(self, before: datetime) -> int:
        """Drop the dedup index rows of items fetched before `before`.

        Only items inside ``[dedup] window_days`` are ever compared, so older
        rows only cost space; the items themselves stay. Returns the number of
        items whose rows were dropped.
        """
        with self.transaction():
            row = self._db.execute(
                "SELECT MIN(id) FROM items WHERE fetched_at >= ?", (iso(before),)
            ).fetchone()
            first_kept = row[0] if row[0] is not None else (1 << 62)
            deleted = self._db.execute(
                "DELETE FROM item_index WHERE item_id < ?", (first_kept,)
            ).rowcount
        return max(deleted, 0)

    def candidates(self, features: Features, since: datetime, max_distance: int) -> list[Candidate]:
        """Items fetched since `since` within `max_distance` bits or sharing a sentence.

        A block match is checked by exact Hamming distance on the stored
        fingerprint first, without reading the item: at a million items every
        16-bit block value is shared by ~15 unrelated items. Only items that
        share a sentence are read in full, to confirm by containment.
        """
        from ..dedup import confirmable

        ((near, overlap),) = self.index_hits([features], max_distance, since)
        rows = self.candidate_rows(sorted(near.keys() | confirmable(overlap, 0)), since)
        sizes = {item_id: row[3] for item_id, row in rows.items()}
        shared = confirmable(overlap, features.sentence_chars, sizes)
        return [self.candidate(row, row[0] in shared) for row in rows.values()]

    def index_hits(
        self, batch: Sequence[Features], max_distance: int, since: datetime | None = None
    ) -> list[tuple[dict[int, int], dict[int, int]]]:
        """For each of `batch`: the stored items within `max_distance` bits (id →
        fingerprint) and those sharing sentences (id → characters shared).

        Looked up in memory (`dedup.DedupIndex.hits`), for the whole batch at once;
        with `since`, the memory holds only items fetched since then.
        """
        return self._read_index(since).hits(batch, max_distance)

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
        from ..dedup import DedupIndex

        if self._index is None:
            self._index, self._index_through, self._index_from = DedupIndex(self.block_count), 0, 0
        (lowest, first_recent) = self._db.execute(
            """SELECT (SELECT MIN(item_id) FROM item_index),
                      (SELECT MIN(id) FROM items WHERE fetched_at >= ?)""",
            (iso(since) if since is not None else "",),
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

    def boilerplate(self, feed_id: int, batch: Sequence[tuple[int, bytes]] = ()) -> frozenset[int]:
        """The clauses that recur in the stories of the feed's last items
        (`dedup.boilerplate`), and of `batch` (story, clause hashes) about to be
        stored. Its stored items are read once a process; those it stores are
        added as they are written."""
        from ..dedup import RECENT, learned

        known = self._recent_clauses.get(feed_id)
        if known is None:
            rows = self._db.execute(
                """SELECT i.story_id, x.sentences FROM items i
                   JOIN item_index x ON x.item_id = i.id
                   WHERE i.feed_id = ? ORDER BY i.id DESC LIMIT ?""",
                (feed_id, RECENT),
            ).fetchall()
            known = ([(int(row[0]), bytes(row[1])) for row in reversed(rows)], None)
        recent, learnt = known
        if batch:
            self._recent_clauses[feed_id] = known
            return learned([*recent[len(recent) + len(batch) - RECENT :], *batch])
        if learnt is None:
            learnt = learned(recent)
        self._recent_clauses[feed_id] = (recent, learnt)
        return learnt

    def _remember_clauses(self, feed_id: int, items: list[tuple[int, bytes]]) -> None:
        """Add a feed's new items (story, clause hashes) to what `boilerplate` learns
        from."""
        from ..dedup import RECENT

        known = self._recent_clauses.get(feed_id)
        if known is not None:
            self._recent_clauses[feed_id] = ([*known[0], *items][-RECENT:], None)

    def candidate_rows(self, ids: list[int], since: datetime) -> dict[int, Any]:
        """The rows `candidate` reads, of these items fetched since `since`, by id."""
        if not ids:
            return {}
        member, value = self._db.member("i.id", ids)
        rows = self._db.execute(
            f"""SELECT i.id, i.story_id, i.simhash, i.text_length, i.figures, i.text, i.title,
                       i.feed_id, x.sentences
                FROM items i LEFT JOIN item_index x ON x.item_id = i.id
                WHERE {member} AND i.fetched_at >= ?""",
            (value, iso(since)),
        ).fetchall()
        return {row[0]: row for row in rows}

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

    def _undo_mark(self) -> int:
        return len(self._written)

    def _undone(self, mark: int) -> None:
        """Take the items written after the first `mark` out of the index: their
        writes were undone. Nothing else can be above them: they were written
        under the dedup lock."""
        if len(self._written) > mark:
            self._recent_clauses.clear()  # they may hold undone items' clauses
            first = self._written[mark]
            del self._written[mark:]
            if self._index is not None and self._index_through >= first:
                self._index.drop_from(first)
                self._index_through = first - 1

    def _ended(self) -> None:
        self._written.clear()  # committed, or undone and forgotten

    def candidate(self, row: Any, confirm: bool) -> Candidate:
        """A `candidate_rows` row as a dedup candidate; with `confirm`, with its shingles."""
        from ..dedup import Candidate, shingles_of, without_boilerplate

        shingles = None
        if confirm:
            text = row[5] or row[6]
            boilerplate = self.boilerplate(row[7]) if row[8] is not None else frozenset()
            # A teaser's text is replaced by its page's; a feed's boilerplate relearned.
            key = (row[0], hash(text), hash(boilerplate))
            shingles = self._shingles.pop(key, None)
            if shingles is None:
                if boilerplate:
                    text = without_boilerplate(text, bytes(row[8]), boilerplate)
                shingles = shingles_of(text)
            self._shingles[key] = shingles  # the most recent last
            if len(self._shingles) > SHINGLES_KEPT:
                del self._shingles[next(iter(self._shingles))]
        return Candidate(
            item_id=row[0],
            story_id=row[1],
            simhash=unsigned(row[2]),
            normalized_length=row[3],
            figures=figures_of(row[4]),
            shingles=shingles,
            title=row[6] or "",
        )
