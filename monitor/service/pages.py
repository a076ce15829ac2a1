"""Full text for teaser feeds: fetch the article pages of a feed's new items.

Between parsing a feed and storing it, the items whose feed text is a teaser
(`full_text = "auto"`, or every item with "always") have their pages fetched,
through the feed fetcher's limits and reach rule, and read by their site's
adapter (`preparation.complete_items`). A page that fails leaves the teaser;
it is recorded against the stored item and tried again, with back-off, at the
feed's later fetches (`PAGE_RETRIES` times at most), the full text then
replacing the teaser (`store_pages`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..config import FeedConfig
from ..errors import FetchError
from ..fetch import Fetcher, retry_seconds
from ..store import DuePage, EditPage, PageFailure

if TYPE_CHECKING:
    from .preparation import PageNote, PreparedItem

PAGE_RETRIES = 3
"""Tries after the first for a page that failed; then the teaser is final."""
RETRY_BASE = timedelta(minutes=15)
"""The wait before the first retry; each next one waits four times longer."""
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 410, 451})
"""A page answering these will not give the article by being asked again."""


def wanted(feed: FeedConfig, items: Sequence[PreparedItem]) -> list[PreparedItem]:
    """The items whose page the feed's `full_text` asks for: not those whose link
    an item under another GUID has too (a podcast's or a column's page is none of
    theirs, and would give each of them its text). Versions of one GUID share
    their page, which is the newest's: it is asked for once, for that one, and
    the older versions, teasers still, are taken for older versions of it."""
    if not feed.fetches_pages:
        return []
    from ..parse import is_teaser
    from .settle import publication_order

    guids: dict[str, set[str]] = {}
    newest: dict[tuple[str, str], PreparedItem] = {}
    for item in items:
        guids.setdefault(item.article.url, set()).add(item.guid)
        key = (item.guid, item.article.url)
        if key not in newest or publication_order(item) > publication_order(newest[key]):
            newest[key] = item
    return [
        item
        for item in items
        if item.article.url.startswith(("http://", "https://"))
        and len(guids[item.article.url]) == 1
        and newest[(item.guid, item.article.url)] is item
        and (feed.full_text == "always" or is_teaser(item.article))
    ]


def due_items(due: Sequence[DuePage]) -> list[PreparedItem]:
    """Stored teasers whose page is due again, as items to complete."""
    if not due:
        return []  # nearly always: then the dedup code need not be loaded
    from ..dedup import Features
    from .preparation import PageNote, PreparedItem

    return [
        PreparedItem(
            d.guid,
            d.article,
            Features.of(d.article.text or d.article.title, title=d.article.title),
            d.topics,
            PageNote(d.url, attempts=d.attempts),
            replaces=d.item_id,
            signature=d.signature,
        )
        for d in due
    ]


def edit_tries(
    items: Sequence[PreparedItem], tried: Mapping[tuple[str, str], EditPage], now: datetime
) -> list[PreparedItem]:
    """Each item, an edit whose page failed before (`tried`, by GUID and signature)
    with that page's note: its tries so far, and `waiting` until its next try has
    come. An edit's page is tried on a stored teaser's back-off, not at every fetch
    of its feed (`retry_at`)."""
    from .preparation import PageNote

    noted = []
    for item in items:
        page = tried.get((item.guid, item.signature or ""))
        if page is None:
            noted.append(item)  # a first try
            continue
        waiting = page.retry_at > now
        note = PageNote(page.url, page.error, attempts=page.attempts, waiting=waiting)
        noted.append(replace(item, page=note))
    return noted


async def fetch_pages(
    fetcher: Fetcher, feed: FeedConfig, items: Sequence[PreparedItem]
) -> tuple[list[PreparedItem], list[tuple[str, str] | None]]:
    """Fetch each item's page: the items with their `PageNote`, and beside each the
    page that came (address after redirects, markup), or None. Not by GUID: a feed
    may give one GUID to items linking to pages of their own."""
    from ..parse import decoded
    from .preparation import PageNote

    async def one(item: PreparedItem) -> tuple[PreparedItem, tuple[str, str] | None]:
        attempts = (item.page.attempts if item.page else 0) + 1
        url = item.page.url if item.page else item.article.url
        try:
            result = await fetcher.fetch_page(feed, url)
        except FetchError as e:
            permanent = e.status in PERMANENT_STATUSES or (e.status is None and not e.retry_after)
            # A page out of reach, or not HTML, stays so; a network failure may not.
            permanent = permanent and "timed out" not in str(e) and "connect" not in str(e)
            note = PageNote(url, str(e), e.retry_after, permanent, attempts)
            return replace(item, page=note), None
        page = decoded(result.content or b"", result.content_type)
        return replace(item, page=PageNote(url, attempts=attempts)), (result.url, page)

    done = await asyncio.gather(*(one(item) for item in items))
    return [item for item, _ in done], [page for _, page in done]


def failures(
    items: Sequence[PreparedItem], item_ids: dict[str, int], now: datetime
) -> list[PageFailure]:
    """The failed pages of these stored items (ids by GUID), each with its next try."""
    found = []
    for item in items:
        note = item.page
        if note is None or note.error is None or item.guid not in item_ids:
            continue
        found.append(
            PageFailure(
                item_ids[item.guid], note.url, note.attempts, note.error, retry_at(note, now)
            )
        )
    return found


def retry_at(note: PageNote, now: datetime) -> datetime | None:
    """When to try a failed page again: 15 minutes, an hour, four hours after its
    failures, or later if the server asked; None after `PAGE_RETRIES` retries."""
    if note.permanent or note.attempts > PAGE_RETRIES:
        return None
    wait = RETRY_BASE * (1 << 2 * (note.attempts - 1))  # 4 ** (attempts - 1)
    asked = retry_seconds(note.retry_after) if note.retry_after else None
    if asked is not None:
        wait = max(wait, timedelta(seconds=asked))
    return now + wait
