"""Build a digest from pending stories: topic sections, one entry per story.

Each story goes under its best topic (the highest keyword score, ties to the
topic configured first), stories matching no topic under one last heading.
Stories about the same event from different outlets are grouped under the
most widely carried one ("相关报道", see `related`), and so are those dedup
found related (a follow-up and the report it repeats, `_linked`). Within a section, groups
with more outlets come first, then the most recent. What the email shows is
what counts as delivered: at most `max_stories` headlines, each with at most
`max_related` related entries; the rest are named only in counts ("and 2 more
from …", "12 more stories not shown") and recorded as left out, never sent
later, so that no backlog grows from one digest to the next. Pure: takes
stories and config, returns a `Digest`; rendering and delivery live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial

from ..config import Config, DigestConfig
from ..figures import figures_differ, figures_of, headline_figures, headlines_differ
from ..models import Digest, DigestEntry, DigestSection, StoredItem, Story
from ..urls import link_target
from .related import Rarity, RelatedHeads, lead_bigrams, title_bigrams
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


def homes(
    stories: list[Story], config: Config, digest: DigestConfig
) -> list[tuple[Story, str | None]]:
    """The stories `digest` shows, each with the topic it goes under (None: the last
    heading); a digest limited to some topics leaves out the stories of none."""
    order = [t.name for t in config.topics if not digest.topics or t.name in digest.topics]
    feed_topics = {feed.name: feed.topics for feed in config.feeds}
    found: list[tuple[Story, str | None]] = []
    for story in stories:
        canonical = story.canonical
        scores = topic_scores(
            canonical.title, canonical.text, config.topics, feed_topics.get(canonical.feed, ())
        )
        home = best_topic(scores, order)
        if digest.topics and home is None:
            continue
        found.append((story, home))
    return found


def build_digest(
    stories: list[Story],
    config: Config,
    digest: DigestConfig,
    now: datetime,
    updated: frozenset[int] = frozenset(),
) -> Digest | None:
    """The digest of `stories` for `digest`, or None when none of them belong in it;
    the `updated` ones were sent before and are marked so."""
    order = [t.name for t in config.topics if not digest.topics or t.name in digest.topics]
    scored = homes(stories, config, digest)
    if not scored:
        return None
    scored.sort(key=lambda pair: (-_outlets(pair[0]), -pair[0].canonical.published.timestamp()))

    groups: list[_Group] = []
    leads = [lead_bigrams(s.canonical.title, s.canonical.text) for s, _ in scored]
    heads = RelatedHeads(Rarity.of(leads))
    linked = _linked([story for story, _ in scored])
    placed: dict[int, int] = {}
    """Story id → the position of its group."""
    series = _Series()
    for (story, home), bigrams in zip(scored, leads, strict=True):
        canonical = story.canonical
        title = title_bigrams(canonical.title)
        found = next((placed[s] for s in linked.get(story.id, ()) if s in placed), None)
        if found is None:
            found = heads.find(
                canonical.published,
                bigrams,
                title,
                apart=partial(series.apart, story, groups),
            )
        if found is None:
            heads.add(canonical.published, bigrams, title)
            groups.append(_Group(story, home))
            found = len(groups) - 1
        else:
            groups[found].members.append(story)
        placed[story.id] = found
    groups.sort(key=lambda g: (-g.outlets, -g.head.canonical.published.timestamp()))
    groups, over = fair_share(groups, digest.max_stories)

    sections: dict[str | None, list[DigestEntry]] = {name: [] for name in order}
    sections[None] = []
    not_shown: dict[str | None, int] = {}
    shown: list[int] = []
    left_out: list[int] = []
    for rank, group in enumerate(groups):
        members, beyond = group.members[: digest.max_related], group.members[digest.max_related :]
        entry = replace(
            _entry(group.head, digest, summary=rank < digest.max_summaries),
            related=tuple(
                replace(_entry(s, digest, summary=False), updated=s.id in updated) for s in members
            ),
            more_related=tuple(s.canonical.source for s in beyond),
            updated=group.head.id in updated,
        )
        sections[group.home].append(entry)
        shown += [group.head.id, *(s.id for s in members)]
        left_out += [s.id for s in beyond]
    for group in over:
        not_shown[group.home] = not_shown.get(group.home, 0) + 1
        left_out += [group.head.id, *(s.id for s in group.members)]
    # A section whose headlines were all over the limit still says how many.
    built = [
        DigestSection(name, tuple(e), not_shown.get(name, 0))
        for name, e in sections.items()
        if name and (e or not_shown.get(name))
    ]
    if sections[None] or not_shown.get(None):
        built.append(
            DigestSection(digest.other_heading, tuple(sections[None]), not_shown.get(None, 0))
        )

    local = now.astimezone(digest.zone)
    date = local.date().isoformat()
    topic_count = len(built) - (1 if sections[None] or not_shown.get(None) else 0)
    subject = digest.subject.format(date=date, stories=len(shown), topics=topic_count)
    return Digest(
        name=digest.name,
        subject=" ".join(subject.split()),
        date=date,
        sections=tuple(built),
        generated=now,
        story_ids=tuple(shown),
        left_out=tuple(left_out),
    )


class _Series:
    """Whether two stories are two reports of a template series: a day's exchange-rate
    fixing and the next day's, two cities' case counts. Their leads name the same
    rare things, so they look like one event to `related`; sentences of the same
    shape with other figures tell them apart, as they do for dedup
    (`figures`, as stored with each item), and so do headlines of the same shape
    with other numbers (香港新增24例確診, 香港新增21例確診)."""

    def __init__(self) -> None:
        self._story: tuple[int, dict[int, int], dict[str, str]] | None = None
        self._heads: dict[int, tuple[dict[int, int], dict[str, str]]] = {}

    def apart(self, story: Story, groups: list[_Group], head: int) -> bool:
        if self._story is None or self._story[0] != story.id:
            self._story = (story.id, *self._figures(story))
        if head not in self._heads:
            self._heads[head] = self._figures(groups[head].head)
        _, text, title = self._story
        head_text, head_title = self._heads[head]
        return figures_differ(text, head_text) or headlines_differ(title, head_title)

    @staticmethod
    def _figures(story: Story) -> tuple[dict[int, int], dict[str, str]]:
        canonical = story.canonical
        return figures_of(canonical.figures), headline_figures(canonical.title)


def fair_share(groups: list[_Group], limit: int) -> tuple[list[_Group], list[_Group]]:
    """The `limit` groups shown, in rank order, and the rest.

    A feed that floods (thousands of items a day) would otherwise fill the
    digest with its own stories: each feed first gets an equal share of the
    places, its best-ranked groups; places a feed leaves unused go to the
    best-ranked groups left, whatever their feed.
    """
    if len(groups) <= limit:
        return groups, []
    feeds = {group.head.canonical.feed for group in groups}
    share = max(1, limit // len(feeds))
    taken: dict[str, int] = {}
    chosen: set[int] = set()
    for index, group in enumerate(groups):
        feed = group.head.canonical.feed
        if len(chosen) < limit and taken.get(feed, 0) < share:
            taken[feed] = taken.get(feed, 0) + 1
            chosen.add(index)
    for index in range(len(groups)):
        if len(chosen) >= limit:
            break
        chosen.add(index)
    shown = [group for index, group in enumerate(groups) if index in chosen]
    return shown, [group for index, group in enumerate(groups) if index not in chosen]


def _linked(stories: list[Story]) -> dict[int, list[int]]:
    """The stories each is related to by dedup (`StoredItem.related_to`: a follow-up
    and the report it repeats), both ways, among these: one event, whatever their
    headlines share."""
    present = {story.id for story in stories}
    linked: dict[int, list[int]] = {}
    for story in stories:
        for item in story.items:
            other = item.related_to
            if other is not None and other in present and other != story.id:
                linked.setdefault(story.id, []).append(other)
                linked.setdefault(other, []).append(story.id)
    return linked


def _outlets(story: Story) -> int:
    return len({item.source for item in story.items})


def _entry(story: Story, digest: DigestConfig, *, summary: bool = True) -> DigestEntry:
    """A story as the email shows it, by its `Story.headline`; a link the email may
    not make is "" (`link_target`); with no `summary`, a headline of the list that
    follows the summarised ones."""
    headline = story.headline
    also = tuple(
        replace(item, url=link_target(item.url) or "")
        for item in story.items
        if item.url != headline.url and item.source != headline.source
    )
    return DigestEntry(
        story=story.id,
        title=headline.title,
        url=link_target(headline.url) or "",
        source=headline.source,
        published=headline.published.astimezone(digest.zone),
        summary=summarize(headline.text, digest.summary_chars) if summary else "",
        also=_one_per_outlet(also),
    )


def _one_per_outlet(items: tuple[StoredItem, ...]) -> tuple[StoredItem, ...]:
    """ "Also carried by" names each outlet once (its first copy)."""
    seen: dict[str, StoredItem] = {}
    for item in items:
        seen.setdefault(item.source, item)
    return tuple(seen.values())
