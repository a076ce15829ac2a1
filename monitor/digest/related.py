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

On a real day that is not enough: two leads about different events share a
dozen bigrams of the day's common words (美国, 中国, 疫情, 总统). Read and
labelled, only 166 of the 289 pairs that rule showed on three days of July to
September 2020 were one event (`benchmarks/related.py`). So in a digest of at
least `MIN_STORIES_FOR_RARITY` stories, where how common a bigram is can be
counted, a pair must also (`Rarity.same_event`) share bigrams that are rare
among the digest's stories, in their headlines and in their leads: a bigram
weighs 1 in one story, less the more stories have it, nothing in more than
`COMMON`; the sums must reach one of the pairs of floors of `SAME_EVENT`
(rare headline words and some rare lead words, or a rare headline word and
many rare lead words). Day-to-day template reports (one country's case count
and another's, two markets' closes) share common headline words only; but two
days of one series (a fixing and the next day's) share rare ones, and are
told apart by their figures (`RelatedHeads.find`'s ``apart``, `figures`):
on the labelled story pairs of five two-day windows, pairs of different
events shown under one headline went from 53 to 33 of 581, related ones from
344 to 336 of 665. And the label a column or series puts before its
headlines (``美国政府政策立场社论：``, ``【CDT连载】``) is rare among a day's
stories but tells nothing of the event: when both headlines start with one,
only what follows it counts (`Headline.shared`). On those windows, different
events under one headline went from 33 to 26 of 581 (six pairs of VOA's
editorials and one of a Q&A series no longer grouped), related ones from 336
to 334 of 665 (reactions to one death, under RTI's section label ``[政治]``,
which had added its weight).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import chain

from ..textnorm import normalize
from .summary import sentences

MAX_HOURS_APART = 72
MIN_SHARED = 8
MIN_OVERLAP = 0.15
# Heads having a bigram beyond which its list is too long to count (`RelatedHeads`);
# also the number of stories beyond which a bigram weighs nothing (`Rarity`).
COMMON = 128
MIN_STORIES_FOR_RARITY = 50
# (rarity of the shared headline bigrams, rarity of all shared lead bigrams): one
# of these pairs of floors must be met (`Rarity.same_event`).
SAME_EVENT = ((3.5, 6.0), (1.0, 24.0))
# Shared bigrams of some weight a related pair must have: the lowest lead floor.
MIN_RARE_SHARED = math.ceil(min(lead for _, lead in SAME_EVENT))


def lead_bigrams(title: str, text: str) -> frozenset[str]:
    return _units(title + " " + " ".join(sentences(text)[:2]))


@dataclass(frozen=True, slots=True)
class Headline:
    """A headline's bigrams: those of the series label it starts with apart."""

    bigrams: frozenset[str] = frozenset()
    """The bigrams of what follows the label (of all of it, without one)."""
    label: frozenset[str] = frozenset()
    """The bigrams of a series' or column's label it starts with
    (``美国政府政策立场社论：``, ``【CDT连载】``); none for no label."""

    def shared(self, other: Headline) -> frozenset[str]:
        """The bigrams two headlines share, but for a label both start with: two
        editorials of one series share it whatever their subjects, so it is no sign
        of one event (an attribution such as ``路透社：`` neither)."""
        if self.label == other.label:
            return self.bigrams & other.bigrams
        return (self.bigrams | self.label) & (other.bigrams | other.label)


# A label in brackets, or up to a colon near the start: what a feed puts before
# many of its headlines (a column, a series, a category, a source).
_LABEL = re.compile(r"^\s*(?:[【\[〔［]([^】\]〕］]{1,24})[】\]〕］]|([^：:\s]{2,16})[：:])")


def title_bigrams(title: str) -> Headline:
    found = _LABEL.match(title)
    if found is None:
        return Headline(_units(title))
    return Headline(_units(title[found.end() :]), _label_units(found.group(1) or found.group(2)))


@lru_cache(maxsize=1024)
def _label_units(label: str) -> frozenset[str]:
    """One set for each label: a digest holds thousands of headlines, most of a
    few labels."""
    return _units(label)


_LATIN_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def _units(text: str) -> frozenset[str]:
    """Character bigrams of Chinese text; the words of text in a Latin script (its
    letter pairs would tell nothing: every English lead shares dozens)."""
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if latin > len(text) / 2:
        return frozenset(_LATIN_WORD.findall(text.lower()))
    folded = normalize(text)
    return frozenset(folded[i : i + 2] for i in range(len(folded) - 1))


@dataclass(frozen=True)
class Rarity:
    """How many of a digest's stories have each lead bigram."""

    stories: int
    having: Counter[str]

    @classmethod
    def of(cls, leads: Iterable[frozenset[str]]) -> Rarity | None:
        """The rarity of bigrams among `leads`; None for too few to tell."""
        counted = list(leads)
        if len(counted) < MIN_STORIES_FOR_RARITY:
            return None
        return cls(len(counted), Counter(chain.from_iterable(counted)))

    def weight(self, bigram: str) -> float:
        """1 for a bigram of one story, falling to 0 for one of every story;
        0 for one of more than `COMMON` stories."""
        having = max(1, self.having.get(bigram, 1))
        if having > COMMON:
            return 0.0
        return math.log(self.stories / having) / math.log(self.stories)

    def same_event(self, shared: Iterable[str], a_title: Headline, b_title: Headline) -> bool:
        """Whether leads sharing the bigrams `shared`, under these headlines, name one event."""
        in_leads = sum(self.weight(bigram) for bigram in shared)
        in_titles = sum(self.weight(bigram) for bigram in a_title.shared(b_title))
        return any(in_titles >= title and in_leads >= lead for title, lead in SAME_EVENT)


def related(
    a_published: datetime,
    a_bigrams: frozenset[str],
    b_published: datetime,
    b_bigrams: frozenset[str],
    rarity: Rarity | None = None,
    a_title: Headline = Headline(),
    b_title: Headline = Headline(),
) -> bool:
    return (
        close_in_time(a_published, b_published)
        and overlapping(len(a_bigrams & b_bigrams), min(len(a_bigrams), len(b_bigrams)))
        and (rarity is None or rarity.same_event(a_bigrams & b_bigrams, a_title, b_title))
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

    def __init__(self, rarity: Rarity | None = None) -> None:
        self.rarity = rarity
        self._heads: list[tuple[datetime, int]] = []
        """Each head's time and number of bigrams."""
        self._titles: list[Headline] = []
        """Each head's headline (`Rarity.same_event`)."""
        self._having: dict[str, list[int]] = {}
        """Bigram → the heads that have it, in order."""

    def find(
        self,
        published: datetime,
        bigrams: frozenset[str],
        title: Headline = Headline(),
        apart: Callable[[int], bool] | None = None,
    ) -> int | None:
        """The position of the first head related to this story, or None. A head for
        which `apart` says yes is passed over (two reports of a template series)."""
        if self.rarity is not None:
            return self._find_rare(self.rarity, published, bigrams, title, apart)
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
            if overlapping(shared, min(size, len(bigrams))) and not (apart and apart(index)):
                return index
        return None

    def _find_rare(
        self,
        rarity: Rarity,
        published: datetime,
        bigrams: frozenset[str],
        title: Headline,
        apart: Callable[[int], bool] | None,
    ) -> int | None:
        """`find` with `rarity`: a related head shares at least `MIN_RARE_SHARED` bigrams
        that weigh something (each weighs at most 1), so only the heads in that many of
        those bigrams' lists (none longer than `COMMON`) are looked at; for each, the
        shared bigrams are then counted exactly."""
        rare = [b for b in bigrams if rarity.weight(b) > 0]
        counted = Counter(chain.from_iterable(self._having.get(b, []) for b in rare))
        for index in sorted(i for i, count in counted.items() if count >= MIN_RARE_SHARED):
            head_published, size = self._heads[index]
            if not close_in_time(head_published, published):
                continue
            shared = [b for b in bigrams if _holds(self._having.get(b, []), index)]
            if (
                overlapping(len(shared), min(size, len(bigrams)))
                and rarity.same_event(shared, self._titles[index], title)
                and not (apart and apart(index))
            ):
                return index
        return None

    def add(
        self, published: datetime, bigrams: frozenset[str], title: Headline = Headline()
    ) -> None:
        """A new head, after those added before."""
        for bigram in bigrams:
            self._having.setdefault(bigram, []).append(len(self._heads))
        self._heads.append((published, len(bigrams)))
        self._titles.append(title)


def _holds(heads: list[int], index: int) -> bool:
    """Whether the sorted `heads` holds `index`."""
    at = bisect_left(heads, index)
    return at < len(heads) and heads[at] == index
