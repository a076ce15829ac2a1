"""Related coverage: separate articles from different outlets about one event.

Reposts are collapsed by dedup; this groups what dedup rightly keeps apart,
such as DW's and 国际在线's own reports of South Korea restoring GSOMIA with
Japan (seeds 000 and 002, March 2023), so the digest shows them under one
headline. Two stories are related when

- they were published within `MAX_HOURS_APART` of each other: one event is
  reported within days, and two articles on one subject a year apart (seeds
  001 and 004, both on Russia and North Korea) are two events; and
- their headlines and first two sentences share at least `MIN_SHARED` character
  bigrams and `MIN_OVERLAP` of the smaller set. Measured on the seeds: 000 and
  002 share 14 bigrams (overlap 0.19); the highest of any other pair is 11
  (0.10, seeds 001 and 004); so 8 and 0.15.

Whole-text similarity does not work here: articles written separately share
few phrases (3-gram containment 0.045 for 000/002, against up to 0.077 for
unrelated pairs), while headlines and leads name the event.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from datetime import datetime
from itertools import chain

from ..textnorm import normalize
from .summary import sentences

MAX_HOURS_APART = 72
MIN_SHARED = 8
MIN_OVERLAP = 0.15
# Heads having a bigram beyond which its list is too long to count (`RelatedHeads`).
COMMON = 128


def lead_bigrams(title: str, text: str) -> frozenset[str]:
    lead = normalize(title + "".join(sentences(text)[:2]))
    return frozenset(lead[i : i + 2] for i in range(len(lead) - 1))


def related(
    a_published: datetime,
    a_bigrams: frozenset[str],
    b_published: datetime,
    b_bigrams: frozenset[str],
) -> bool:
    return close_in_time(a_published, b_published) and overlapping(
        len(a_bigrams & b_bigrams), min(len(a_bigrams), len(b_bigrams))
    )


def close_in_time(a_published: datetime, b_published: datetime) -> bool:
    return abs((a_published - b_published).total_seconds()) <= MAX_HOURS_APART * 3600


def overlapping(shared: int, smaller: int) -> bool:
    """Whether leads sharing `shared` bigrams, the smaller having `smaller`, are of
    one event."""
    return smaller > 0 and shared >= MIN_SHARED and shared / smaller >= MIN_OVERLAP


class RelatedHeads:
    """The heads of a digest's groups of related coverage, in the order made: a
    story joins the first head it is related to (`related`).

    Compared with every head in turn, a digest of 9,000 stories (a first run
    over 200 busy feeds) took 40 million comparisons and a minute. Here the
    bigrams a story shares with each head are counted from lists of the heads
    having each bigram, and only heads sharing `MIN_SHARED` are looked at. The
    longest lists (bigrams most heads have, such as 美国) are most of that
    counting: up to `MIN_SHARED` - 1 of them are left out, a head must then
    share one bigram fewer with the rest for each, and the few heads left are
    looked up in those lists (sorted) to count exactly. No head keeps its own
    set of bigrams: those were two thirds of a digest's memory.
    """

    def __init__(self) -> None:
        self._heads: list[tuple[datetime, int]] = []
        """Each head's time and number of bigrams."""
        self._having: dict[str, list[int]] = {}
        """Bigram → the heads that have it, in order."""

    def find(self, published: datetime, bigrams: frozenset[str]) -> int | None:
        """The position of the first head related to this story, or None."""
        postings = sorted((self._having.get(bigram, []) for bigram in bigrams), key=len)
        common = 0
        while common < min(MIN_SHARED - 1, len(postings)) and len(postings[-1 - common]) > COMMON:
            common += 1
        rest, left_out = postings[: len(postings) - common], postings[len(postings) - common :]
        counted = Counter(chain.from_iterable(rest))
        for index in sorted(i for i, count in counted.items() if count >= MIN_SHARED - common):
            head_published, size = self._heads[index]
            if not close_in_time(head_published, published):
                continue
            shared = counted[index] + sum(1 for heads in left_out if _holds(heads, index))
            if overlapping(shared, min(size, len(bigrams))):
                return index
        return None

    def add(self, published: datetime, bigrams: frozenset[str]) -> None:
        """A new head, after those added before."""
        for bigram in bigrams:
            self._having.setdefault(bigram, []).append(len(self._heads))
        self._heads.append((published, len(bigrams)))


def _holds(heads: list[int], index: int) -> bool:
    """Whether the sorted `heads` holds `index`."""
    at = bisect_left(heads, index)
    return at < len(heads) and heads[at] == index
