"""OPML 2.0 subscription lists: read what other readers export, write our own.

Readers nest feeds under category outlines (Miniflux, FreshRSS), or put them
flat with an optional ``category`` attribute ("news,asia" or "/news/asia")
(rss2email, reader and others). Either way a feed's categories become its
topics here, and export writes them back as category outlines, which every
reader reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree

from ..errors import ConfigError


@dataclass(frozen=True)
class OpmlFeed:
    name: str
    url: str
    categories: tuple[str, ...] = ()
    site: str | None = None


@dataclass
class _Walk:
    feeds: list[OpmlFeed] = field(default_factory=list)


def read_opml(content: bytes, source: str) -> list[OpmlFeed]:
    """The feeds in an OPML document, in order; `source` names it in errors."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as e:
        line = e.position[0] if e.position else "?"
        raise ConfigError(f"{source}:{line}: not an OPML file: {e}") from e
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ConfigError(f"{source}: not an OPML file (no <opml><body>)")
    walk = _Walk()
    for outline in body:
        _outline(outline, (), walk)
    return walk.feeds


def _outline(element: ElementTree.Element, parents: tuple[str, ...], walk: _Walk) -> None:
    if element.tag != "outline":
        return
    url = (element.get("xmlUrl") or element.get("xmlurl") or "").strip()
    name = (element.get("title") or element.get("text") or "").strip()
    if url:
        categories = list(parents)
        for value in (element.get("category") or "").split(","):
            for part in value.strip().strip("/").split("/"):
                if part.strip():
                    categories.append(part.strip())
        walk.feeds.append(
            OpmlFeed(
                name=name or url,
                url=url,
                categories=tuple(dict.fromkeys(categories)),
                site=element.get("htmlUrl") or None,
            )
        )
        return
    group = (parents + (name,)) if name else parents
    for child in element:
        _outline(child, group, walk)


def write_opml(feeds: list[OpmlFeed], title: str = "monitor feeds") -> str:
    """OPML 2.0: feeds with a category under its outline, the rest at the top."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC))
    body = ElementTree.SubElement(root, "body")
    groups: dict[str, ElementTree.Element] = {}
    for feed in feeds:
        attributes = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if feed.site:
            attributes["htmlUrl"] = feed.site
        if feed.categories:
            attributes["category"] = ",".join(feed.categories)
            first = feed.categories[0]
            if first not in groups:
                groups[first] = ElementTree.SubElement(body, "outline", text=first, title=first)
            ElementTree.SubElement(groups[first], "outline", attributes)
        else:
            ElementTree.SubElement(body, "outline", attributes)
    ElementTree.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(root, encoding="unicode")
        + "\n"
    )
