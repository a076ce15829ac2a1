"""Retention: stories older than `[storage] keep_days` leave the database.

Without it a daemon following a few hundred feeds adds gigabytes a year, for
ever. A story goes with its items, their dedup index rows and its delivery
records, once it is both old and settled, and no item of it is still listed
by its feed. Settled is past the dedup window, where no digest sends it any
more (a digest sends only stories created or updated within the window),
whoever has had it; or had by every digest's every recipient (or counted as
left out for them). Waiting for every recipient alone kept some stories for
ever: a digest limited to some topics never has the others, nor a recipient
added later the stories before. A feed still listing an item would bring it
back as new the moment its record went, so such stories stay until the feed
drops the item. The old digests keep their record but lose the stored
message, sent long ago.

Each batch of stories is one short transaction: a daemon working on the same
database waits at most for one batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .base import StorageBase
from .digests import ALL_RECIPIENTS
from .encoding import iso

BATCH = 2000
"""Stories removed per transaction."""


@dataclass
class Pruned:
    stories: int = 0
    items: int = 0
    kept_listed: int = 0
    """Old, settled stories kept because their feed still lists one of their items."""
    kept_unsettled: int = 0
    """Old stories updated within the dedup window that some digest has not had."""
    messages: int = 0
    """Old digests whose stored message was dropped."""


class RetentionStore(StorageBase):
    def prune_before(
        self,
        before: datetime,
        recipients: Sequence[tuple[str, str]],
        window_start: datetime,
        *,
        dry_run: bool = False,
        batch: int = BATCH,
    ) -> Pruned:
        """Remove the stories created before `before` that no digest sends any more
        (neither created nor updated since `window_start`) or that each (digest,
        recipient) of `recipients` has had, with all that belongs to them; with
        `dry_run`, only count them."""
        pruned = Pruned()
        listed = self._listed_guids()
        after = 0
        while True:
            with self._errors("read old stories"):
                rows = self._db.execute(
                    """SELECT id FROM stories WHERE created_at < ? AND id > ?
                       ORDER BY id LIMIT ?""",
                    (iso(before), after, batch),
                ).fetchall()
            if not rows:
                break
            ids = [int(row[0]) for row in rows]
            after = ids[-1]
            settled = self._settled(ids, recipients, window_start)
            pruned.kept_unsettled += len(ids) - len(settled)
            removable = self._not_listed(settled, listed)
            pruned.kept_listed += len(settled) - len(removable)
            if removable and not dry_run:
                pruned.items += self._remove(removable)
            elif removable:
                pruned.items += self._count_items(removable)
            pruned.stories += len(removable)
        if not dry_run:
            with self.transaction():
                cursor = self._db.execute(
                    """UPDATE digests SET message = NULL
                       WHERE created_at < ? AND status != 'pending' AND message IS NOT NULL""",
                    (iso(before),),
                )
                pruned.messages = max(cursor.rowcount, 0)
        return pruned

    def _listed_guids(self) -> dict[int, frozenset[str] | None]:
        """Each feed's GUIDs of its last fetch (None: not recorded, so all are kept)."""
        with self._errors("read feeds"):
            rows = self._db.execute("SELECT id, last_guids FROM feeds").fetchall()
        return {
            int(row[0]): frozenset(json.loads(row[1])) if row[1] is not None else None
            for row in rows
        }

    def _settled(
        self, ids: list[int], recipients: Sequence[tuple[str, str]], window_start: datetime
    ) -> list[int]:
        past, value = self._db.member("id", ids)
        with self._errors("read stories"):
            rows = self._db.execute(
                f"""SELECT id FROM stories WHERE {past} AND created_at < ?
                    AND (updated_at IS NULL OR updated_at < ?)""",
                (value, iso(window_start), iso(window_start)),
            ).fetchall()
        gone = {int(row[0]) for row in rows}
        settled = set(ids) - gone
        member, value = self._db.member("story_id", sorted(settled))
        with self._errors("read deliveries"):
            for digest, recipient in recipients if settled else ():
                had = self._db.execute(
                    f"""SELECT DISTINCT story_id FROM deliveries
                        WHERE digest = ? AND recipient IN (?, ?) AND shown != 2 AND {member}""",
                    (digest, recipient, ALL_RECIPIENTS, value),
                ).fetchall()
                settled &= {int(row[0]) for row in had}
        return sorted(settled | gone)

    def _not_listed(self, ids: list[int], listed: dict[int, frozenset[str] | None]) -> list[int]:
        if not ids:
            return []
        member, value = self._db.member("story_id", ids)
        with self._errors("read items"):
            rows = self._db.execute(
                f"SELECT story_id, feed_id, guid FROM items WHERE {member}", (value,)
            ).fetchall()
        kept: set[int] = set()
        for story_id, feed_id, guid in rows:
            guids = listed.get(int(feed_id))
            if guids is None or guid in guids:
                kept.add(int(story_id))
        return [story_id for story_id in ids if story_id not in kept]

    def _count_items(self, ids: list[int]) -> int:
        member, value = self._db.member("story_id", ids)
        with self._errors("read items"):
            row = self._db.execute(f"SELECT COUNT(*) FROM items WHERE {member}", (value,))
            return int(row.fetchone()[0])

    def _remove(self, ids: list[int]) -> int:
        """Remove these stories and all that belongs to them, in one transaction."""
        story_member, stories = self._db.member("story_id", ids)
        id_member, same = self._db.member("id", ids)
        with self.transaction():
            self._db.execute(
                f"""DELETE FROM item_index WHERE item_id IN
                    (SELECT id FROM items WHERE {story_member})""",
                (stories,),
            )
            self._db.execute(f"DELETE FROM deliveries WHERE {story_member}", (stories,))
            self._db.execute(
                f"""DELETE FROM pages WHERE item_id IN
                    (SELECT id FROM items WHERE {story_member})""",
                (stories,),
            )
            self._db.execute(
                f"""DELETE FROM edit_pages WHERE EXISTS
                    (SELECT 1 FROM items WHERE items.feed_id = edit_pages.feed_id
                     AND items.guid = edit_pages.guid AND {story_member})""",
                (stories,),
            )
            self._db.execute(
                f"UPDATE stories SET canonical_item_id = NULL WHERE {id_member}", (same,)
            )
            removed = self._db.execute(f"DELETE FROM items WHERE {story_member}", (stories,))
            self._db.execute(f"DELETE FROM stories WHERE {id_member}", (same,))
        # The in-memory dedup index holds only items inside [dedup] window_days,
        # which keep_days may not undercut (config): none of these.
        return max(removed.rowcount, 0)
