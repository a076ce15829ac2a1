"""Fetch feeds: HTTP(S) with httpx, or local files.

Feed bytes are read here and only here; feedparser is never allowed to fetch
(it has no timeout and would follow any URL). Each request is bounded three
ways: the `timeout` per network operation, an overall deadline of the same
length for the whole body, and `max_bytes` checked while streaming, so a huge
or endless body is cut off without being held in memory.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from .config import FeedConfig, FetchConfig
from .errors import FetchError
from .models import FetchResult

ARCHIVE_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class Validators:
    """What the last successful fetch told us, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


def local_path(url: str, base_dir: Path) -> Path | None:
    """The file a feed URL points at, or None for a network URL."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return None
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    path = Path(os.path.expanduser(url))
    return path if path.is_absolute() else base_dir / path


class Fetcher:
    """Fetches feeds concurrently, at most `concurrency` at a time."""

    def __init__(self, config: FetchConfig, base_dir: Path) -> None:
        self.config = config
        self.base_dir = base_dir
        self._limit = asyncio.Semaphore(config.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout),
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(max_connections=config.concurrency),
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def fetch(self, feed: FeedConfig, validators: Validators) -> FetchResult:
        """Fetch one feed; every failure becomes a `FetchError` naming the feed."""
        path = local_path(feed.url, self.base_dir)
        if path is not None:
            async with self._limit:
                return await asyncio.to_thread(self._read_file, feed, path)
        host = (urlsplit(feed.url).hostname or "").lower()
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self.config.per_host))
        async with self._limit, per_host:
            try:
                return await asyncio.wait_for(
                    self._get(feed, validators), timeout=self.config.timeout
                )
            except TimeoutError as e:
                raise FetchError(
                    f"feed {feed.name!r}: timed out after {self.config.timeout:g} s"
                ) from e

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

    async def _get(self, feed: FeedConfig, validators: Validators) -> FetchResult:
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        try:
            async with self._client.stream("GET", feed.url, headers=headers) as response:
                if response.status_code == 304:
                    return FetchResult(
                        url=str(response.url),
                        status=304,
                        content=None,
                        etag=response.headers.get("ETag", validators.etag),
                        last_modified=response.headers.get(
                            "Last-Modified", validators.last_modified
                        ),
                        cache_control=response.headers.get("Cache-Control"),
                        expires=response.headers.get("Expires"),
                        date=response.headers.get("Date"),
                    )
                if response.status_code >= 400:
                    reason = response.reason_phrase or "error"
                    status = response.status_code
                    retry_after = response.headers.get("Retry-After")
                    hint = f", retry after {retry_after}" if retry_after else ""
                    if status == 410:
                        hint = "; the feed is gone and will not be fetched again"
                    raise FetchError(
                        f"feed {feed.name!r}: HTTP {status} {reason}{hint}",
                        status=status,
                        retry_after=retry_after,
                    )
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.config.max_bytes:
                    raise FetchError(
                        f"feed {feed.name!r}: body of {declared} bytes is over max_bytes "
                        f"({self.config.max_bytes})"
                    )
                chunks: list[bytes] = []
                received = 0
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > self.config.max_bytes:
                        raise FetchError(
                            f"feed {feed.name!r}: body is over max_bytes "
                            f"({self.config.max_bytes}), cut off"
                        )
                    chunks.append(chunk)
                return FetchResult(
                    url=str(response.url),
                    status=response.status_code,
                    content=b"".join(chunks),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    content_type=response.headers.get("Content-Type"),
                    cache_control=response.headers.get("Cache-Control"),
                    expires=response.headers.get("Expires"),
                    date=response.headers.get("Date"),
                )
        except FetchError:
            raise
        except httpx.TooManyRedirects as e:
            raise FetchError(f"feed {feed.name!r}: too many redirects") from e
        except httpx.TimeoutException as e:
            raise FetchError(
                f"feed {feed.name!r}: timed out after {self.config.timeout:g} s"
            ) from e
        except httpx.ConnectError as e:
            raise FetchError(f"feed {feed.name!r}: cannot connect: {_reason(e)}") from e
        except httpx.DecodingError as e:
            raise FetchError(f"feed {feed.name!r}: cannot decode the response body") from e
        except httpx.HTTPError as e:
            raise FetchError(f"feed {feed.name!r}: {type(e).__name__}: {_reason(e)}") from e


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
