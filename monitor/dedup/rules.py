"""Decide whether a new article is a repost of one already stored.

Reposts seen in real Chinese-language feeds: wire copy carried by several
outlets, each with its own first line ("据中央社报道"); the same page captured
again after edits or expanded; Traditional and Simplified versions of one text,
sometimes in Taiwan wording (川普/特朗普, 软体/软件); shortened copies; and
aggregator pages where the article is a minority of the text. A whole-text
64-bit simhash moves 11-23 bits when aggregator chrome is added and 6-8 bits
when the last 20% is cut or the lead changes, while distinct articles on the
same subject stay 18+ bits apart. So one distance threshold cannot catch the
big edits without merging distinct articles, and the rules are:

1. Same GUID in the same feed, or the same canonical URL: the very same page.
   It is not stored again (the pipeline checks this before adapting).
2. Same normalised text: a verbatim copy at another address; joins the story.
3. Simhash distance at most ``[dedup] max_distance`` (3): the same article with
   small edits spread anywhere in it. Candidates come from a pigeonhole index:
   split into ``max_distance + 1`` blocks, any fingerprint within that distance
   shares one block exactly, so indexed equality lookups find them all.
4. Containment: at least `MIN_CONTAINMENT` of the smaller text's character
   shingles occur in the other. This is what catches added chrome, a cut tail,
   a new lead, condensing, an expanded version, Traditional wording, and any
   mix of them. Candidates come from an index of sentence hashes (sharing one
   verbatim sentence of 10+ characters is enough to be looked at), not from a
   wide simhash band: a band wide enough for chrome (23 bits) needs pigeonhole
   blocks of 2-3 bits, which select nothing. The candidate's shingles are
   recomputed from its stored text to confirm.

Both rules are vetoed when the texts carry different figures in sentences of
the same shape (`figures_differ`): template stories such as a daily
exchange-rate fixing or case count share their wording and differ only in
their numbers, and are different articles.

False merges are worse than missed ones (a story silently vanishing from a
digest is the one error a reader cannot notice), so texts shorter than
`MIN_TEXT_CHARS` are merged only by rules 1 and 2.

All text is folded first (`textnorm`: NFKC, Traditional to Simplified with
Taiwan phrasing, lower case, letters and digits only). The fingerprint is the
`simhash` package's algorithm over the distinct character 3-grams
(`fingerprint`, vectorised; `features` computes everything in a few passes).

The numbers come from the labelled set in ``tests/dedup_corpus.py``: the five
seeds, 17 reposts of each made the ways above, and two families of template
stories; 96 texts, 4,560 pairs, 765 of them the same story. ``python
tests/dedup_corpus.py`` prints the measurement. Shingle width: 2 merges
distinct articles (pairwise precision 0.978); 3 leaves the widest gap between
the lowest containment of a true pair (0.64) and the highest of a false pair
the figures do not veto (0.58), where 4 gives 0.62/0.56 and 5 0.60/0.56; so
3, and `MIN_CONTAINMENT` in the middle of that gap. With these, precision and
recall are 1.000 over all pairs, and also when the texts are stored one by one
through SQLite in either order (tests/test_dedup.py holds both to recall
>= 0.98 at precision 1.00). Distinct seeds are 29-38 bits apart; reposts with
chrome or a cut tail move 5-21 bits, which is why rule 3 alone is not enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .features import SHINGLE_WIDTH, Features, shingles_of

__all__ = [
    "SHINGLE_WIDTH", "Candidate", "Features", "Match", "best_match", "normalize", "shingles_of",
]  # fmt: skip
from ..textnorm import normalize
from .fingerprint import containment

MIN_TEXT_CHARS = 80
MIN_CONTAINMENT = 0.61
FIGURES_MIN_CONFLICTS = 1
FIGURES_MAX_CONFLICT = 0.3
FINGERPRINT_BITS = 64
# Candidates found by sentences that are confirmed by shingle containment: at most
# this many, and only those sharing at least this share of the new text's sentences.
# On the labelled set the lowest sentence share of a true pair is 0.22 (a copy
# edited in every paragraph, which its fingerprint catches anyway).
MAX_CONFIRMED = 20
MIN_SHARED_SENTENCE_SHARE = 0.1


def confirmable(overlap: dict[int, int], sentence_chars: int) -> set[int]:
    """Of the items sharing sentences (id → characters shared), those worth confirming.

    Confirming a candidate means recomputing its shingles; only the few that
    share the most text are worth it (a repost shares a good part of it).
    """
    floor = MIN_SHARED_SENTENCE_SHARE * sentence_chars
    ranked = sorted(overlap, key=lambda i: overlap[i], reverse=True)
    return {i for i in ranked[:MAX_CONFIRMED] if overlap[i] >= floor}


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def blocks(value: int, count: int) -> list[int]:
    """`value` cut into `count` contiguous bit ranges (pigeonhole blocks)."""
    return [(value >> shift) & mask for shift, mask in block_ranges(count)]


@lru_cache(maxsize=8)
def block_ranges(count: int) -> tuple[tuple[int, int], ...]:
    """(shift, mask) of each block: computed for every fingerprint, so kept."""
    bounds = [round(i * FINGERPRINT_BITS / count) for i in range(count + 1)]
    return tuple((bounds[i], (1 << (bounds[i + 1] - bounds[i])) - 1) for i in range(count))


def figures_differ(a: dict[int, int], b: dict[int, int]) -> bool:
    """True when sentences of the same shape carry different numbers in two texts.

    A template story (a daily exchange-rate fixing, a daily case count) repeats
    its sentences with new figures; a repost keeps them, an update may change
    one. So any such sentence, when it is more than `FIGURES_MAX_CONFLICT` of
    the shared ones, make the texts different articles.
    """
    shared = a.keys() & b.keys()
    conflicts = sum(1 for shape in shared if a[shape] != b[shape])
    return conflicts >= FIGURES_MIN_CONFLICTS and conflicts > FIGURES_MAX_CONFLICT * len(shared)


@dataclass(frozen=True, eq=False)
class Candidate:
    """A stored item that shares a fingerprint block or a sentence with the new one."""

    item_id: int
    story_id: int
    simhash: int
    normalized_length: int
    figures: dict[int, int]
    shingles: np.ndarray | None
    """None when the candidate shares no sentence: only its fingerprint can match."""


@dataclass(frozen=True)
class Match:
    item_id: int
    story_id: int
    reason: str


def best_match(new: Features, candidates: list[Candidate], max_distance: int) -> Match | None:
    """The stored item `new` is a repost of, or None. Pure: tests call it directly."""
    if new.normalized_length < MIN_TEXT_CHARS:
        return None
    best: tuple[float, Candidate, str] | None = None
    for cand in candidates:
        if cand.normalized_length < MIN_TEXT_CHARS or figures_differ(new.figures, cand.figures):
            continue
        distance = hamming(new.simhash, cand.simhash)
        score, reason = 0.0, ""
        if distance <= max_distance:
            score, reason = 2.0 - distance / FINGERPRINT_BITS, f"simhash distance {distance}"
        contained = containment(new.shingles, cand.shingles) if cand.shingles is not None else 0.0
        if contained >= MIN_CONTAINMENT and contained > score:
            score, reason = contained, f"containment {contained:.2f}"
        if reason and (best is None or score > best[0]):
            best = (score, cand, reason)
    if best is None:
        return None
    return Match(item_id=best[1].item_id, story_id=best[1].story_id, reason=best[2])
