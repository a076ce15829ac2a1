"""Which of a feed's fetched items are stored already: by their GUID, or as a page
stored from another item under the same link.

A feed's GUID names its item, so a GUID the feed stored is that item again. A
link names a page, and usually one article: the same link from another feed is
the same article carried twice, and is not stored again. But some feeds link
several items to one page (a podcast's or a column's own address, a live
page, an outlet that rewrites a report under a new headline and GUID): there
the link is no item's identity, and taking it for one would drop every item
after the first. So an item under a new GUID is the page stored already only
when one of the items stored under its link has its headline (and, in its own
feed, its text: a column may title every item alike), or when the link came
from other feeds only and names one article there (one headline). Otherwise
it is stored, and the dedup rules decide its story by its text.

A GUID stored before may come back after fetches that did not list it (a feed
of the newest twenty lists an article again when it is updated). It is that
item again, and an edit of it only when the feed now says something else of
it than when it was stored (`changed`): its signature, not the adapters'
reading, so that an adapter improved since reads no stored item as new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..textnorm import normalize

if TYPE_CHECKING:
    from .preparation import PreparedItem

Stored = tuple[int, str, str]
"""An item stored under a link: its feed's id, its headline (as given) and its text's hash."""


@dataclass
class KnownItems:
    """What a feed's storing knows is stored, kept up to date as it stores items."""

    feed_id: int
    guids: dict[str, str | None] = field(default_factory=dict)
    """The feed's stored GUIDs, each with what the feed said of its item when it was
    stored (`parse.newest.signature`; None where not known)."""
    links: dict[str, list[Stored]] = field(default_factory=dict)
    """By link, each item stored under it. Headlines are normalised only where a link
    is met again, seldom."""

    def stored(self, guid: str, url: str, title: str, text_hash: str | None = None) -> bool:
        """Whether the item with this GUID, link and headline (and text, when known) is
        stored already.

        Under a new GUID, this feed's own item is the stored one only with its text
        too: a column or a show may title every item alike on one page, and an item
        given a new GUID with a new text is kept (the dedup rules then decide its
        story by its text, joining the stored one's if it is a copy)."""
        if guid in self.guids:
            return True
        used = self.links.get(url) if url else None
        if not used:
            return False
        headline = normalize(title)
        seen = [(feed, normalize(stored), text) for feed, stored, text in used]
        if any(
            stored == headline and (feed != self.feed_id or text_hash in (None, text))
            for feed, stored, text in seen
        ):
            return True
        return len({stored for _, stored, _ in seen}) == 1 and all(
            feed != self.feed_id for feed, _, _ in seen
        )

    def is_edit(self, item: PreparedItem) -> bool:
        """Whether `item` is an edit of a stored one: its feed said something else of
        its GUID at the last fetch (`PreparedItem.edited`), or when it was stored."""
        return item.edited or self.changed(item.guid, item.signature)

    def changed(self, guid: str, signature: str | None) -> bool:
        """Whether the feed stored an item under `guid` and now says something else of
        it: an edit, whether or not the last fetch listed it."""
        stored = self.guids.get(guid)
        return stored is not None and signature is not None and stored != signature

    def shared(self, url: str, title: str) -> bool:
        """Whether this feed stored another item, under another headline, with this link:
        a page it links several items to."""
        headline = normalize(title)
        return any(
            feed == self.feed_id and normalize(stored) != headline
            for feed, stored, _ in self.links.get(url, ())
        )

    def add(
        self, guid: str, url: str, title: str, text_hash: str, signature: str | None = None
    ) -> None:
        """Note an item stored (or about to be)."""
        self.guids[guid] = signature
        if url:
            self.links.setdefault(url, []).append((self.feed_id, title, text_hash))
