"""Article pages that failed: recorded per item, tried again later, then given up.

An item whose page could not be fetched is stored with its teaser, and its
page is noted here with the number of attempts and when to try again. When a
later fetch succeeds, the teaser item is replaced by the full one
(`replace_item`): removed with its index row, and the full text stored in its
place, so the append-only dedup index never holds a changed item.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..models import Article
from .encoding import iso
from .items import ItemStore


@dataclass(frozen=True)
class ItemPlace:
    """Where a stored item stands, for storing a new version of it in its place."""

    story: int
    reason: str | None
    """Why it joined its story (None: it began it)."""
    related_to: int | None
    related_reason: str | None
    split_at: str | None
    """When it was split from another story by hand (`monitor split`)."""
    others: int
    """The other items of its story."""
    recent_others: int
    """Those of them recent enough to be compared with (`[dedup] window_days`)."""
    delivered: bool
    """Whether a digest has had its story."""

    @property
    def free(self) -> bool:
        """Whether its story is its alone, unseen and not chosen by hand: the story
        of a new version may be decided anew, as a new item's."""
        return not self.others and not self.delivered and self.split_at is None


@dataclass(frozen=True)
class PageFailure:
    item_id: int
    url: str
    attempts: int
    error: str
    retry_at: datetime | None
    """When to try again; None: never."""


@dataclass(frozen=True)
class EditPage:
    """The failed page of an edit its feed gave of a stored item: the edit waits for
    it, on the back-off of a stored teaser's page."""

    guid: str
    """The GUID of the stored item the edit is of."""
    signature: str
    """The edit's (`NewItem.signature`): an item may have several edits waiting (a
    feed may give one GUID to several articles)."""
    url: str
    attempts: int
    error: str
    retry_at: datetime


@dataclass(frozen=True)
class DuePage:
    """A stored teaser whose page is due for another try."""

    item_id: int
    guid: str
    url: str
    attempts: int
    article: Article
    topics: tuple[str, ...]
    signature: str | None
    """What its feed said of it (`NewItem.signature`), kept with its full text."""


class PageStore(ItemStore):
    def record_page_failures(self, failures: Sequence[PageFailure]) -> None:
        """Note (or update) each item's failed page."""
        if not failures:
            return
        member, value = self._db.member("item_id", [f.item_id for f in failures])
        self._db.execute(f"DELETE FROM pages WHERE {member}", (value,))
        self._insert_rows(
            "pages",
            ("item_id", "url", "attempts", "error", "retry_at"),
            [
                (f.item_id, f.url, f.attempts, f.error, iso(f.retry_at) if f.retry_at else None)
                for f in failures
            ],
            ids=False,
        )

    def record_edit_page(self, feed_id: int, page: EditPage) -> None:
        """Note (or update) the failed page of an edit the feed gave."""
        self._db.execute(
            "DELETE FROM edit_pages WHERE feed_id = ? AND guid = ? AND signature = ?",
            (feed_id, page.guid, page.signature),
        )
        self._db.execute(
            """INSERT INTO edit_pages (feed_id, guid, signature, url, attempts, error, retry_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (feed_id, page.guid, page.signature, page.url, page.attempts, page.error,
             iso(page.retry_at)),
        )  # fmt: skip

    def edit_pages(self, feed_id: int, guids: Sequence[str]) -> dict[tuple[str, str], EditPage]:
        """The failed pages of edits the feed gave of its items under these GUIDs, by
        GUID and the edit's signature."""
        if not guids:
            return {}
        member, value = self._db.member("guid", guids)
        rows = self._db.execute(
            f"""SELECT guid, signature, url, attempts, error, retry_at FROM edit_pages
                WHERE feed_id = ? AND {member}""",
            (feed_id, value),
        ).fetchall()
        return {
            (row[0], row[1]): EditPage(
                row[0], row[1], row[2], int(row[3]), row[4], datetime.fromisoformat(row[5])
            )
            for row in rows
        }

    def keep_edit_pages(self, feed_id: int, kept: Collection[tuple[str, str]]) -> None:
        """Forget the failed pages of the feed's edits but those of these (GUID, edit
        signature): the others were decided, or the feed gives them no more."""
        rows = self._db.execute(
            "SELECT guid, signature FROM edit_pages WHERE feed_id = ?", (feed_id,)
        ).fetchall()
        self._db.executemany(
            "DELETE FROM edit_pages WHERE feed_id = ? AND guid = ? AND signature = ?",
            [
                (feed_id, guid, signature)
                for guid, signature in rows
                if (guid, signature) not in kept
            ],
        )

    def pages_due(self, feed_id: int, now: datetime) -> list[DuePage]:
        """The feed's failed pages whose time to try again has come."""
        rows = self._db.execute(
            """SELECT items.id, guid, pages.url, attempts, title, items.url, published,
                      authors, text, images, source, original_source, topics, items.signature,
                      undated
               FROM pages JOIN items ON items.id = pages.item_id
               WHERE items.feed_id = ? AND pages.retry_at IS NOT NULL AND pages.retry_at <= ?
               ORDER BY items.id""",
            (feed_id, iso(now)),
        ).fetchall()
        return [
            DuePage(
                item_id=int(row[0]),
                guid=row[1],
                url=row[2],
                attempts=int(row[3]),
                article=Article(
                    title=row[4],
                    url=row[5],
                    published=datetime.fromisoformat(row[6]),
                    authors=tuple(json.loads(row[7])),
                    text=row[8],
                    html=None,
                    images=tuple(json.loads(row[9])),
                    source=row[10],
                    original_source=row[11],
                    dated=not row[14],
                ),
                topics=tuple(json.loads(row[12])),
                signature=row[13],
            )
            for row in rows
        ]

    def page_failures(self, feed_id: int | None = None) -> list[PageFailure]:
        """The failed pages on record (of one feed), for `status`."""
        where, params = ("WHERE items.feed_id = ?", (feed_id,)) if feed_id is not None else ("", ())
        rows = self._db.execute(
            f"""SELECT item_id, pages.url, attempts, error, retry_at
                FROM pages JOIN items ON items.id = pages.item_id {where} ORDER BY item_id""",
            params,
        ).fetchall()
        return [
            PageFailure(
                int(r[0]), r[1], int(r[2]), r[3], datetime.fromisoformat(r[4]) if r[4] else None
            )
            for r in rows
        ]

    def page_failure_counts(self) -> dict[str, tuple[int, int]]:
        """By feed name: its failed pages still to be tried again (edits' too), and
        those given up."""
        rows = self._db.execute(
            """SELECT feeds.name, SUM(CASE WHEN retry_at IS NULL THEN 0 ELSE 1 END),
                      SUM(CASE WHEN retry_at IS NULL THEN 1 ELSE 0 END)
               FROM (SELECT items.feed_id, retry_at FROM pages
                     JOIN items ON items.id = pages.item_id
                     UNION ALL SELECT feed_id, retry_at FROM edit_pages) AS failed
               JOIN feeds ON feeds.id = failed.feed_id GROUP BY feeds.name"""
        ).fetchall()
        return {name: (int(retrying), int(given_up)) for name, retrying, given_up in rows}

    def item_place(self, item_id: int, since: datetime) -> ItemPlace | None:
        """Where a stored item stands (`ItemPlace`); None if it is no longer stored."""
        row = self._db.execute(
            """SELECT story_id, match_reason, related_to, related_reason, split_at
               FROM items WHERE id = ?""",
            (item_id,),
        ).fetchone()
        if row is None:
            return None
        story_id = int(row[0])
        others, recent = self._db.execute(
            """SELECT COUNT(*), COALESCE(SUM(CASE WHEN fetched_at >= ? THEN 1 ELSE 0 END), 0)
               FROM items WHERE story_id = ? AND id != ?""",
            (iso(since), story_id, item_id),
        ).fetchone()
        delivered = self._db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE story_id = ?", (story_id,)
        ).fetchone()[0]
        return ItemPlace(
            story_id, row[1], row[2], row[3], row[4], int(others), int(recent), bool(delivered)
        )

    def keep_place(
        self, item_id: int, split_at: str | None, related: tuple[int, str | None] | None
    ) -> None:
        """Give a stored item what its earlier version had of its place: the hand's
        split, and its relation to another story."""
        self._db.execute("UPDATE items SET split_at = ? WHERE id = ?", (split_at, item_id))
        if related is not None:
            self._db.execute(
                "UPDATE items SET related_to = ?, related_reason = ? WHERE id = ?",
                (*related, item_id),
            )

    def relate_to_item_story(self, story_id: int, item_id: int) -> None:
        """Items related to `story_id` (removed) related to `item_id`'s story instead."""
        self._db.execute(
            """UPDATE items SET related_to = (SELECT story_id FROM items WHERE id = ?)
               WHERE related_to = ? AND id != ?""",
            (item_id, story_id, item_id),
        )

    def remove_item(self, item_id: int, *, with_story: bool) -> None:
        """Remove a stored item (a teaser being replaced), its page and index rows;
        `with_story`, its story too (it held nothing else)."""
        story_id = self._db.execute(
            "SELECT story_id FROM items WHERE id = ?", (item_id,)
        ).fetchone()[0]
        self._db.execute("DELETE FROM pages WHERE item_id = ?", (item_id,))
        self._db.execute("DELETE FROM item_index WHERE item_id = ?", (item_id,))
        self._db.execute(
            "UPDATE stories SET canonical_item_id = NULL WHERE canonical_item_id = ?", (item_id,)
        )
        self._db.execute("DELETE FROM items WHERE id = ?", (item_id,))
        # The in-memory index may still list the item: look-ups skip ids not stored.
        if with_story:
            self._db.execute("DELETE FROM stories WHERE id = ?", (story_id,))
        else:
            self._update_canonical([int(story_id)])
