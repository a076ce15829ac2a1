"""A story as its members and the reasons they joined it; taking an item out of one.

Dedup decides stories as items arrive; `monitor story` shows a decision
(each member with the rule and score that joined it) and `monitor split`
undoes one: the item gets a story of its own, and keeps the time it was
split, so that nothing takes it back silently. `monitor redecide` decides a
window's stories again (`service.redecide`), moving items with `move_items`.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from .encoding import iso
from .items import CANONICAL_ORDER, ItemStore


@dataclass(frozen=True)
class Member:
    item_id: int
    feed: str
    url: str
    title: str
    source: str
    published: str
    fetched_at: str
    reason: str | None
    """The rule and score that joined it ("simhash distance 2", "containment 0.83",
    "same text"); None for the item that began the story."""
    split_at: str | None
    canonical: bool
    related_to: int | None = None
    """The story it repeats under news of its own, shown with it in digests."""
    related_reason: str | None = None


@dataclass(frozen=True)
class WindowItem:
    """A stored item as it is decided again (`monitor redecide`, a run's settling)."""

    item_id: int
    feed_id: int
    text: str
    """Its text, or its title when it has none (what its features are made of)."""
    story_id: int
    reason: str | None
    split_at: str | None
    related_to: int | None
    related_reason: str | None
    title: str = ""


class StoryStore(ItemStore):
    def stories_with_items(self, story_ids: Sequence[int], where: str = "TRUE") -> set[int]:
        """Those of these stories that some item is in (of those `where` says)."""
        if not story_ids:
            return set()
        member, value = self._db.member("story_id", story_ids)
        query = f"SELECT DISTINCT story_id FROM items WHERE {where} AND {member}"
        return {int(row[0]) for row in self._db.execute(query, (value,))}

    def split_stories(self, story_ids: Sequence[int]) -> set[int]:
        """Those of these stories that hold an item split out by hand (`split_item`)."""
        return self.stories_with_items(story_ids, "split_at IS NOT NULL")

    def renumber_story(self, story_id: int, to: int) -> None:
        """Put the items of one story, and those related to it, in another."""
        self._db.execute("UPDATE items SET story_id = ? WHERE story_id = ?", (to, story_id))
        self._db.execute("UPDATE items SET related_to = ? WHERE related_to = ?", (to, story_id))

    def drop_empty_stories(self, story_ids: Sequence[int], since: datetime) -> None:
        """Delete those of these stories created since `since` that no item is in any
        more, nor related to: made and left within one run, no digest had them."""
        used = self.stories_with_items(story_ids)
        related, also = self._db.member("related_to", story_ids)
        used.update(row[0] for row in self._db.execute(
            f"SELECT DISTINCT related_to FROM items WHERE {related}", (also,)
        ))  # fmt: skip
        empty = [story for story in story_ids if story not in used]
        if empty:
            member, value = self._db.member("id", empty)
            self._db.execute(
                f"DELETE FROM stories WHERE {member} AND created_at >= ?", (value, iso(since))
            )

    def stories_of(self, item_ids: Sequence[int]) -> dict[int, tuple[int, int | None]]:
        """The story of each of these items still stored, and the story it is related
        to, by id: a run's items, read at once (`service.settle`). Not "the items
        after the last id before the run": SQLite gives an item stored in place of
        the last one (an edit) that one's id again."""
        member, value = self._db.member("id", item_ids)
        rows = self._db.execute(
            f"SELECT id, story_id, related_to FROM items WHERE {member}", (value,)
        ).fetchall()
        return {int(row[0]): (int(row[1]), row[2]) for row in rows}

    def window_order(self, since: datetime) -> list[tuple[int, int, int]]:
        """The items fetched since `since` in publication order (then GUID): id,
        story and feed of each, what `monitor redecide` needs before their texts."""
        rows = self._db.execute(
            """SELECT id, story_id, feed_id FROM items WHERE fetched_at >= ?
               ORDER BY published, guid, id""",
            (iso(since),),
        ).fetchall()
        return [(int(r[0]), int(r[1]), int(r[2])) for r in rows]

    def items_by_id(self, ids: Sequence[int]) -> list[WindowItem]:
        """These items, in the order they were stored."""
        member, value = self._db.member("id", ids)
        rows = self._db.execute(
            f"""SELECT id, feed_id, text, title, story_id, match_reason, split_at,
                       related_to, related_reason
                FROM items WHERE {member} ORDER BY id""",
            (value,),
        ).fetchall()
        return [
            WindowItem(
                int(r[0]),
                int(r[1]),
                r[2] or r[3] or "",
                int(r[4]),
                r[5],
                r[6],
                r[7],
                r[8],
                r[3] or "",
            )  # fmt: skip
            for r in rows
        ]

    def story_founders(
        self, story_ids: list[int], excluding: AbstractSet[int] = frozenset()
    ) -> dict[int, int]:
        """The item that began each of these stories, of those not `excluding`: the
        first stored that joined no other (a run settles its stories in publication
        order, `service.settle`, so it may have been stored after a copy of it),
        else the first stored."""
        if not story_ids:
            return {}
        member, value = self._db.member("story_id", story_ids)
        query = f"SELECT story_id, id, match_reason IS NULL FROM items WHERE {member}"
        if not excluding:
            query = f"""SELECT story_id, MIN(id), match_reason IS NULL FROM items
                        WHERE {member} GROUP BY story_id, match_reason IS NULL"""
        founders: dict[int, tuple[bool, int]] = {}
        for story, item, began in self._db.execute(query, (value,)):
            if int(item) in excluding:
                continue
            rank = (not began, int(item))
            if int(story) not in founders or rank < founders[int(story)]:
                founders[int(story)] = rank
        return {story: rank[1] for story, rank in founders.items()}

    def move_items(self, moves: list[tuple[int, int, str | None, int | None, str | None]]) -> None:
        """Put items (id, story, reason, related story, why) in other stories, or
        relate them to others; their stories' canonical items are then chosen again
        (`update_canonical`)."""
        if moves:
            # Their feeds' boilerplate was learnt with their stories as they were.
            member, value = self._db.member("id", [move[0] for move in moves])
            feeds = self._db.execute(f"SELECT DISTINCT feed_id FROM items WHERE {member}", (value,))
            for (feed_id,) in feeds.fetchall():
                self._recent_clauses.pop(int(feed_id), None)
            self._db.executemany(
                """UPDATE items SET story_id = ?, match_reason = ?, related_to = ?,
                       related_reason = ? WHERE id = ?""",
                [(*move[1:], move[0]) for move in moves],
            )

    def update_canonical(self, story_ids: list[int]) -> None:
        """Choose each story's canonical item again; a story left with no item has
        none, and no digest shows it."""
        for start in range(0, len(story_ids), 500):
            self._update_canonical(story_ids[start : start + 500])

    def items_with_url(self, url: str) -> list[tuple[int, int, str, str]]:
        """The items stored at `url`, in the order they were stored: id, story, GUID and
        headline (a feed may link several items to one page)."""
        rows = self._db.execute(
            "SELECT id, story_id, guid, title FROM items WHERE url = ? ORDER BY id", (url,)
        ).fetchall()
        return [(int(r[0]), int(r[1]), r[2], r[3]) for r in rows]

    def story_members(self, story_id: int) -> list[Member]:
        """The story's items: the one that began it, then the others in the order
        they were stored."""
        rows = self._db.execute(
            """SELECT i.id, f.name, i.url, i.title, i.source, i.published, i.fetched_at,
                      i.match_reason, i.split_at, s.canonical_item_id = i.id,
                      i.related_to, i.related_reason
               FROM items i JOIN feeds f ON f.id = i.feed_id
               JOIN stories s ON s.id = i.story_id
               WHERE i.story_id = ? ORDER BY i.match_reason IS NOT NULL, i.id""",
            (story_id,),
        ).fetchall()
        return [
            Member(
                int(r[0]),
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                bool(r[9]),
                r[10],
                r[11],
            )  # fmt: skip
            for r in rows
        ]

    def split_item(self, item_id: int, now: datetime) -> tuple[int, bool] | None:
        """Take the item out of its story into a new one of its own: its id, and
        whether a digest had it as that story's headline; None when the item is
        alone in its story already. Such a digest has had the new story too: its
        deliveries are the new story's as well, shown (the story updated since by
        another member is nothing new of this one). The headline a digest showed
        is the story's canonical item (`_update_canonical`) among the members
        stored before the digest was made."""
        (story_id,) = self._db.execute(
            "SELECT story_id FROM items WHERE id = ?", (item_id,)
        ).fetchone()
        (others,) = self._db.execute(
            "SELECT COUNT(*) FROM items WHERE story_id = ? AND id != ?", (story_id, item_id)
        ).fetchone()
        if not others:
            return None
        new = self.new_story(now)
        headed = self._db.execute(
            f"""INSERT INTO deliveries (digest, recipient, story_id, digest_id, shown)
                SELECT d.digest, d.recipient, ?, d.digest_id,
                       CASE WHEN d.shown = 2 THEN 1 ELSE d.shown END
                FROM deliveries d JOIN digests g ON g.id = d.digest_id
                WHERE d.story_id = ? AND ? = (
                    SELECT i.id FROM items i
                    WHERE i.story_id = d.story_id AND i.fetched_at <= g.created_at
                    ORDER BY {CANONICAL_ORDER} LIMIT 1)""",
            (new, story_id, item_id),
        ).rowcount
        self._recent_clauses.clear()  # learnt with its story as it was
        self._db.execute(
            "UPDATE items SET story_id = ?, match_reason = NULL, split_at = ? WHERE id = ?",
            (new, iso(now), item_id),
        )
        self._update_canonical(sorted((int(story_id), new)))
        return new, headed > 0
