"""Build a digest from pending stories: topic sections, one entry per story.

Each story goes under its best topic (the highest keyword score, ties to the
topic configured first), stories matching no topic under one last heading.
Stories about the same event from different outlets are grouped under the
most widely carried one ("相关报道", see `related`). Within a section, groups
with more outlets come first, then the most recent. Pure: takes stories and
config, returns a `Digest`; rendering and delivery live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from ..config import Config, DigestConfig
from ..models import Digest, DigestEntry, DigestSection, Story
from ..urls import link_target
from .related import RelatedHeads, lead_bigrams
from .summary import summarize
from .topics import best_topic, topic_scores


@dataclass
class _Group:
    head: Story
    home: str | None
    members: list[Story] = field(default_factory=list)

    @property
    def outlets(self) -> int:
        stories = [self.head, *self.members]
        return len({item.source for story in stories for item in story.items})


def build_digest(
    stories: list[Story], config: Config, digest: DigestConfig, now: datetime
) -> Digest | None:
    """The digest of `stories` for `digest`, or None when none of them belong in it."""
    order = [t.name for t in config.topics if not digest.topics or t.name in digest.topics]
    feed_topics = {feed.name: feed.topics for feed in config.feeds}
    scored: list[tuple[Story, str | None]] = []
    for story in stories:
        canonical = story.canonical
        scores = topic_scores(
            canonical.title, canonical.text, config.topics, feed_topics.get(canonical.feed, ())
        )
        home = best_topic(scores, order)
        if digest.topics and home is None:
            continue
        scored.append((story, home))
    if not scored:
        return None
    scored.sort(key=lambda pair: (-_outlets(pair[0]), -pair[0].canonical.published.timestamp()))

    groups: list[_Group] = []
    heads = RelatedHeads()
    for story, home in scored:
        canonical = story.canonical
        bigrams = lead_bigrams(canonical.title, canonical.text)
        found = heads.find(canonical.published, bigrams)
        if found is None:
            heads.add(canonical.published, bigrams)
            groups.append(_Group(story, home))
        else:
            groups[found].members.append(story)
    groups.sort(key=lambda g: (-g.outlets, -g.head.canonical.published.timestamp()))
    groups = groups[: digest.max_stories]

    sections: dict[str | None, list[DigestEntry]] = {name: [] for name in order}
    sections[None] = []
    for group in groups:
        entry = _entry(group.head, digest)
        entry = replace(entry, related=tuple(_entry(s, digest) for s in group.members))
        sections[group.home].append(entry)
    built = [DigestSection(name, tuple(e)) for name, e in sections.items() if name and e]
    if sections[None]:
        built.append(DigestSection(digest.other_heading, tuple(sections[None])))

    local = now.astimezone(digest.zone)
    date = local.date().isoformat()
    story_count = len(groups)
    topic_count = len(built) - (1 if sections[None] else 0)
    subject = digest.subject.format(date=date, stories=story_count, topics=topic_count)
    shown = [g.head.id for g in groups] + [s.id for g in groups for s in g.members]
    return Digest(
        name=digest.name,
        subject=" ".join(subject.split()),
        date=date,
        sections=tuple(built),
        generated=now,
        story_ids=tuple(shown),
    )


def _outlets(story: Story) -> int:
    return len({item.source for item in story.items})


def _entry(story: Story, digest: DigestConfig) -> DigestEntry:
    """A story as the email shows it; a link the email may not make is "" (`link_target`)."""
    canonical = story.canonical
    also = tuple(
        replace(item, url=link_target(item.url) or "")
        for item in story.reposts
        if item.url != canonical.url
    )
    return DigestEntry(
        story=story.id,
        title=canonical.title,
        url=link_target(canonical.url) or "",
        source=canonical.source,
        published=canonical.published.astimezone(digest.zone),
        summary=summarize(canonical.text, digest.summary_chars),
        also=also,
    )
