"""Load the TOML config into one typed `Config`.

The rest of the program never sees raw dictionaries: everything is checked
here, once, and every complaint names the file, the line and the key, e.g.
``config.toml:12: feeds[2].url: not a URL``. Keys this version does not know
are not fatal (a newer config may be shared with an older install); they are
reported as warnings so a typo does not go unnoticed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

CONFIG_ENV = "MONITOR_CONFIG"
DEFAULT_SUBJECT = "每日摘要 {date} · {stories} 条新闻 · {topics} 个主题"
SMTP_SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class StorageConfig:
    path: Path
    busy_timeout: float = 30.0
    """Seconds to wait for another process's write to finish (SQLite), or to connect."""
    url: str | None = None
    """A ``postgresql://user@host/db`` database instead of the SQLite file at `path`."""

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


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    topics: tuple[str, ...] = ()
    adapter: str | None = None
    interval: timedelta | None = None
    verify_tls: bool = True
    paused: bool = False


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


def find_config(explicit: str | os.PathLike[str] | None) -> Path:
    """The config to use: ``--config``, else ``$MONITOR_CONFIG``, else ./config.toml,
    else the user's config file (`user_config_path`)."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    for candidate in (Path("config.toml"), user_config_path()):
        if candidate.exists():
            return candidate
    raise ConfigError(
        "no config file: pass --config PATH, set MONITOR_CONFIG, or run monitor init "
        f"(which writes {user_config_path()})"
    )


def user_config_path() -> Path:
    """The platform's place for this user's config (e.g. ~/.config/monitor/config.toml)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("monitor")) / "config.toml"


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("monitor"))


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and check the config file at `path`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file: {e.strerror}") from e
    try:
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start})") from e
    except tomllib.TOMLDecodeError as e:
        line = re.search(r"line (\d+)", str(e))
        where = f"{path}:{line.group(1)}" if line else str(path)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise ConfigError(f"{where}: invalid TOML: {message}") from e
    return _Builder(path.resolve(), path, text).build(data)


class _Locator:
    """Find the line of a key such as ``feeds[2].url`` in the raw TOML text.

    tomllib keeps no positions, so the text is scanned for table headers and
    ``key =`` lines; good enough to point a user at the right line.
    """

    _header = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
    _key = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        counts: dict[str, int] = {}
        table = ""
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            quotes = line.count('"""') + line.count("'''")
            if in_multiline:
                in_multiline = quotes % 2 == 0
                continue
            header = self._header.match(line)
            if header:
                name = header.group(2).strip()
                if header.group(1) == "[[":
                    index = counts.get(name, -1) + 1
                    counts[name] = index
                    table = f"{name}[{index}]"
                else:
                    table = name
                self.lines.setdefault(table, number)
                continue
            key = self._key.match(line)
            if key:
                name = key.group(1).strip("\"'")
                self.lines.setdefault(f"{table}.{name}" if table else name, number)
            in_multiline = quotes % 2 == 1

    def line(self, key: str) -> int | None:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return None


class _Builder:
    def __init__(self, resolved: Path, shown: Path, text: str) -> None:
        self.path = resolved
        self.shown = shown
        self.locator = _Locator(text)
        self.warnings: list[str] = []

    def error(self, key: str, message: str) -> ConfigError:
        line = self.locator.line(key)
        where = f"{self.shown}:{line}" if line else str(self.shown)
        return ConfigError(f"{where}: {key}: {message}")

    def table(self, data: dict[str, Any], key: str) -> _Table:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "must be a table")
        return _Table(self, key, value)

    def tables(self, data: dict[str, Any], key: str) -> Iterator[_Table]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(key, f"must be an array of tables ([[{key}]])")
        for index, item in enumerate(value):
            yield _Table(self, f"{key}[{index}]", item)

    def path_value(self, value: str) -> Path:
        candidate = Path(os.path.expanduser(value))
        return candidate if candidate.is_absolute() else self.path.parent / candidate

    def build(self, data: dict[str, Any]) -> Config:
        known = {"storage", "fetch", "dedup", "digest", "digests", "smtp", "topics", "feeds"}
        for key in data:
            if key not in known:
                self.warn(key)

        storage = self.table(data, "storage")
        url = storage.text("url", "")
        path = storage.text("path", "monitor.db", nonempty=True)
        if url and "path" in storage.data:
            raise self.error("storage.url", "set path (SQLite) or url (PostgreSQL), not both")
        if url.startswith("sqlite:///"):
            path, url = url.removeprefix("sqlite:///"), ""
        elif url:
            url = _postgres_url(url, lambda message: self.error("storage.url", message))
        storage_config = StorageConfig(
            path=self.path_value(path),
            busy_timeout=storage.number("busy_timeout", StorageConfig.busy_timeout, minimum=0.1),
            url=url or None,
        )
        storage.done()

        fetch = self.table(data, "fetch")
        fetch_config = FetchConfig(
            concurrency=fetch.integer("concurrency", FetchConfig.concurrency, minimum=1),
            timeout=fetch.number("timeout", FetchConfig.timeout, minimum=0.1),
            max_bytes=fetch.integer("max_bytes", FetchConfig.max_bytes, minimum=1024),
            user_agent=fetch.text("user_agent", FetchConfig.user_agent, nonempty=True),
            interval=fetch.duration("interval", FetchConfig.interval),
            min_interval=fetch.duration("min_interval", FetchConfig.min_interval),
            per_host=fetch.integer("per_host", FetchConfig.per_host, minimum=1),
            workers=fetch.integer("workers", os.cpu_count() or 1, minimum=1, maximum=64),
        )
        fetch.done()

        dedup = self.table(data, "dedup")
        dedup_config = DedupConfig(
            max_distance=dedup.integer(
                "max_distance", DedupConfig.max_distance, minimum=0, maximum=15
            ),
            window_days=dedup.integer("window_days", DedupConfig.window_days, minimum=1),
        )
        dedup.done()

        smtp_config = self.smtp(self.table(data, "smtp")) if "smtp" in data else None
        topics = tuple(self.topic(t) for t in self.tables(data, "topics"))
        names = [t.name for t in topics]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise self.error(f"topics[{index}].name", f"duplicate topic name {name!r}")
        if "digest" in data and "digests" in data:
            raise self.error("digests", "use either one [digest] table or [[digests]], not both")
        if "digests" in data:
            digests = tuple(self.digest(t, set(names)) for t in self.tables(data, "digests"))
            if not digests:
                raise self.error("digests", "must list at least one digest")
        else:
            digests = (self.digest(self.table(data, "digest"), set(names)),)
        seen_digests: dict[str, int] = {}
        for index, digest in enumerate(digests):
            if digest.name in seen_digests:
                raise self.error(f"digests[{index}].name", f"duplicate digest name {digest.name!r}")
            seen_digests[digest.name] = index
        feeds = tuple(self.feed(f, set(names)) for f in self.tables(data, "feeds"))
        seen: dict[str, int] = {}
        for index, feed in enumerate(feeds):
            if feed.name in seen:
                raise self.error(
                    f"feeds[{index}].name",
                    f"duplicate feed name {feed.name!r} (also feeds[{seen[feed.name]}])",
                )
            seen[feed.name] = index
        return Config(
            path=self.path,
            storage=storage_config,
            fetch=fetch_config,
            dedup=dedup_config,
            digests=digests,
            smtp=smtp_config,
            topics=topics,
            feeds=feeds,
            warnings=tuple(self.warnings),
        )

    def warn(self, key: str) -> None:
        line = self.locator.line(key)
        where = f"{self.shown}:{line}" if line else str(self.shown)
        self.warnings.append(f"{where}: {key}: unknown key, ignored")

    def digest(self, t: _Table, topic_names: set[str]) -> DigestConfig:
        send_at_text = t.text("send_at", "07:00")
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", send_at_text)
        if (
            not match
            or int(match.group(1)) > 23
            or int(match.group(2)) > 59
            or int(match.group(3) or 0) > 59
        ):
            raise self.error(f"{t.prefix}.send_at", f"not a time of day (HH:MM): {send_at_text!r}")
        timezone = t.text("timezone", "UTC", nonempty=True)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise self.error(f"{t.prefix}.timezone", f"unknown time zone {timezone!r}") from e
        recipients = t.texts("recipients", ())
        for index, address in enumerate(recipients):
            if not _looks_like_address(address):
                raise self.error(
                    f"digest.recipients[{index}]", f"not an email address: {address!r}"
                )
        sender = t.text("sender", DigestConfig.sender, nonempty=True)
        if not _looks_like_address(sender):
            raise self.error(f"{t.prefix}.sender", f"not an email address: {sender!r}")
        subject = t.text("subject", DEFAULT_SUBJECT, nonempty=True)
        try:
            subject.format(date="", stories=0, topics=0)
        except (KeyError, IndexError, ValueError) as e:
            raise self.error(
                f"{t.prefix}.subject",
                f"bad placeholder {e} (use {{date}}, {{stories}}, {{topics}})",
            ) from e
        templates = t.text("templates", "")
        topics = t.texts("topics", ())
        for index, topic in enumerate(topics):
            if topic not in topic_names:
                raise self.error(f"{t.prefix}.topics[{index}]", f"no [[topics]] named {topic!r}")
        config = DigestConfig(
            name=t.text("name", "daily", nonempty=True),
            topics=topics,
            per_recipient=t.boolean("per_recipient", False),
            max_stories=t.integer("max_stories", DigestConfig.max_stories, minimum=1),
            send_at=time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)),
            timezone=timezone,
            recipients=recipients,
            sender=sender,
            outbox=self.path_value(t.text("outbox", "outbox", nonempty=True)),
            subject=subject,
            other_heading=t.text("other_heading", DigestConfig.other_heading, nonempty=True),
            summary_chars=t.integer("summary_chars", DigestConfig.summary_chars, minimum=20),
            templates=self.path_value(templates) if templates else None,
        )
        t.done()
        return config

    def smtp(self, t: _Table) -> SmtpConfig:
        host = t.text("host", "", nonempty=True)
        security = t.text("security", "starttls")
        if security not in SMTP_SECURITY:
            raise self.error("smtp.security", f"must be one of {', '.join(SMTP_SECURITY)}")
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        if "password" in t.data:
            raise self.error(
                "smtp.password",
                "passwords are not kept in the config; name an environment variable "
                "with password_env",
            )
        config = SmtpConfig(
            host=host,
            port=t.integer("port", default_port, minimum=1, maximum=65535),
            security=security,
            username=t.text("username", "") or None,
            password_env=t.text("password_env", "") or None,
            timeout=t.number("timeout", SmtpConfig.timeout, minimum=0.1),
            ca_file=self.path_value(ca_file) if (ca_file := t.text("ca_file", "")) else None,
            password_file=self.path_value(pw) if (pw := t.text("password_file", "")) else None,
        )
        t.done()
        return config

    def topic(self, t: _Table) -> TopicConfig:
        patterns = []
        for index, pattern in enumerate(t.texts("patterns", ())):
            try:
                patterns.append(re.compile(pattern, re.IGNORECASE))
            except re.error as e:
                raise self.error(
                    f"{t.prefix}.patterns[{index}]", f"bad regular expression: {e}"
                ) from e
        keywords = t.texts("keywords", ())
        config = TopicConfig(
            name=t.text("name", "", nonempty=True),
            keywords=keywords,
            exclude=t.texts("exclude", ()),
            patterns=tuple(patterns),
        )
        t.done()
        return config

    def feed(self, t: _Table, topic_names: set[str]) -> FeedConfig:
        url = t.text("url", "", nonempty=True)
        problem = _url_problem(url)
        if problem:
            raise self.error(f"{t.prefix}.url", problem)
        topics = t.texts("topics", ())
        for index, name in enumerate(topics):
            if name not in topic_names:
                raise self.error(f"{t.prefix}.topics[{index}]", f"no [[topics]] named {name!r}")
        config = FeedConfig(
            name=t.text("name", "", nonempty=True),
            url=url,
            topics=topics,
            adapter=t.text("adapter", "") or None,
            interval=t.duration("interval", None),
            verify_tls=t.boolean("verify_tls", True),
            paused=t.boolean("paused", False),
        )
        t.done()
        return config


class _Table:
    """One TOML table being read; remembers which keys were used."""

    def __init__(self, builder: _Builder, prefix: str, data: dict[str, Any]) -> None:
        self.builder = builder
        self.prefix = prefix
        self.data = data
        self.used: set[str] = set()

    def _get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        return self.data.get(key, default)

    def _error(self, key: str, message: str) -> ConfigError:
        return self.builder.error(f"{self.prefix}.{key}", message)

    def text(self, key: str, default: str, *, nonempty: bool = False) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._error(key, f"must be a string, not {_type_name(value)}")
        if nonempty and not value.strip():
            raise self._error(key, "is required" if key not in self.data else "must not be empty")
        return value

    def integer(self, key: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, f"must be an integer, not {_type_name(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise self._error(key, f"must be {bound}, not {value}")
        return value

    def number(self, key: str, default: float, *, minimum: float) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._error(key, f"must be a number, not {_type_name(value)}")
        if value < minimum:
            raise self._error(key, f"must be >= {minimum}, not {value}")
        return float(value)

    def texts(
        self, key: str, default: tuple[str, ...], *, nonempty: bool = False
    ) -> tuple[str, ...]:
        value = self._get(key, list(default))
        if not isinstance(value, list):
            raise self._error(key, f"must be an array of strings, not {_type_name(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self._error(f"{key}[{index}]", "must be a non-empty string")
        if nonempty and not value:
            raise self._error(key, "must list at least one entry")
        return tuple(value)

    def duration(self, key: str, default: timedelta | None) -> Any:
        """Seconds as a number, or a string such as "90s", "30m", "2h", "1d"."""
        value = self._get(key, None)
        if value is None:
            return default
        if isinstance(value, bool):
            raise self._error(key, "must be a duration such as 30m or 2h, not a boolean")
        if isinstance(value, (int, float)):
            seconds = float(value)
        elif isinstance(value, str) and (found := _DURATION.fullmatch(value.strip())):
            seconds = float(found.group(1)) * _UNITS[found.group(2) or "s"]
        else:
            raise self._error(key, f"not a duration (such as 90s, 30m, 2h): {value!r}")
        if seconds <= 0:
            raise self._error(key, f"must be positive, not {value!r}")
        return timedelta(seconds=seconds)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._error(key, f"must be true or false, not {_type_name(value)}")
        return value

    def done(self) -> None:
        for key in self.data:
            if key not in self.used:
                self.builder.warn(f"{self.prefix}.{key}")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _postgres_url(url: str, error: Callable[[str], ConfigError]) -> str:
    """Check a ``postgresql://`` URL; its password belongs in the environment."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise error(f"{url!r}: expected postgresql://user@host/database or sqlite:///path")
    if parts.password is not None:
        raise error(
            "do not put the password in the config file; set PGPASSWORD in the "
            "environment (or use ~/.pgpass)"
        )
    if not parts.path.strip("/"):
        raise error(f"{url!r}: name the database, as in postgresql://user@host/monitor")
    return url


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _looks_like_address(address: str) -> bool:
    return bool(re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+", address))


def _url_problem(url: str) -> str | None:
    """Why `url` cannot be a feed location, or None if it can.

    A value without a scheme is a local path (a file, relative to the config).
    """
    if any(c in url for c in "\r\n\t\0"):
        return "not a URL: contains control characters"
    if "://" not in url and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
        return None
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as e:  # "Invalid IPv6 URL"
        return f"not a URL: {e}"
    if parts.scheme in ("http", "https"):
        if not hostname:
            return "not a URL: no host"
        return None
    if parts.scheme == "file":
        return None
    if len(parts.scheme) == 1:  # a Windows drive letter
        return None
    if not parts.scheme or "://" not in url:
        return "not a URL"
    return f"unsupported URL scheme {parts.scheme!r} (use http, https, file or a path)"
