"""`feeds add` with a page finds its feed; JSON Feed reads like RSS and Atom."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ParseError
from monitor.parse import feed_links, parse_feed

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "某某新闻 JSON",
    "home_page_url": "https://news.example/",
    "authors": [{"name": "编辑部"}],
    "items": [
        {
            "id": "n-2",
            "url": "https://news.example/2",
            "title": "第二篇",
            "content_html": "<p>韩国宣布恢复军事情报保护协定。</p>",
            "date_published": "2026-11-23T08:30:00+08:00",
            "authors": [{"name": "王五"}],
        },
        {
            "id": "n-1",
            "external_url": "https://elsewhere.example/1",
            "title": "第一篇",
            "content_text": "第一段。\n\n第二段。",
            "date_modified": "2026-11-22T00:00:00Z",
        },
        {"title": "no id and no link: not an item"},
        "not an object",
    ],
}


def page(links: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>站</title>{links}</head><body>新闻</body></html>".encode()


def test_json_feed_items_are_items() -> None:
    body = json.dumps(JSON_FEED, ensure_ascii=False).encode()
    for content_type in ("application/feed+json", None):
        second, first = parse_feed(body, "j", content_type).items
        assert (second.guid, second.url, second.title) == (
            "n-2",
            "https://news.example/2",
            "第二篇",
        )
        assert (
            second.published is not None
            and second.published.isoformat() == "2026-11-23T00:30:00+00:00"
        )
        assert second.authors == ("王五",) and "军事情报" in second.html
        assert (first.guid, first.url, first.authors) == (
            "n-1",
            "https://elsewhere.example/1",
            ("编辑部",),
        )
        assert first.html == "<p>第一段。</p><p>第二段。</p>"
    with pytest.raises(ParseError, match="JSON, but not a JSON Feed"):
        parse_feed(b'{"error": "rate limited"}', "j", "application/json")


def test_the_alternates_of_a_page_come_first_then_the_usual_paths() -> None:
    links = page(
        '<link rel="stylesheet" href="/s.css">'
        '<link rel="alternate" type="application/atom+xml" href="/atom.xml">'
        '<link rel="Alternate" type="application/rss+xml; charset=utf-8" href="https://cdn.example/rss">'
        '<link rel="alternate" type="text/html" href="/zh">'
        '<link rel="alternate" type="application/feed+json" href="feed.json">'
    )
    found = feed_links(links, "https://news.example/section/page.html")
    assert found[:3] == [
        "https://news.example/atom.xml",
        "https://cdn.example/rss",
        "https://news.example/section/feed.json",
    ]
    assert "https://news.example/feed" in found and len(found) == len(set(found))


def test_feeds_add_finds_the_feed_of_a_page_and_names_it_after_its_title(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/news.html"] = Response(
        page('<link rel="alternate" type="application/rss+xml" href="/feed.xml">'),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    feed_server.routes["/feed.xml"] = Response(build()["rfi.xml"].encode())
    feed_server.routes["/plain.html"] = Response(page(""))
    feed_server.routes["/rss"] = Response(json.dumps(JSON_FEED).encode())  # a usual path
    feed_server.routes["/bare/index.html"] = Response(page(""))
    config = write_config(tmp_path, [])
    capsys.readouterr()
    assert main(["feeds", "add", feed_server.url("/news.html"), "-c", str(config)]) == 0
    said = capsys.readouterr().err
    title = load_config(config).feeds[0].name
    assert title and title != "127.0.0.1"
    assert f"added feed {title!r} ({feed_server.url('/feed.xml')}), found on " in said
    # The same feed again, by the page or by its own address: refused.
    for again in (feed_server.url("/news.html"), feed_server.url("/feed.xml")):
        assert main(["feeds", "add", again, "-c", str(config)]) == 2
        assert f"already configured, as feed {title!r}" in capsys.readouterr().err
    assert main(["feeds", "add", feed_server.url("/plain.html"), "-c", str(config)]) == 0
    assert "added feed '某某新闻 JSON'" in capsys.readouterr().err
    assert [f.url for f in load_config(config).feeds][-1] == feed_server.url("/rss")
    del feed_server.routes["/rss"], feed_server.routes["/feed.xml"]
    assert main(["feeds", "add", feed_server.url("/bare/index.html"), "-c", str(config)]) == 1
    assert "a web page that names no feed" in capsys.readouterr().err


def test_import_opml_finds_the_feed_of_a_page_and_keeps_what_it_cannot_read(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/news.html"] = Response(
        page('<link rel="alternate" type="application/rss+xml" href="/feed.xml">')
    )
    feed_server.routes["/feed.xml"] = Response(build()["rfi.xml"].encode())
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    config = write_config(tmp_path, [("dw", feed_server.url("/dw.xml"))])
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline text="news" xmlUrl="{feed_server.url("/news.html")}"/>'
        f'<outline text="dw again" xmlUrl="{feed_server.url("/dw.xml")}?utm_source=opml"/>'
        f'<outline text="gone" xmlUrl="{feed_server.url("/gone.xml")}"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["import-opml", str(opml), "-c", str(config)]) == 0
    err = capsys.readouterr().err
    assert f"feed 'news': {feed_server.url('/feed.xml')}, found on the page " in err
    assert "warning: feed 'gone'" in err and "HTTP 404" in err and "imported as it is" in err
    assert "imported 2 feeds" in err and "(1 already there)" in err
    urls = {feed.name: feed.url for feed in load_config(config).feeds}
    assert urls == {
        "dw": feed_server.url("/dw.xml"),
        "news": feed_server.url("/feed.xml"),
        "gone": feed_server.url("/gone.xml"),
    }
    assert main(["import-opml", str(opml), "--no-check", "-c", str(config)]) == 0
    assert "found on the page" not in capsys.readouterr().err
