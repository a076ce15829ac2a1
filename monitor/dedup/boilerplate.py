"""Each feed's boilerplate, learned from its own items: the clauses that recur.

Every episode of a podcast feed opens or ends with the same "欢迎收听 … 订阅"
lines; a column ends with the same disclaimer, a newsletter with the same
sign-off. Its site adapter's furniture rules do not know them (the generic
adapter reads every site), and containment on them would merge unrelated
episodes. So the clauses (`features`: sentences, cut at commas too) found in
the items of at least `MIN_STORIES` stories among a feed's last `RECENT`
items, and in a `MIN_SHARE` of those items, are that feed's boilerplate, and
are left out of the texts compared by containment (`rules.overlap`). Stories,
not items: a feed that carries three versions of one article has not made
its text boilerplate. A story a feed follows for days repeats its background
in a few stories, never in a fifth of a busy feed. The items of the fetch
being decided count too, each as a story of its own (the same text once), so
that a podcast feed's first fetch does not merge its episodes.

The fingerprint keeps them: within `[dedup] max_distance` bits, two texts
share nearly all of their text, boilerplate or not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .features import Features, shingles_of

RECENT = 100
MIN_STORIES = 3
MIN_SHARE = 0.2
# Where `features` ends a clause, as the raw text spells it (before folding).
_CLAUSE_END = re.compile(r"([。！？；：、!?;:\n]+|[.,，．](?!\d))")


def learned(items: Sequence[tuple[int, bytes]]) -> frozenset[int]:
    """The boilerplate of a feed whose items are these (story, clause hashes packed
    as `Features.sentence_hashes` holds them: distinct within an item)."""
    if len(items) < MIN_STORIES:
        return frozenset()
    clauses = np.frombuffer(b"".join(blob for _, blob in items), dtype="<i8")
    if not len(clauses):
        return frozenset()
    stories = np.repeat(
        np.fromiter((story for story, _ in items), dtype=np.int64, count=len(items)),
        [len(blob) // 8 for _, blob in items],
    )
    # Sorted by clause, then story: each clause's run counts its items, and the
    # changes of story within the run its stories (`np.unique` would import
    # `numpy.ma`, 6 ms a process).
    order = np.lexsort((stories, clauses))
    clauses, stories = clauses[order], stories[order]
    new_clause = np.concatenate(([True], clauses[1:] != clauses[:-1]))
    new_story = new_clause | np.concatenate(([True], stories[1:] != stories[:-1]))
    starts = np.flatnonzero(new_clause)
    in_items = np.diff(np.append(starts, len(clauses)))
    in_stories = np.add.reduceat(new_story.astype(np.int64), starts)
    chosen = (in_items >= MIN_SHARE * len(items)) & (in_stories >= MIN_STORIES)
    return frozenset(clauses[starts[chosen]].tolist())


def without_boilerplate(text: str, clauses: bytes, boilerplate: frozenset[int]) -> str:
    """`text` (whose clause hashes are `clauses`, packed) without its boilerplate."""
    if not boilerplate or boilerplate.isdisjoint(np.frombuffer(clauses, dtype="<i8").tolist()):
        return text
    return stripped(text, boilerplate)


def compared(features: Features, boilerplate: frozenset[int]) -> Features:
    """`features`, but with shingles that leave out the text's clauses in
    `boilerplate`: what containment compares (`Features.shingles`)."""
    if not boilerplate or boilerplate.isdisjoint(features.sentences):
        return features
    copy = replace(features)
    copy.__dict__["shingles"] = shingles_of(stripped(features.text, boilerplate), features.width)
    return copy


def stripped(text: str, boilerplate: frozenset[int]) -> str:
    """`text` without its clauses in `boilerplate`."""
    parts = _CLAUSE_END.split(text)
    clauses, ends = parts[0::2], [*parts[1::2], ""]
    found = Features.of_many(clauses)
    kept = [
        clause + end
        for clause, end, features in zip(clauses, ends, found, strict=True)
        if boilerplate.isdisjoint(features.sentences)
    ]
    return "".join(kept)
