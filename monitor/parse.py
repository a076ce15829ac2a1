"""Turn feed bytes into `Item` records with feedparser.

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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from .errors import ParseError
from .models import Item


@dataclass(frozen=True)
class ParsedFeed:
    items: list[Item]
    warning: str | None = None
    ttl_minutes: int | None = None
    """The feed's RSS <ttl>: how long it may be cached."""


_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=", re.IGNORECASE)
# The encoding feedparser reads: from any processing instruction first ("<?\x00ml" too).
_FEEDPARSER_ENCODING = re.compile(rb"^<\?.*encoding=['\"](?P<name>.*?)['\"].*\?>")
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def as_utf8(content: bytes, content_type: str | None = None) -> bytes:
    """The feed as UTF-8 when it is in another encoding that nothing declares.

    Feeds in GBK, GB18030 or Big5 often declare nothing; XML then means UTF-8
    and feedparser, finding it is not, falls back to windows-1252, which turns
    Chinese into mojibake. A declared encoding (BOM, XML declaration, HTTP
    charset) is left to feedparser; an undeclared one is detected.
    """
    if content.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return content
    mangled = _FEEDPARSER_ENCODING.match(content)
    if mangled and not _known_encoding(mangled.group("name")):
        # A mangled declaration ("\x80tf-8") would crash feedparser: detect instead.
        content = content[mangled.end() :]
    if _XML_ENCODING.match(content) or (content_type and _CHARSET.search(content_type)):
        return content
    try:
        content.decode("utf-8")
        return content
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(content[:200_000]).best()
    if best is None or not best.encoding or best.encoding in ("utf_8", "ascii"):
        return content
    text = content.decode(best.encoding, errors="replace")
    return _XML_DECLARATION.sub(b"", text.encode("utf-8"), count=1)


def _known_encoding(name: bytes) -> bool:
    try:
        codecs.lookup(name.decode("ascii"))
    except (UnicodeDecodeError, LookupError, ValueError):
        return False
    return True


def parse_feed(content: bytes, feed_name: str, content_type: str | None = None) -> ParsedFeed:
    """The items of one feed document.

    A damaged feed whose entries could still be read keeps them, with a
    warning (feedparser's "bozo" flag alone is not fatal); a document with
    nothing usable raises.
    """
    if not content.strip():
        raise ParseError(f"feed {feed_name!r}: empty response body")
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(
        io.BytesIO(as_utf8(content, content_type)),
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers=headers,
    )
    entries = parsed.get("entries") or []
    reason = str(parsed.get("bozo_exception", "")).strip().split("\n")[0]
    detail = f": {reason}" if reason else ""
    if not entries:
        if parsed.get("bozo"):
            raise ParseError(f"feed {feed_name!r}: not a readable feed{detail}")
        if not parsed.get("version"):
            raise ParseError(f"feed {feed_name!r}: not an RSS or Atom feed")
        return ParsedFeed([])
    items = [item for entry in entries if (item := _item(entry)) is not None]
    warning = None
    if parsed.get("bozo"):
        warning = f"feed {feed_name!r}: damaged feed, kept {len(items)} readable items{detail}"
    ttl = str(parsed.get("feed", {}).get("ttl", "")).strip()
    return ParsedFeed(items, warning, int(ttl) if ttl.isdigit() and int(ttl) > 0 else None)


def _item(entry: Any) -> Item | None:
    link = str(entry.get("link") or "").strip()
    title = " ".join(str(entry.get("title") or "").split())
    html = _content(entry)
    if not (link or title or html):
        return None
    guid = str(entry.get("id") or "").strip() or link
    if not guid:
        digest = hashlib.sha256(f"{title}\n{html}".encode()).hexdigest()[:32]
        guid = f"sha256:{digest}"
    return Item(
        guid=guid,
        url=link,
        title=title,
        published=_date(entry),
        authors=_authors(entry),
        html=html,
    )


def _content(entry: Any) -> str:
    contents = entry.get("content") or []
    best = max((str(c.get("value") or "") for c in contents), key=len, default="")
    summary = str(entry.get("summary") or "")
    return best if len(best) >= len(summary) else summary


def _date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _authors(entry: Any) -> tuple[str, ...]:
    names = [str(a.get("name") or "").strip() for a in entry.get("authors") or []]
    names = [n for n in names if n]
    if not names and entry.get("author"):
        names = [str(entry["author"]).strip()]
    return tuple(dict.fromkeys(names))
