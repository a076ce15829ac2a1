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

import re
from dataclasses import dataclass
from datetime import UTC, datetime

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
