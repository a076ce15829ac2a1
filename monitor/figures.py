"""Figures: the numbers of a text's sentences, by the sentence's shape.

Template stories (a daily exchange-rate fixing, a daily case count, the
weather) repeat their sentences with new numbers. `dedup` reads each text's
figures (`dedup.Features.figures`: the hash of each sentence's shape, digits
masked → the hash of its digits), keeps two texts whose figures differ apart
however much they share, and stores the figures with the item; the digest
keeps two such reports out of one group of related coverage. Here, what both
need without the rest of dedup (and its NumPy): the rule and the spelling.
Headlines are read here too (`headline_figures`): the digest compares them,
for series whose texts say their figures in other sentences each day.
"""

from __future__ import annotations

import re
import unicodedata

FIGURES_MIN_CONFLICTS = 1
FIGURES_MAX_CONFLICT = 0.3


def figures_differ(a: dict[int, int], b: dict[int, int]) -> bool:
    """True when sentences of the same shape carry different numbers in two texts.

    A template story repeats its sentences with new figures; a repost keeps
    them, an update may change one. So any such sentence, when it is more than
    `FIGURES_MAX_CONFLICT` of the shared ones, makes the texts different articles.
    """
    shared = a.keys() & b.keys()
    conflicts = sum(1 for shape in shared if a[shape] != b[shape])
    return conflicts >= FIGURES_MIN_CONFLICTS and conflicts > FIGURES_MAX_CONFLICT * len(shared)


def figures_text(figures: dict[int, int]) -> str:
    """`figures` as the database stores them: "shape:digits …"."""
    return " ".join(f"{shape}:{digits}" for shape, digits in figures.items())


def figures_of(stored: str) -> dict[int, int]:
    """Figures as the database stores them (`figures_text`), read back."""
    pairs = (part.split(":") for part in stored.split())
    return {int(shape): int(digits) for shape, digits in pairs}


# Where a headline is cut into clauses: spaces and punctuation.
_HEADLINE_CLAUSES = re.compile(r"[\s，,。：:；;！!？?、（）()\[\]【】「」『』“”\"'—–\-/|·]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# An episode's or a part's number closing a headline: "(01)", "【3】"; up to
# three digits, so that a year in brackets is not one.
_EPISODE = re.compile(r"^(?P<headline>.*\S)\s*[(\[【]\s*(?P<number>\d{1,3})\s*[)\]】]\s*$")


def headline_figures(title: str) -> dict[str, str]:
    """The numbers of a headline's clauses by the clause's shape, digits masked:
    ``香港新增24例確診`` → ``{"香港新增#例確診": "24"}``. A clause of numbers
    alone (a date, an article's number) has no shape to tell a series by, but
    a number in brackets closing the headline is an episode's or a part's, told
    by the headline before it: ``巴奴的救赎(01)`` → ``{"巴奴的救赎(#)": "1"}``."""
    found = {}
    title = unicodedata.normalize("NFKC", title)
    episode = _EPISODE.match(title)
    clauses = _HEADLINE_CLAUSES.split(episode["headline"] if episode else title)
    if episode:
        shape = _NUMBER.sub("#", " ".join(clauses).strip())
        if any(c.isalpha() for c in shape):
            found[f"{shape}(#)"] = str(int(episode["number"]))
    for clause in clauses:
        numbers = _NUMBER.findall(clause)
        if not numbers:
            continue
        shape = _NUMBER.sub("#", clause)
        if any(c.isalpha() for c in shape):
            # 7.21 and 721 are one date written two ways.
            found[shape] = ",".join(n.replace(".", "").replace(",", "") for n in numbers)
    return found


def headlines_differ(a: dict[str, str], b: dict[str, str]) -> bool:
    """True when two headlines (`headline_figures`) have a clause of the same shape
    with other numbers: two days' case counts, two earthquakes' magnitudes, two
    episodes of a serial."""
    return any(a[shape] != b[shape] for shape in a.keys() & b.keys())
