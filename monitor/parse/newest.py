"""Which of a feed's items to take: each once, not those stored, and at most the newest few.

A flood feed (84,000 items in 9.7 MB, under the byte cap) took 0.5-1 GB to
prepare and store in one go, 200,000 items 3.5 GB; a feed of news has tens
of new items at a time. So a fetch takes at most ``[fetch] max_items`` new
items, the newest (items without a date count as the oldest; on a tie the
feed's order decides), and the rest are let go as they are read: only their
GUIDs are kept, so that the next fetch skips them too.

An item under a stored GUID is taken again when what the feed says of it
changed (`signature`): outlets expand a flash, correct a figure or rewrite a
headline in place, under the same GUID and link.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Mapping
from datetime import UTC, datetime

from ..models import Item

OLDEST = datetime.min.replace(tzinfo=UTC)


def stored_guid(guid: str) -> str:
    """A GUID as it is stored: without NUL characters (`service.preparation`)."""
    return guid.replace("\x00", "") if "\x00" in guid else guid


def signature(item: Item) -> str:
    """What a feed says of an item (headline, link, content), in 16 hex digits."""
    said = "\x00".join((item.title, item.url, item.html)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(said, digest_size=8).hexdigest()


def version_key(guid: str, mark: str) -> str:
    """Where the signature of a later version of an item in one document is recorded,
    beside its GUID's (which is its first version's)."""
    return f"{guid}#version-{mark}"


class Newest:
    """Takes a feed's items one at a time (`offer`) and keeps the newest new ones."""

    def __init__(self, limit: int | None, known: Mapping[str, str | None] | None = None) -> None:
        self.limit = limit
        self.known_guids: Mapping[str, str | None] = known or {}
        """Stored GUIDs, with the `signature` each had when stored (None: not known)."""
        self.reset()

    def reset(self) -> None:
        """Forget every item offered: the document is read again, another way."""
        self.known: list[str] = []
        """The GUIDs offered that were stored before, unchanged, in the feed's order.
        GUIDs here are as stored (`stored_guid`)."""
        self.signatures: dict[str, str] = {}
        """The `signature` of every item offered, by GUID."""
        self.edited: set[str] = set()
        """The GUIDs stored before that the feed now says something else of: taken
        again, as new items are."""
        self.repeats = 0
        """Items whose GUID came earlier in the same document, saying the same."""
        self._versions: set[tuple[str, str]] = set()
        self._versioned: set[str] = set()
        self._versions_left: set[tuple[str, str]] = set()
        self.over: list[str] = []
        """The GUIDs of new items left over the limit."""
        self.left: list[tuple[str, str]] = []
        """Each item left over the limit: its GUID and its `signature`."""
        self._kept: list[tuple[tuple[datetime, int], int, Item, str]] = []
        self._count = 0

    def offer(self, item: Item) -> None:
        guid = stored_guid(item.guid)
        mark = signature(item)
        first = guid not in self.signatures
        if first:
            self.signatures[guid] = mark
        else:
            # The GUID again, saying something else: another version of the item, or
            # another article a feed put under it. Taken: storing tells them apart.
            if mark == self.signatures[guid] or (guid, mark) in self._versions:
                self.repeats += 1
                return
            self._versions.add((guid, mark))
            self._versioned.add(guid)
        if guid in self.known_guids:
            # A version the feed gave before, under either of its keys, is known
            # whatever the order of them in this document.
            stored = self.known_guids[guid]
            if stored in (None, mark) or version_key(guid, mark) in self.known_guids:
                if first:
                    self.known.append(guid)
                return
            self.edited.add(guid)
        index = self._count
        self._count += 1
        entry = ((item.published or OLDEST, -index), index, item, mark)
        if self.limit is None or len(self._kept) < self.limit:
            heapq.heappush(self._kept, entry)
            return
        _, _, left, left_mark = heapq.heappushpop(self._kept, entry)
        left_guid = stored_guid(left.guid)
        self.over.append(left_guid)
        self.left.append((left_guid, left_mark))
        if left_guid in self.known_guids:
            # An edit over the limit is taken by a later fetch, wherever the
            # document lists it: its version is not recorded as known.
            self._versions_left.add((left_guid, left_mark))

    def has_versions(self, item: Item) -> bool:
        """Whether the document gives `item`'s GUID more than one version."""
        return stored_guid(item.guid) in self._versioned

    def signature_of(self, item: Item) -> str:
        """`item`'s `signature`, hashed again only where the document lists other
        versions of its GUID."""
        guid = stored_guid(item.guid)
        return signature(item) if guid in self._versioned else self.signatures[guid]

    def version_of(self, item: Item) -> str | None:
        """The key `item`'s signature is recorded under when it is a later version of
        its GUID in the document (`version_key`); None for its first."""
        guid = stored_guid(item.guid)
        if guid not in self._versioned:
            return None
        mark = self.signature_of(item)
        return None if mark == self.signatures[guid] else version_key(guid, mark)

    def versions(self) -> dict[str, str]:
        """Each version offered of a GUID after its first, under its `version_key`: the
        signatures to record, so that the next fetch knows them too."""
        return {
            version_key(guid, mark): mark for guid, mark in self._versions - self._versions_left
        }

    def settled(self, guid: str) -> str | None:
        """The signature to record for an item offered and not taken (stored, or
        over the limit): an edit left over the limit keeps its stored one, so that
        a later fetch takes it."""
        if guid in self.edited:
            return self.known_guids[guid]
        return self.signatures[guid]

    def items(self) -> list[Item]:
        """The new items kept, in the feed's order."""
        return [item for _, _, item, _ in sorted(self._kept, key=lambda entry: entry[1])]
