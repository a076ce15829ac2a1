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
   It is not stored again (the pipeline checks this before adapting), unless
   the feed edited it: then its new version replaces the stored one, if it is
   a copy of it by the rules below, figures aside (`stories.same_article`);
   else it is another article under an old link, stored beside it. A link a
   feed gives several items under headlines of their own (a podcast's page) is
   none of theirs: a new GUID under it is the stored page only under a stored
   headline, and in its own feed with a stored text (`service.known`).
2. Same normalised text: a verbatim copy at another address; joins the story.
3. Simhash distance at most ``[dedup] max_distance`` (3): the same article with
   small edits spread anywhere in it. Candidates come from a pigeonhole index:
   split into ``max_distance + 1`` blocks, any fingerprint within that distance
   shares one block exactly, so indexed equality lookups find them all.
4. Containment, with evidence both ways (`overlap`): at least
   `MIN_CONTAINMENT` of the smaller text's character shingles occur in the
   other, and the larger one adds little (at least `MIN_LONGER_SHARED` of it
   shared) or adds it after a lead the smaller one has (at least
   `MIN_LONGER_LEAD` of its first `LEAD_CHARS` letters). The first part is
   what catches added chrome, a cut tail, an attribution line, condensing, an
   expanded version, Traditional wording, and any mix of them; the second
   keeps apart the follow-up, the update and the round-up, which repeat an
   earlier report but put their own news at the top. Below
   `HEADLINES_CHECKED_BELOW` contained, the headlines must agree too
   (`headline_share`): two outlets' write-ups of one briefing, or a reaction
   over the report's background, share much of the text and the lead, but
   each outlet titles what it reports, where a copy keeps most of the
   headline it was given. From there up, headlines that agree
   (`MIN_COPY_HEADLINE_SHARE`) make a copy of a text even when the larger one
   adds news at the top: a desk's condensed version of a wire report, or an
   excerpt of an exclusive, drops the lead but keeps most of its source's
   headline, where a follow-up is titled for its own news. Candidates come from an
   index of sentence hashes (sharing verbatim clauses of 10+ characters is
   enough to be looked at), not from a wide simhash band: a band wide enough
   for chrome (23 bits) needs pigeonhole blocks of 2-3 bits, which select
   nothing. The candidate's shingles are recomputed from its stored text to
   confirm.

A story grows by copies of its first item: an article that matches a later
member must match the first too (`stories.assign_stories`), or a round-up
that joined through the brief it quotes would bring in copies of its other
stories.

Both rules are vetoed when the texts carry different figures in sentences of
the same shape (`figures_differ`): template stories such as a daily
exchange-rate fixing or case count share their wording and differ only in
their numbers, and are different articles.

False merges are worse than missed ones (a story silently vanishing from a
digest is the one error a reader cannot notice), so texts shorter than
`MIN_TEXT_CHARS` are merged only by rules 1 and 2.

All text is folded first (`textnorm`: NFKC, lower case, Traditional characters
to Simplified one by one and a few of Taiwan's words, letters and digits
only). The fingerprint is the
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
recall were 1.000 over all pairs, and also when the texts are stored one by one
through SQLite in either order (tests/test_dedup.py holds the stored stories to
recall >= 0.98 at precision 1.00, all pairs to recall >= 0.975). Distinct
seeds are 29-38 bits apart; reposts with chrome or a cut tail move 5-21 bits,
which is why rule 3 alone is not enough.

The evidence from the larger text comes from real news: 1,672 pairs of real
items read and labelled (``benchmarks/labels``). Of the candidate pairs whose
smaller text is at least 0.61 contained (265 copies, 72 follow-ups, separate
write-ups and others), the larger one's lead was at least 0.6 found in the
smaller for 87 % of the copies and 28 % of the others; at least 0.8 of the
larger one was shared for 61 % of the copies and 1 % of the others; one or the
other held for 88 % and 28 %. Replayed through ``monitor run``
(``benchmarks/realpairs.py``), precision on those pairs went from 0.840 to
0.902 with this rule and clauses as sentences (0.909 with the first item's
agreement); recall stayed at 0.713. The headlines took it to 0.939 (related
pairs merged 3.1 % → 2.0 %), recall 0.710: of the merged pairs less than
three quarters contained (in 5-grams), 8 of the 11 that are not copies had
headlines sharing less than a fifth of their character pairs, and 2 of 15
copies. Of the copies still missed, 25 were at least 0.61 contained (in
3-grams, across outlets) but the larger text's lead was not in the smaller
one: condensed copies and excerpts. Headlines sharing two fifths of their
pairs, from 0.8 contained up, took recall to 0.741 (+10 copies) and merged no
more related pairs (`headlines_overrule`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from .features import SHINGLE_WIDTH, Features, Shingles, shingles_of

__all__ = [
    "SHINGLE_WIDTH", "Candidate", "Features", "Match", "Shingles", "best_match", "decide",
    "normalize", "shingles_of",
]  # fmt: skip
from ..figures import figures_differ
from ..textnorm import normalize
from .fingerprint import common

MIN_TEXT_CHARS = 80
MIN_CONTAINMENT = 0.61
# Evidence from the longer text too (see `overlap`): most of it shared, or what it
# adds coming after a lead the shorter one has.
MIN_LONGER_SHARED = 0.8
MIN_LONGER_LEAD = 0.6
# Below this containment the headlines must agree too: share at least this much
# of their character pairs (`headline_share`).
HEADLINES_CHECKED_BELOW = 0.8
MIN_HEADLINE_SHARE = 0.2
# From it up, headlines sharing at least this much make a copy of a text the longer
# one adds news to at the top: a condensed copy keeps its source's headline.
MIN_COPY_HEADLINE_SHARE = 0.4
FINGERPRINT_BITS = 64
# Candidates found by sentences that are confirmed by shingle containment: at most
# this many, and only those sharing at least this share of the new text's sentences.
# On the labelled set the lowest sentence share of a true pair is 0.22 (a copy
# edited in every paragraph, which its fingerprint catches anyway).
MAX_CONFIRMED = 20
MIN_SHARED_SENTENCE_SHARE = 0.1


def confirmable(
    overlap: dict[int, int], sentence_chars: int, sizes: Mapping[int, int] | None = None
) -> set[int]:
    """Of the items sharing sentences (id → characters shared), those worth confirming.

    Confirming a candidate means recomputing its shingles; only the few that
    share the most text are worth it (a repost shares a good part of it). The
    part is of the smaller of the two texts (`sizes`: each item's normalised
    length): a condensed copy stored first is a tenth of the full report that
    comes later, and would otherwise be found only in the other order.
    """
    ranked = sorted(overlap, key=lambda i: overlap[i], reverse=True)
    sizes = sizes or {}
    return {
        i
        for i in ranked[:MAX_CONFIRMED]
        if overlap[i]
        >= MIN_SHARED_SENTENCE_SHARE * min(sentence_chars, sizes.get(i, sentence_chars))
    }


def headline_share(a: str, b: str) -> float | None:
    """The share of two headlines' character pairs they have in common (Jaccard,
    after folding), or None when either has none."""
    first, second = _headline_pairs(a), _headline_pairs(b)
    if not first or not second:
        return None
    return len(first & second) / len(first | second)


def headlines_agree(title: str, other: str) -> bool:
    """Whether two headlines are one article's: they share as much as a copy keeps
    of its source's (`MIN_COPY_HEADLINE_SHARE`)."""
    share = headline_share(title, other)
    return share is not None and share >= MIN_COPY_HEADLINE_SHARE


def headlines_overrule(apart: bool, contained: float, title: str, other: str) -> float | None:
    """The headlines' share (`headline_share`) when it turns what the texts say,
    else None.

    Headlines decide where the texts leave it open. Below
    `HEADLINES_CHECKED_BELOW` contained, a text that passes as a copy may be a
    separate write-up of the same briefing, titled for what it reports: under a
    headline of its own (less than `MIN_HEADLINE_SHARE`) it is kept apart. From
    there up, a text whose longer version adds news at the top may be a
    condensed copy, which keeps most of its source's headline (at least
    `MIN_COPY_HEADLINE_SHARE`): then it is a copy. A follow-up is titled for
    its own news.
    """
    checked = contained >= HEADLINES_CHECKED_BELOW
    if apart != checked:
        return None
    share = headline_share(title, other)
    if share is None:
        return None
    if apart:
        return share if share >= MIN_COPY_HEADLINE_SHARE else None
    return share if share < MIN_HEADLINE_SHARE else None


@lru_cache(maxsize=4096)
def _headline_pairs(title: str) -> frozenset[str]:
    folded = normalize(title)
    return frozenset(folded[i : i + 2] for i in range(len(folded) - 1))


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


def overlap(a: Shingles, b: Shingles) -> tuple[float, float, float]:
    """How much two texts share, as evidence that one is a copy of the other: the
    share of the smaller one's shingles found in the larger, the share of the
    larger one's, and the share of the larger one's lead.

    Containment of the smaller text alone cannot tell a copy from a follow-up:
    the report of an arrest repeats the earlier report of the crime. What the
    larger text adds decides. A copy expanded later, or a wire story carried
    with an added line of attribution, adds little or adds it after the lead
    both share; a follow-up, an update or a round-up puts its news at the top.
    Which of the two came first is no evidence: a run stores its feeds in the
    config's order, not in the order their items were written.
    """
    larger, smaller = (a, b) if len(a.every) >= len(b.every) else (b, a)
    if not len(smaller.every):
        return 0.0, 0.0, 0.0
    shared = common(smaller.every, larger.every)
    lead = common(larger.lead, smaller.every)
    return shared / len(smaller.every), shared / len(larger.every), lead / max(len(larger.lead), 1)


@dataclass(frozen=True, eq=False)
class Candidate:
    """A stored item that shares a fingerprint block or a sentence with the new one."""

    item_id: int
    story_id: int
    simhash: int
    normalized_length: int
    figures: dict[int, int]
    shingles: Shingles | None
    """None when the candidate shares no sentence: only its fingerprint can match."""
    title: str = ""


@dataclass(frozen=True)
class Match:
    item_id: int
    story_id: int
    reason: str


def best_match(new: Features, candidates: list[Candidate], max_distance: int) -> Match | None:
    """The stored item `new` is a repost of, or None. Pure: tests call it directly."""
    return decide(new, candidates, max_distance)[0]


def decide(
    new: Features,
    candidates: list[Candidate],
    max_distance: int,
    verdicts: dict[int, bool | None] | None = None,
) -> tuple[Match | None, Match | None]:
    """The stored item `new` is a repost of (`best_match`), and, when none, the one
    it is related to: a text it contains or is contained in (`MIN_CONTAINMENT`)
    that brings news of its own at the top, such as the report a follow-up
    repeats (`overlap`). The digest shows the two together.

    `verdicts`, when given, is told for each candidate (by item id) whether the
    rules would join or relate the two whichever came first: True when one
    of them holds (the best match is chosen among those), False when the texts
    were compared and none holds, None when only the fingerprints were compared
    (the candidate shared too little to be confirmed). Every rule is symmetric
    but the choice among several, so a pair found apart here stays apart in
    the other order (`settle`)."""
    if new.normalized_length < MIN_TEXT_CHARS:
        return None, None
    # Candidates as good as each other are told apart by how much of them the new
    # text shares, then by their fingerprints: never by the order they come in (the
    # order the items were stored), so that the same items make the same stories
    # whatever order their feeds were stored in (`settle`).
    best: tuple[tuple[float, float, int], Candidate, str] | None = None
    related: tuple[tuple[float, float, int], Candidate, str] | None = None
    for cand in candidates:
        if cand.normalized_length < MIN_TEXT_CHARS or figures_differ(new.figures, cand.figures):
            if verdicts is not None:
                verdicts[cand.item_id] = False
            continue
        distance = hamming(new.simhash, cand.simhash)
        score, reason, whole = 0.0, "", 0.0
        if distance <= max_distance:
            score, reason = 2.0 - distance / FINGERPRINT_BITS, f"simhash distance {distance}"
        if verdicts is not None:
            verdicts[cand.item_id] = True if reason else None
        if cand.shingles is not None:
            contained, whole, lead = overlap(new.shingles, cand.shingles)
            evidence = f"containment {contained:.2f}, lead {lead:.2f}"
            if verdicts is not None:
                verdicts[cand.item_id] = bool(reason) or contained >= MIN_CONTAINMENT
            if contained >= MIN_CONTAINMENT:
                apart = whole < MIN_LONGER_SHARED and lead < MIN_LONGER_LEAD
                share = headlines_overrule(apart, contained, new.title, cand.title)
                if share is not None:
                    apart, evidence = not apart, f"{evidence}, headlines {share:.2f}"
                if apart:
                    key = (contained, whole, cand.simhash)
                    if related is None or key > related[0]:
                        related = (key, cand, evidence)
                elif contained > score:
                    score, reason = contained, evidence
        if reason and (best is None or (score, whole, cand.simhash) > best[0]):
            best = ((score, whole, cand.simhash), cand, reason)
    if best is not None:
        return Match(best[1].item_id, best[1].story_id, best[2]), None
    if related is not None:
        return None, Match(related[1].item_id, related[1].story_id, related[2])
    return None, None
