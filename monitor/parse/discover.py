"""Finding a site's feeds from one of its pages, as `monitor feeds add PAGE` does.

A page names its feeds with ``<link rel="alternate" type="application/rss+xml"
href="…">`` (or Atom's, or JSON Feed's type); they are tried in the page's
order, then the paths where sites usually put one. The first that reads as a
feed is taken. This is what Miniflux, FreshRSS and most readers do.
"""

from __future__ import annotations

import html
import io
import re
from urllib.parse import urljoin, urlsplit

from lxml import etree

from .jsonfeed import JSON_TYPES, looks_like_json_feed, read_json_feed

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", *JSON_TYPES)
USUAL_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml", "/feed.json")
_TAG = re.compile(r"<[^>]*>")
_HTML = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta)\b", re.I | re.S
)


def looks_like_html(content: bytes) -> bool:
    return bool(_HTML.match(content.lstrip(b"\xef\xbb\xbf")[:4096]))


def feed_links(page: bytes, page_url: str) -> list[str]:
    """The feeds `page` links to as alternates, absolute, in its order, then the usual
    paths on its host; each once."""
    found: list[str] = []
    try:
        document = etree.parse(io.BytesIO(page), etree.HTMLParser(no_network=True))
    except (etree.ParserError, ValueError):
        document = None
    root = document.getroot() if document is not None else None
    base = page_url
    if root is not None:
        for element in root.iter("base"):
            if element.get("href"):
                base = urljoin(page_url, element.get("href", ""))
                break
        for link in root.iter("link"):
            rel = (link.get("rel") or "").lower().split()
            kind = (link.get("type") or "").split(";")[0].strip().lower()
            href = (link.get("href") or "").strip()
            if "alternate" in rel and kind in FEED_TYPES and href:
                found.append(urljoin(base, href))
    parts = urlsplit(page_url)
    found += [f"{parts.scheme}://{parts.netloc}{path}" for path in USUAL_PATHS]
    return [url for url in dict.fromkeys(found) if urlsplit(url).scheme in ("http", "https")]


def feed_title(content: bytes, content_type: str | None) -> str:
    """The feed's own title (its channel's), or "" when it has none."""
    if looks_like_json_feed(content, content_type):
        return read_json_feed(content, "")[1]
    import feedparser

    parsed = feedparser.parse(io.BytesIO(content), sanitize_html=False, resolve_relative_uris=False)
    title = str(parsed.get("feed", {}).get("title") or "")
    if parsed.get("feed", {}).get("title_detail", {}).get("type") == "text/html":
        title = html.unescape(_TAG.sub("", title))  # an Atom title of type="html"
    return " ".join(title.split())
