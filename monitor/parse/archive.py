"""Read the item archive format that full-text feed mirrors write to disk.

One file per item::

    <!--1679156225000-->            publication time, epoch milliseconds
    [title](https://example.org/a)  markdown link: title and URL
    ------
                                    a blank line
    <p>the item's HTML…</p>

Optionally YAML-style front matter (``---`` … ``---``) precedes the HTML.
A file without this header is a plain-text page: its title is its first
line that is not page chrome.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..models import Item
from .feed import ParsedFeed

_STAMP = re.compile(r"^\s*<!--\s*(\d{10,16})\s*-->\s*$")
_LINK = re.compile(r"^\s*\[(?P<title>.*)\]\((?P<url>[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\)\s*$")
_RULE = re.compile(r"^\s*-{3,}\s*$")
# Lines that are buttons or counters, never a title.
_CHROME_LINE = re.compile(r"^(关闭广告|广告|分享|收藏|.{0,12}\d+人阅读)$")


@dataclass(frozen=True)
class ArchivedItem:
    title: str
    url: str
    published: datetime | None
    body: str
    is_html: bool


def read_archived_item(text: str) -> ArchivedItem:
    """Split one archived item into its header fields and its body."""
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    published: datetime | None = None
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index < len(lines) and (stamp := _STAMP.match(lines[index])):
        value = int(stamp.group(1))
        seconds = value / 1000 if value > 10**11 else value
        published = datetime.fromtimestamp(seconds, UTC)
        index += 1
    link = _LINK.match(lines[index]) if index < len(lines) else None
    if link and index + 1 < len(lines) and _RULE.match(lines[index + 1]):
        body = "\n".join(lines[index + 2 :])
        body = _strip_front_matter(body.lstrip("\n"))
        return ArchivedItem(
            title=link.group("title").strip(),
            url=link.group("url").strip(),
            published=published,
            body=body.strip(),
            is_html=True,
        )
    body = "\n".join(lines[index:]).strip()
    title = next(
        (s for line in body.split("\n") if (s := line.strip()) and not _CHROME_LINE.match(s)),
        "",
    )
    return ArchivedItem(title=title, url="", published=published, body=body, is_html=False)


def _strip_front_matter(body: str) -> str:
    if body.startswith("---\n"):
        end = body.find("\n---", 4)
        if end != -1:
            return body[end + 4 :].lstrip("\n")
    return body


def archived_item_to_item(name: str, item: ArchivedItem) -> Item:
    """An archived item as a feed `Item`; plain text becomes one paragraph per line."""
    body = item.body
    if not item.is_html:
        lines = (s for line in body.split("\n") if (s := line.strip()))
        body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return Item(
        guid=item.url or f"archive:{name}",
        url=item.url,
        title=item.title,
        published=item.published,
        authors=(),
        html=body,
    )


def parse_archive(files: tuple[tuple[str, bytes], ...], feed_name: str) -> ParsedFeed:
    """The items of a folder feed; a file that cannot be decoded is skipped and named."""
    items: list[Item] = []
    bad: list[str] = []
    for name, content in files:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            bad.append(name)
            continue
        items.append(archived_item_to_item(name, read_archived_item(text)))
    warning = None
    if bad:
        warning = f"feed {feed_name!r}: skipped files that are not UTF-8 text: {', '.join(bad)}"
    return ParsedFeed(items, warning)
