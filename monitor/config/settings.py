"""The typed configuration every stage reads: one frozen dataclass per table.

Nothing here reads a file: `loader` builds these from the TOML text and checks
every value, so the rest of the program never sees raw dictionaries.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ..errors import ConfigError

DEFAULT_SUBJECT = "每日摘要 {date} · {stories} 条新闻 · {topics} 个主题"
SMTP_SECURITY = ("starttls", "ssl", "none")
FULL_TEXT = ("auto", "always", "never")
ADAPTER_NAMES = (
    "aggregator", "bbc", "bitterwinter", "cctv", "cdt", "cna", "cri", "dw", "economist",
    "epochtimes", "ftchinese", "generic", "nytimes", "reuters", "rfi", "rfa", "rti", "voa",
)  # fmt: skip
"""The names a feed's `adapter` may give: the site adapters' (`parse.ADAPTERS`; a test
keeps the two equal). Here, so that a misspelt one is a config error naming its
line, without loading the adapters to read the config."""


MAX_DAYS = 36_500
"""The longest span a day count or duration may give (a hundred years): a date
further back than that from now would leave the calendar Python counts in."""


@dataclass(frozen=True)
class StorageConfig:
    path: Path
    busy_timeout: float = 30.0
    """Seconds to wait for another process's write to finish (SQLite), or to connect."""
    url: str | None = None
    """A ``postgresql://user@host/db`` database instead of the SQLite file at `path`."""
    keep_days: int = 365
    """Stories older than this, once no digest will send them, are removed; 0 keeps all."""

    @property
    def target(self) -> Path | str:
        """What `Storage` opens: the PostgreSQL URL, else the SQLite file."""
        return self.url or self.path

    @property
    def location(self) -> str:
        """The database as messages name it (never with a password)."""
        return self.url or str(self.path)


@dataclass(frozen=True)
class FetchConfig:
    concurrency: int = 16
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    user_agent: str = "monitor/0.1 (+https://pypi.org/project/monitor/)"
    interval: timedelta = timedelta(minutes=30)
    """How often the daemon fetches a feed (a feed's own ``interval`` wins)."""
    min_interval: timedelta = timedelta(minutes=5)
    """Never fetch one feed more often than this, whatever the configuration says."""
    per_host: int = 2
    """At most this many requests to one host at a time."""
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Processes that parse and adapt feeds in `monitor run` (1: all in one process)."""
    proxy: str | None = None
    """``http://``, ``https://`` or ``socks5://`` proxy for every feed, or "direct";
    None: the environment's (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``)."""
    max_items: int = 1000
    """New items taken from one fetch of a feed, the newest (`parse.Newest`)."""
    local_folders: tuple[Path, ...] = ()
    """Folders besides the config's own whose files may be feeds (`values.outside_roots`)."""
    page_delay: float = 1.0
    """Seconds between the starts of two article-page requests to one host."""


@dataclass(frozen=True)
class DedupConfig:
    max_distance: int = 3
    window_days: int = 14


@dataclass(frozen=True)
class DigestConfig:
    name: str = "daily"
    send_at: time = time(7, 0)
    timezone: str = "UTC"
    recipients: tuple[str, ...] = ()
    sender: str = "monitor@localhost"
    outbox: Path = Path("outbox")
    subject: str = DEFAULT_SUBJECT
    other_heading: str = "其他"
    summary_chars: int = 120
    templates: Path | None = None
    topics: tuple[str, ...] = ()
    """Only stories of these topics (all stories when empty)."""
    per_recipient: bool = False
    """One message per recipient instead of one message to all."""
    max_stories: int = 100
    """Headlines per digest; the rest are counted per section and left out."""
    max_related: int = 3
    """Related entries under a headline; the rest are named by outlet and left out."""
    max_summaries: int = 40
    """Headlines shown with a summary, the best-ranked; the rest as a list of headlines."""
    max_bytes: int = 1_000_000
    """The largest email: a bigger one shows fewer headlines, the rest left out."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password_env: str | None = None
    timeout: float = 30.0
    ca_file: Path | None = None
    password_file: Path | None = None

    def password(self) -> str | None:
        """The password, read only when it is needed, never kept in the config.

        From the environment variable `password_env`, or the file `password_file`,
        which must not be readable by group or others (chmod 600).
        """
        if self.password_file is not None:
            try:
                mode = self.password_file.stat().st_mode
                if stat.S_ISDIR(mode):
                    raise ConfigError(
                        f"smtp.password_file: {self.password_file} is a folder; "
                        "give the file that holds the password"
                    )
                if mode & 0o077:
                    raise ConfigError(
                        f"smtp.password_file: {self.password_file} can be read by others; "
                        f"run: chmod 600 {self.password_file}"
                    )
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ConfigError(
                    f"smtp.password_file: cannot read {self.password_file}: {e.strerror}"
                ) from e
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(
                f"smtp.password_env: environment variable {self.password_env} is not set"
            )
        return value


@dataclass(frozen=True)
class TopicConfig:
    name: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    """Regular expressions that also match the topic."""
    min_mentions: int = 2
    """Mentions a text needs when neither its headline nor its first two
    sentences name the topic (`digest.topics`)."""


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    topics: tuple[str, ...] = ()
    adapter: str | None = None
    interval: timedelta | None = None
    verify_tls: bool = True
    paused: bool = False
    proxy: str | None = None
    """This feed's own proxy, or "direct" (`FetchConfig.proxy` when None)."""
    full_text: str = "auto"
    """When to fetch an item's article page: "auto" (a teaser's, on http(s) feeds),
    "always" or "never"."""

    @property
    def fetches_pages(self) -> bool:
        """Whether this feed's items may have their pages fetched: an http(s) feed's,
        unless it says never (file and folder feeds stay offline)."""
        return self.full_text != "never" and self.url.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Config:
    path: Path
    storage: StorageConfig
    fetch: FetchConfig
    dedup: DedupConfig
    digests: tuple[DigestConfig, ...]
    smtp: SmtpConfig | None
    topics: tuple[TopicConfig, ...]
    feeds: tuple[FeedConfig, ...]
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def local_roots(self) -> tuple[Path, ...]:
        """The folders local feeds may be read from: the config's own and `local_folders`."""
        return (self.base_dir, *self.fetch.local_folders)

    @property
    def active_feeds(self) -> tuple[FeedConfig, ...]:
        """The feeds to fetch: all but the paused ones."""
        return tuple(feed for feed in self.feeds if not feed.paused)

    @property
    def digest(self) -> DigestConfig:
        """The first (usually the only) digest."""
        return self.digests[0]

    def digest_named(self, name: str) -> DigestConfig:
        for digest in self.digests:
            if digest.name == name:
                return digest
        known = ", ".join(d.name for d in self.digests)
        raise ConfigError(f"{self.path}: no digest named {name!r} (known: {known})")
