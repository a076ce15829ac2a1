"""Decide a window's stories again, after the dedup rules changed.

Stories are decided once, as items arrive, and stay decided: a digest may
have shown them. When the rules change (an upgrade), `monitor redecide
--since DAYS` takes the items fetched in the last DAYS days and decides each
one's story again, in the order they were stored and as they were stored (a
feed's items of one fetch together, each compared with what was stored
before it), exactly as `monitor run` would have with today's rules.

What digests recorded stays true: an item that moves leaves its deliveries
with the story that was shown. A story keeps its id as long as the item that
began it begins it still, so a story already sent is not sent again; an item
that now begins a story of its own (it had been merged into another, shown
only as "also carried by") gets a new story, pending for the digests, as
`monitor split` gives it. An item split by hand stays on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..store import Storage, WindowItem

if TYPE_CHECKING:
    from ..dedup import Candidate, Features


@dataclass(frozen=True)
class Redecided:
    items: int
    """Items decided again."""
    moved: int
    """Of them, those now in another story."""
    new_stories: int
    """Stories begun by an item that had been merged into another."""


class _StoredBefore:
    """The stored items as `assign_stories` sees them while a window is decided
    again: only those before the batch, as if the batch were being stored now."""

    def __init__(self, storage: Storage, first: int) -> None:
        self._storage, self._first = storage, first

    def stories_with_texts(self, text_hashes: Sequence[str]) -> dict[str, int]:
        return self._storage.stories_with_texts(text_hashes, before=self._first)

    def index_hits(
        self, batch: Sequence[Features], max_distance: int, since: datetime | None = None
    ) -> list[tuple[dict[int, int], dict[int, int]]]:
        return self._storage.index_hits(batch, max_distance, since)

    def candidate_rows(self, ids: list[int], since: datetime) -> dict[int, Any]:
        return self._storage.candidate_rows([i for i in ids if i < self._first], since)

    def candidate(self, row: Any, confirm: bool) -> Candidate:
        return self._storage.candidate(row, confirm)

    def story_founders(self, story_ids: list[int]) -> dict[int, int]:
        return self._storage.story_founders(story_ids)

    def boilerplate(self, feed_id: int, batch: Sequence[tuple[int, bytes]] = ()) -> frozenset[int]:
        return self._storage.boilerplate(feed_id, batch)


def redecide(config: Config, storage: Storage, days: float, now: datetime) -> Redecided:
    """Decide again the stories of the items fetched in the last `days` days."""
    from ..dedup import Features, assign_stories

    window = timedelta(days=config.dedup.window_days)
    moved = new_stories = 0
    with storage.dedup_transaction():
        items = storage.window_items(now - timedelta(days=days))
        if not items:
            return Redecided(0, 0, 0)
        try:
            storage.index_from_scratch(items[0].item_id, now - window - timedelta(days=days))
            founders = storage.story_founders(sorted({item.story_id for item in items}))
            kept: set[int] = set()
            """Old stories still begun by the item that began them."""
            touched: set[int] = set()
            for _, group in groupby(items, key=lambda item: (item.feed_id, item.fetched_at)):
                batch = list(group)
                features = Features.of_many(
                    [item.text for item in batch], titles=[item.title for item in batch]
                )
                since = datetime.fromisoformat(batch[0].fetched_at) - window
                decisions = assign_stories(
                    _StoredBefore(storage, batch[0].item_id),
                    features,
                    since,
                    config.dedup.max_distance,
                    batch[0].feed_id,
                )
                started: dict[int, int] = {}  # the batch's new stories: -n → story id
                moves = []
                for item, decision in zip(batch, decisions, strict=True):
                    story, reason = _placed(item, decision.story, decision.reason, started)
                    if story is None:
                        began = founders.get(item.story_id) == item.item_id
                        if began and item.story_id not in kept:
                            story = item.story_id
                        else:
                            story = storage.new_story(now)
                            new_stories += 1
                        started[decision.story] = story
                        kept.add(story)
                    related = decision.related
                    if related is not None and related < 0:
                        related = started.get(related)
                    why = decision.related_reason if related is not None else None
                    now_at = (story, reason, related, why)
                    if now_at != (item.story_id, item.reason, item.related_to, item.related_reason):
                        moves.append((item.item_id, *now_at))
                        moved += story != item.story_id
                        touched |= {story, item.story_id}
                # Written before the next batch looks its candidates' stories up.
                storage.move_items(moves)
                storage.index_again([(i.item_id, f) for i, f in zip(batch, features, strict=True)])
            storage.update_canonical(sorted(touched))
        finally:
            storage.forget_index()
    return Redecided(len(items), moved, new_stories)


def _placed(
    item: WindowItem, story: int, reason: str | None, started: dict[int, int]
) -> tuple[int | None, str | None]:
    """Where a decision puts an item: a stored story, one begun earlier in its batch,
    or None for a story of its own (an item split by hand always has one)."""
    if item.split_at is not None:
        if story < 0:  # the batch's later items that copy it join it
            started[story] = item.story_id
        return item.story_id, None
    if story > 0:
        return story, reason
    if story in started:
        return started[story], reason
    return None, None
