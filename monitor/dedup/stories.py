"""Which story each new item of a feed joins: the rules of `rules`, a feed at a time.

The stored items a feed's new items might copy are looked up for the whole
feed at once (a handful of statements, not a dozen per item: on PostgreSQL
each one is a round trip). The decisions are then taken in the feed's order,
each new item compared with the stored ones and with the feed's earlier new
items, exactly as if they had been stored one by one: a repost of an item
earlier in the same feed still joins its story.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from .boilerplate import compared
from .features import Features
from .index import block_keys, sentence_table, shared_with_earlier
from .rules import MIN_TEXT_CHARS, Candidate, Match, best_match, confirmable, decide, hamming

# Verbatim copies shorter than this are not merged by text hash alone: short
# texts such as "图片新闻" repeat across unrelated items.
MIN_EXACT_CHARS = 30


class StoredItems(Protocol):
    """The look-ups `assign_stories` makes in the stored items (`store.Storage` has them)."""

    def stories_with_texts(self, text_hashes: Sequence[str]) -> dict[str, int]: ...

    def index_hits(
        self, batch: Sequence[Features], max_distance: int, since: datetime | None = None
    ) -> list[tuple[dict[int, int], dict[int, int]]]: ...

    def candidate_rows(self, ids: list[int], since: datetime) -> dict[int, Any]: ...

    def candidate(self, row: Any, confirm: bool) -> Candidate: ...

    def story_founders(self, story_ids: list[int]) -> dict[int, int]: ...

    def boilerplate(
        self, feed_id: int, batch: Sequence[tuple[int, bytes]] = ()
    ) -> frozenset[int]: ...


@dataclass(frozen=True)
class Decision:
    story: int
    """A stored story's id, or -n for the n-th new story of the batch."""
    reason: str | None
    """Why the item joins `story` ("same text", "simhash distance 2", …); None for a new one."""
    related: int | None = None
    """For a new story, the story (as `story` says one) whose text it repeats under
    news of its own: a follow-up, an update, a round-up (`rules.decide`)."""
    related_reason: str | None = None


def assign_stories(
    storage: StoredItems,
    batch: Sequence[Features],
    since: datetime,
    max_distance: int,
    feed_id: int | None = None,
    boilerplates: Sequence[frozenset[int]] | None = None,
    findings: list[dict[int, bool | None]] | None = None,
) -> list[Decision]:
    """The story of each of `batch`, in order; stored items count if fetched since `since`.

    With `feed_id`, the batch's feed: its boilerplate (`boilerplate`), learned from
    its stored items and this batch, is left out of the texts compared. A batch of
    several feeds' items gives each item's feed's boilerplate in `boilerplates`.
    With `findings`, one entry is added to it for each item of the batch: the items
    it was compared with, and what the rules found (`rules.decide`'s verdicts).
    """
    exact = storage.stories_with_texts(sorted({f.text_hash for f in batch}))
    # Verbatim copies (of a stored item or of one earlier in the batch) are decided
    # by their text hash alone: their sentences need not be looked up.
    seen: set[str] = set()
    similar = []
    for i, f in enumerate(batch):
        copy = f.normalized_length >= MIN_EXACT_CHARS and (
            f.text_hash in exact or f.text_hash in seen
        )
        seen.add(f.text_hash)
        if f.normalized_length >= MIN_TEXT_CHARS and not copy:
            similar.append(i)
    found = storage.index_hits([batch[i] for i in similar], max_distance, since)
    hits = dict(zip(similar, found, strict=True))
    # One read of every stored item any of them may be compared with; merging in the
    # batch's own items below can push stored ones out of the confirmed few, never in.
    wanted = {
        item_id
        for near, overlap in hits.values()
        for item_id in near.keys() | confirmable(overlap, 0)
    }
    rows = storage.candidate_rows(sorted(wanted), since)
    stored: dict[tuple[int, bool], Candidate] = {}

    def stored_candidate(item_id: int, confirm: bool) -> Candidate:
        key = (item_id, confirm)
        if key not in stored:
            stored[key] = storage.candidate(rows[item_id], confirm)
        return stored[key]

    decisions: list[Decision] = []
    new_stories = 0
    # The batch's earlier items sharing a pigeonhole block or a sentence with each
    # item, found at once by sorting the batch's keys: comparing every pair of a
    # 50-item feed cost more than all of its look-ups, and so did a dictionary of
    # every key, when most items share none.
    in_blocks: dict[int, dict[int, list[int]]] = {}
    in_sentences: dict[int, dict[int, list[int]]] = {}
    lengths = np.zeros(0, dtype=np.int64)
    if len(batch) > 1:  # an item alone has no earlier one (`find_story`)
        count = max_distance + 1
        prints = np.fromiter((f.simhash for f in batch), dtype=np.uint64, count=len(batch))
        in_blocks = shared_with_earlier(
            block_keys(prints.view(np.int64), count).ravel(),
            np.repeat(np.arange(len(batch)), count),
        )
        hashes, owners, lengths = sentence_table(batch)
        in_sentences = shared_with_earlier(hashes, owners)

    def founder_agrees(features: Features, match: Match) -> bool:
        """Whether `features` is a copy of its story's first item too, when it matched
        another member: a story grows by copies of its first item, not by chains of
        copies of copies (a round-up joined through the brief it quotes, then an item
        copying the round-up's other half)."""
        story = match.story_id
        if story < 0:
            first = next(n for n, d in enumerate(decisions) if d.story == story)
            if match.item_id == -first - 1:
                return True
            other = comparable(first)
            founder = Candidate(
                -first - 1, story, other.simhash, other.normalized_length, other.figures,
                other.shingles, other.title,
            )  # fmt: skip
        else:
            stored_first = storage.story_founders([story]).get(story)
            if stored_first is None or stored_first == match.item_id:
                return True
            found = storage.candidate_rows([stored_first], since)
            if stored_first not in found:  # fetched before the window: not compared
                return True
            founder = storage.candidate(found[stored_first], True)
        return best_match(features, [founder], max_distance) is not None

    boilerplate: frozenset[int] = frozenset()
    if feed_id is not None and similar and boilerplates is None:
        # Each of the batch's texts a story of its own, but for verbatim copies.
        own = {f.text_hash: -n - 1 for n, f in reversed(list(enumerate(batch)))}
        boilerplate = storage.boilerplate(
            feed_id, [(own[f.text_hash], f.sentence_hashes) for f in batch]
        )
    without: dict[int, Features] = {}

    def comparable(index: int) -> Features:
        """The batch's item as containment compares it: without the boilerplate,
        worked out once, however many later items compare with it."""
        if index not in without:
            left_out = boilerplate if boilerplates is None else boilerplates[index]
            without[index] = compared(batch[index], left_out)
        return without[index]

    first_with_text: dict[str, Decision] = {}
    for index, features in enumerate(batch):
        decision = None
        related: Match | None = None
        verdicts: dict[int, bool | None] = {}
        if findings is not None:
            findings.append(verdicts)
        if features.normalized_length >= MIN_EXACT_CHARS:
            if features.text_hash in exact:
                decision = Decision(exact[features.text_hash], "same text")
            elif (earlier := first_with_text.get(features.text_hash)) is not None:
                decision = Decision(earlier.story, "same text")
        earlier_near = in_blocks.get(index, {})
        earlier_shared = in_sentences.get(index, {})
        if (
            decision is None
            and index in hits
            and (any(hits[index]) or earlier_near or earlier_shared)
        ):
            near, overlap = dict(hits[index][0]), dict(hits[index][1])
            # The batch's earlier items, keyed -1, -2, … beside the stored ones' ids.
            for number in sorted(earlier_near):
                other = batch[number]
                if hamming(features.simhash, other.simhash) <= max_distance:
                    near[-number - 1] = other.simhash
            for number in sorted(earlier_shared):  # in batch order, as ties are ranked
                overlap[-number - 1] = int(lengths[earlier_shared[number]].sum())
            sizes = {
                k: rows[k][3] if k > 0 else batch[-k - 1].normalized_length
                for k in overlap
                if k < 0 or k in rows
            }
            confirmed = confirmable(overlap, features.sentence_chars, sizes)
            candidates = []
            # Stored items first, then the batch's in order, as they would have been stored.
            for key in sorted(near.keys() | confirmed, key=lambda k: (k < 0, abs(k))):
                if key > 0:
                    if key in rows:  # else fetched before the window
                        candidates.append(stored_candidate(key, key in confirmed))
                else:
                    other = comparable(-key - 1)
                    candidates.append(
                        Candidate(
                            item_id=key,
                            story_id=decisions[-key - 1].story,
                            simhash=other.simhash,
                            normalized_length=other.normalized_length,
                            figures=other.figures,
                            shingles=other.shingles if key in confirmed else None,
                            title=other.title,
                        )
                    )
            match, related = decide(comparable(index), candidates, max_distance, verdicts)
            if match is not None and not founder_agrees(comparable(index), match):
                related = Match(match.item_id, match.story_id, f"{match.reason}, not of its first")
                match = None
            if match is not None:
                decision = Decision(match.story_id, match.reason)
        if decision is None:
            new_stories += 1
            decision = Decision(
                -new_stories,
                None,
                related.story_id if related is not None else None,
                related.reason if related is not None else None,
            )
        decisions.append(decision)
        first_with_text.setdefault(features.text_hash, decision)
    return decisions


def same_article(
    storage: StoredItems,
    features: Features,
    earlier: int | Features,
    max_distance: int,
    feed_id: int,
    *,
    same_link: bool,
) -> bool:
    """Whether `features`, a feed's new version of its item `earlier` under the same
    GUID (a stored item's id, or the features of one about to be stored), is
    still that article: a flash expanded, a headline rewritten, a figure
    corrected. Outlets also put another article under an old link, or an update
    with news of its own at the top; replacing the earlier version would lose an
    article no digest may have shown, so that takes the rules' evidence of a
    copy (`rules.decide`) between the two versions, whenever fetched. Their
    figures do not keep them apart (a corrected count is the same article), and
    texts too short to compare are taken for the same page when the caller finds
    them at the same link (`same_link`): a feed that gives one GUID to all its
    items would otherwise keep only the last of its teasers. The fingerprints
    are compared first: most versions differ by a few words."""
    if isinstance(earlier, int):
        rows = storage.candidate_rows([earlier], datetime.min.replace(tzinfo=UTC))
        if earlier not in rows:
            return True
        bare = replace(storage.candidate(rows[earlier], False), figures={})
    else:
        bare = Candidate(
            -1, 0, earlier.simhash, earlier.normalized_length, {}, None, earlier.title
        )  # fmt: skip
    if min(features.normalized_length, bare.normalized_length) < MIN_TEXT_CHARS:
        return same_link
    if best_match(features, [bare], max_distance) is not None:
        return True
    boilerplate = storage.boilerplate(feed_id)
    if isinstance(earlier, int):
        whole = replace(storage.candidate(rows[earlier], True), figures={})
    else:
        whole = replace(bare, shingles=compared(earlier, boilerplate).shingles)
    return best_match(compared(features, boilerplate), [whole], max_distance) is not None
