"""Turn feed bytes into `Item` records: plain RSS 2.0 with lxml, the rest with feedparser.

feedparser gets the bytes wrapped in a stream, never a string: given a string
it would treat it as a URL or a file name and open it. Its own sanitising and
URI resolution are off; the site adapters clean the HTML once, for the email.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import io
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..errors import ParseError
from ..models import Item
from ..urls import resolved_link
from .jsonfeed import looks_like_json_feed, read_json_feed
from .newest import Newest
from .rss import Entry, NotPlain, stream_rss


@dataclass(frozen=True)
class ParsedFeed:
    items: list[Item]
    warning: str | None = None
    ttl_minutes: int | None = None
    """The feed's RSS <ttl>: how long it may be cached."""


# The encoding feedparser reads: from any processing instruction first ("<?\x00ml" too).
_FEEDPARSER_ENCODING = re.compile(rb"^<\?.*encoding=['\"](?P<name>.*?)['\"].*\?>")
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=\s*['\"]([^'\"]*)['\"]", re.IGNORECASE)
_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_CHARSET_PARAMETER = re.compile(r";\s*charset\s*=\s*[\"']?[\w.:-]+[\"']?", re.IGNORECASE)


def as_utf8(content: bytes, content_type: str | None = None) -> bytes:
    """The feed as UTF-8 when it is in another encoding that nothing declares
    truly; else `content` itself.

    Feeds in GBK, GB18030 or Big5 often declare nothing, or declare UTF-8 (a
    template's XML declaration, a server's default charset); XML then means
    UTF-8 and feedparser, finding it is not, falls back to windows-1252, which
    turns Chinese into mojibake. An encoding declared (BOM, XML declaration,
    HTTP charset) in which the document reads is left to feedparser; otherwise
    the encoding is detected, and the result carries no declaration (the HTTP
    charset no longer applies: `as_utf8_type`). UTF-8 with a few broken
    bytes stays UTF-8, the broken ones replaced.
    """
    if content.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return content
    mangled = _FEEDPARSER_ENCODING.match(content)
    if mangled and not _known_encoding(mangled.group("name")):
        # A mangled declaration ("\x80tf-8") would crash feedparser: detect instead.
        content = content[mangled.end() :]
    declared = [
        found.group(1)
        for found in (
            _DECLARED.match(content),
            _CHARSET.search(content_type.encode("latin-1", "replace")) if content_type else None,
        )
        if found
    ]
    # Each name once: a document declared UTF-8 that is not is decoded once, not twice.
    names = dict.fromkeys(name.lower().replace(b"_", b"-") for name in [*declared, b"utf-8"])
    if any(_reads_as(content, name) for name in names):
        return content
    from charset_normalizer import from_bytes

    best = from_bytes(content[:200_000]).best()
    if best is None or not best.encoding:
        return content
    encoding = "utf-8" if best.encoding in ("utf_8", "ascii") else best.encoding
    text = content.decode(encoding, errors="replace")
    return _XML_DECLARATION.sub(b"", text.encode("utf-8"), count=1)


def as_utf8_type(content_type: str | None) -> str | None:
    """`content_type` of a document `as_utf8` converted: its charset UTF-8 (without
    one, feedparser takes text/xml for US-ASCII, RFC 3023)."""
    if not content_type:
        return content_type
    return _CHARSET_PARAMETER.sub("", content_type) + "; charset=utf-8"


def _reads_as(content: bytes, name: bytes) -> bool:
    try:
        content.decode(name.decode("ascii"))
    except (UnicodeDecodeError, LookupError, ValueError):
        return False
    return True


def _known_encoding(name: bytes) -> bool:
    try:
        codecs.lookup(name.decode("ascii"))
    except (UnicodeDecodeError, LookupError, ValueError):
        return False
    return True


def parse_feed(
    content: bytes,
    feed_name: str,
    content_type: str | None = None,
    into: Newest | None = None,
    base_url: str | None = None,
) -> ParsedFeed:
    """The items of one feed document; with `into`, only those it keeps.

    Relative item links (``<link>/news/123</link>``) are resolved against the
    document's ``xml:base`` and then `base_url`, the address it came from,
    before anything else sees them: the adapter is chosen by the link's host,
    and the digest links to it.

    Plain RSS 2.0 is read by `rss.stream_rss`, each item handed to `into` as
    it is read, so that a flood feed is never all in memory; the rest by
    feedparser. A damaged feed whose entries could still be read keeps them,
    with a warning (feedparser's "bozo" flag alone is not fatal); a document
    with nothing usable raises.
    """
    if not content.strip():
        raise ParseError(f"feed {feed_name!r}: empty response body")
    if looks_like_json_feed(content, content_type):
        items, _ = read_json_feed(content, feed_name)
        items = [absolute(item, base_url) for item in items]
        if into is None:
            return ParsedFeed(items)
        for item in items:
            into.offer(item)
        return ParsedFeed(into.items())
    read: list[Item] = []

    def take(entry: Entry) -> None:
        item = _item(entry)
        if item is not None:
            item = absolute(item, base_url)
            if into is None:
                read.append(item)
            else:
                into.offer(item)

    def plain(document: bytes, content_type: str | None) -> str | None:
        try:
            return stream_rss(document, content_type, take)
        except NotPlain:
            read.clear()
            if into is not None:
                into.reset()
            return None

    # lxml reads only well-formed UTF-8, which `as_utf8` would leave as it is:
    # checking that first cost a decoding of the whole document.
    ttl = plain(content, content_type)
    if ttl is None:
        converted = as_utf8(content, content_type)
        if converted is not content:
            content_type = as_utf8_type(content_type)
            ttl = plain(converted, content_type)
        content = converted
    if ttl is not None:
        return ParsedFeed(into.items() if into is not None else read, None, _ttl(ttl))
    parsed = _with_feedparser(content, feed_name, content_type, base_url)
    parsed = replace(parsed, items=[absolute(item, base_url) for item in parsed.items])
    if into is None:
        return parsed
    for item in parsed.items:
        into.offer(item)
    return replace(parsed, items=into.items())


_HTML_PAGE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype html|<html[\s>])",
    re.I | re.S,
)
"""A web page where a feed was expected: a site's home page, a login or error page."""


def parse_with_feedparser(
    content: bytes, feed_name: str, content_type: str | None = None
) -> ParsedFeed:
    """`parse_feed` by feedparser alone, for every format and every damage."""
    if not content.strip():
        raise ParseError(f"feed {feed_name!r}: empty response body")
    converted = as_utf8(content, content_type)
    if converted is not content:
        content_type = as_utf8_type(content_type)
    return _with_feedparser(converted, feed_name, content_type)


def _with_feedparser(
    content: bytes, feed_name: str, content_type: str | None, base_url: str | None = None
) -> ParsedFeed:
    import feedparser

    headers = {"content-type": content_type} if content_type else {}
    if base_url and base_url.startswith(("http://", "https://")):
        # The base of xml:base and of relative links. With headers but no type,
        # feedparser would read the document as US-ASCII text: XML's own rules
        # (byte order mark, declaration, else UTF-8) are application/xml's.
        headers["content-location"] = base_url
        headers.setdefault("content-type", "application/xml")
    parsed = feedparser.parse(
        io.BytesIO(content),
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers=headers or None,
    )
    entries = parsed.get("entries") or []
    ttl = _ttl(str(parsed.get("feed", {}).get("ttl", "")))
    reason = str(parsed.get("bozo_exception", "")).strip().split("\n")[0]
    detail = f": {reason}" if reason else ""
    if not entries:
        if _HTML_PAGE.search(content[:2048]):
            raise ParseError(
                f"feed {feed_name!r}: an HTML page, not a feed "
                "(monitor feeds add with the page's address finds the feeds it links to)"
            )
        if parsed.get("bozo"):
            raise ParseError(f"feed {feed_name!r}: not a readable feed{detail}")
        if not parsed.get("version"):
            raise ParseError(f"feed {feed_name!r}: not an RSS or Atom feed")
        return ParsedFeed([], None, ttl)
    items = [item for entry in entries if (item := _item(_entry(entry))) is not None]
    warning = None
    if parsed.get("bozo"):
        warning = f"feed {feed_name!r}: damaged feed, kept {len(items)} readable items{detail}"
    return ParsedFeed(items, warning, ttl)


def _ttl(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def _entry(entry: Any) -> Entry:
    """A feedparser entry as the record both readers give."""
    contents = entry.get("content") or []
    authors = [str(a.get("name") or "").strip() for a in entry.get("authors") or []]
    if not any(authors) and entry.get("author"):
        authors = [str(entry["author"]).strip()]
    # dict.get: feedparser's own get answers "updated" with the published date.
    keys = ("published_parsed", "updated_parsed", "created_parsed")
    dates = (dict.get(entry, key) for key in keys)
    return Entry(
        id=str(entry.get("id") or ""),
        link=str(entry.get("link") or ""),
        title=str(entry.get("title") or ""),
        summary=str(entry.get("summary") or ""),
        content=max((str(c.get("value") or "") for c in contents), key=len, default=""),
        dates=tuple(date for date in dates if date),
        authors=tuple(authors),
    )


def absolute(item: Item, base_url: str | None) -> Item:
    """`item` with its link (and a GUID that is the link) resolved against `base_url`."""
    if not base_url or not item.url:
        return item
    url = resolved_link(item.url, base_url)
    if url == item.url:
        return item
    return replace(item, url=url, guid=url if item.guid == item.url else item.guid)


def _item(entry: Entry) -> Item | None:
    link = entry.link.strip()
    title = " ".join(entry.title.split())
    html = entry.content if len(entry.content) >= len(entry.summary) else entry.summary
    if not (link or title or html):
        return None
    guid = entry.id.strip() or link
    if not guid:
        digest = hashlib.sha256(f"{title}\n{html}".encode()).hexdigest()[:32]
        guid = f"sha256:{digest}"
    return Item(
        guid=guid,
        url=link,
        title=title,
        published=_date(entry.dates),
        authors=tuple(dict.fromkeys(name for name in entry.authors if name)),
        html=html,
    )


def _date(dates: tuple[time.struct_time, ...]) -> datetime | None:
    for value in dates:
        try:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
        except (OverflowError, ValueError, OSError):
            continue
    return None
