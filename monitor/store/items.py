"""Items and their stories: what is known already, and a feed's new items written at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import uuid4

from ..figures import figures_text
from ..models import Article
from .encoding import iso, json_list, signed
from .index import IndexStore

if TYPE_CHECKING:
    from ..dedup import Features

ITEM_INSERT_COLUMNS = (
    "feed_id", "guid", "url", "title", "published", "fetched_at", "authors", "source",
    "original_source", "text", "images", "topics", "text_hash", "simhash",
    "text_length", "sentence_chars", "figures", "story_id", "match_reason", "related_to",
    "related_reason", "signature", "undated",
)  # fmt: skip


CANONICAL_ORDER = (
    "i.original_source IS NOT NULL, i.published, i.guid, i.text_length, i.text_hash, i.id"
)
"""Which of a story's items (``items i``) heads it: an original over a repost, then the
earliest, in publication order (`service.settle.publication_order`)."""


def guid_aside(guid: str) -> str:
    """The GUID a version of an item keeps when its feed gives another article under
    its own: one no feed gives, and a new one each time (a text may come back under
    the GUID, and be set aside again)."""
    return f"{guid}#earlier-{uuid4().hex[:16]}"


@dataclass(frozen=True)
class StoredVersion:
    """What an edit of a stored item is compared with (`service.pipeline`)."""

    id: int
    text_hash: str
    title: str
    length: int
    """Of the folded text."""
    published: datetime
    url: str
    dated: bool = True
    """False: `published` is when it was fetched (`Article.dated`)."""


@dataclass(frozen=True)
class NewItem:
    """An item to store: `story` is a stored story's id, or -n for a batch's n-th new one."""

    guid: str
    article: Article
    features: Features
    topics: tuple[str, ...]
    story: int
    match_reason: str | None
    related: int | None = None
    """The story it repeats under news of its own (a stored one's id, or -n)."""
    related_reason: str | None = None
    signature: str | None = None
    """What its feed said of it (`parse.newest.signature`); None where not known."""


class ItemStore(IndexStore):
    """Items and stories: what a feed has stored already, and its new items written."""

    def signatures(self, feed_id: int) -> dict[str, str | None]:
        """Every GUID the feed has stored, with what the feed said of its item
        (`NewItem.signature`; its `last_guids` are enough once recorded)."""
        query = "SELECT guid, signature FROM items WHERE feed_id = ?"
        return {row[0]: row[1] for row in self._db.execute(query, (feed_id,))}

    def stored_versions(self, feed_id: int, guids: Sequence[str]) -> dict[str, StoredVersion]:
        """The feed's stored items under these GUIDs, by GUID."""
        if not guids:
            return {}
        member, value = self._db.member("guid", guids)
        rows = self._db.execute(
            f"""SELECT guid, id, text_hash, title, text_length, published, url, undated
                FROM items WHERE feed_id = ? AND {member}""",
            (feed_id, value),
        ).fetchall()
        return {
            row[0]: StoredVersion(
                int(row[1]),
                row[2],
                row[3],
                int(row[4]),
                datetime.fromisoformat(row[5]),
                row[6],
                not row[7],
            )  # fmt: skip
            for row in rows
        }

    def set_aside(self, item_id: int, guid: str) -> None:
        """Keep a stored item under another GUID (`guid_aside`), its own freed for the
        other article its feed now gives under it (`dedup.same_article`)."""
        self._db.execute("UPDATE items SET guid = ? WHERE id = ?", (guid, item_id))

    def record_signature(self, item_id: int, signature: str) -> None:
        """What the feed now says of a stored item that it changed only in markup."""
        self._db.execute("UPDATE items SET signature = ? WHERE id = ?", (signature, item_id))

    def record_first_signatures(self, feed_id: int, signatures: Mapping[str, str]) -> None:
        """What the feed says now of its items stored before signatures were kept
        (GUID → `signature`), where none is recorded: from then on, the GUID back
        after a gap saying something else is an edit of it."""
        self._db.executemany(
            "UPDATE items SET signature = ? WHERE feed_id = ? AND guid = ? AND signature IS NULL",
            [(signature, feed_id, guid) for guid, signature in signatures.items()],
        )

    def feed_has_text(self, feed_id: int, text_hash: str) -> bool:
        """Whether the feed stored an item with this normalised text, under any GUID."""
        row = self._db.execute(
            "SELECT 1 FROM items WHERE text_hash = ? AND feed_id = ? LIMIT 1",
            (text_hash, feed_id),
        ).fetchone()
        return row is not None

    def known_items(
        self, feed_id: int, guids: Sequence[str], urls: Sequence[str]
    ) -> tuple[dict[str, str | None], dict[str, list[tuple[int, str, str]]]]:
        """Which of these GUIDs this feed has stored, each with what the feed said of
        its item (`NewItem.signature`), and under each of these URLs the items any
        feed has stored: their feed's id, headline and text hash."""
        known_guids: dict[str, str | None] = {}
        links: dict[str, list[tuple[int, str, str]]] = {}
        if guids:
            member, value = self._db.member("guid", guids)
            query = f"SELECT guid, signature FROM items WHERE feed_id = ? AND {member}"
            known_guids = dict(self._db.execute(query, (feed_id, value)).fetchall())
        if urls:
            member, value = self._db.member("url", urls)
            query = f"SELECT url, feed_id, title, text_hash FROM items WHERE {member}"
            for url, feed, title, text_hash in self._db.execute(query, (value,)):
                links.setdefault(url, []).append((int(feed), title, text_hash))
        return known_guids, links

    def stories_with_texts(
        self, text_hashes: Sequence[str], excluding: AbstractSet[int] = frozenset()
    ) -> dict[str, int]:
        """Story of the earliest item with each of these normalised texts, by text hash;
        never of those `excluding`."""
        if not text_hashes:
            return {}
        member, value = self._db.member("text_hash", text_hashes)
        rows = self._db.execute(
            f"SELECT text_hash, story_id, id FROM items WHERE {member} ORDER BY id DESC", (value,)
        ).fetchall()
        # The earliest written last, so it wins.
        return {row[0]: row[1] for row in rows if row[2] not in excluding}

    def new_story(self, now: datetime) -> int:
        cursor = self._db.execute(
            "INSERT INTO stories (created_at) VALUES (?) RETURNING id", (iso(now),)
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
        fetched = iso(now)
        created = self._insert_rows("stories", ("created_at",), [(fetched,)] * count)
        story_ids = [item.story if item.story > 0 else created[-item.story - 1] for item in items]
        related = [
            item.related if item.related is None or item.related > 0 else created[-item.related - 1]
            for item in items
        ]
        rows = [
            (
                feed_id,
                item.guid,
                item.article.url,
                item.article.title,
                iso(item.article.published),
                fetched,
                json_list(item.article.authors),
                item.article.source,
                item.article.original_source,
                item.article.text,
                json_list(item.article.images),
                json_list(item.topics),
                item.features.text_hash,
                signed(item.features.simhash),
                item.features.normalized_length,
                item.features.sentence_chars,
                figures_text(item.features.figures),
                story_id,
                item.match_reason,
                related_to,
                item.related_reason,
                item.signature,
                0 if item.article.dated else 1,
            )
            for item, story_id, related_to in zip(items, story_ids, related, strict=True)
        ]
        item_ids = self._insert_rows("items", ITEM_INSERT_COLUMNS, rows)
        written = [
            (item_id, signed(item.features.simhash), item.features.sentence_hashes)
            for item, item_id in zip(items, item_ids, strict=True)
        ]
        self._insert_index(written)
        self._remember_clauses(
            feed_id, [(story, blob) for story, (_, _, blob) in zip(story_ids, written, strict=True)]
        )
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
        joined = [
            (item, sid, iid)
            for item, sid, iid in zip(items, story_ids, item_ids, strict=True)
            if item.story > 0
        ]
        if joined:
            self._mark_updated(joined, item_ids[0], now)
        return item_ids

    def _mark_updated(
        self, joined: list[tuple[NewItem, int, int]], first_new: int, now: datetime
    ) -> None:
        """Mark the stories that got a more complete version of an article they had:
        the same outlet's text a fifth longer at least."""
        member, value = self._db.member("story_id", sorted({sid for _, sid, _ in joined}))
        rows = self._db.execute(
            f"""SELECT story_id, source, MAX(text_length) FROM items
                WHERE {member} AND id < ? GROUP BY story_id, source""",
            (value, first_new),
        ).fetchall()
        longest = {(int(story_id), source): int(length) for story_id, source, length in rows}
        updated = {
            story_id
            for item, story_id, _ in joined
            if item.article.original_source is None
            and (story_id, item.article.source) in longest
            and item.features.normalized_length >= 1.2 * longest[(story_id, item.article.source)]
        }
        self.mark_updated(sorted(updated), now)

    def mark_updated(self, story_ids: Sequence[int], now: datetime) -> None:
        """These stories got news of an article they had (a fuller version, an edit
        under a new headline): a digest that showed them shows them again."""
        if not story_ids:
            return
        member, value = self._db.member("id", story_ids)
        self._db.execute(f"UPDATE stories SET updated_at = ? WHERE {member}", (iso(now), value))
        # Shown before, superseded now: pending again for whoever had it.
        member, value = self._db.member("story_id", story_ids)
        self._db.execute(f"UPDATE deliveries SET shown = 2 WHERE shown = 1 AND {member}", (value,))

    def _update_canonical(self, story_ids: list[int]) -> None:
        """Each story's canonical item: an original over a repost, then the earliest, in
        publication order (`service.settle.publication_order`), which the order the
        feeds came in does not change."""
        member, value = self._db.member("id", story_ids)
        self._db.execute(
            f"""UPDATE stories SET canonical_item_id = (
                    SELECT id FROM items i WHERE story_id = stories.id
                    ORDER BY {CANONICAL_ORDER} LIMIT 1)
                WHERE {member}""",
            (value,),
        )
