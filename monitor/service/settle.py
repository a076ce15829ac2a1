"""A run's stories settled in publication order, whatever order its feeds came in.

`monitor run` stores each feed as it comes and decides its new items against
what was stored before them (`pipeline.store_feed`). Which of two feeds was
stored first then decides a triangle: a wire report, a second outlet's copy
of it and a third outlet's update that repeats its lead make one story or
two, and which, depending on the feeds' order. So a run notes, as it stores,
which of its items met other feeds' items of the same run (`RunLog`); at its
end those of them that did not see what publication order shows them, and
the run's items whose stories hang on theirs, are decided again as one batch,
oldest first, against everything else stored (`settle_run`). The same items
fetched in any order give the same stories. Items of earlier runs are never
moved: what was decided stays decided.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..store import Storage, WindowItem
from .redecision import Placement, decide_batch, read_in_order

if TYPE_CHECKING:
    from ..dedup import Candidate, Features
    from .preparation import PreparedItem


@dataclass(frozen=True, slots=True)
class _Entry:
    """What the settling needs of an item stored in the run."""

    feed_id: int
    order: tuple[datetime, str, int, str]
    """Its place in publication order (`publication_order`), its text hash last."""
    length: int
    """The least of its text's normalised length and its sentences' characters."""


@dataclass
class RunLog:
    """The items a run stores, and which of them met another feed's (`settle_run`)."""

    started: datetime
    """When the run began: an item dated later carries the time it was fetched."""
    entries: dict[int, _Entry] = field(default_factory=dict)
    met: dict[int, set[int]] = field(default_factory=dict)
    """For each item compared with another feed's items of the run, those items (and
    the other way round)."""
    boilerplates: dict[int, frozenset[int]] = field(default_factory=dict)
    """Each feed's boilerplate as its items were decided (`dedup.boilerplate`)."""
    vacated: list[tuple[int, int]] = field(default_factory=list)
    """(story, item): an item of an earlier run in `story` replaced in the run by
    its feed's edit, `item`, decided anew (`vacate`)."""

    def vacate(self, story: int, item: int) -> None:
        """Note that an edit, stored as `item`, left `story`, where its earlier version
        was: the run's items stored before it that joined or are related to that
        story went by a version that is gone, and are decided again (`_plan`)."""
        self.vacated.append((story, item))

    def went_by_edited(self, places: Mapping[int, tuple[int, int | None]]) -> set[int]:
        """The run's items that joined or are related to a story an edit left
        before the edit was stored, with those edits (`vacate`)."""
        chosen: set[int] = set()
        if not self.vacated:
            return chosen
        in_story: dict[int, set[int]] = {}  # read once, not once a vacated story
        for item, (joined, related) in places.items():
            if item in self.entries:
                for story in (joined,) if related is None else (joined, related):
                    in_story.setdefault(story, set()).add(item)
        for story, edit in self.vacated:
            hung = {item for item in in_story.get(story, ()) if item < edit}
            if hung and edit in places:
                chosen |= hung | {edit}
        return chosen

    def watch(self, storage: Storage) -> Watched:
        """`storage` as `assign_stories` looks items up in it, noting what it finds."""
        return Watched(storage, self)

    def record(
        self, feed_id: int, ids: Sequence[int], items: Sequence[PreparedItem], watched: Watched
    ) -> None:
        """Note a feed's new items (stored as `ids`) and the run's items they met:
        those the rules joined them to or related them with, or might have in the
        other order (`Watched.findings`).

        A pair the rules found apart stays apart in either order (`rules.decide`),
        so neither item's story can hang on the other's: most items that share a
        fingerprint block or a few clauses are such pairs."""
        from ..dedup import MIN_SHARED_SENTENCE_SHARE

        for item_id, item, verdicts in zip(ids, items, watched.findings, strict=True):
            features = item.features
            length = min(features.normalized_length, features.sentence_chars)
            # Undated items are dated when fetched: the same time for all of them.
            published = min(item.article.published, self.started)
            order = publication_order(item, published)
            self.entries[item_id] = _Entry(feed_id, order, length)
            near, overlap = watched.hits.get(id(features), ({}, {}))
            met = set()
            for other in near.keys() | overlap.keys():
                entry = self.entries.get(other)
                if entry is None:  # stored before the run
                    continue
                verdict = verdicts.get(other)
                # Compared by fingerprint alone, or not at all, their texts may be
                # compared in the other order: when either would be confirmed as the
                # other's copy, by sharing a tenth of the smaller of the two.
                if verdict or (
                    verdict is None
                    and overlap.get(other, 0)
                    >= MIN_SHARED_SENTENCE_SHARE * min(length, entry.length)
                ):
                    met.add(other)
            for other in met:
                self.met.setdefault(item_id, set()).add(other)
                self.met.setdefault(other, set()).add(item_id)

    def unsettled(
        self, met: Mapping[int, set[int]], places: Mapping[int, tuple[int, int | None]]
    ) -> set[int]:
        """Of the items that `met` others (`meetings`), those whose stories may not be
        those publication order gives, from the stories they are in and related to
        (`places`, by id): those stored before
        an item of another feed they met that was published before them (they did
        not see it), or after one published after them that they joined or are
        related to (they should not have seen it); and those that met an earlier
        published one of these (its story may change)."""
        unsettled: set[int] = set()
        order = {item: (self.entries[item].order, item) for item in met if item in places}
        for item in sorted(order, key=order.__getitem__):
            others = met[item] & order.keys()  # not replaced meanwhile
            before = {other for other in others if order[other] < order[item]}
            unseen = any(other > item for other in before)
            story, related = places[item]
            used = any(
                places[other][0] in (story, related) for other in others - before if other < item
            )
            if unseen or used or not before.isdisjoint(unsettled):
                unsettled.add(item)
        return unsettled

    def meetings(self) -> dict[int, set[int]]:
        """`met`, and the items another feed's item of the run has word for word:
        verbatim copies are not looked up, they meet here."""
        met = {item: set(others) for item, others in self.met.items()}
        by_text: dict[str, list[int]] = {}
        for item, entry in self.entries.items():
            by_text.setdefault(entry.order[-1], []).append(item)
        for same in by_text.values():
            if len({self.entries[item].feed_id for item in same}) > 1:
                for item in same:
                    met.setdefault(item, set()).update(other for other in same if other != item)
        return met


def publication_order(
    item: PreparedItem, published: datetime | None = None
) -> tuple[datetime, str, int, str]:
    """The order items are decided in: oldest first, then by GUID; versions of one
    GUID given one time, shorter texts first (a flash before its expansion), so
    that the feed's order of them decides nothing."""
    features = item.features
    return (published or item.article.published, item.guid, features.normalized_length,
            features.text_hash)  # fmt: skip


class Watched:
    """Stored items looked up through `storage`, the finds noted for `RunLog.record`."""

    def __init__(self, storage: Storage, log: RunLog) -> None:
        self._storage, self._log = storage, log
        self.hits: dict[int, tuple[dict[int, int], dict[int, int]]] = {}
        """Per `Features` object (by `id`): the stored items it met."""
        self.findings: list[dict[int, bool | None]] = []
        """Per item decided, what the rules found of those it was compared with
        (`assign_stories`' findings)."""

    def stories_with_texts(self, text_hashes: Sequence[str]) -> dict[str, int]:
        return self._storage.stories_with_texts(text_hashes)

    def index_hits(
        self, batch: Sequence[Features], max_distance: int, since: datetime | None = None
    ) -> list[tuple[dict[int, int], dict[int, int]]]:
        hits = self._storage.index_hits(batch, max_distance, since)
        self.hits.update((id(item), found) for item, found in zip(batch, hits, strict=True))
        return hits

    def candidate_rows(self, ids: list[int], since: datetime) -> dict[int, Any]:
        return self._storage.candidate_rows(ids, since)

    def candidate(self, row: Any, confirm: bool) -> Candidate:
        return self._storage.candidate(row, confirm)

    def story_founders(self, story_ids: list[int]) -> dict[int, int]:
        return self._storage.story_founders(story_ids)

    def boilerplate(self, feed_id: int, batch: Sequence[tuple[int, bytes]] = ()) -> frozenset[int]:
        learned = self._storage.boilerplate(feed_id, batch)
        self._log.boilerplates[feed_id] = learned
        return learned


@dataclass(frozen=True)
class Settled:
    items: int
    """Items decided again."""
    moved: int
    """Of them, those now in another story."""
    reposts: int = 0
    """How many more of them are reposts than before (fewer when negative)."""


SETTLE_CHUNK = 256
"""Items decided again at a time when a run settles. Half of `redecision.CHUNK`:
on 200 real feeds (507 items decided again) the workers then compute the
second chunk's features while the first is decided, 0.56 s against 0.66-0.86
with chunks of 500. Where the chunks end can change a tie between candidates
(an item of a chunk before is compared as a stored one, of its own chunk as
one of the batch): at 1,000 feeds, one of 2,684 items went elsewhere."""

Prepare = Callable[[list[str], list[str]], Awaitable[list["Features"]]]
"""Computes the features of texts, with their titles (`settle_run`)."""


async def settle_run(
    config: Config,
    storage: Storage,
    log: RunLog,
    now: datetime,
    db: Callable[..., Awaitable[Any]],
    prepare: Prepare,
) -> Settled:
    """Decide again, oldest first, the run's items whose stories publication order
    may change (`RunLog.unsettled`), with those whose stories hang on theirs.

    In one transaction, each step a call on the run's database thread (`db`).
    The items are decided `SETTLE_CHUNK` at a time; the features of each chunk
    come from `prepare` while the chunk before is decided: the worker
    processes sit idle otherwise, as the database thread works through the
    items alone."""
    met = log.meetings()
    if not met and not log.vacated:
        return Settled(0, 0)
    transaction = ExitStack()
    await db(transaction.enter_context, storage.dedup_transaction())
    try:
        settled = await _settle(config, storage, log, now, met, db, prepare)
    except BaseException as e:
        # Undone on the database thread, which runs the calls asked of it in order
        # (and to their end, even those whose caller was cancelled).
        await db(transaction.__exit__, type(e), e, e.__traceback__)
        raise
    await db(transaction.__exit__, None, None, None)
    return settled


async def _settle(
    config: Config,
    storage: Storage,
    log: RunLog,
    now: datetime,
    met: dict[int, set[int]],
    db: Callable[..., Awaitable[Any]],
    prepare: Prepare,
) -> Settled:
    planned: tuple[list[int], Placement] | None = await db(_plan, storage, log, met, now)
    if planned is None:
        return Settled(0, 0)
    order, placement = planned
    since = now - timedelta(days=config.dedup.window_days)
    pending = set(order)
    size = SETTLE_CHUNK
    chunks = [order[start : start + size] for start in range(0, len(order), size)]

    async def features(batch: list[WindowItem]) -> list[Features]:
        return await prepare([i.text for i in batch], [i.title for i in batch])

    reposts = 0
    batch: list[WindowItem] = await db(read_in_order, storage, chunks[0])
    ahead = asyncio.ensure_future(features(batch))
    try:
        for number in range(len(chunks)):
            found = await ahead
            deciding = batch
            if number + 1 < len(chunks):
                # Read before this chunk is decided, so that its features are made
                # meanwhile.
                batch = await db(read_in_order, storage, chunks[number + 1])
                ahead = asyncio.ensure_future(features(batch))
            reposts += await db(
                decide_batch, config, storage, deciding, found, pending, log.boilerplates,
                placement, since,
            )  # fmt: skip
    finally:
        ahead.cancel()
    await db(placement.finish)
    touched = sorted(placement.touched)
    await db(storage.update_canonical, touched)
    await db(storage.drop_empty_stories, touched, log.started)
    return Settled(len(order), placement.moved, reposts)


def _plan(
    storage: Storage, log: RunLog, met: dict[int, set[int]], now: datetime
) -> tuple[list[int], Placement] | None:
    """The items to decide again, in publication order, and where they are now."""
    places = storage.stories_of(sorted(log.entries))
    chosen = log.unsettled(met, places) | log.went_by_edited(places)
    if not chosen:
        return None
    # An item of the run that joined, or is related to, one of their stories
    # follows where that story goes.
    added, stories = chosen, set[int]()
    while added:
        for item in added:
            story, related = places[item]
            stories.update((story,) if related is None else (story, related))
        added = {
            item
            for item, (story, related) in places.items()
            if (story in stories or related in stories) and item in log.entries
        } - chosen
        chosen |= added
    order = sorted(chosen, key=lambda item: (log.entries[item].order, item))
    placement = Placement(storage, [places[item][0] for item in order], now)
    return order, placement
