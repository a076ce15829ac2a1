"""The CPU-heavy part of ingesting a feed, runnable in a worker process.

Parsing (lxml or feedparser), adapting (lxml, the site adapter; no markup),
the dedup features (of all of a feed's items at once) and the topics take
~0.15 ms an item, most of a first run's time. They need nothing from the
database, so `monitor run` does them in a process pool, one worker per core,
while other feeds are still being fetched. Bytes go in, plain records come
out. Items whose GUIDs the feed's last fetch had (stored by then) are skipped
here, before any of that work.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from typing import TypeVar

from ..config import TopicConfig
from ..dedup import Features, warm_up
from ..digest import match_topics
from ..errors import ParseError
from ..models import Article, Item
from ..parse import Newest, adapter_for, adapter_named, parse_archive, parse_feed
from ..words import counted


@dataclass(frozen=True)
class PageNote:
    """The outcome of fetching an item's article page."""

    url: str
    error: str | None = None
    """Why the page gave no article (the teaser stays); None: it did."""
    retry_after: str | None = None
    permanent: bool = False
    """Not worth trying again: the page is gone, not HTML, or out of reach."""
    attempts: int = 1
    """Fetches of this page so far, this one included."""
    waiting: bool = False
    """Not fetched now: an edit's page that failed before, whose next try has not
    come (`pages.edit_tries`); `error` is its last failure."""


@dataclass(frozen=True)
class PreparedItem:
    guid: str
    article: Article
    features: Features
    topics: tuple[str, ...] = ()
    page: PageNote | None = None
    """Set when the item's article page was fetched."""
    replaces: int | None = None
    """The stored item (its teaser) this one is the full text of: a page fetch retried."""
    edited: bool = False
    """Its GUID was stored before, and the feed now says something else of it."""
    version: str | None = None
    """Where what the feed says of it is recorded when it is not the first item
    under its GUID in the document (`parse.newest.version_key`); else under the GUID."""
    versioned: bool = False
    """The document lists other versions of its GUID too."""
    signature: str | None = None
    """What the feed says of it (`parse.newest.signature`); None where not known."""

    @property
    def link(self) -> str:
        """The link its feed gave (as the adapter made it canonical): a page read
        gives the article the address the page names for itself."""
        return self.page.url if self.page else self.article.url


@dataclass(frozen=True)
class PreparedFeed:
    items: list[PreparedItem]
    known: int
    """Items skipped because the feed had stored their GUID before."""
    problems: list[str]
    ttl_minutes: int | None
    settled: dict[str, str | None] = field(default_factory=dict)
    """The GUIDs of the items skipped as stored and of those in `items`, each with
    what the feed said of it (`parse.newest.signature`): once these are stored,
    the feed's next fetch need not adapt any of them again unless that changed.
    An edit left over `max_items` keeps the signature stored before, so that a
    later fetch takes it."""
    over: tuple[tuple[str, str], ...] = ()
    """Each item left over `max_items`: its GUID and what the feed said of it."""


def prepare_feed(
    feed_name: str,
    content: bytes | None,
    files: tuple[tuple[str, bytes], ...],
    content_type: str | None,
    adapter: str | None,
    fetched: datetime,
    known_guids: Mapping[str, str | None],
    topics: tuple[TopicConfig, ...] = (),
    feed_topics: tuple[str, ...] = (),
    max_items: int | None = None,
    base_url: str | None = None,
) -> PreparedFeed:
    """Parse, adapt, fingerprint and match to `topics` the items of one fetched feed;
    of more than `max_items`, only the newest. Relative item links are resolved
    against `base_url`, where the feed was fetched from."""
    taken = Newest(max_items, known_guids)
    if files:
        parsed = parse_archive(files, feed_name)
        for item in parsed.items:
            taken.offer(item)
        entries = taken.items()
    else:
        parsed = parse_feed(content or b"", feed_name, content_type, taken, base_url)
        entries = parsed.items
    problems = [parsed.warning] if parsed.warning else []
    if taken.over:
        problems.append(
            f"feed {feed_name!r}: {counted(len(taken.over), 'item')} over [fetch] max_items "
            f"({max_items:,}) skipped, the oldest; they are not fetched again"
        )
    chosen = adapter_named(adapter) if adapter else None
    items: list[PreparedItem] = []
    known = len(taken.known) + taken.repeats
    settled: dict[str, str | None] = {guid: taken.signatures[guid] for guid in taken.known}
    adapted: list[tuple[Item, Article]] = []
    for item in entries:
        try:
            site = chosen or adapter_for(item.url)
            adapted.append((item, site.adapt(item, feed_name, fetched, with_html=False)))
        except Exception as e:  # an adapter bug must not lose the rest of the feed
            problems.append(_cannot_adapt(feed_name, item, e))
    texts = [article.text or article.title for _, article in adapted]
    titles = [article.title for _, article in adapted]
    try:
        features: list[Features | None] = list(Features.of_many(texts, titles=titles))
    except Exception:  # then text by text, so that one cannot lose the others
        features = []
        for (item, article), text in zip(adapted, texts, strict=True):
            try:
                features.append(Features.of(text, title=article.title))
            except Exception as e:
                problems.append(_cannot_adapt(feed_name, item, e))
                features.append(None)
    # Articles are made of their items and the feed's name: without a NUL in those
    # (nearly always), there is none to look for in each article.
    nul = "\x00" in feed_name or any(
        "\x00" in text
        for item, _ in adapted
        for text in (item.guid, item.url, item.title, item.html, *item.authors)
    )
    for (item, article), found in zip(adapted, features, strict=True):
        if found is not None:
            guid = item.guid
            if nul:
                article, guid = _without_nul(article), _without_nul(guid)
            matched = match_topics(article.title, article.text, topics, feed_topics)
            items.append(
                PreparedItem(
                    guid, article, found, matched,
                    edited=guid in taken.edited, version=taken.version_of(item),
                    versioned=taken.has_versions(item), signature=taken.signature_of(item),
                )
            )  # fmt: skip
            settled[guid] = taken.signatures[guid]
    # The items skipped over the cap count as settled: the next fetch skips them too.
    settled.update((guid, taken.settled(guid)) for guid in taken.over)
    settled.update(taken.versions())
    return PreparedFeed(items, known, problems, parsed.ttl_minutes, settled, tuple(taken.left))


def complete_items(
    feed_name: str,
    items: list[PreparedItem],
    pages: list[tuple[str, str] | None],
    adapter: str | None,
    fetched: datetime,
    topics: tuple[TopicConfig, ...] = (),
    feed_topics: tuple[str, ...] = (),
) -> list[PreparedItem]:
    """`items` with the text of their article pages.

    `pages` holds, beside each item, its fetched page's address (after redirects)
    and markup, or None. The page is read by the item's adapter (`parse.page`);
    an item whose page gives no longer text keeps its teaser, its fingerprint
    and topics, its page noted as failed.
    """
    from ..parse import completed, page_article

    chosen = adapter_named(adapter) if adapter else None
    done: list[PreparedItem] = []
    for item, found in zip(items, pages, strict=True):
        if found is None or item.page is None:
            done.append(item)
            continue
        url, page_html = found
        teaser = item.article
        try:
            site = chosen or adapter_for(url)
            page = page_article(page_html, url, site, teaser.source, fetched)
            article = completed(teaser, page)
            if article is teaser:
                raise ValueError("it holds no more text than the feed's")
            features = Features.of(article.text or article.title, title=article.title)
        except Exception as e:  # one page must not lose the item, nor the others
            error = f"feed {feed_name!r}: page {url}: cannot read the article: {e}"
            done.append(replace(item, page=replace(item.page, error=error, permanent=True)))
            continue
        matched = match_topics(article.title, article.text, topics, feed_topics)
        done.append(replace(item, article=article, features=features, topics=matched))
    return done


def in_worker() -> None:
    """Start a worker process: ready for its first feed before the feed arrives.

    Ctrl-C reaches every process of the terminal's group; it is for the process
    that started the workers to act on. It stops sending feeds and shuts them
    down, each ending the feed in hand. A worker interrupted as well could die
    while sending its result back, leaving the pool's pipe half written and the
    run waiting for it at exit. A forked worker must also drop the handlers it
    inherited: they would act on a copy of the run's event loop.
    """
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    warm_up()


def _cannot_adapt(feed_name: str, item: Item, error: Exception) -> str:
    return str(ParseError(f"feed {feed_name!r}: item {item.guid!r}: cannot adapt: {error}"))


T = TypeVar("T")


def _without_nul(value: T) -> T:
    """`value` with NUL characters dropped from its strings.

    A damaged feed can carry ``&#0;``; PostgreSQL refuses NUL in text, and no
    reader needs one, so they go here rather than failing the feed at storing.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(_without_nul(part) for part in value)  # type: ignore[return-value]
    if is_dataclass(value) and not isinstance(value, type):
        changed = {
            f.name: cleaned
            for f in fields(value)
            if isinstance(part := getattr(value, f.name), str | tuple)
            and (cleaned := _without_nul(part)) != part
        }
        # Rebuilt only when something changed: nearly never, and rebuilding costs.
        return replace(value, **changed) if changed else value
    return value
