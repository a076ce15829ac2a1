"""Assign configured topics to an article by keywords in its title and text."""

from __future__ import annotations

from .config import TopicConfig


def match_topics(
    title: str, text: str, topics: tuple[TopicConfig, ...], defaults: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """Names of the topics whose keywords appear and whose exclusions do not.

    Matching is case-insensitive substring search: Chinese has no spaces to
    split words on, and a keyword such as 朝鲜 must match 朝鲜半岛 too. A feed's
    default topics always apply. Order follows the configuration.
    """
    haystack = f"{title}\n{text}".casefold()
    found = []
    for topic in topics:
        if topic.name in defaults:
            found.append(topic.name)
            continue
        if any(k.casefold() in haystack for k in topic.keywords) and not any(
            e.casefold() in haystack for e in topic.exclude
        ):
            found.append(topic.name)
    return tuple(found)
