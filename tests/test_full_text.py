"""Full text for teaser feeds: article pages fetched, read by the site adapters, polite.

Every test serves its teaser feeds and article pages from a real HTTP server
on 127.0.0.1 (`conftest.feed_server`); the pages are in DW's, RFI's and
纽约时报中文网's page structure, or whole pages of other sites for the
generic extractor (`fixtures/article_pages.py`).
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import Backend, FeedServer, Response
from fixtures.article_pages import (
    ADAPTERS,
    SampleArticle,
    generic_page,
    page_for,
    sample_articles,
    teaser_feed,
)
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import Config, load_config
from monitor.errors import ConfigError
from monitor.parse import adapter_named
from monitor.parse.page import page_article, read_page
from monitor.service import FeedReport, ingest
from monitor.store import Storage

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}


def write(
    folder: Path,
    feeds: list[str],
    fetch: str = "page_delay = 0",
    storage: str = 'path = "monitor.db"',
) -> Path:
    """A config of these ``[[feeds]]`` tables (TOML lines each), outbox delivery."""
    lines = [
        f"[storage]\n{storage}",
        f"[fetch]\ntimeout = 5\n{fetch}",
        '[digest]\ntimezone = "Asia/Shanghai"\noutbox = "outbox"',
    ]
    lines += [f"[[feeds]]\n{feed}" for feed in feeds]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def serve_teasers(feed_server: FeedServer, articles: list[SampleArticle]) -> list[str]:
    """Each sample feed as a teaser feed, with its articles' pages; the feed tables."""
    feeds = []
    for feed in sorted({a.feed for a in articles}):
        entries = []
        for number, article in enumerate(a for a in articles if a.feed == feed):
            path = f"/{feed}/article-{number}.html"
            feed_server.routes[path] = Response(page_for(article).encode(), headers=HTML)
            entries.append((article, feed_server.url(path)))
        feed_server.routes[f"/{feed}.xml"] = Response(
            teaser_feed(feed, entries).encode(), headers=RSS
        )
        feeds.append(
            f'name = "{feed}"\nurl = "{feed_server.url(f"/{feed}.xml")}"\n'
            f'adapter = "{ADAPTERS[feed]}"'
        )
    return feeds


def serve_full_text(feed_server: FeedServer) -> list[str]:
    feeds = []
    for name, content in sorted(build().items()):
        feed_server.routes[f"/full/{name}"] = Response(content.encode(), headers=RSS)
        feed = name.removesuffix(".xml")
        feeds.append(
            f'name = "{feed}"\nurl = "{feed_server.url(f"/full/{name}")}"\n'
            f'adapter = "{ADAPTERS[feed]}"'
        )
    return feeds


def digest_of(config: Path) -> dict[str, object]:
    assert main(["run", "--config", str(config), "--no-digest"]) == 0
    preview = config.parent / "digest.json"
    assert main(["digest", "--config", str(config), "--preview", str(preview)]) == 0
    data: dict[str, object] = json.loads(preview.read_text(encoding="utf-8"))
    return data


def stories(data: dict[str, object]) -> list[tuple[object, ...]]:
    """What a reader sees of each headline: title, link, outlet, summary, copies, related."""
    shown = []
    for section in data["sections"]:  # type: ignore[attr-defined]
        for entry in section["stories"]:
            shown.append(
                (
                    section["name"],
                    entry["title"],
                    entry["url"],
                    entry["outlet"],
                    entry["summary"],
                    tuple((c["outlet"], c["url"]) for c in entry["also_carried_by"]),
                    tuple((r["title"], r["outlet"]) for r in entry["related"]),
                )
            )
    return shown


def test_teaser_feeds_give_the_stories_summaries_and_collapses_of_full_text_feeds(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    articles = sample_articles()
    full = tmp_path / "full"
    full.mkdir()
    teasers = tmp_path / "teasers"
    teasers.mkdir()
    expected = stories(digest_of(write(full, serve_full_text(feed_server))))
    got = stories(digest_of(write(teasers, serve_teasers(feed_server, articles))))
    assert got == expected
    # Not only equal, but what the samples are for: an aggregator copy collapsed.
    assert any(entry[5] for entry in got)
    assert sum(1 for path, _ in feed_server.requests if path.endswith(".html")) == len(articles)


def test_a_teaser_and_the_full_text_mirror_of_its_article_make_one_story(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    articles = sample_articles()
    both = tmp_path / "both"
    both.mkdir()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    teasers = [
        feed.replace('name = "', 'name = "teasers of ', 1)
        for feed in serve_teasers(feed_server, articles)
    ]
    alone = stories(digest_of(write(mirror, serve_full_text(feed_server))))
    together = stories(digest_of(write(both, serve_full_text(feed_server) + teasers)))
    # Each article once, whichever of its two items came first.
    assert sorted(entry[1] for entry in together) == sorted(entry[1] for entry in alone)


def test_a_page_fetched_is_never_fetched_again(tmp_path: Path, feed_server: FeedServer) -> None:
    articles = [a for a in sample_articles() if a.feed == "rfi"]
    config = write(tmp_path, serve_teasers(feed_server, articles))
    assert main(["run", "--config", str(config), "--no-digest"]) == 0
    assert main(["run", "--config", str(config), "--no-digest"]) == 0
    pages = [path for path, _ in feed_server.requests if path.endswith(".html")]
    assert sorted(pages) == ["/rfi/article-0.html", "/rfi/article-1.html"]


def stored_texts(config: Path) -> dict[str, str]:
    with Storage.open(load_config(config)) as storage:
        return dict(storage._db.execute("SELECT guid, text FROM items").fetchall())


def serve_dw(
    feed_server: FeedServer, article: SampleArticle, page: Response, etag: str | None = None
) -> None:
    """DW's teaser feed of `article`, whose page answers `page`."""
    feed_server.routes["/dw/article-0.html"] = page
    feed_server.routes["/dw.xml"] = Response(
        teaser_feed("dw", [(article, feed_server.url("/dw/article-0.html"))]).encode(),
        headers=RSS, etag=etag,
    )  # fmt: skip


def dw_config(folder: Path, feed_server: FeedServer, backend: Backend) -> Path:
    return write(
        folder,
        [f'name = "dw"\nurl = "{feed_server.url("/dw.xml")}"\nadapter = "dw"'],
        storage=backend.storage,
    )


def test_a_page_whose_host_does_not_resolve_for_now_is_tried_again(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed name lookup (the resolver down for a while) is no verdict on the
    page: it is tried again, as after a refused connection, and the line says the
    name did not resolve. (The resolver is the one part faked: a name's lookup
    failing for a while cannot be had on 127.0.0.1.)"""
    import asyncio
    import socket

    page = "http://news.example.invalid/2026/article-1.html"
    feed_server.routes["/teasers.xml"] = Response(
        (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>朝鲜试射导弹</title><link>{page}</link><guid>{page}</guid>"
            "<pubDate>Mon, 07 Dec 2026 08:00:00 +0000</pubDate>"
            "<description>据韩国联合参谋本部消息，朝鲜周一上午向东部海域发射了一枚导弹。</description>"
            "</item></channel></rss>"
        ).encode(),
        headers={"Content-Type": "application/rss+xml"},
    )
    real = asyncio.base_events.BaseEventLoop.getaddrinfo

    async def resolver_down(self: object, host: str, *args: object, **kwargs: object) -> object:
        if host == "news.example.invalid":
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return await real(self, host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", resolver_down)
    config = write(tmp_path, [f'name = "t"\nurl = "{feed_server.url("/teasers.xml")}"'])
    loaded = load_config(config)
    start = datetime(2026, 12, 7, 9, tzinfo=UTC)
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage, clock=lambda: start).feeds
        assert (feed.new, feed.pages_failed) == (1, 1)
        (failure,) = storage.page_failures()
    assert failure.retry_at == start + timedelta(minutes=15), failure.error
    assert failure.error.endswith(
        "cannot connect: news.example.invalid does not resolve "
        "(temporary failure in name resolution)"
    )


def test_a_failing_page_leaves_the_teaser_and_is_tried_again_three_times(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    serve_dw(feed_server, article, Response(b"busy", 503, headers={"Retry-After": "1200"}))
    config = dw_config(tmp_path, feed_server, backend)
    loaded = load_config(config)
    start = datetime(2023, 3, 19, 8, 0, tzinfo=UTC)
    with Storage.open(loaded) as storage:
        report = ingest(loaded, storage, clock=lambda: start)
        (feed,) = report.feeds
        assert (feed.new, feed.pages, feed.pages_failed) == (1, 1, 1)
        assert feed.pages_line() == "feed 'dw': 1 page fetched, 1 failed"
        assert any(
            "HTTP 503" in problem and "article-0.html" in problem for problem in feed.page_errors
        )
        (failure,) = storage.page_failures()
        # The server asked for 20 minutes, more than the first back-off (15).
        assert (failure.attempts, failure.retry_at) == (1, start + timedelta(minutes=20))
    teaser_text = stored_texts(config)[article.guid]
    assert len(teaser_text) < 200

    def run_at(moment: datetime) -> int:
        with Storage.open(loaded) as storage:
            (feed,) = ingest(loaded, storage, clock=lambda: moment).feeds
            return feed.pages

    # Not due yet: no page request; then due, failing again, with longer waits.
    assert run_at(start + timedelta(minutes=10)) == 0
    assert run_at(start + timedelta(minutes=21)) == 1
    with Storage.open(loaded) as storage:
        (failure,) = storage.page_failures()
        assert failure.attempts == 2
        assert failure.retry_at == start + timedelta(minutes=21, hours=1)
    assert run_at(start + timedelta(hours=3)) == 1
    with Storage.open(loaded) as storage:
        (failure,) = storage.page_failures()
        assert failure.attempts == 3
    # The third retry succeeds: the full text replaces the teaser, in one story still.
    feed_server.routes["/dw/article-0.html"] = Response(page_for(article).encode(), headers=HTML)
    assert run_at(start + timedelta(hours=8)) == 1
    with Storage.open(loaded) as storage:
        assert storage.page_failures() == []
        assert len(storage.pending_stories()) == 1
    ((guid, text),) = stored_texts(config).items()
    assert guid == article.guid and text.startswith("（德国之声中文网）") and len(text) > 500


def test_an_edited_teaser_whose_page_fails_keeps_the_stored_full_text(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The edit waits for its page, asked for again on a stored teaser's back-off
    (not at every fetch of the feed), and is taken by the fetch whose page comes."""
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    serve_dw(feed_server, article, Response(page_for(article).encode(), headers=HTML), '"1"')
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    _, stored = fetch_dw(loaded, 0)
    full = stored[article.title]
    assert len(full) > 500
    edited = replace(article, title=article.title + "（更新）")
    serve_dw(feed_server, edited, Response(b"busy", 503), '"2"')
    feed, stored = fetch_dw(loaded, 1)
    assert (feed.pages, feed.pages_failed, feed.edited) == (1, 1, 0)
    assert stored == {article.title: full}
    feed, stored = fetch_dw(loaded, 1.1)  # 6 minutes later: not asked for yet
    assert (feed.pages, feed.edited, stored) == (0, 0, {article.title: full})
    # The edit is taken by the next fetch whose page comes.
    serve_dw(feed_server, edited, Response(page_for(edited).encode(), headers=HTML), '"3"')
    feed, stored = fetch_dw(loaded, 1.3)
    assert (feed.pages, feed.pages_failed, feed.edited) == (1, 0, 1)
    assert list(stored) == [edited.title]
    with Storage.open(loaded) as storage:
        assert storage.page_failure_counts() == {}


@pytest.mark.parametrize("validated", [True, False])
def test_an_edit_whose_page_keeps_failing_is_compared_as_its_teaser_after_three_retries(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, validated: bool
) -> None:
    """The edit's page is asked for 15 minutes, an hour and four hours after its
    failures, as a stored teaser's is, whether or not the feed answers 304 between;
    then the edit is compared as the teaser it is (the stored full text stays) and
    its page is not asked for again."""
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    serve_dw(feed_server, article, Response(page_for(article).encode(), headers=HTML), '"1"')
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    _, stored = fetch_dw(loaded, 0)
    full = stored[article.title]
    edited = replace(article, title=article.title + "（更新）")
    asked = []
    for hours in (1, 1.2, 1.3, 2, 2.4, 5, 6.5, 8):
        serve_dw(feed_server, edited, Response(b"busy", 503), '"2"' if validated else None)
        feed, stored = fetch_dw(loaded, hours)
        assert stored == {article.title: full}, hours
        asked.append(feed.pages)
    assert asked == [1, 0, 1, 0, 1, 0, 1, 0]
    with Storage.open(loaded) as storage:
        assert storage.page_failure_counts() == {}


def test_an_edit_waiting_for_its_page_that_the_feed_lists_no_more_is_forgotten(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """Once the feed no longer gives the edit, nothing waits for its page: the feed
    is validated again (a 304 when unchanged), and the stored full text stays."""
    dw, nyt = (next(a for a in sample_articles() if a.feed == f) for f in ("dw", "nytimes"))
    other = replace(nyt, feed="dw", published=dw.published + timedelta(hours=2))
    serve_dw(feed_server, dw, Response(page_for(dw).encode(), headers=HTML), '"1"')
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    _, stored = fetch_dw(loaded, 0)
    full = stored[dw.title]
    serve_dw(feed_server, replace(dw, title=dw.title + "（更新）"), Response(b"busy", 503), '"2"')
    fetch_dw(loaded, 1)
    with Storage.open(loaded) as storage:
        assert storage.page_failure_counts() == {"dw": (1, 0)}
    feed_server.routes["/dw/article-1.html"] = Response(page_for(other).encode(), headers=HTML)
    feed_server.routes["/dw.xml"] = Response(
        teaser_feed("dw", [(other, feed_server.url("/dw/article-1.html"))]).encode(),
        headers=RSS, etag='"3"',
    )  # fmt: skip
    for hours in (2, 3):
        feed, stored = fetch_dw(loaded, hours)
    assert feed.http_status == 304
    assert stored == {dw.title: full, other.title: stored[other.title]}
    with Storage.open(loaded) as storage:
        assert storage.page_failure_counts() == {}


def test_a_teaser_edited_while_its_page_was_due_again_is_stored_as_edited(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The edit and the stored teaser's retry fetch the same page in one fetch: the
    edit is stored, the older version's retry is not needed."""
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    serve_dw(feed_server, article, Response(b"busy", 503), '"1"')
    config = dw_config(tmp_path, feed_server, backend)
    loaded = load_config(config)
    start = datetime(2023, 3, 19, 8, 0, tzinfo=UTC)
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage, clock=lambda: start).feeds
    assert (feed.new, feed.pages_failed) == (1, 1)
    edited = replace(article, title=article.title + "（更新）")
    serve_dw(feed_server, edited, Response(page_for(edited).encode(), headers=HTML), '"2"')
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage, clock=lambda: start + timedelta(hours=1)).feeds
        rows = storage._db.execute("SELECT title, text FROM items").fetchall()
        assert storage.page_failures() == []
    assert feed.edited == 1
    ((title, text),) = rows
    assert title == edited.title and len(text) > 500


def test_a_page_is_given_up_after_three_retries(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    feed_server.routes["/dw/article-0.html"] = Response(b"down", 500)
    feed_server.routes["/dw.xml"] = Response(
        teaser_feed("dw", [(article, feed_server.url("/dw/article-0.html"))]).encode(), headers=RSS
    )
    config = write(tmp_path, [f'name = "dw"\nurl = "{feed_server.url("/dw.xml")}"'])
    loaded = load_config(config)
    start = datetime(2023, 3, 19, 8, 0, tzinfo=UTC)
    for hours in (0, 1, 3, 10, 30, 100):
        with Storage.open(loaded) as storage:
            ingest(loaded, storage, clock=lambda h=hours: start + timedelta(hours=h))
    assert feed_server.hits("/dw/article-0.html") == 4  # the first try and three more
    with Storage.open(loaded) as storage:
        (failure,) = storage.page_failures()
        assert (failure.attempts, failure.retry_at) == (4, None)
        assert "HTTP 500" in failure.error
    assert len(stored_texts(config)[article.guid]) < 200  # the teaser stays
    assert main(["status", "--config", str(config)]) == 0
    assert "article pages failed: 0 to be tried again, 1 given up" in capsys.readouterr().out


def test_a_gone_page_is_not_tried_again(tmp_path: Path, feed_server: FeedServer) -> None:
    (article,) = [a for a in sample_articles() if a.feed == "nytimes"]
    feed_server.routes["/nyt/a.html"] = Response(b"gone", 404)
    feed_server.routes["/nyt.xml"] = Response(
        teaser_feed("nyt", [(article, feed_server.url("/nyt/a.html"))]).encode(), headers=RSS
    )
    config = write(tmp_path, [f'name = "nyt"\nurl = "{feed_server.url("/nyt.xml")}"'])
    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        ingest(loaded, storage)
        (failure,) = storage.page_failures()
        assert failure.retry_at is None and "HTTP 404" in failure.error


def concurrency_recorder(body: bytes, delay: float) -> tuple[list[float], list[int], object]:
    """A route that answers after `delay`, recording its start times and how many
    requests were in flight at each start."""
    starts: list[float] = []
    in_flight: list[int] = []
    lock = threading.Lock()
    active = [0]

    def route(handler: BaseHTTPRequestHandler) -> Response:
        with lock:
            active[0] += 1
            starts.append(time.monotonic())
            in_flight.append(active[0])
        time.sleep(delay)
        with lock:
            active[0] -= 1
        return Response(body, headers=HTML)

    return starts, in_flight, route


def test_page_fetches_keep_the_per_host_limits(tmp_path: Path, feed_server: FeedServer) -> None:
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    starts, in_flight, route = concurrency_recorder(page_for(article).encode(), 0.3)
    entries = []
    for n in range(8):
        copy = SampleArticle(
            **{**article.__dict__, "guid": f"g{n}", "title": f"{article.title} {n}"}
        )
        path = f"/dw/{n}.html"
        feed_server.routes[path] = route  # type: ignore[assignment]
        entries.append((copy, feed_server.url(path)))
    feed_server.routes["/dw.xml"] = Response(teaser_feed("dw", entries).encode(), headers=RSS)
    config = write(
        tmp_path,
        [f'name = "dw"\nurl = "{feed_server.url("/dw.xml")}"\nadapter = "dw"'],
        fetch="page_delay = 0.2\nper_host = 2",
    )
    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage).feeds
    assert (feed.pages, feed.pages_failed) == (8, 0)  # 8 teasers: 8 page fetches, no more
    assert max(in_flight) <= 2
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.18  # one start every page_delay at most, whatever per_host allows


def test_teaser_feeds_sharing_a_host_and_one_connection_all_finish(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Feeds and pages take the same limits in the same order: with room for one
    # request in all, nothing waits for ever.
    articles = sample_articles()
    config = write(
        tmp_path,
        serve_teasers(feed_server, articles),
        fetch="page_delay = 0.05\nconcurrency = 1\nper_host = 1",
    )
    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        reports = ingest(loaded, storage).feeds
    assert sum(f.pages for f in reports) == len(articles)
    assert sum(f.pages_failed for f in reports) == 0


def test_a_host_that_asks_for_a_pause_gets_it(tmp_path: Path, feed_server: FeedServer) -> None:
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    asked = {"done": False}
    times: list[float] = []

    def route(handler: BaseHTTPRequestHandler) -> Response:
        times.append(time.monotonic())
        if not asked["done"]:
            asked["done"] = True
            return Response(b"slow down", 429, headers={"Retry-After": "1"})
        return Response(page_for(article).encode(), headers=HTML)

    entries = []
    for n in range(2):
        copy = SampleArticle(**{**article.__dict__, "guid": f"g{n}", "title": f"标题{n}"})
        feed_server.routes[f"/p/{n}.html"] = route  # type: ignore[assignment]
        entries.append((copy, feed_server.url(f"/p/{n}.html")))
    feed_server.routes["/dw.xml"] = Response(teaser_feed("dw", entries).encode(), headers=RSS)
    config = write(
        tmp_path, [f'name = "dw"\nurl = "{feed_server.url("/dw.xml")}"'], fetch="per_host = 1"
    )
    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage).feeds
    assert (feed.pages, feed.pages_failed) == (2, 1)
    assert times[1] - times[0] >= 0.95


def test_items_may_not_send_the_fetcher_to_private_addresses_or_files(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    elsewhere = SampleArticle(**{**article.__dict__, "guid": "private"})
    local_file = SampleArticle(**{**article.__dict__, "guid": "file", "title": "文件"})
    # A feed on 127.0.0.1 may fetch pages there, not on another private host.
    other_host = feed_server.url("/x.html").replace("127.0.0.1", "127.0.0.2")
    feed_server.routes["/dw.xml"] = Response(
        teaser_feed("dw", [(elsewhere, other_host), (local_file, "file:///etc/passwd")]).encode(),
        headers=RSS,
    )
    config = write(tmp_path, [f'name = "dw"\nurl = "{feed_server.url("/dw.xml")}"'])
    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage).feeds
        failures = storage.page_failures()
    assert feed.new == 2 and feed.pages == 1  # the file: link is no page to fetch
    (failure,) = failures
    assert "127.0.0.2" in failure.error and "not a public address" in failure.error
    assert failure.retry_at is None
    assert [path for path, _ in feed_server.requests] == ["/dw.xml"]


def test_never_and_local_feeds_fetch_no_pages(tmp_path: Path, feed_server: FeedServer) -> None:
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    feed_server.routes["/dw/a.html"] = Response(page_for(article).encode(), headers=HTML)
    content = teaser_feed("dw", [(article, feed_server.url("/dw/a.html"))])
    feed_server.routes["/dw.xml"] = Response(content.encode(), headers=RSS)
    (tmp_path / "local.xml").write_text(content, encoding="utf-8")
    config = write(
        tmp_path,
        [
            f'name = "never"\nurl = "{feed_server.url("/dw.xml")}"\nfull_text = "never"',
            'name = "local"\nurl = "local.xml"',
        ],
    )
    assert main(["run", "--config", str(config), "--no-digest"]) == 0
    assert feed_server.hits("/dw/a.html") == 0


def test_always_fetches_pages_of_full_items_too(tmp_path: Path, feed_server: FeedServer) -> None:
    config = write(tmp_path, serve_full_text(feed_server))
    text = config.read_text(encoding="utf-8").replace(
        'name = "rfi"', 'name = "rfi"\nfull_text = "always"'
    )
    config.write_text(text, encoding="utf-8")
    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        reports = {f.name: f for f in ingest(loaded, storage).feeds}
    # The RFI items link to rfi.fr, which is not this feed's host and resolves to no
    # address here: refused by the reach rule, the feed's full text kept.
    assert (reports["rfi"].pages, reports["rfi"].pages_failed) == (2, 2)
    assert all(reports[name].pages == 0 for name in reports if name != "rfi")
    assert reports["rfi"].new == 2


def test_a_bad_full_text_value_is_one_line_naming_the_key(tmp_path: Path) -> None:
    config = write(tmp_path, ['name = "x"\nurl = "https://example.org/feed"\nfull_text = "yes"'])
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    message = str(raised.value)
    assert "feeds[0].full_text" in message and "'auto'" in message and "\n" not in message


def test_the_generic_reader_takes_the_article_out_of_a_whole_page() -> None:
    (article,) = [a for a in sample_articles() if a.feed == "cri"]
    page = generic_page(article)
    read = page_article(
        page, "https://example.net/x.html", adapter_named("generic"), "x", datetime.now(UTC)
    )
    assert read.text.startswith("据韩国媒体报道")
    for chrome in ("首页", "热门新闻", "其他新闻标题", "京ICP备"):
        assert chrome not in read.text
    # A page may not name another site's address as its own: the generic adapter
    # knows no site, so the address it was fetched from stays.
    assert read.url == "https://example.net/x.html"


def test_metadata_comes_from_json_ld_graphs_and_the_site_byline() -> None:
    (article,) = [a for a in sample_articles() if a.feed == "nytimes"]
    page = page_for(article)
    facts = read_page(page, "https://cn.nytimes.com/x/", adapter_named("nytimes"))
    assert facts.authors == ("MOTOKO RICH", "CHOE SANG-HUN")
    assert facts.published == article.published  # Beijing time without offset, read as such
    assert facts.canonical == article.url
    graph = (
        '<html><head><script type="application/ld+json">{"@graph": [{"@type": "WebPage"},'
        '{"@type": ["NewsArticle"], "headline": "标题", "datePublished": "2020-07-01T08:00:00Z",'
        '"author": {"@type": "Person", "name": "记者甲"},'
        '"articleBody": "第一段。\\n第二段。"}]}</script></head><body></body></html>'
    )
    facts = read_page(graph, "https://example.org/a", adapter_named("dw"))
    assert (facts.title, facts.authors) == ("标题", ("记者甲",))
    assert facts.published == datetime(2020, 7, 1, 8, tzinfo=UTC)
    assert facts.body_html == "<p>第一段。</p><p>第二段。</p>"


def test_parse_full_text_shows_what_the_page_gives(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (article,) = [a for a in sample_articles() if a.feed == "nytimes"]
    feed_server.routes["/nyt/a.html"] = Response(page_for(article).encode(), headers=HTML)
    feed_server.routes["/nyt.xml"] = Response(
        teaser_feed("nyt", [(article, feed_server.url("/nyt/a.html"))]).encode(), headers=RSS
    )
    url = feed_server.url("/nyt.xml")
    assert main(["parse", url, "--adapter", "nytimes", "--json"]) == 0
    (teaser,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["parse", url, "--adapter", "nytimes", "--json", "--full-text"]) == 0
    (full,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(teaser["text"]) < 200 < len(full["text"])
    assert full["url"] == article.url and full["authors"] == ["MOTOKO RICH", "CHOE SANG-HUN"]
    assert "big_ad" not in (full["html"] or "") and "广告" not in full["text"]


def test_a_page_is_read_in_the_charset_it_declares() -> None:
    from monitor.parse import decoded

    text = "<p>韩国总统尹锡悦表示，军情协定将完全恢复正常。㵘</p>"
    # A GB2312 label on a page with a character only GB18030 has, as browsers read it.
    page = f'<html><head><meta charset="gb2312"></head><body>{text}</body></html>'
    assert text in decoded(page.encode("gb18030"))
    traditional = "<p>韓國總統尹錫悅表示，軍情協定將完全恢復正常。</p>" * 3
    assert decoded(traditional.encode("big5"), "text/html; charset=big5") == traditional
    # Declared nowhere and not UTF-8: found by charset-normalizer.
    assert decoded((text * 5).encode("gb18030")) == text * 5
    assert text in decoded(text.encode("gb18030"), "text/html; charset=GBK")
    assert decoded(text.encode()) == text  # nothing declared: UTF-8


@pytest.mark.parametrize("full_text", ["auto", "never"])
def test_an_excerpt_the_feed_marks_as_cut_short_is_completed_from_its_page(
    tmp_path: Path, feed_server: FeedServer, full_text: str
) -> None:
    """Longer than a teaser, but ending with a "more" link: the page has the rest,
    and is fetched unless the feed says never; either way the mark is not text."""
    (article,) = [a for a in sample_articles() if a.feed == "cri"]
    whole = page_article(
        generic_page(article), "https://example.net/x.html", adapter_named("generic"), "x",
        datetime.now(UTC),
    ).text  # fmt: skip
    excerpt = whole.replace("\n", "")[:240]
    assert len(excerpt) >= 200  # no teaser by its length
    page = feed_server.url("/cri/article.html")
    feed_server.routes["/cri/article.html"] = Response(generic_page(article).encode(), headers=HTML)
    feed_server.routes["/cri.xml"] = Response(
        (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>cri</title>'
            f"<item><title>{article.title}</title><link>{page}</link><guid>{article.guid}</guid>"
            f"<description><![CDATA[<p>{excerpt}......<a href='{page}'>more</a></p>]]></description>"
            "</item></channel></rss>"
        ).encode(),
        headers=RSS,
    )
    config = write(
        tmp_path,
        [f'name = "cri"\nurl = "{feed_server.url("/cri.xml")}"\nfull_text = "{full_text}"'],
    )
    assert main(["run", "--config", str(config), "--no-digest"]) == 0
    (text,) = stored_texts(config).values()
    fetched = [path for path, _ in feed_server.requests if path.endswith(".html")]
    if full_text == "auto":
        assert fetched == ["/cri/article.html"] and text == whole
    else:
        assert fetched == [] and text == excerpt


def test_rti_pages_are_read_from_their_article_box() -> None:
    """RTI's page: the headline, date and sources, then the article, in one box, with
    the site's lists around it."""
    page = (
        "<html><head><title>標題 - Rti央廣</title></head><body>"
        '<div class="menu"><ul><li><a href="/news/list">新聞</a></li></ul></div>'
        '<div class="news-detail-box"><hgroup><h1>傳共機凌晨擾台 空軍未證實</h1></hgroup>'
        '<ul class="date-source"><li class="date">時間：2020-07-24 09:07</li>'
        '<li class="source">新聞來源：央廣</li></ul>'
        "<article><p>媒體報導，中共戰機昨晚及今天凌晨闖入台灣西南空域，遭空軍強勢驅離。</p>"
        "<p>#央廣記者蕭照平報導#空軍今天未證實相關訊息，僅表示對於台灣周邊海、空域狀況均能全程掌握。</p>"
        "</article></div>"
        '<div class="hot-news"><h3>熱門新聞</h3><ul><li><a href="/news/view/id/1">其他新聞</a></li></ul></div>'
        "</body></html>"
    )
    read = page_article(
        page, "https://www.rti.org.tw/news/view/id/2073312", adapter_named("rti"), "x",
        datetime.now(UTC),
    )  # fmt: skip
    assert read.text.split("\n") == [
        "媒體報導，中共戰機昨晚及今天凌晨闖入台灣西南空域，遭空軍強勢驅離。",
        "空軍今天未證實相關訊息，僅表示對於台灣周邊海、空域狀況均能全程掌握。",
    ]
    assert read.authors == ("蕭照平",)


def test_a_teaser_due_again_whose_link_now_carries_another_article_keeps_both(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The teaser whose page failed is set aside when its GUID brings another
    article; its page is tried again later under the GUID it keeps, and the
    feed goes on being stored meanwhile."""
    (article,) = [a for a in sample_articles() if a.feed == "dw"]
    paragraphs = list(article.paragraphs)
    paragraphs[1] = paragraphs[1].replace("。", "，", 2)  # a teaser long enough to compare
    article = replace(article, paragraphs=tuple(paragraphs))
    other = replace(
        next(a for a in sample_articles() if a.feed == "nytimes"),
        feed="dw", guid=article.guid, url=article.url,
        published=article.published + timedelta(hours=2),
    )  # fmt: skip
    serve_dw(feed_server, article, Response(b"busy", 503), '"1"')
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    start = datetime(2023, 3, 19, 8, 0, tzinfo=UTC)
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage, clock=lambda: start).feeds
    assert (feed.new, feed.pages_failed) == (1, 1)
    serve_dw(feed_server, other, Response(page_for(other).encode(), headers=HTML), '"2"')
    for hours in (1, 2):
        with Storage.open(loaded) as storage:
            now = start + timedelta(hours=hours)
            (feed,) = ingest(loaded, storage, clock=lambda: now).feeds  # noqa: B023
            titles = sorted(str(i["title"]) for i in storage.export_items())
        assert feed.error is None, feed.error
    assert titles == sorted([article.title, other.title])


@pytest.mark.parametrize("pages_fail_first", [False, True])
def test_teasers_sharing_one_guid_each_get_the_text_of_their_own_page(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, pages_fail_first: bool
) -> None:
    """A feed that gives one GUID to every item, each linking to its own page: each
    item is completed from its own page, at once or when its page is tried again,
    and neither is lost, not even while both are short teasers."""
    dw = next(a for a in sample_articles() if a.feed == "dw")
    other = replace(
        next(a for a in sample_articles() if a.feed == "nytimes"),
        feed="dw", guid=dw.guid, published=dw.published + timedelta(hours=2),
    )  # fmt: skip
    entries = []
    for number, article in enumerate((dw, other)):
        path = f"/dw/article-{number}.html"
        feed_server.routes[path] = Response(b"busy", 503)
        if not pages_fail_first:
            feed_server.routes[path] = Response(page_for(article).encode(), headers=HTML)
        entries.append((article, feed_server.url(path)))
    feed_server.routes["/dw.xml"] = Response(teaser_feed("dw", entries).encode(), headers=RSS)
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    start = datetime(2023, 3, 19, 8, 0, tzinfo=UTC)
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage, clock=lambda: start).feeds
        assert feed.error is None, feed.error
        assert (feed.new, feed.pages, feed.pages_failed) == (2, 2, 2 if pages_fail_first else 0)
    if pages_fail_first:
        for number, article in enumerate((dw, other)):
            page = Response(page_for(article).encode(), headers=HTML)
            feed_server.routes[f"/dw/article-{number}.html"] = page
        later = start + timedelta(hours=1)
        with Storage.open(loaded) as storage:
            (feed,) = ingest(loaded, storage, clock=lambda: later).feeds
            assert (feed.new, feed.pages, feed.pages_failed) == (0, 2, 0)
    with Storage.open(loaded) as storage:
        stored = dict(storage._db.execute("SELECT title, text FROM items").fetchall())
    assert sorted(stored) == sorted([dw.title, other.title])
    for article, another in ((dw, other), (other, dw)):
        # the page's last paragraph is past the teaser: the text came from the page
        assert last_words(article) in stored[article.title]
        assert last_words(another) not in stored[article.title]


def last_words(article: SampleArticle) -> str:
    """The start of the article's last paragraph of text, as plain text."""
    texts = [html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in article.paragraphs]
    return [text for text in texts if text][-1][:20]


@pytest.mark.parametrize("status", [503, 404])
def test_a_teaser_under_a_stored_guid_at_another_link_is_kept_whatever_its_page_does(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, status: int
) -> None:
    """A feed that gives one GUID to all its items lists a new one, at a link of its
    own, whose page fails: it is stored with the text of its page when the page
    comes, or as the teaser it is when the page is gone."""
    dw = next(a for a in sample_articles() if a.feed == "dw")
    other = replace(
        next(a for a in sample_articles() if a.feed == "nytimes"),
        feed="dw", guid=dw.guid, published=dw.published + timedelta(hours=2),
    )  # fmt: skip
    feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
    feed_server.routes["/dw/article-1.html"] = Response(b"no", status)
    entries = [(dw, feed_server.url("/dw/article-0.html"))]
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    start = datetime(2023, 3, 19, 8, 0, tzinfo=UTC)
    for hours in (0, 1, 2):
        if hours == 1:
            entries = [(other, feed_server.url("/dw/article-1.html")), entries[-1]]
        if hours == 2 and status == 503:
            page = Response(page_for(other).encode(), headers=HTML)
            feed_server.routes["/dw/article-1.html"] = page
        feed_server.routes["/dw.xml"] = Response(teaser_feed("dw", entries).encode(), headers=RSS)
        now = start + timedelta(hours=hours)
        with Storage.open(loaded) as storage:
            (feed,) = ingest(loaded, storage, clock=lambda: now).feeds  # noqa: B023
            assert feed.error is None, feed.error
            stored = dict(storage._db.execute("SELECT title, text FROM items").fetchall())
        expected = 2 if hours == 2 or (hours == 1 and status == 404) else 1
        assert len(stored) == expected, hours
    assert last_words(dw) in stored[dw.title]
    if status == 503:
        assert last_words(other) in stored[other.title]
    else:
        assert last_words(other) not in stored[other.title]
        assert feed.pages == 0  # a page gone is not asked for again


def fetch_dw(loaded: Config, hours: float) -> tuple[FeedReport, dict[str, str]]:
    """One fetch of the DW feed, `hours` after the first; its report and the stored
    texts by headline."""
    now = datetime(2023, 3, 19, 8, 0, tzinfo=UTC) + timedelta(hours=hours)
    with Storage.open(loaded) as storage:
        (feed,) = ingest(loaded, storage, clock=lambda: now).feeds
        assert feed.error is None, feed.error
        stored = dict(storage._db.execute("SELECT title, text FROM items").fetchall())
    return feed, stored


def test_an_edit_whose_page_is_gone_keeps_the_full_text_under_its_headline(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The feed edits a headline of an article whose page is then gone: the teaser
    it gives now is the same article (its link differs from the address the page
    named), so the stored full text stays, one item, and the page is not asked
    for again."""
    (dw,) = [a for a in sample_articles() if a.feed == "dw"]
    link = feed_server.url("/dw/article-0.html")
    feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
    feed_server.routes["/dw.xml"] = Response(teaser_feed("dw", [(dw, link)]).encode(), headers=RSS)
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    _, stored = fetch_dw(loaded, 0)
    full = stored[dw.title]
    edited = replace(dw, title=dw.title + "（更新）")
    feed_server.routes["/dw/article-0.html"] = Response(b"gone", 404)
    feed_server.routes["/dw.xml"] = Response(
        teaser_feed("dw", [(edited, link)]).encode(), headers=RSS
    )
    for hours in (1, 2):
        feed, stored = fetch_dw(loaded, hours)
        assert stored == {dw.title: full}
    assert feed_server.hits("/dw/article-0.html") == 2


@pytest.mark.parametrize("shorter", [False, True])
def test_a_headline_edit_of_a_teaser_whose_page_is_gone_is_stored(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, shorter: bool
) -> None:
    """A stored teaser (its page gone) edited: the new headline replaces the old, as
    the teaser loses nothing by it, even where the new teaser is a clause shorter."""
    (dw,) = [a for a in sample_articles() if a.feed == "dw"]
    link = feed_server.url("/dw/article-0.html")
    feed_server.routes["/dw/article-0.html"] = Response(b"gone", 404)
    feed_server.routes["/dw.xml"] = Response(teaser_feed("dw", [(dw, link)]).encode(), headers=RSS)
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    fetch_dw(loaded, 0)
    edited = replace(dw, title=dw.title + "（更新）")
    if shorter:
        clause = "，并重新开展外交活动以对抗平壤"
        paragraphs = tuple(p.replace(clause, "", 1) for p in edited.paragraphs)
        assert paragraphs != edited.paragraphs
        edited = replace(edited, paragraphs=paragraphs)
    feed_server.routes["/dw.xml"] = Response(
        teaser_feed("dw", [(edited, link)]).encode(), headers=RSS
    )
    feed, stored = fetch_dw(loaded, 1)
    assert (feed.edited, list(stored)) == (1, [edited.title])
    feed, stored = fetch_dw(loaded, 2)
    assert (feed.edited, list(stored)) == (0, [edited.title])
    assert feed_server.hits("/dw/article-0.html") == 2


def test_another_article_listed_after_a_stored_one_under_its_guid_waits_for_its_page(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """A feed that gives one GUID to all its items lists a new article after the
    stored one; its page fails for now. The next fetches take it again until the
    page comes, and it is stored with the page's text."""
    dw = next(a for a in sample_articles() if a.feed == "dw")
    other = replace(
        next(a for a in sample_articles() if a.feed == "nytimes"),
        feed="dw", guid=dw.guid, published=dw.published + timedelta(hours=2),
    )  # fmt: skip
    links = [feed_server.url(f"/dw/article-{number}.html") for number in (0, 1)]
    feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
    feed_server.routes["/dw/article-1.html"] = Response(b"busy", 503)
    feed_server.routes["/dw.xml"] = Response(
        teaser_feed("dw", [(dw, links[0])]).encode(), headers=RSS
    )
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    fetch_dw(loaded, 0)
    feed_server.routes["/dw.xml"] = Response(
        teaser_feed("dw", [(dw, links[0]), (other, links[1])]).encode(), headers=RSS
    )
    for hours in (1, 2):
        _, stored = fetch_dw(loaded, hours)
        assert list(stored) == [dw.title]
    feed_server.routes["/dw/article-1.html"] = Response(page_for(other).encode(), headers=HTML)
    for hours in (3, 4):
        _, stored = fetch_dw(loaded, hours)
        assert sorted(stored) == sorted([dw.title, other.title])
    assert last_words(other) in stored[other.title]
    assert feed_server.hits("/dw/article-1.html") == 3


def test_a_teaser_back_after_a_gap_fetches_its_page_only_when_edited(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """A teaser feed drops an article and lists it again: unchanged, it is the stored
    full text, and its page is not asked for; edited, with its page failing for
    now, the edit is taken by the next fetch whose page comes, though that fetch
    lists it without a gap."""
    dw = next(a for a in sample_articles() if a.feed == "dw")
    other = replace(
        next(a for a in sample_articles() if a.feed == "nytimes"),
        feed="dw", published=dw.published + timedelta(hours=2),
    )  # fmt: skip
    links = [feed_server.url(f"/dw/article-{number}.html") for number in (0, 1)]
    feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
    feed_server.routes["/dw/article-1.html"] = Response(page_for(other).encode(), headers=HTML)

    def serve(*listed: tuple[SampleArticle, str]) -> None:
        feed_server.routes["/dw.xml"] = Response(
            teaser_feed("dw", list(listed)).encode(), headers=RSS
        )

    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    serve((dw, links[0]))
    _, stored = fetch_dw(loaded, 0)
    full = stored[dw.title]
    serve((other, links[1]))
    fetch_dw(loaded, 1)
    serve((dw, links[0]), (other, links[1]))
    feed, stored = fetch_dw(loaded, 2)
    assert (feed.new, feed.edited, feed.pages) == (0, 0, 0)
    assert stored == {dw.title: full, other.title: stored[other.title]}
    edited = replace(dw, title=dw.title + "（更新）")
    serve((other, links[1]))
    fetch_dw(loaded, 3)
    feed_server.routes["/dw/article-0.html"] = Response(b"busy", 503)
    serve((edited, links[0]), (other, links[1]))
    feed, stored = fetch_dw(loaded, 4)
    assert (feed.edited, feed.pages_failed, stored[dw.title]) == (0, 1, full)
    feed_server.routes["/dw/article-0.html"] = Response(page_for(edited).encode(), headers=HTML)
    feed, stored = fetch_dw(loaded, 5)
    assert (feed.new, feed.edited) == (0, 1)
    assert sorted(stored) == sorted([edited.title, other.title])
    feed, stored = fetch_dw(loaded, 6)
    assert (feed.edited, feed.pages) == (0, 0)
    assert feed_server.hits("/dw/article-0.html") == 3


def shared_guid_articles(feed_server: FeedServer) -> tuple[list[SampleArticle], list[str]]:
    """DW's article and two others the feed gives under its GUID, later each; and
    the links of their pages."""
    dw = next(a for a in sample_articles() if a.feed == "dw")
    others = [
        replace(
            next(a for a in sample_articles() if a.feed == name),
            feed="dw",
            guid=dw.guid,
            published=dw.published + timedelta(hours=hours),
        )  # fmt: skip
        for name, hours in (("nytimes", 2), ("rfi", 3))
    ]
    links = [feed_server.url(f"/dw/article-{number}.html") for number in range(3)]
    return [dw, *others], links


def serve_listed(feed_server: FeedServer, *listed: tuple[SampleArticle, str]) -> None:
    feed_server.routes["/dw.xml"] = Response(teaser_feed("dw", list(listed)).encode(), headers=RSS)


def test_two_edits_of_one_stored_item_waiting_for_their_pages_each_keep_their_tries(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """A feed gives two new articles under a stored item's GUID, and both pages
    fail: each is asked for on its own back-off, four times at most, and each is
    then kept as the teaser it is."""
    (dw, b, c), links = shared_guid_articles(feed_server)
    feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    serve_listed(feed_server, (dw, links[0]))
    fetch_dw(loaded, 0)
    for number in (1, 2):
        feed_server.routes[f"/dw/article-{number}.html"] = Response(b"busy", 503)
    serve_listed(feed_server, (dw, links[0]), (b, links[1]), (c, links[2]))
    for quarter in range(4, 40):
        _, stored = fetch_dw(loaded, quarter / 4)
    asked = [feed_server.hits(f"/dw/article-{number}.html") for number in (1, 2)]
    assert asked == [4, 4]
    assert sorted(stored) == sorted([dw.title, b.title, c.title])


def test_a_stored_teasers_own_page_is_tried_again_after_an_edit_of_it_waited(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The teaser's page failed; an edit of it fails too, then the feed lists it no
    more: the teaser's own page is still tried again, and its full text stored."""
    (dw, _, _), links = shared_guid_articles(feed_server)
    feed_server.routes["/dw/article-0.html"] = Response(b"busy", 503)
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    serve_listed(feed_server, (dw, links[0]))
    fetch_dw(loaded, 0)
    serve_listed(feed_server, (replace(dw, title=dw.title + "（更新）"), links[0]))
    fetch_dw(loaded, 0.1)
    serve_listed(feed_server)
    fetch_dw(loaded, 0.2)
    feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
    for hours in (1, 2, 5, 9):
        _, stored = fetch_dw(loaded, hours)
    assert len(stored[dw.title]) > 500


def test_a_shared_guid_back_after_a_gap_with_its_stored_article_stores_it_once(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The stored article comes back unchanged, beside a new one under its GUID:
    the new one is stored, the stored one is a repeat (its page not asked for)."""
    (dw, b, c), links = shared_guid_articles(feed_server)
    for number, article in enumerate((dw, b, c)):
        route = f"/dw/article-{number}.html"
        feed_server.routes[route] = Response(page_for(article).encode(), headers=HTML)
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    serve_listed(feed_server, (dw, links[0]))
    _, stored = fetch_dw(loaded, 0)
    full = stored[dw.title]
    serve_listed(feed_server, (replace(c, guid="rfi-own"), links[2]))
    fetch_dw(loaded, 1)
    serve_listed(feed_server, (dw, links[0]), (b, links[1]))
    feed, stored = fetch_dw(loaded, 2)
    assert (feed.new, feed.repeats) == (1, 1)
    assert sorted(stored) == sorted([dw.title, b.title, c.title])
    assert stored[dw.title] == full and last_words(b) in stored[b.title]
    assert feed_server.hits("/dw/article-0.html") == 1


def test_an_edit_whose_page_is_gone_is_not_asked_for_again_after_a_gap(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    (dw, b, _), links = shared_guid_articles(feed_server)
    feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    serve_listed(feed_server, (dw, links[0]))
    _, stored = fetch_dw(loaded, 0)
    full = stored[dw.title]
    feed_server.routes["/dw/article-0.html"] = Response(b"gone", 404)
    edited = replace(dw, title=dw.title + "（更新）")
    feed_server.routes["/dw/article-1.html"] = Response(page_for(b).encode(), headers=HTML)
    for hours, listed in enumerate([[(edited, links[0])], [(replace(b, guid="b"), links[1])]] * 2):
        _, stored = fetch_dw(loaded, hours + 1)
        serve_listed(feed_server, *listed)
    assert stored[dw.title] == full
    assert feed_server.hits("/dw/article-0.html") == 2


def test_an_edit_waiting_for_its_page_keeps_its_tries_when_another_article_takes_its_guid(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """A new article under the GUID sets the stored one aside while an edit waits
    for its page: the edit's next try still waits for its time."""
    (dw, b, c), links = shared_guid_articles(feed_server)
    feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
    feed_server.routes["/dw/article-1.html"] = Response(b"busy", 503)
    feed_server.routes["/dw/article-2.html"] = Response(page_for(c).encode(), headers=HTML)
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    serve_listed(feed_server, (dw, links[0]))
    fetch_dw(loaded, 0)
    serve_listed(feed_server, (dw, links[0]), (b, links[1]))
    fetch_dw(loaded, 1)  # b's page fails: next try at 1.25
    serve_listed(feed_server, (dw, links[0]), (b, links[1]), (c, links[2]))
    for hours in (1.1, 1.15, 1.2):
        _, stored = fetch_dw(loaded, hours)
    assert feed_server.hits("/dw/article-1.html") == 1
    assert sorted(stored) == sorted([dw.title, c.title])
    _, stored = fetch_dw(loaded, 1.3)
    assert feed_server.hits("/dw/article-1.html") == 2


def undated_teasers(feed_server: FeedServer, *listed: tuple[SampleArticle, str]) -> None:
    """DW's teaser feed of `listed`, without its items' dates."""
    body = re.sub(r"<pubDate>.*?</pubDate>", "", teaser_feed("dw", list(listed)))
    feed_server.routes["/dw.xml"] = Response(body.encode(), headers=RSS)


@pytest.mark.parametrize("clock", ["running", "frozen"])
@pytest.mark.parametrize("first_page", ["read", "failed"])
def test_an_undated_teaser_takes_its_pages_date(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, clock: str, first_page: str
) -> None:
    """A teaser the feed gives no date has its page's date, whether the page is read
    at once or at a later try, and whatever time passes between reading the
    feed and its pages."""
    dw = next(a for a in sample_articles() if a.feed == "dw")
    link = feed_server.url("/dw/article-0.html")
    good = Response(page_for(dw).encode(), headers=HTML)
    feed_server.routes["/dw/article-0.html"] = (
        good if first_page == "read" else Response(b"busy", 503)
    )
    undated_teasers(feed_server, (dw, link))
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    start = datetime(2023, 3, 19, 8, 0, tzinfo=UTC)
    for hours in (0, 1):
        ticks = iter(range(1000))
        frozen = start + timedelta(hours=hours)

        def now(frozen: datetime = frozen, ticks: object = ticks) -> datetime:
            # A running clock moves on at every reading, as a real one does.
            return frozen + timedelta(seconds=next(ticks)) if clock == "running" else frozen

        with Storage.open(loaded) as storage:
            (feed,) = ingest(loaded, storage, clock=now).feeds
            assert feed.error is None, feed.error
            (published,) = storage._db.execute("SELECT published FROM items").fetchone()
        if hours == 0 and first_page == "failed":
            assert datetime.fromisoformat(published) >= start  # when it was fetched
            feed_server.routes["/dw/article-0.html"] = good
    assert datetime.fromisoformat(published) == dw.published.replace(microsecond=0)


def test_an_undated_teaser_whose_page_was_gone_is_replaced_by_its_edit(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The stored teaser carries the time it was fetched; its edit, read from its
    page, the page's date, earlier: that makes the edit no older version."""
    dw = next(a for a in sample_articles() if a.feed == "dw")
    link = feed_server.url("/dw/article-0.html")
    feed_server.routes["/dw/article-0.html"] = Response(b"gone", 404)
    undated_teasers(feed_server, (dw, link))
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    fetch_dw(loaded, 0)
    edited = replace(dw, title=dw.title + "（更新）")
    feed_server.routes["/dw/article-0.html"] = Response(page_for(edited).encode(), headers=HTML)
    undated_teasers(feed_server, (edited, link))
    feed, stored = fetch_dw(loaded, 1)
    assert feed.edited == 1 and list(stored) == [edited.title], (feed, stored)
    assert last_words(dw) in stored[edited.title]


@pytest.mark.parametrize("limited", [False, True])
def test_an_item_whose_edit_waits_for_its_page_after_a_gap_is_kept_by_retention(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, limited: bool
) -> None:
    """A delivered article comes back after a gap edited, and the edit's page fails
    (or the edit is left over `max_items`): the feed lists the item still, so
    pruning keeps it, and the edit's wait, however old its story."""
    (dw, other, newer), links = shared_guid_articles(feed_server)
    other, newer = replace(other, guid="other"), replace(newer, guid="newer")
    for number, article in enumerate((dw, other, newer)):
        path = f"/dw/article-{number}.html"
        feed_server.routes[path] = Response(page_for(article).encode(), headers=HTML)
    config = write(
        tmp_path,
        [f'name = "dw"\nurl = "{feed_server.url("/dw.xml")}"\nadapter = "dw"'],
        fetch="page_delay = 0" + ("\nmax_items = 1" if limited else ""),
        storage=backend.storage,
    )
    serve_listed(feed_server, (dw, links[0]))
    assert main(["run", "--config", str(config)]) == 0  # delivered to the outbox
    with Storage.open(load_config(config)) as storage, storage.transaction():
        storage._db.execute("UPDATE stories SET created_at = '2020-01-01T00:00:00+00:00'")
    serve_listed(feed_server, (other, links[1]))
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    edited = replace(dw, paragraphs=tuple(p.replace("周六", "周五") for p in dw.paragraphs))
    if limited:  # a newer article takes the one place
        page = Response(page_for(edited).encode(), headers=HTML)
        feed_server.routes["/dw/article-0.html"] = page
        serve_listed(feed_server, (edited, links[0]), (other, links[1]), (newer, links[2]))
    else:
        feed_server.routes["/dw/article-0.html"] = Response(b"busy", 503)
        serve_listed(feed_server, (edited, links[0]), (other, links[1]))
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert main(["prune", "--config", str(config)]) == 0
    with Storage.open(load_config(config)) as storage:
        titles = [row[0] for row in storage._db.execute("SELECT title FROM items")]
        waiting = storage._db.execute("SELECT COUNT(*) FROM edit_pages").fetchone()[0]
    assert dw.title in titles and waiting == (0 if limited else 1), (titles, waiting)
    if limited:  # the next fetch takes the edit, in place of the pruned-no-more item
        assert main(["run", "--no-digest", "--config", str(config)]) == 0
        with Storage.open(load_config(config)) as storage:
            query = "SELECT text FROM items WHERE title = ?"
            (text,) = storage._db.execute(query, (dw.title,)).fetchone()
        assert "周五" in text and "周六" not in text


@pytest.mark.parametrize("stored_first", [False, True])
def test_versions_of_one_guid_in_a_teaser_feed_share_their_page(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, stored_first: bool
) -> None:
    """A teaser feed lists an article twice under its GUID and link, the update
    an hour after the first version (first seen so, or beside the stored full
    text): the page, the update's, is asked for once, and the article is
    stored once, with the update's headline and the page's text."""
    dw = next(a for a in sample_articles() if a.feed == "dw")
    link = feed_server.url("/dw/article-0.html")
    update = replace(dw, title=dw.title + "（更新）", published=dw.published + timedelta(hours=1))
    loaded = load_config(dw_config(tmp_path, feed_server, backend))
    if stored_first:
        feed_server.routes["/dw/article-0.html"] = Response(page_for(dw).encode(), headers=HTML)
        serve_listed(feed_server, (dw, link))
        fetch_dw(loaded, 0)
    feed_server.routes["/dw/article-0.html"] = Response(page_for(update).encode(), headers=HTML)
    asked = feed_server.hits("/dw/article-0.html")
    older = replace(dw, paragraphs=tuple(p.replace("周六", "周五") for p in dw.paragraphs))
    serve_listed(feed_server, (update, link), (older if stored_first else dw, link))
    feed, stored = fetch_dw(loaded, 1)
    assert feed_server.hits("/dw/article-0.html") - asked == 1
    assert list(stored) == [update.title], (feed, stored)
    assert last_words(dw) in stored[update.title]
