"""Fetch feeds: HTTP(S) with httpx, or local files.

Feed bytes are read here and only here; feedparser is never allowed to fetch
(it has no timeout and would follow any URL). Each request is bounded three
ways: the `timeout` per network operation, an overall deadline of the same
length for the whole body, and `max_bytes` checked while streaming, so a huge
or endless body is cut off without being held in memory.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
import zlib
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.request import getproxies_environment

import httpx

from ..config import FeedConfig, FetchConfig, local_path, outside_roots
from ..errors import FetchError
from ..models import FetchResult
from ..urls import host_of
from .reach import addresses_of, page_problem, redirect_problem, same_host
from .transport import transport

ARCHIVE_SUFFIXES = (".txt", ".md")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
MAX_REDIRECTS = 5
# The largest body of a redirect or an error page read only to keep its connection.
DRAINED_BYTES = 64 * 1024
DRAIN_SECONDS = 1.0
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
MAX_PAUSE = 60.0
"""A host's requested pause (``Retry-After``) longer than this ends its page
fetches for the run: they are tried again at a later one."""


@dataclass(frozen=True)
class Validators:
    """What the last successful fetch told us, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


PAGE = Validators()
"""The validators of an article page: none, and no feed's meaning of 410."""


class Fetcher:
    """Fetches feeds concurrently, at most `concurrency` at a time."""

    def __init__(
        self, config: FetchConfig, base_dir: Path, local_roots: Sequence[Path] | None = None
    ) -> None:
        """Local feeds are relative to `base_dir`; with `local_roots`, only files and
        folders under those may be read (`config.outside_roots`)."""
        self.config = config
        self.base_dir = base_dir
        self.local_roots = local_roots
        self._limit = asyncio.Semaphore(config.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._client = self._new_client(verify=True)
        self._clients: dict[tuple[str, bool], httpx.AsyncClient] = {}
        """Clients of the feeds that choose their own proxy (or none), by (proxy, verify)."""
        self._insecure: httpx.AsyncClient | None = None
        self._next_page: dict[str, float] = {}
        """When the next page request may start, by host (monotonic seconds)."""
        self._pacing: dict[str, asyncio.Lock] = {}
        """Held by the page request whose turn at a host comes next."""

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()
        if self._insecure is not None:
            await self._insecure.aclose()
        for client in self._clients.values():
            await client.aclose()

    async def fetch(
        self, feed: FeedConfig, validators: Validators, url: str | None = None
    ) -> FetchResult:
        """Fetch one feed (from `url` when it moved); every failure is a `FetchError`."""
        path = local_path(feed.url, self.base_dir)
        if path is not None:
            if self.local_roots is not None and outside_roots(path, self.local_roots):
                raise FetchError(
                    f"feed {feed.name!r}: {path} is outside the folders local feeds are read "
                    "from (the config's own and [fetch] local_folders)"
                )
            async with self._limit:
                return await asyncio.to_thread(self._read_file, feed, path)
        host = host_of(url or feed.url)
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self.config.per_host))
        async with self._limit, per_host:
            try:
                # A deadline on this task, not a task of its own (`wait_for`'s).
                async with asyncio.timeout(self.config.timeout):
                    return await self._get(feed, url or feed.url, validators)
            except TimeoutError as e:
                raise FetchError(
                    f"feed {feed.name!r}: timed out after {self.config.timeout:g} s"
                ) from e

    async def fetch_page(self, feed: FeedConfig, url: str) -> FetchResult:
        """Fetch the article page of one of `feed`'s items; every failure a `FetchError`.

        Pages share the feeds' limits (`concurrency`, `per_host`, `timeout`,
        `max_bytes`) and add their own pace: one request to a host every
        `page_delay` seconds at most, later still when the host asked for a
        pause (``Retry-After``). An item may send the fetcher only where a feed's
        redirect may go (`reach`): to a public address, or to the feed's own host.
        """
        who = f"feed {feed.name!r}: page {url}"
        if not url.startswith(("http://", "https://")):
            raise FetchError(f"{who}: not an http(s) address")
        if not same_host(feed.url, url):
            problem = page_problem(feed.url, url, await addresses_of(url, who))
            if problem:
                raise FetchError(f"{who}: {problem}")
        host = host_of(url)
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self.config.per_host))
        async with AsyncExitStack() as held:
            # One page request starts at a time per host, `page_delay` apart. The
            # limits are taken in the feeds' order (all, then the host's), and the
            # wait for the host's turn holds neither: feeds go on meanwhile.
            async with self._pacing.setdefault(host, asyncio.Lock()):
                await self._pace(host, who)
                await held.enter_async_context(self._limit)
                await held.enter_async_context(per_host)
                started = time.monotonic()
                self._next_page[host] = max(
                    self._next_page.get(host, started), started + self.config.page_delay
                )
            try:
                async with asyncio.timeout(self.config.timeout):
                    result = await self._get(feed, url, PAGE, who)
            except TimeoutError as e:
                raise FetchError(f"{who}: timed out after {self.config.timeout:g} s") from e
            except FetchError as e:
                if e.retry_after:
                    self._rest(host, e.retry_after)
                raise
        kind = (result.content_type or "text/html").split(";")[0].strip().lower()
        if kind not in HTML_TYPES:
            raise FetchError(f"{who}: {kind} is not an HTML page")
        return result

    async def _pace(self, host: str, who: str) -> None:
        """Wait for this host's turn: `page_delay` after its last page request began,
        or the end of the pause it asked for."""
        wait = self._next_page.get(host, 0.0) - time.monotonic()
        if wait > MAX_PAUSE:
            raise FetchError(
                f"{who}: the host asked for a pause of {wait:.0f} s; tried again later",
                retry_after=str(round(wait)),
            )
        if wait > 0:
            await asyncio.sleep(wait)

    def _rest(self, host: str, retry_after: str) -> None:
        """Note a host's ``Retry-After``: no page request goes there before then."""
        seconds = retry_seconds(retry_after)
        if seconds is not None:
            until = time.monotonic() + seconds
            self._next_page[host] = max(self._next_page.get(host, 0.0), until)

    def _read_file(self, feed: FeedConfig, path: Path) -> FetchResult:
        if path.is_dir():
            return self._read_folder(feed, path)
        try:
            size = path.stat().st_size
            if size > self.config.max_bytes:
                raise FetchError(
                    f"feed {feed.name!r}: {path} is {size} bytes, over max_bytes "
                    f"({self.config.max_bytes})"
                )
            content = path.read_bytes()
        except FileNotFoundError as e:
            raise FetchError(f"feed {feed.name!r}: no such file {path}") from e
        except OSError as e:
            raise FetchError(f"feed {feed.name!r}: cannot read {path}: {e.strerror}") from e
        return FetchResult(url=feed.url, status=200, content=content)

    def _read_folder(self, feed: FeedConfig, path: Path) -> FetchResult:
        """A folder of archived items (``*.txt`` / ``*.md``), read in name order."""
        files: list[tuple[str, bytes]] = []
        try:
            names = sorted(p for p in path.iterdir() if p.suffix in ARCHIVE_SUFFIXES)
            for file in names:
                if file.is_file() and file.stat().st_size <= self.config.max_bytes:
                    files.append((file.name, file.read_bytes()))
        except OSError as e:
            raise FetchError(f"feed {feed.name!r}: cannot read folder {path}: {e.strerror}") from e
        if not files:
            raise FetchError(f"feed {feed.name!r}: folder {path} has no *.txt or *.md items")
        return FetchResult(url=feed.url, status=200, content=None, files=tuple(files))

    async def _get(
        self, feed: FeedConfig, url: str, validators: Validators, who: str | None = None
    ) -> FetchResult:
        """GET `url` for `feed`; `who` names what is fetched in errors (the feed)."""
        who = who or f"feed {feed.name!r}"
        headers = {"Accept-Encoding": "gzip, deflate"}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        client = self._client_for(feed)
        seen = [url]
        permanent = True
        try:
            while True:
                async with client.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    location = response.headers.get("Location")
                    if status in REDIRECTS and location:
                        await _drain(response)
                        permanent = permanent and status in PERMANENT_REDIRECTS
                        url = str(response.url.join(location))
                        if url in seen:
                            raise FetchError(f"{who}: redirect loop at {url}")
                        if len(seen) > MAX_REDIRECTS:
                            raise FetchError(f"{who}: more than {MAX_REDIRECTS} redirects")
                        problem = redirect_problem(feed.url, url, await addresses_of(url, who))
                        if problem:
                            raise FetchError(f"{who}: {problem}")
                        seen.append(url)
                        continue
                    # A page on another host than the feed's is checked like a redirect.
                    if (
                        (len(seen) > 1 or validators is PAGE)
                        and not self._proxied(feed)
                        and (problem := _answered_from(feed.url, url, response))
                    ):
                        raise FetchError(f"{who}: {problem}")
                    moved = url if len(seen) > 1 and permanent else None
                    return await self._response(who, response, validators, moved)
        except FetchError:
            raise
        except httpx.TimeoutException as e:
            raise FetchError(f"{who}: timed out after {self.config.timeout:g} s") from e
        except httpx.ConnectError as e:
            raise FetchError(f"{who}: cannot connect: {_connect_reason(e)}") from e
        except httpx.HTTPError as e:
            raise FetchError(f"{who}: {type(e).__name__}: {_reason(e)}") from e

    async def _response(
        self,
        who: str,
        response: httpx.Response,
        validators: Validators,
        moved: str | None,
    ) -> FetchResult:
        status = response.status_code
        hints = {
            "cache_control": response.headers.get("Cache-Control"),
            "expires": response.headers.get("Expires"),
            "date": response.headers.get("Date"),
        }
        if status == 304:
            await _drain(response)
            return FetchResult(
                url=str(response.url),
                status=304,
                content=None,
                etag=response.headers.get("ETag", validators.etag),
                last_modified=response.headers.get("Last-Modified", validators.last_modified),
                moved_to=moved,
                **hints,
            )
        if status >= 400 or status < 200 or status in REDIRECTS:
            reason = response.reason_phrase or "error"
            retry_after = response.headers.get("Retry-After")
            hint = f", retry after {retry_after}" if retry_after else ""
            if status == 410 and validators is not PAGE:
                hint = "; the feed is gone and will not be fetched again"
            await _drain(response)
            raise FetchError(
                f"{who}: HTTP {status} {reason}{hint}",
                status=status,
                retry_after=retry_after,
            )
        declared = response.headers.get("Content-Length", "")
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if declared.isdigit() and int(declared) > self.config.max_bytes and encoding == "identity":
            raise FetchError(
                f"{who}: body of {declared} bytes is over max_bytes ({self.config.max_bytes})"
            )
        body = _Body(who, encoding, self.config.max_bytes)
        async for chunk in response.aiter_raw():
            body.add(chunk)
        return FetchResult(
            url=str(response.url),
            status=status,
            content=body.finish(),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
            moved_to=moved,
            **hints,
        )

    def _client_for(self, feed: FeedConfig) -> httpx.AsyncClient:
        """The feed's client: through its proxy, or the fetch proxy, or the environment's.

        Without a proxy of its own or ``[fetch] proxy``, the shared clients go by
        the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``,
        ``NO_PROXY``), as httpx reads it.
        """
        proxy = feed.proxy or self.config.proxy
        if proxy is None:
            return self._client if feed.verify_tls else self._unverified()
        key = (proxy, feed.verify_tls)
        if key not in self._clients:
            self._clients[key] = self._new_client(verify=feed.verify_tls, proxy=proxy)
        return self._clients[key]

    def _proxied(self, feed: FeedConfig) -> bool:
        """Whether the feed's requests may go through a proxy: then the address that
        answers is the proxy's, not the server's."""
        proxy = feed.proxy or self.config.proxy
        if proxy is None:
            return bool(getproxies_environment())
        return proxy != "direct"

    def _unverified(self) -> httpx.AsyncClient:
        """A client that does not check certificates, for feeds that opt out."""
        if self._insecure is None:
            self._insecure = self._new_client(verify=False)
        return self._insecure

    def _new_client(self, verify: bool, proxy: str | None = None) -> httpx.AsyncClient:
        """A client on this project's transport, the environment's proxies honoured;
        with `proxy`, on httpx's own through it ("direct": neither proxy nor environment)."""
        limits = httpx.Limits(max_connections=self.config.concurrency)
        common: dict[str, Any] = {
            "timeout": httpx.Timeout(self.config.timeout),
            "follow_redirects": False,
            "headers": {"User-Agent": self.config.user_agent},
        }
        if proxy == "direct":
            return httpx.AsyncClient(**common, transport=transport(limits, verify), trust_env=False)
        if proxy is not None:
            return httpx.AsyncClient(
                **common, proxy=proxy, verify=verify, limits=limits, trust_env=False
            )
        if getproxies_environment():
            # httpx reads the environment's proxies only on its own transport.
            return httpx.AsyncClient(**common, verify=verify, limits=limits)
        return httpx.AsyncClient(**common, transport=transport(limits, verify))


async def _drain(response: httpx.Response) -> None:
    """Read the small body of an answer that is not kept (a 304, a redirect, an
    error page): httpcore hands a connection back to the pool only once its
    response was read to the end, and drops one closed before. Unread, every
    unchanged feed cost a new connection, and a TLS handshake on a real host. A
    body declared over `DRAINED_BYTES`, or of no declared length, is not waited
    for; nor is one that does not arrive within `DRAIN_SECONDS` (the connection
    is dropped then)."""
    declared = response.headers.get("Content-Length", "")
    if response.status_code != 304 and not (declared.isdigit() and int(declared) <= DRAINED_BYTES):
        return
    try:
        async with asyncio.timeout(DRAIN_SECONDS):  # not the whole fetch timeout for it
            async for _ in response.aiter_raw():
                pass
    except (httpx.HTTPError, TimeoutError):
        pass


class _Body:
    """Collects a response body, decompressing it, never beyond `limit` bytes.

    Decompression is bounded too (``max_length``), so a gzip or deflate bomb
    is cut off at the limit instead of being inflated in memory.
    """

    def __init__(self, who: str, encoding: str, limit: int) -> None:
        self.who = who
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        # Some servers send "deflate" without the zlib header: try that once.
        self.raw_deflate_fallback = encoding == "deflate"
        self.decoder: Any
        if encoding in ("identity", ""):
            self.decoder = None
        elif encoding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.decoder = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise FetchError(f"{who}: unsupported Content-Encoding {encoding!r}")

    def add(self, chunk: bytes) -> None:
        if self.decoder is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self.decoder.decompress(data, self.limit - self.size + 1)
            except zlib.error as e:
                if self.raw_deflate_fallback and not self.size:
                    self.raw_deflate_fallback = False
                    self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise FetchError(f"{self.who}: cannot decompress the body: {e}") from e
            self.raw_deflate_fallback = False
            self._keep(out)
            data = self.decoder.unconsumed_tail
            if not out and not data:
                break

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise FetchError(f"{self.who}: body is over max_bytes ({self.limit}), cut off")
        self.parts.append(data)

    def finish(self) -> bytes:
        if self.decoder is not None:
            self._keep(self.decoder.flush())
        return b"".join(self.parts)


def retry_seconds(retry_after: str) -> float | None:
    """A ``Retry-After`` value in seconds from now: a number, or an HTTP date."""
    value = retry_after.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


# What a socket says when nothing answers, in its own plain words: anyio sums up
# every address tried as "All connection attempts failed".
_PLAIN_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNRESET}
)


def _connect_reason(error: Exception) -> str:
    """Why a connection failed: "connection refused" rather than a summary of tries."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno in _PLAIN_ERRNOS:
            return os.strerror(cause.errno).lower()
        cause = cause.__cause__ or cause.__context__
    return _reason(error)


def _answered_from(configured: str, url: str, response: httpx.Response) -> str | None:
    """The redirect rule on the address that answered (`reach`), where the connection
    tells it: a name may resolve to another address when connecting than before."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return None
    return redirect_problem(configured, url, [str(peer[0])])
