"""Decide a window's stories again, after the dedup rules changed.

Stories are decided once, as items arrive, and stay decided: a digest may
have shown them. When the rules change (an upgrade), `monitor redecide
--since DAYS` takes the items fetched in the last DAYS days and decides each
one's story again, in publication order, each compared with the items
published before it and those stored before the window: as `monitor run`
settles a run's items (`settle`), the window taken as one run.

What digests recorded stays true: an item that moves leaves its deliveries
with the story that was shown. A story keeps its id as long as the item that
began it begins it still, so a story already sent is not sent again; an item
that now begins a story of its own (it had been merged into another, shown
only as "also carried by") gets a new story, pending for the digests, as
`monitor split` gives it. An item split by hand stays on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..store import Storage, WindowItem

if TYPE_CHECKING:
    from ..dedup import Candidate, Decision, Features

CHUNK = 500
"""Items decided again at a time: their texts and features are held in memory together."""


@dataclass(frozen=True)
class Redecided:
    items: int
    """Items decided again."""
    moved: int
    """Of them, those now in another story."""
    new_stories: int
    """Stories begun by an item that had been merged into another."""


class StoredView:
    """The stored items as `assign_stories` sees them while items already stored are
    decided again: as if those `excluding` were about to be stored now."""

    def __init__(self, storage: Storage, excluding: AbstractSet[int]) -> None:
        self._storage, self._excluding = storage, excluding

    def stories_with_texts(self, text_hashes: Sequence[str]) -> dict[str, int]:
        return self._storage.stories_with_texts(text_hashes, excluding=self._excluding)

    def index_hits(
        self, batch: Sequence[Features], max_distance: int, since: datetime | None = None
    ) -> list[tuple[dict[int, int], dict[int, int]]]:
        left = self._excluding
        return [
            ({k: v for k, v in near.items() if k not in left},
             {k: v for k, v in overlap.items() if k not in left})
            for near, overlap in self._storage.index_hits(batch, max_distance, since)
        ]  # fmt: skip

    def candidate_rows(self, ids: list[int], since: datetime) -> dict[int, Any]:
        return self._storage.candidate_rows([i for i in ids if i not in self._excluding], since)

    def candidate(self, row: Any, confirm: bool) -> Candidate:
        return self._storage.candidate(row, confirm)

    def story_founders(self, story_ids: list[int]) -> dict[int, int]:
        return self._storage.story_founders(story_ids, self._excluding)

    def boilerplate(self, feed_id: int, batch: Sequence[tuple[int, bytes]] = ()) -> frozenset[int]:
        return self._storage.boilerplate(feed_id, batch)


class Placement:
    """Moves items already stored to the stories their new decisions give them.

    A story keeps its id as long as the item that began it begins it still; an
    item that now begins a story it did not gets a new one, pending for the
    digests; an item split by hand stays on its own, and no item decided again
    joins its story but those in it already (copies stored after the split), so
    that what was split apart stays apart. Decided in publication
    order, a copy published before the item that began its story begins a new
    one, which that item then joins: the story is the same, and when its old
    one is left with no item, it takes back the old id (`finish`), so that a
    digest that had it does not send it again.
    """

    def __init__(self, storage: Storage, stories: Iterable[int], now: datetime) -> None:
        """For items now in `stories`."""
        self._storage, self._now = storage, now
        self._founders = storage.story_founders(sorted(set(stories)))
        self._kept: set[int] = set()
        """Old stories still begun by the item that began them."""
        self._begun: dict[int, list[tuple[int, int]]] = {}
        """Each story begun here: its items, each with the story it was in."""
        self._founded: dict[int, list[int]] = {}
        """Each story begun here: the old stories whose first item it now holds."""
        self._split: set[int] = set()
        """Stories of items split out by hand, which no item decided again joins."""
        self._diverted: dict[int, int] = {}
        """Such a story → the story the first item kept out of it went to."""
        self.touched: set[int] = set()
        self.moved = self.new_stories = 0

    def place(self, batch: Sequence[WindowItem], decisions: Sequence[Decision]) -> None:
        """Put `batch` where `decisions` (`assign_stories`, for that batch) say."""
        started: dict[int, int] = {}  # the batch's new stories: -n → story id
        moves = []
        joined = sorted({d.story for d in decisions if d.story > 0})
        self._split.update(self._storage.split_stories(joined))
        for item, decision in zip(batch, decisions, strict=True):
            story, reason = _placed(item, decision.story, decision.reason, started)
            kept_from = None
            if story in self._split and story != item.story_id:
                # A hand split that story apart: the item joins nothing there, but
                # where the first of its other copies went.
                kept_from = story
                story = self._diverted.get(kept_from)
                reason = reason if story is not None else None
            if item.split_at is not None:
                self._split.add(item.story_id)
            if story is None:
                began = self._founders.get(item.story_id) == item.item_id
                if began and item.story_id not in self._kept:
                    story = item.story_id
                else:
                    story = self._storage.new_story(self._now)
                    self.new_stories += 1
                    self._begun[story] = []
                started[decision.story] = story
                self._kept.add(story)
            if kept_from is not None:
                self._diverted.setdefault(kept_from, story)
            if story in self._begun:
                self._begun[story].append((item.item_id, item.story_id))
                if self._founders.get(item.story_id) == item.item_id:
                    self._founded.setdefault(story, []).append(item.story_id)
            related = decision.related
            if related is not None and related < 0:
                related = started.get(related)
            why = decision.related_reason if related is not None else None
            now_at = (story, reason, related, why)
            if now_at != (item.story_id, item.reason, item.related_to, item.related_reason):
                moves.append((item.item_id, *now_at))
                self.moved += story != item.story_id
                self.touched |= {story, item.story_id}
        self._storage.move_items(moves)

    def finish(self) -> None:
        """Give a story begun here the id of an old story whose first item it holds,
        when no item is left in that one (`Placement`)."""
        old = sorted({story for stories in self._founded.values() for story in stories})
        left = self._storage.stories_with_items(old)
        for story, founded in self._founded.items():
            empty = next((o for o in founded if o not in left and o not in self._kept), None)
            if empty is None:
                continue
            self._storage.renumber_story(story, empty)
            self._kept.add(empty)
            self.new_stories -= 1
            self.moved -= sum(1 for _, was in self._begun[story] if was == empty)
            self.touched.add(empty)


def redecide(config: Config, storage: Storage, days: float, now: datetime) -> Redecided:
    """Decide again the stories of the items fetched in the last `days` days."""
    with storage.dedup_transaction():
        window = storage.window_order(now - timedelta(days=days))
        if not window:
            return Redecided(0, 0, 0)
        placement = Placement(storage, (story for _, story, _ in window), now)
        boilerplates = {feed: storage.boilerplate(feed) for feed in {f for _, _, f in window}}
        since = now - timedelta(days=config.dedup.window_days + days)
        decide_again(config, storage, [i for i, _, _ in window], boilerplates, placement, since)
        placement.finish()
        storage.update_canonical(sorted(placement.touched))
    return Redecided(len(window), placement.moved, placement.new_stories)


def decide_again(
    config: Config,
    storage: Storage,
    ids: Sequence[int],
    boilerplates: Mapping[int, frozenset[int]],
    placement: Placement,
    since: datetime,
) -> int:
    """Decide the stored items `ids` again, in the order given, each as if it were
    stored now after those before it (`decide_batch`); how many more are
    reposts. Their texts are read a `CHUNK` at a time."""
    from ..dedup import Features

    pending = set(ids)
    reposts = 0
    for start in range(0, len(ids), CHUNK):
        batch = read_in_order(storage, ids[start : start + CHUNK])
        features = Features.of_many([i.text for i in batch], titles=[i.title for i in batch])
        reposts += decide_batch(
            config, storage, batch, features, pending, boilerplates, placement, since
        )
    return reposts


def read_in_order(storage: Storage, ids: Sequence[int]) -> list[WindowItem]:
    """The stored items `ids`, in the order given (those still stored)."""
    read = {item.item_id: item for item in storage.items_by_id(ids)}
    return [read[item_id] for item_id in ids if item_id in read]


def decide_batch(
    config: Config,
    storage: Storage,
    batch: Sequence[WindowItem],
    features: Sequence[Features],
    pending: set[int],
    boilerplates: Mapping[int, frozenset[int]],
    placement: Placement,
    since: datetime,
) -> int:
    """Decide the stored items of `batch` (their `features`) again, in order, each
    compared with every other stored item fetched since `since` but those still
    to be decided again (`pending`, from which the batch is then taken), with
    its feed's boilerplate (`boilerplates`) left out, and place them; how many
    more of them are reposts."""
    from ..dedup import assign_stories

    decisions = assign_stories(
        StoredView(storage, frozenset(pending)),
        features,
        since,
        config.dedup.max_distance,
        boilerplates=[boilerplates.get(item.feed_id, frozenset()) for item in batch],
    )
    # Written before the next batch looks its candidates' stories up.
    placement.place(batch, decisions)
    pending.difference_update(item.item_id for item in batch)
    return sum(bool(d.reason) - bool(i.reason) for i, d in zip(batch, decisions, strict=True))


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
