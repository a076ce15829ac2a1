"""The items at a path or URL given on the command line (for `monitor parse`).

A feed URL or file is parsed as a feed; a folder is read as archived items;
a single archived item file (or any file that is not XML) is one item; an
http(s) URL that is not a feed is taken as one article page.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

from ..config import FeedConfig, FetchConfig, local_path, url_problem
from ..errors import FetchError, ParseError
from ..fetch import Fetcher, Validators
from ..models import FetchResult, Item
from ..parse import (
    archived_item_to_item,
    decoded,
    parse_archive,
    parse_feed,
    read_archived_item,
)

log = logging.getLogger("monitor")
_XML_START = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<(?:\?xml|rss|feed|rdf:RDF)\b", re.IGNORECASE)


def load_items(target: str) -> tuple[str, list[Item]]:
    """The items at `target` and a name for their source (host or file name)."""
    problem = url_problem(target)
    if problem:
        raise FetchError(f"{target}: {problem}")
    feed = FeedConfig(name=target, url=target)
    path = local_path(target, Path.cwd())
    result = asyncio.run(_fetch(feed))
    if result.files:
        return (path.name if path else target), parse_archive(result.files, target).items
    content = result.content or b""
    if path is not None:
        if _XML_START.match(content):
            return path.stem, parse_feed(content, target).items
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ParseError(f"{target}: not UTF-8 text") from e
        return path.stem, [archived_item_to_item(path.name, read_archived_item(text, target))]
    host = urlsplit(result.url).hostname or target
    try:
        return host, parse_feed(content, target, result.content_type, base_url=result.url).items
    except ParseError:
        if b"<" not in content or not _could_be_a_page(content, result.content_type):
            raise
        page = Item(guid=result.url, url=result.url, title="", published=None, authors=(), html="")
        return host, [_page_item(page, content)]


def _could_be_a_page(content: bytes, content_type: str | None) -> bool:
    """Whether a response that is no feed may be a web page: not served as another
    kind of file, and no binary bytes at its start."""
    kind = (content_type or "").partition(";")[0].strip().lower()
    if kind and not (kind.startswith("text/") or "html" in kind or "xml" in kind):
        return False
    return b"\0" not in content[:4096]


def load_pages(target: str, items: list[Item]) -> dict[str, tuple[str, str]]:
    """The article page of each of `items` (by GUID: address after redirects, markup),
    fetched under the rules a feed at `target` has; a page that fails is reported."""
    feed = FeedConfig(name=target, url=target)

    async def fetch_all() -> dict[str, tuple[str, str]]:
        pages: dict[str, tuple[str, str]] = {}
        async with Fetcher(FetchConfig(page_delay=0.2), Path.cwd()) as fetcher:

            async def one(item: Item) -> None:
                try:
                    result = await fetcher.fetch_page(feed, item.url)
                except FetchError as e:
                    log.warning("%s", e)
                    return
                pages[item.guid] = (result.url, decoded(result.content or b"", result.content_type))

            await asyncio.gather(*(one(item) for item in items if item.url))
        return pages

    return asyncio.run(fetch_all())


async def _fetch(feed: FeedConfig) -> FetchResult:
    async with Fetcher(FetchConfig(), Path.cwd()) as fetcher:
        return await fetcher.fetch(feed, Validators())


def _page_item(page: Item, content: bytes) -> Item:
    import lxml.html

    try:
        document = lxml.html.document_fromstring(content)
    except Exception as e:  # lxml raises several unrelated types for junk input
        raise FetchError(f"{page.url}: neither a feed nor an HTML page") from e
    title = " ".join((document.findtext(".//title") or "").split())
    body = document.find("body")
    html = lxml.html.tostring(body if body is not None else document, encoding="unicode")
    return Item(page.guid, page.url, title, None, (), html)
