"""Which of a feed's fetched items are stored already: by their GUID, or as a page
stored from another item under the same link.

A feed's GUID names its item, so a GUID the feed stored is that item again. A
link names a page, and usually one article: the same link from another feed is
the same article carried twice, and is not stored again. But some feeds link
several items to one page (a podcast's or a column's own address, a live
page, an outlet that rewrites a report under a new headline and GUID): there
the link is no item's identity, and taking it for one would drop every item
after the first. So an item under a new GUID is the page stored already only
when one of the items stored under its link has its headline, or when the
link came from other feeds only and names one article there (one headline).
Otherwise it is stored, and the dedup rules decide its story by its text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..textnorm import normalize


@dataclass
class KnownItems:
    """What a feed's storing knows is stored, kept up to date as it stores items."""

    feed_id: int
    guids: set[str] = field(default_factory=set)
    links: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    """By link, each item stored under it: its feed's id and its headline (as given:
    headlines are compared, normalised, only where links are shared, seldom)."""

    def stored(self, guid: str, url: str, title: str) -> bool:
        """Whether the item with this GUID, link and headline is stored already."""
        if guid in self.guids:
            return True
        used = self.links.get(url) if url else None
        if not used:
            return False
        headlines = {normalize(stored) for _, stored in used}
        if normalize(title) in headlines:
            return True
        return len(headlines) == 1 and all(feed != self.feed_id for feed, _ in used)

    def shared(self, url: str, title: str) -> bool:
        """Whether this feed stored another item, under another headline, with this link:
        a page it links several items to."""
        headline = normalize(title)
        return any(
            feed == self.feed_id and normalize(stored) != headline
            for feed, stored in self.links.get(url, ())
        )

    def add(self, guid: str, url: str, title: str) -> None:
        """Note an item stored (or about to be)."""
        self.guids.add(guid)
        if url:
            self.links.setdefault(url, []).append((self.feed_id, title))
