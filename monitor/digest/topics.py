"""Which configured topics an article belongs to, and which fits it best.

Matching is case-insensitive substring search (Chinese has no spaces to split
words on, and 朝鲜 must match 朝鲜半岛 too) plus the topic's regular
expressions; an `exclude` word anywhere rules the topic out; a feed's default
topics always apply.

Headlines, texts and keywords are compared in Simplified characters
(`textnorm.simplified`), so that 港區國安法 matches the keyword 国安法, and the
text without its opening tag or dateline (`summary.without_opening`): a report
"（中央社記者…台北10日電）" on floods on the Yangtze is not about Taiwan, nor
is "路透香港8月12日 - 中国股市收跌" about Hong Kong.

A topic the headline and the first two sentences do not name needs
`min_mentions` (2) in the text: an article that names a place or subject
once further down mostly mentions it in passing, as background, in a list of
countries, as the place of a source. On ten development days, of the
placements whose topic is named only once further down, 22 % were about the
topic (labels read by hand, `benchmarks/topics.py`), against 87 % of those
named in the first two sentences.

The best topic is decided by the headline first, because it says what the
story is about: the topic with the most distinct keywords in the title, then
(when no title names a topic) in the text, and on a tie the topic configured
first. Counting every occurrence in the text instead let broad topics with
many keywords ("朝鲜", "韩国" …) swallow specific ones: on the seeds, NYT's
"面对俄朝条约…" went under 朝鲜半岛 rather than 俄朝关系.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..config import TopicConfig
from ..textnorm import simplified
from .summary import sentences, without_opening

LEAD_SENTENCES = 2


@dataclass(frozen=True, order=True)
class Score:
    title: int
    text: int


def topic_scores(
    title: str, text: str, topics: tuple[TopicConfig, ...], defaults: tuple[str, ...] = ()
) -> dict[str, Score]:
    """Topic name → score for every topic the article matches, in config order."""
    if not topics:  # nothing to fold the text for (~4 µs an item)
        return {}
    text = without_opening(text)
    title_folded, text_folded = _folded(title), _folded(text)
    lead: tuple[str, str] | None = None
    scores: dict[str, Score] = {}
    for topic in topics:
        excluded, words = _words(topic.exclude), _words(topic.keywords)
        if any(e in title_folded or e in text_folded for e in excluded):
            continue
        in_title = sum(1 for w in words if w in title_folded)
        in_title += sum(1 for p in topic.patterns if p.search(title) or p.search(title_folded))
        in_text = sum(1 for w in words if w in text_folded)
        in_text += sum(1 for p in topic.patterns if p.search(text) or p.search(text_folded))
        if topic.name in defaults:
            scores[topic.name] = Score(in_title, in_text + 1)
            continue
        if in_text and not in_title and _mentions(topic, text, text_folded) < topic.min_mentions:
            if lead is None:
                opening = "".join(sentences(text, LEAD_SENTENCES))
                lead = (opening, _folded(opening))
            if not _named(topic, *lead):
                continue  # named once, further down: in passing
        if in_title or in_text:
            scores[topic.name] = Score(in_title, in_text)
    return scores


def _mentions(topic: TopicConfig, text: str, folded: str) -> int:
    """How many places of the text name the topic: its keywords' and patterns'
    matches, those that overlap counted once ("港区国安法" is one mention of the
    keywords 国安法 and 港区国安法). Folding maps each character to one
    (`textnorm.simplified`; casefolding lengthens only a few Latin letters,
    such as ß), so a pattern's matches in the text as written (Traditional,
    say) stand where they do in the folded text."""
    spans = [
        (start, start + len(word))
        for word in _words(topic.keywords)
        if word
        for start in _starts(folded, word)
    ]
    for pattern in topic.patterns:
        spans += [m.span() for source in (text, folded) for m in pattern.finditer(source)]
    places, reach = 0, -1
    for start, end in sorted(spans):
        if start >= reach:
            places += 1
        reach = max(reach, end)
    return places


def _starts(text: str, word: str) -> list[int]:
    found, at = [], text.find(word)
    while at >= 0:
        found.append(at)
        at = text.find(word, at + 1)
    return found


def _named(topic: TopicConfig, lead: str, folded: str) -> bool:
    return any(w in folded for w in _words(topic.keywords)) or any(
        p.search(lead) or p.search(folded) for p in topic.patterns
    )


def _folded(text: str) -> str:
    return simplified(text).casefold()


@lru_cache(maxsize=256)
def _words(words: tuple[str, ...]) -> tuple[str, ...]:
    """A topic's keywords (or exclusions) as the texts are compared (`_folded`)."""
    return tuple(_folded(word) for word in words)


def match_topics(
    title: str, text: str, topics: tuple[TopicConfig, ...], defaults: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """Names of the topics the article belongs to, in config order."""
    return tuple(topic_scores(title, text, topics, defaults))


def best_topic(scores: dict[str, Score], order: list[str]) -> str | None:
    """The topic named most in the title, else in the text; ties to the first configured."""
    ranked = [name for name in order if name in scores]
    if any(scores[name].title for name in ranked):
        return max(ranked, key=lambda name: scores[name].title)
    return max(ranked, key=lambda name: scores[name].text, default=None)
