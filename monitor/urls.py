"""URL normalisation: one spelling per page, so exact repeats are caught."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived, never which page it is.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
        "spm", "share_token", "from", "ref", "ref_src", "src", "at_medium", "at_campaign",
        "xtor", "cmpid", "ocid", "smid", "smtyp",
    }
)  # fmt: skip
IMAGE_PROXIES = ("images.weserv.nl", "wsrv.nl")
# A URL `canonical_url` would return unchanged: http(s), a lower-case ASCII host
# with no port, a path of characters it never escapes, no escapes, no query, no
# fragment. Most feeds' links are; taking them apart cost a tenth of adapting.
ALREADY_CANONICAL = re.compile(
    r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*/[A-Za-z0-9/:@!$&'()*+,;=._~-]*"
)


def canonical_url(url: str) -> str:
    """`url` with scheme and host lower-cased, default port, fragment and tracking removed.

    The path keeps its meaning but gets one spelling: percent-escapes are
    decoded and re-encoded, so a link written with raw Chinese characters and
    one written with escapes compare equal.
    """
    url = url.strip()
    return url if ALREADY_CANONICAL.fullmatch(url) else rebuilt_url(url)


def rebuilt_url(url: str) -> str:
    """`canonical_url` the long way: taken apart, each part normalised, put together."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%") or "/"
    # The query as the item gave it, less the tracking parameters: re-encoding it
    # as form fields would change what is not one ("?a b/c" is not "?a+b%2Fc=").
    kept = [
        quote(field, safe="/:@!$'()*+,;=?-._~%")
        for field in parts.query.split("&")
        if field and not _is_tracking(field.partition("=")[0])
    ]
    return urlunsplit((scheme, host, path, "&".join(kept), ""))


def _is_tracking(key: str) -> bool:
    key = unquote(key).lower()
    return key.startswith("utm_") or key in TRACKING_PARAMS


# A plain http(s) URL's host, read without taking the URL apart (a tenth of adapting).
_PLAIN_HOST = re.compile(r"https?://([A-Za-z0-9.-]+)(?:[/?#]|$)")


def host_of(url: str) -> str:
    """`url`'s host name, lower-cased ("" if it has none, or the URL cannot be read:
    a damaged item link such as ``http://[x/…`` then gets the generic adapter)."""
    plain = _PLAIN_HOST.match(url)
    if plain:
        return plain.group(1).lower()
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # "Invalid IPv6 URL"
        return ""


def unwrap_image_proxy(url: str) -> str:
    """The real image behind an ``images.weserv.nl/?url=…`` style proxy."""
    if host_of(url) not in IMAGE_PROXIES:  # most images: taken apart, a twentieth of adapting
        return url
    parts = urlsplit(url)
    target = dict(parse_qsl(parts.query)).get("url")
    if not target:
        return url
    if target.startswith("ssl:"):
        target = "https://" + target[4:]
    elif "://" not in target:
        target = "https://" + target
    return target


LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# What a browser drops from a URL before reading it (the WHATWG URL standard):
# tabs and newlines anywhere, C0 controls and spaces at either end.
_IGNORED_INSIDE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def as_read(url: str) -> str:
    """`url` as a browser reads it: without tabs and newlines, trimmed of C0
    controls and spaces."""
    return _IGNORED_INSIDE.sub("", url).strip(_C0_AND_SPACE)


def resolved_link(url: str, base: str) -> str:
    """`url` resolved against the http(s) address `base`, when it is relative as a
    browser reads it (``java<TAB>script:`` has a scheme, and stays as it is)."""
    cleaned = as_read(url)
    if not cleaned or _SCHEME.match(cleaned) or not base.startswith(("http://", "https://")):
        return url
    return urljoin(base, cleaned)


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def link_target(url: str) -> str | None:
    """`url` as it may be linked to from an email, or None if it may not.

    Only http, https and mailto: a mail client or browser runs ``javascript:``
    and ``vbscript:`` links, shows ``data:`` ones as pages of the feed's
    making, and opens ``file:`` ones on the reader's own disk; a relative link
    points nowhere in an email. The scheme is read as a browser reads it, so
    ``java<TAB>script:`` and ``JaVaScRiPt:`` are javascript.
    """
    cleaned = as_read(url)
    scheme, colon, _ = cleaned.partition(":")
    if not colon or scheme.lower() not in LINK_SCHEMES:
        return None
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in cleaned):
        return None
    return cleaned
