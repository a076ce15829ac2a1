"""Commands that manage the configuration: init, feeds, OPML import and export."""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..config import Config, FeedConfig, FetchConfig, user_config_path, user_data_dir
from ..errors import ConfigError, MonitorError
from .config_editor import ConfigEditor
from .opml import OpmlFeed, read_opml, write_opml

PACKAGE = Path(__file__).resolve().parents[1]  # monitor/


def example_config() -> str:
    for candidate in (PACKAGE / "config.example.toml", PACKAGE.parent / "config.example.toml"):
        if candidate.exists():
            return candidate.read_text(encoding="utf-8")
    raise ConfigError("the example configuration is missing from this installation")


def init(target: Path | None, force: bool) -> Path:
    """Write a starter config with the sample feeds copied beside it."""
    path = target or user_config_path()
    if path.exists() and not force:
        raise ConfigError(f"{path}: exists already (use --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = path.parent / "samples"
    shutil.copytree(PACKAGE / "samples", samples, dirs_exist_ok=True)
    text = example_config().replace('"monitor/samples/', '"samples/')
    if target is None:  # the platform's folders: data apart from the config
        data = user_data_dir()
        data.mkdir(parents=True, exist_ok=True)
        text = text.replace('path = "monitor.db"', f'path = "{(data / "monitor.db").as_posix()}"')
        text = text.replace('outbox = "outbox"', f'outbox = "{(data / "outbox").as_posix()}"')
    path.write_text(text, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Checked:
    title: str
    items: int
    newest: str


def check_feed(config: Config, url: str, name: str) -> Checked:
    """Fetch and parse a feed once, as `monitor feeds add` does before adding it."""
    from ..fetch import Fetcher, Validators
    from ..parse import parse_archive, parse_feed

    async def fetch() -> object:
        async with Fetcher(FetchConfig(), config.base_dir, config.local_roots) as fetcher:
            return await fetcher.fetch(FeedConfig(name=name, url=url), Validators())

    result = asyncio.run(fetch())
    files = getattr(result, "files", ())
    if files:
        parsed = parse_archive(files, name)
    else:
        parsed = parse_feed(getattr(result, "content", b"") or b"", name)
    newest = parsed.items[0].title if parsed.items else "-"
    title = parsed.items[0].title if parsed.items else name
    return Checked(title=title, items=len(parsed.items), newest=newest)


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
    from ..config import feed_location_problem  # the same rule the config file follows

    problem = feed_location_problem(url, config.base_dir, config.fetch.local_folders)
    if problem:
        raise ConfigError(f"{url}: {problem}")
    name = name or default_name(url)
    known = {t.name for t in config.topics}
    for topic in topics:
        if topic not in known:
            raise ConfigError(f"--topics: no [[topics]] named {topic!r} in {config.path}")
    if adapter:
        from ..parse import adapter_named

        adapter_named(adapter)
    message = f"added feed {name!r} ({url})"
    if check:
        checked = check_feed(config, url, name)
        message += f": {checked.items} items, newest: {checked.newest}"
    editor = ConfigEditor(config.path)
    editor.add_feed({"name": name, "url": url, "topics": tuple(topics), "adapter": adapter})
    editor.save()
    return message


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


def import_opml(config: Config, path: Path) -> str:
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
    from ..config import feed_location_problem

    for feed in feeds:
        problem = feed_location_problem(feed.url, config.base_dir, config.fetch.local_folders)
        if problem:
            raise ConfigError(
                f"{path}: feed {feed.name!r} ({feed.url}): {problem}; nothing imported"
            )
    for feed in feeds:
        if feed.url in urls:
            skipped += 1
            continue
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
    feeds = [OpmlFeed(f.name, f.url, f.topics) for f in config.feeds]
    return write_opml(feeds)


def report(message: str) -> None:
    sys.stderr.write(f"monitor: {message}\n")


__all__ = ["MonitorError", "add_feed", "export_opml", "import_opml", "init", "remove_feed"]
