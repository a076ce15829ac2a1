"""Typed records passed between the pipeline's stages.

fetch → `FetchResult` → parse → `Item` → adapt → `Article` → dedup/store →
`StoredItem` → digest → `Digest`. Each stage takes and returns plain frozen
dataclasses, so any stage can be tested with values built by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FetchResult:
    """What one fetch of one feed produced."""

    url: str
    status: int
    content: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    files: tuple[tuple[str, bytes], ...] = ()
    """For a feed that is a folder of archived items: (file name, bytes) of each."""
    cache_control: str | None = None
    expires: str | None = None
    date: str | None = None
    moved_to: str | None = None
    """The new address when every redirect on the way was permanent (301/308)."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Item:
    """One entry of a feed, as the feed states it."""

    guid: str
    url: str
    title: str
    published: datetime | None
    authors: tuple[str, ...]
    html: str
    source: str | None = None
    """The outlet the item names itself (an archive's ``categories``); None: the feed's name."""


@dataclass(frozen=True)
class Article:
    """An item after its site adapter cleaned it: what dedup and the digest see."""

    title: str
    url: str
    published: datetime
    authors: tuple[str, ...]
    text: str
    html: str | None
    """The sanitised markup; None when the adapter was not asked for it."""
    images: tuple[str, ...]
    source: str
    original_source: str | None = None
    truncated: bool = False
    """The feed cut the text short and said so ("……more", "[…]", "阅读全文"): its
    page has the rest, however long the part the feed gave."""
    dated: bool = True
    """False when neither the feed nor the page gave a usable date: `published` is
    then when the item was fetched, which orders no versions of it and which its
    page's date replaces (`parse.completed`)."""

    @property
    def is_repost(self) -> bool:
        return self.original_source is not None


@dataclass(frozen=True)
class StoredItem:
    """An item as the database holds it, for the digest and for export."""

    id: int
    feed: str
    guid: str
    url: str
    title: str
    published: datetime
    source: str
    original_source: str | None
    text: str
    story: int
    topics: tuple[str, ...]
    related_to: int | None = None
    """The story this item repeats under news of its own (`dedup.Decision.related`)."""
    figures: str = ""
    """Its text's figures as stored (`figures.figures_of` reads them): two reports
    of a template series differ in them."""


@dataclass(frozen=True)
class Story:
    """One story: its canonical item first, then the reposts of it."""

    id: int
    items: tuple[StoredItem, ...]

    @property
    def canonical(self) -> StoredItem:
        return self.items[0]

    @property
    def reposts(self) -> tuple[StoredItem, ...]:
        return self.items[1:]

    @property
    def headline(self) -> StoredItem:
        """The item the digest shows: the story's most complete version.

        An outlet's own article over a copy that names another as its original
        (an aggregator's), the first outlet's over later ones; then, of that
        outlet's versions of nearly the longest text (a full report over the
        flash it expanded), the latest (an edit over an older capture). The
        canonical item, the first stored, keeps deciding what joins the story.
        """
        own = [item for item in self.items if item.original_source is None] or list(self.items)
        outlet = own[0].source
        versions = [item for item in own if item.source == outlet]
        longest = max(len(item.text) for item in versions)
        complete = [item for item in versions if len(item.text) >= 0.9 * longest]
        return max(complete, key=lambda item: item.published)


@dataclass(frozen=True)
class DigestEntry:
    story: int
    title: str
    url: str
    source: str
    published: datetime
    summary: str
    also: tuple[StoredItem, ...]
    related: tuple[DigestEntry, ...] = ()
    """Other outlets' own articles about the same event ("相关报道")."""
    more_related: tuple[str, ...] = ()
    """The outlet of each related article beyond those shown ("and 3 more from …")."""
    updated: bool = False
    """Sent before, and back because a more complete version of it arrived."""


@dataclass(frozen=True)
class DigestSection:
    name: str
    entries: tuple[DigestEntry, ...]
    not_shown: int = 0
    """Headlines of this section beyond the digest's `max_stories`, left out."""


@dataclass(frozen=True)
class Digest:
    name: str
    subject: str
    date: str
    sections: tuple[DigestSection, ...]
    generated: datetime
    story_ids: tuple[int, ...] = field(default=())
    """The stories the email shows: as headlines, or as related entries."""
    left_out: tuple[int, ...] = field(default=())
    """The stories it names only in a count: recorded as left out, never sent later."""
    expired: int = 0
    """Of `left_out`, the stories that waited past the dedup window unsent."""

    @property
    def story_count(self) -> int:
        """Stories the email shows, headlines and related entries alike."""
        return len(self.story_ids)
