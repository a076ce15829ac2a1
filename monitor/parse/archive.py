"""Read the item archive format that full-text feed mirrors write to disk.

One file per item::

    <!--1679156225000-->            publication time, epoch milliseconds
    [title](https://example.org/a)  markdown link: title and URL
    ------
                                    a blank line
    <p>the item's HTML…</p>

Archives that publish the items as a site put a YAML front matter before the
stamp (``---``, ``title:``, ``date:``, ``author:``, ``from:`` = the article's
URL, ``categories:`` = the outlet, ``---``); its fields stand in for the
item's own lines where those lack them. A front matter may also follow the
rule. A file without the header is a plain-text page: its title is its first
line that is not page chrome. Anything else (an empty file, a front matter
that never closes, a header with no title or URL) is not an item: `ParseError`
names the file.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import ParseError
from ..models import Item
from .feed import ParsedFeed

_STAMP = re.compile(r"^\s*<!--\s*(\d{10,16})\s*-->\s*$")
_LINK = re.compile(r"^\s*\[(?P<title>.*)\]\((?P<url>[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\)\s*$")
_RULE = re.compile(r"^\s*-{3,}\s*$")
# Lines that are buttons or counters, never a title.
_CHROME_LINE = re.compile(r"^(关闭广告|广告|分享|收藏|.{0,12}\d+人阅读)$")
_FIELD = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*?)\s*$")
# Front matter keys whose values are the outlet, not a person: `author` often repeats them.
_OUTLET_KEYS = ("categories", "tags")


@dataclass(frozen=True)
class ArchivedItem:
    title: str
    url: str
    published: datetime | None
    body: str
    is_html: bool
    authors: tuple[str, ...] = ()
    """People named by a front matter's ``author`` (not when it is the outlet)."""
    outlet: str | None = None
    """The outlet a front matter's ``categories`` name."""


def read_archived_item(text: str, name: str = "the item") -> ArchivedItem:
    """Split one archived item into its header fields and its body.

    Raises `ParseError`, naming `name`, for a file in no known format.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    if not text.strip():
        raise ParseError(f"{name}: empty file, not an archived item")
    lines = text.split("\n")
    index = _skip_blank(lines, 0)
    fields: dict[str, str] = {}
    if index < len(lines) and _RULE.match(lines[index]) and lines[index].strip() == "---":
        fields, index = _front_matter(lines, index, name)
        index = _skip_blank(lines, index)
    published: datetime | None = None
    if index < len(lines) and (stamp := _STAMP.match(lines[index])):
        value = int(stamp.group(1))
        seconds = value / 1000 if value > 10**11 else value
        published = datetime.fromtimestamp(seconds, UTC)
        index += 1
    link = _LINK.match(lines[index]) if index < len(lines) else None
    if link and index + 1 < len(lines) and _RULE.match(lines[index + 1]):
        body_lines = lines[index + 2 :]
        start = _skip_blank(body_lines, 0)
        if start < len(body_lines) and body_lines[start].strip() == "---":
            more, start = _front_matter(body_lines, start, name)
            fields = {**more, **fields}
        return _with_fields(
            ArchivedItem(
                title=link.group("title").strip(),
                url=link.group("url").strip(),
                published=published,
                body="\n".join(body_lines[start:]).strip(),
                is_html=True,
            ),
            fields,
            name,
        )
    body = "\n".join(lines[index:]).strip()
    if fields:
        # A front matter, then the item's HTML without the seed header.
        return _with_fields(ArchivedItem("", "", published, body, is_html=True), fields, name)
    title = next(
        (s for line in body.split("\n") if (s := line.strip()) and not _CHROME_LINE.match(s)),
        "",
    )
    return ArchivedItem(title=title, url="", published=published, body=body, is_html=False)


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _front_matter(lines: list[str], index: int, name: str) -> tuple[dict[str, str], int]:
    """The ``key: value`` lines between the ``---`` at `index` and the next; the line after."""
    fields: dict[str, str] = {}
    for end in range(index + 1, len(lines)):
        line = lines[end]
        if line.strip() == "---":
            return fields, end + 1
        if field := _FIELD.match(line):
            fields[field.group("key").lower()] = _scalar(field.group("value"))
    raise ParseError(f"{name}: its front matter (from line {index + 1}) has no closing '---'")


def _scalar(value: str) -> str:
    """A YAML value as the archives write them: plain, quoted, or a ``[ list ]`` (joined)."""
    if value.startswith("[") and value.endswith("]"):
        return ", ".join(_scalar(part.strip()) for part in value[1:-1].split(",") if part.strip())
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        if value[0] == '"':
            return re.sub(r'\\(["\\/])', r"\1", inner)
        return inner.replace("''", "'")
    return value


def _with_fields(item: ArchivedItem, fields: dict[str, str], name: str) -> ArchivedItem:
    """`item` completed from a front matter's fields, where its own lines lack them."""
    if not fields:
        return item
    outlets = [o for key in _OUTLET_KEYS for o in fields.get(key, "").split(", ") if o]
    author = fields.get("author", "")
    authors = (author,) if author and author not in outlets and author != "unknown" else ()
    published = item.published
    if published is None and fields.get("date"):
        try:
            published = datetime.fromisoformat(fields["date"].replace("Z", "+00:00"))
        except ValueError:
            published = None
    title = item.title or fields.get("title", "")
    url = item.url or fields.get("from", "") or fields.get("link", "")
    if not title and not url:
        raise ParseError(f"{name}: its front matter names neither a title nor a URL")
    return ArchivedItem(
        title=title,
        url=url,
        published=published,
        body=item.body,
        is_html=item.is_html,
        authors=authors,
        outlet=outlets[0] if outlets else None,
    )


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
        authors=item.authors,
        html=body,
        source=item.outlet,
    )


def parse_archive(files: tuple[tuple[str, bytes], ...], feed_name: str) -> ParsedFeed:
    """The items of a folder feed; a file that cannot be read is skipped and named."""
    items: list[Item] = []
    bad: list[str] = []
    unknown: list[str] = []
    for name, content in files:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            bad.append(name)
            continue
        try:
            items.append(archived_item_to_item(name, read_archived_item(text, name)))
        except ParseError as e:
            unknown.append(str(e))
    problems = []
    if bad:
        problems.append(f"skipped files that are not UTF-8 text: {', '.join(bad)}")
    if unknown:
        problems.append(f"skipped files in no known item format: {'; '.join(unknown)}")
    warning = f"feed {feed_name!r}: {'; '.join(problems)}" if problems else None
    return ParsedFeed(items, warning)
