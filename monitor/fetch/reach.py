"""Where a feed's redirects, and its items' links, may lead: one rule, in one place.

A feed's server chooses where its redirects go. Followed blindly, a public
feed could send `monitor` to the machine's own services (``127.0.0.1``), the
local network (``10.0.0.0/8``, ``192.168.0.0/16``), the cloud's metadata
address (``169.254.169.254``) or ``file:`` URLs, and the answers would be
parsed, stored and mailed to the digest's readers. So a redirect may lead
only to a public address, or to the host the feed is configured on (a feed
configured on a private address may move about its own host). The same holds
for the article pages its items link to (`page_problem`). Names are
resolved before the request, and the address the answer came from is checked
again, so that a name resolving differently the second time gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from ..errors import FetchError


def is_public(address: str) -> bool:
    """Whether `address` is a global unicast address (an IPv4-mapped one as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def same_host(a: str, b: str) -> bool:
    return (urlsplit(a).hostname or "").rstrip(".") == (urlsplit(b).hostname or "").rstrip(".")


def redirect_problem(
    configured: str, target: str, addresses: list[str], sent: str = "redirected to"
) -> str | None:
    """Why a feed configured at `configured` may not be redirected to `target`, whose
    host has `addresses`; None if it may."""
    if urlsplit(target).scheme not in ("http", "https"):
        return f"{sent} {target!r}, which is not an http(s) URL"
    if same_host(configured, target):
        return None
    private = [address for address in addresses if not is_public(address)]
    if private or not addresses:
        where = private[0] if private else "no address"
        return (
            f"{sent} {target!r} ({where}), which is not a public address; "
            "only the feed's own host may be private"
        )
    return None


def page_problem(configured: str, page: str, addresses: list[str]) -> str | None:
    """Why an item of the feed at `configured` may not send the fetcher to its page
    `page`: the redirect rule, for the link an item gives."""
    return redirect_problem(configured, page, addresses, sent="the item links to")


async def addresses_of(url: str, who: str) -> list[str]:
    """The addresses the host of `url` resolves to (itself, if it is an address);
    a `FetchError` for `who` (the feed or page) when it does not resolve."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except OSError as e:
        # Not "no address": a name that does not resolve now may tomorrow, and
        # the page or feed behind it is tried again as after a refused connection.
        reason = (e.strerror or str(e) or type(e).__name__).lower()
        raise FetchError(f"{who}: cannot connect: {host} does not resolve ({reason})") from e
    return sorted({str(info[4][0]) for info in found})
