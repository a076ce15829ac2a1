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
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError
from .keylines import KeyLines
from .settings import (
    ADAPTER_NAMES,
    DEFAULT_SUBJECT,
    FULL_TEXT,
    MAX_DAYS,
    SMTP_SECURITY,
    Config,
    DedupConfig,
    DigestConfig,
    FeedConfig,
    FetchConfig,
    SmtpConfig,
    StorageConfig,
    TopicConfig,
)
from .values import (
    feed_location_problem,
    is_loopback,
    looks_like_address,
    postgres_url,
    proxy_problem,
    type_name,
)


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


class _Builder:
    def __init__(self, resolved: Path, shown: Path, text: str) -> None:
        self.path = resolved
        self.shown = shown
        self.locator = KeyLines(text)
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
            url = postgres_url(url, lambda message: self.error("storage.url", message))
        storage_config = StorageConfig(
            path=self.path_value(path),
            busy_timeout=storage.number("busy_timeout", StorageConfig.busy_timeout, minimum=0.1),
            url=url or None,
            keep_days=storage.integer(
                "keep_days", StorageConfig.keep_days, minimum=0, maximum=MAX_DAYS
            ),
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
            max_items=fetch.integer("max_items", FetchConfig.max_items, minimum=1),
            proxy=self.proxy(fetch, "fetch.proxy"),
            local_folders=tuple(
                self.path_value(p).resolve() for p in fetch.texts("local_folders", ())
            ),
            page_delay=fetch.number("page_delay", FetchConfig.page_delay, minimum=0),
        )
        fetch.done()

        dedup = self.table(data, "dedup")
        dedup_config = DedupConfig(
            max_distance=dedup.integer(
                "max_distance", DedupConfig.max_distance, minimum=0, maximum=15
            ),
            window_days=dedup.integer(
                "window_days", DedupConfig.window_days, minimum=1, maximum=MAX_DAYS
            ),
        )
        dedup.done()
        keep = storage_config.keep_days
        if keep and keep < dedup_config.window_days:
            raise self.error(
                "storage.keep_days",
                f"{keep} is shorter than [dedup] window_days ({dedup_config.window_days}): "
                "a story must be kept as long as a repost can join it (0 keeps all)",
            )

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
        feeds = tuple(
            self.feed(f, set(names), fetch_config.local_folders) for f in self.tables(data, "feeds")
        )
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
            if not looks_like_address(address):
                raise self.error(
                    f"digest.recipients[{index}]", f"not an email address: {address!r}"
                )
        sender = t.text("sender", DigestConfig.sender, nonempty=True)
        if not looks_like_address(sender):
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
        if templates and not self.path_value(templates).is_dir():
            raise self.error(
                f"{t.prefix}.templates",
                f"{self.path_value(templates)} is not a folder (of digest.html.j2 and "
                "digest.txt.j2 to use instead of the shipped ones)",
            )
        topics = t.texts("topics", ())
        for index, topic in enumerate(topics):
            if topic not in topic_names:
                raise self.error(f"{t.prefix}.topics[{index}]", f"no [[topics]] named {topic!r}")
        config = DigestConfig(
            name=t.text("name", "daily", nonempty=True),
            topics=topics,
            per_recipient=t.boolean("per_recipient", False),
            max_stories=t.integer("max_stories", DigestConfig.max_stories, minimum=1),
            max_related=t.integer("max_related", DigestConfig.max_related, minimum=0),
            max_summaries=t.integer("max_summaries", DigestConfig.max_summaries, minimum=0),
            max_bytes=t.integer("max_bytes", DigestConfig.max_bytes, minimum=20_000),
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
        for key, path in (("ca_file", config.ca_file), ("password_file", config.password_file)):
            if path is not None and path.is_dir():
                raise self.error(f"smtp.{key}", f"{path} is a folder; give the file")
        plaintext = t.boolean("allow_plaintext_login", False)
        if security == "none" and config.username and not plaintext and not is_loopback(host):
            raise self.error(
                "smtp.security",
                f'"none" would send the password of {config.username} to {host} in clear; '
                "use starttls or ssl, or set allow_plaintext_login = true",
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
            min_mentions=t.integer("min_mentions", TopicConfig.min_mentions, minimum=1),
        )
        t.done()
        return config

    def feed(self, t: _Table, topic_names: set[str], local_folders: tuple[Path, ...]) -> FeedConfig:
        url = t.text("url", "", nonempty=True)
        problem = feed_location_problem(url, self.path.parent, local_folders)
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
            proxy=self.proxy(t, f"{t.prefix}.proxy"),
            full_text=t.text("full_text", "auto"),
        )
        if config.adapter is not None and config.adapter not in ADAPTER_NAMES:
            raise self.error(
                f"{t.prefix}.adapter",
                f"no adapter named {config.adapter!r} (known: {', '.join(ADAPTER_NAMES)})",
            )
        if config.full_text not in FULL_TEXT:
            raise self.error(
                f"{t.prefix}.full_text",
                f"{config.full_text!r} is not one of {', '.join(map(repr, FULL_TEXT))}",
            )
        t.done()
        return config

    def proxy(self, t: _Table, key: str) -> str | None:
        value = t.text("proxy", "") or None
        if value is not None and value != "direct":
            problem = proxy_problem(value)
            if problem:
                raise self.error(key, problem)
        return value


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
            raise self._error(key, f"must be a string, not {type_name(value)}")
        if nonempty and not value.strip():
            raise self._error(key, "is required" if key not in self.data else "must not be empty")
        return value

    def integer(self, key: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, f"must be an integer, not {type_name(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise self._error(key, f"must be {bound}, not {value}")
        return value

    def number(self, key: str, default: float, *, minimum: float) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._error(key, f"must be a number, not {type_name(value)}")
        if value < minimum:
            raise self._error(key, f"must be >= {minimum}, not {value}")
        return float(value)

    def texts(
        self, key: str, default: tuple[str, ...], *, nonempty: bool = False
    ) -> tuple[str, ...]:
        value = self._get(key, list(default))
        if not isinstance(value, list):
            raise self._error(key, f"must be an array of strings, not {type_name(value)}")
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
        if not seconds > 0:
            raise self._error(key, f"must be positive, not {value!r}")
        if seconds > MAX_DAYS * 86400:
            raise self._error(key, f"must be at most {MAX_DAYS:,} days, not {value!r}")
        return timedelta(seconds=seconds)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._error(key, f"must be true or false, not {type_name(value)}")
        return value

    def done(self) -> None:
        for key in self.data:
            if key not in self.used:
                self.builder.warn(f"{self.prefix}.{key}")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
