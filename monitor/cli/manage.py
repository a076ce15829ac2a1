"""Commands that manage the configuration: init, feeds, OPML import and export."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..config import Config, FeedConfig, FetchConfig, user_config_path, user_data_dir
from ..errors import ConfigError, MonitorError
from ..urls import canonical_url
from ..words import counted
from .config_editor import ConfigEditor
from .opml import OpmlFeed, read_opml, write_opml

if TYPE_CHECKING:
    from ..fetch import Fetcher
    from ..models import FetchResult

PACKAGE = Path(__file__).resolve().parents[1]  # monitor/


def example_config() -> str:
    for candidate in (PACKAGE / "config.example.toml", PACKAGE.parent / "config.example.toml"):
        if candidate.exists():
            return candidate.read_text(encoding="utf-8")
    raise ConfigError("the example configuration is missing from this installation")


def init(target: Path | None, force: bool) -> Path:
    """Write a starter config with the sample feeds copied beside it; given a
    folder, its ``config.toml``. What fails to be written leaves nothing behind."""
    path = target or user_config_path()
    if path.is_dir():
        path = path / "config.toml"
    if path.exists() and not force:
        raise ConfigError(f"{path}: exists already (use --force to replace it)")
    if path.is_dir():
        raise ConfigError(f"{path}: a folder, not a file")
    text = example_config().replace('"monitor/samples/', '"samples/')
    samples = path.parent / "samples"
    blocker = next((p for p in (samples, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ConfigError(f"{path}: cannot write: {blocker} is a file, not a folder")
    made: list[Path] = []
    try:
        if target is None:  # the platform's folders: data apart from the config
            data = user_data_dir()
            data.mkdir(parents=True, exist_ok=True)
            database, outbox = (data / "monitor.db").as_posix(), (data / "outbox").as_posix()
            text = text.replace('path = "monitor.db"', f'path = "{database}"')
            text = text.replace('outbox = "outbox"', f'outbox = "{outbox}"')
        path.parent.mkdir(parents=True, exist_ok=True)
        if not samples.exists():
            made.append(samples)
        shutil.copytree(PACKAGE / "samples", samples, dirs_exist_ok=True)
        # Last, and whole or not at all: a config replaced (--force) is never half
        # written, nor lost to a failure before.
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as new:
            made.append(Path(new.name))
            new.write(text)
        os.replace(new.name, path)
    except OSError as e:
        for done in reversed(made):
            if done.is_dir():
                shutil.rmtree(done, ignore_errors=True)
            else:
                done.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write: {e.strerror or e}") from e
    return path


@dataclass(frozen=True)
class Checked:
    url: str
    """The feed's URL: the one given, or the one found on the page given."""
    title: str
    """The feed's own title ("" when it has none)."""
    items: int
    newest: str
    found_on: str | None = None
    """The page the feed was found on, when a page was given."""


def check_feed(config: Config, url: str, name: str) -> Checked:
    """Fetch and read a feed once, as `monitor feeds add` does before adding it; given a
    page rather than a feed, the first feed the page links to (or the site keeps at a
    usual path) that reads as one."""
    from ..fetch import Fetcher

    async def check() -> Checked:
        async with Fetcher(FetchConfig(), config.base_dir, config.local_roots) as fetcher:
            return await _check(fetcher, url, name)

    return asyncio.run(check())


def check_feeds(config: Config, feeds: list[tuple[str, str]]) -> dict[str, Checked | MonitorError]:
    """`check_feed` of each (url, name), at once; what each found, or why it failed."""
    from ..fetch import Fetcher

    async def check_all() -> list[Checked | BaseException]:
        async with Fetcher(FetchConfig(), config.base_dir, config.local_roots) as fetcher:
            checks = (_check(fetcher, url, name) for url, name in feeds)
            return await asyncio.gather(*checks, return_exceptions=True)

    found: dict[str, Checked | MonitorError] = {}
    for (url, _), result in zip(feeds, asyncio.run(check_all()), strict=True):
        if isinstance(result, BaseException) and not isinstance(result, MonitorError):
            raise result
        found[url] = result
    return found


async def _check(fetcher: Fetcher, url: str, name: str) -> Checked:
    from ..errors import FetchError, ParseError
    from ..fetch import Validators
    from ..parse import feed_links, feed_title, looks_like_html, parse_archive, parse_feed

    def read(result: FetchResult, target: str, found_on: str | None = None) -> Checked:
        if result.files:
            parsed = parse_archive(result.files, name)
            title = ""
        else:
            content = result.content or b""
            parsed = parse_feed(content, name, result.content_type)
            title = feed_title(content, result.content_type)
        newest = parsed.items[0].title if parsed.items else "-"
        return Checked(target, title, len(parsed.items), newest, found_on)

    async def fetch(target: str) -> FetchResult:
        return await fetcher.fetch(FeedConfig(name=name, url=target), Validators())

    page = await fetch(url)
    try:
        return read(page, url)
    except ParseError:
        if not page.content or not looks_like_html(page.content):
            raise
    for candidate in feed_links(page.content, page.url or url):
        try:
            return read(await fetch(candidate), candidate, url)
        except (FetchError, ParseError):
            continue
    raise ParseError(
        f'{url}: a web page that names no feed (no <link rel="alternate"> to RSS, Atom '
        "or JSON Feed, none at the usual paths); give the feed's own URL"
    )


def default_name(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname or Path(parts.path or url).stem or url


def add_feed(
    config: Config,
    url: str,
    name: str | None,
    topics: list[str],
    adapter: str | None,
    check: bool,
) -> str:
    """Add a feed to the config: checked by reading it once (`check_feed`, which finds
    the feed of a page), named after its own title unless `name` is given, and
    refused when a configured feed is at the same address."""
    from ..config import feed_location_problem  # the same rule the config file follows

    problem = feed_location_problem(url, config.base_dir, config.fetch.local_folders)
    if problem:
        raise ConfigError(f"{url}: {problem}")
    known = {t.name for t in config.topics}
    for topic in topics:
        if topic not in known:
            raise ConfigError(f"--topics: no [[topics]] named {topic!r} in {config.path}")
    if adapter:
        from ..parse import adapter_named

        adapter_named(adapter)
    editor = ConfigEditor(config.path)
    if name:
        editor.refuse_taken(name)
    _refuse_twice(config, url)
    given = name
    checked = check_feed(config, url, name or default_name(url)) if check else None
    if checked is not None and checked.url != url:
        _refuse_twice(config, checked.url)
        url = checked.url
    name = name or (checked.title if checked and checked.title else default_name(url))
    message = f"added feed {name!r} ({url})"
    if checked is not None:
        if checked.found_on:
            message += f", found on {checked.found_on}"
        message += f": {counted(checked.items, 'item')}, newest: {checked.newest}"
    if not given and name in editor.feed_names():
        whence = "its own title" if checked and checked.title else "named after its address"
        raise ConfigError(
            f"{config.path}: a feed named {name!r} ({whence}) exists already; "
            "give this one another with --name"
        )
    editor.add_feed({"name": name, "url": url, "topics": tuple(topics), "adapter": adapter})
    editor.save()
    return message


def _refuse_twice(config: Config, url: str) -> None:
    """A feed already configured at `url`, spelt the same or otherwise, is not added again."""
    wanted = canonical_url(url)
    for feed in config.feeds:
        if feed.url == url or canonical_url(feed.url) == wanted:
            raise ConfigError(f"{url}: already configured, as feed {feed.name!r}")


def set_paused(config: Config, name_or_url: str, paused: bool) -> str:
    editor = ConfigEditor(config.path)
    name = editor.feed_called(name_or_url)
    table = editor.feed(name)
    if paused:
        table["paused"] = True
    elif "paused" in table:
        del table["paused"]
    editor.save()
    return f"feed {name!r} {'paused' if paused else 'resumed'}"


def remove_feed(config: Config, name_or_url: str) -> str:
    editor = ConfigEditor(config.path)
    name = editor.feed_called(name_or_url)
    editor.remove_feed(name)
    editor.save()
    return f"removed feed {name!r} (its stored items stay in the database)"


def import_opml(config: Config, path: Path, check: bool = True) -> str:
    """Add the feeds of an OPML file the config lacks; with `check`, each is read once
    first, as `feeds add` reads it: an entry that is a web page becomes the feed
    found on it, and one that cannot be read is added as it is, with a warning."""
    try:
        content = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e
    feeds = read_opml(content, str(path))
    editor = ConfigEditor(config.path)
    urls = {feed.url for feed in config.feeds}
    names = set(editor.feed_names())
    topics = set(editor.topic_names())
    added = skipped = 0
    from ..config import feed_location_problem, local_path

    for feed in feeds:
        problem = feed_location_problem(feed.url, config.base_dir, config.fetch.local_folders)
        if problem:
            raise ConfigError(
                f"{path}: feed {feed.name!r} ({feed.url}): {problem}; nothing imported"
            )
    found: dict[str, Checked | MonitorError] = {}
    if check:
        remote = [(f.url, f.name) for f in feeds if urlsplit(f.url).scheme in ("http", "https")]
        found = check_feeds(config, remote)
    canonical = {canonical_url(url) for url in urls}
    files = {where.resolve() for url in urls if (where := local_path(url, config.base_dir))}
    for feed in feeds:
        checked = found.get(feed.url)
        page = feed.url
        if isinstance(checked, Checked) and checked.found_on:
            feed = replace(feed, url=checked.url)
        local = local_path(feed.url, config.base_dir)
        if (
            feed.url in urls
            or canonical_url(feed.url) in canonical
            or (local is not None and local.resolve() in files)
        ):
            skipped += 1
            continue
        if isinstance(checked, MonitorError):
            report(f"warning: feed {feed.name!r} ({feed.url}): {checked}; imported as it is")
        elif check and local is not None and not local.exists():
            report(f"warning: feed {feed.name!r}: no such file {local}; imported as it is")
        elif page != feed.url:
            report(f"feed {feed.name!r}: {feed.url}, found on the page {page}")
        canonical.add(canonical_url(feed.url))
        if local is not None:
            files.add(local.resolve())
        name = feed.name
        number = 2
        while name in names:
            name, number = f"{feed.name} ({number})", number + 1
        for category in feed.categories:
            if category not in topics:
                editor.add_topic(category)
                topics.add(category)
        editor.add_feed({"name": name, "url": feed.url, "topics": feed.categories})
        urls.add(feed.url)
        names.add(name)
        added += 1
    editor.save()
    return f"imported {added} feeds from {path} ({skipped} already there)"


def export_opml(config: Config) -> str:
    """The config's feeds as OPML; a local feed by its absolute ``file://`` address,
    which reads the same from any other folder (its path is the config's own)."""
    from ..config import local_path

    feeds = []
    for f in config.feeds:
        path = local_path(f.url, config.base_dir)
        url = path.resolve().as_uri() if path is not None else f.url
        feeds.append(OpmlFeed(f.name, url, f.topics))
    return write_opml(feeds)


def report(message: str) -> None:
    sys.stderr.write(f"monitor: {message}\n")


__all__ = ["MonitorError", "add_feed", "export_opml", "import_opml", "init", "remove_feed"]
