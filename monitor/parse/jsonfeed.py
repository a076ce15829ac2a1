"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), read into the same `Item`s.

An item's ``content_html`` is its markup; a ``content_text`` alone becomes
paragraphs. ``id`` is its GUID (its URL when it has none); ``url`` its link,
else ``external_url``; ``date_published``, else ``date_modified``, its date.
Authors come from ``authors`` (1.1) or ``author`` (1.0), of the item or else
of the feed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from ..errors import ParseError
from ..models import Item

JSON_TYPES = ("application/feed+json", "application/json")


def looks_like_json_feed(content: bytes, content_type: str | None) -> bool:
    """Served as JSON, or a document that opens as a JSON object naming a version."""
    mime = (content_type or "").partition(";")[0].strip().lower()
    if mime in JSON_TYPES:
        return True
    head = content[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"jsonfeed.org/version" in content[:4096]


def read_json_feed(content: bytes, feed_name: str) -> tuple[list[Item], str]:
    """The items of a JSON Feed document, and its title."""
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ParseError(f"feed {feed_name!r}: not a readable JSON Feed: {e}") from e
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        "https://jsonfeed.org/version/1"
    ):
        raise ParseError(f"feed {feed_name!r}: JSON, but not a JSON Feed (no version)")
    entries = document.get("items")
    if not isinstance(entries, list):
        raise ParseError(f"feed {feed_name!r}: JSON Feed without an items list")
    feed_authors = _authors(document)
    items = [item for entry in entries if (item := _item(entry, feed_authors)) is not None]
    return items, _text(document.get("title"))


def _item(entry: Any, feed_authors: tuple[str, ...]) -> Item | None:
    if not isinstance(entry, dict):
        return None
    link = _text(entry.get("url")) or _text(entry.get("external_url"))
    title = " ".join(_text(entry.get("title")).split())
    html = _text(entry.get("content_html"))
    if not html and (text := _text(entry.get("content_text") or entry.get("summary"))):
        html = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())
    guid = _text(entry.get("id")) or link
    if not (guid and (link or title or html)):
        return None
    return Item(
        guid=guid,
        url=link,
        title=title,
        published=_date(entry.get("date_published")) or _date(entry.get("date_modified")),
        authors=_authors(entry) or feed_authors,
        html=html,
    )


def _authors(holder: dict[str, Any]) -> tuple[str, ...]:
    people = holder.get("authors")
    if not isinstance(people, list):
        people = [holder.get("author")]
    names = (_text(person.get("name")) for person in people if isinstance(person, dict))
    return tuple(dict.fromkeys(name for name in names if name))


def _date(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
