"""Build the digest from pending stories: sections by topic, one entry per story.

Pure: takes stories and config, returns a `Digest`. Rendering and delivery
live in `render` and `deliver`.
"""

from __future__ import annotations

from datetime import datetime

from .config import Config
from .models import Digest, DigestEntry, DigestSection, Story
from .summary import summarize


def story_topics(story: Story) -> tuple[str, ...]:
    """The canonical item's topics; the reposts' only when it has none.

    A repost's page carries other stories' headlines in its "related" lists,
    so its topics are weaker evidence than the original's.
    """
    for item in story.items:
        if item.topics:
            return item.topics
    return ()


def build_digest(stories: list[Story], config: Config, now: datetime) -> Digest:
    order = [t.name for t in config.topics]
    sections: dict[str, list[tuple[Story, DigestEntry]]] = {name: [] for name in order}
    other: list[tuple[Story, DigestEntry]] = []
    for story in stories:
        entry = _entry(story, config)
        topics = story_topics(story)
        home = next((name for name in order if name in topics), None)
        (sections[home] if home else other).append((story, entry))

    def ranked(pairs: list[tuple[Story, DigestEntry]]) -> tuple[DigestEntry, ...]:
        # More outlets first, then the most recent.
        pairs.sort(
            key=lambda p: (-len({i.source for i in p[0].items}), -p[1].published.timestamp())
        )
        return tuple(entry for _, entry in pairs)

    built = [DigestSection(name, ranked(pairs)) for name, pairs in sections.items() if pairs]
    if other:
        built.append(DigestSection(config.digest.other_heading, ranked(other)))
    local = now.astimezone(config.digest.zone)
    date = local.date().isoformat()
    story_count = sum(len(s.entries) for s in built)
    topic_count = len(built) - (1 if other else 0)
    subject = config.digest.subject.format(date=date, stories=story_count, topics=topic_count)
    return Digest(
        subject=" ".join(subject.split()),
        date=date,
        sections=tuple(built),
        generated=now,
        story_ids=tuple(s.id for s in stories),
    )


def _entry(story: Story, config: Config) -> DigestEntry:
    canonical = story.canonical
    also = tuple(item for item in story.reposts if item.url != canonical.url)
    return DigestEntry(
        story=story.id,
        title=canonical.title,
        url=canonical.url,
        source=canonical.source,
        published=canonical.published.astimezone(config.digest.zone),
        summary=summarize(canonical.text, config.digest.summary_chars),
        also=also,
    )
