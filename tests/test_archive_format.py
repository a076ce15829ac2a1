"""Both archive variants, files in no known format, relative item links, image proxies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config
from test_cli import monitor

from monitor.errors import ParseError
from monitor.parse import parse_archive, parse_feed, read_archived_item
from monitor.parse.adapters import adapter_for
from monitor.parse.archive import archived_item_to_item

FRONT = """---
layout: post
title: "中美贸易协定评估推迟"
date: 2020-08-15T11:05:13.000Z
author: 德国之声
from: https://www.dw.com/zh/中美贸易协定评估推迟/a-54567890
tags: [ 德国之声 ]
categories: [ 德国之声 ]
---
"""
SEED_PART = """<!--1597489513000-->
[中美贸易协定评估推迟](https://www.dw.com/zh/a-54567890)
------

<div>
<div><i>  任琛/王凡<br>2020-08-15T10:33:05.052Z</i></div><p>（德国之声中文网）美国和中国高层推迟了原本预定于本周六进行的评估。</p>
<p><em>© 2020年德国之声版权声明：本文所有内容受到著作权法保护，如无德国之声特别授权，不得擅自使用。</em></p>
</div>
"""


def test_an_item_with_a_front_matter_is_read_as_the_seed_format() -> None:
    item = read_archived_item(FRONT + SEED_PART, "a.md")
    assert item.title == "中美贸易协定评估推迟"
    assert item.url == "https://www.dw.com/zh/a-54567890"  # the item's own line first
    assert item.published == datetime(2020, 8, 15, 11, 5, 13, tzinfo=UTC)
    assert item.outlet == "德国之声"
    assert item.authors == ()  # "author: 德国之声" is the outlet, not a person
    assert item.body.startswith("<div>")
    article = adapter_for(item.url).adapt(
        archived_item_to_item("a.md", item), "f", datetime.now(UTC)
    )
    assert article.authors == ("任琛", "王凡")
    assert article.source == "DW 中文"
    assert article.text == "（德国之声中文网）美国和中国高层推迟了原本预定于本周六进行的评估。"


def test_the_front_matter_stands_in_for_what_the_item_lacks() -> None:
    bare = FRONT.replace("author: 德国之声", "author: 'Josh Rudolph'") + "<p>正文。</p>\n"
    item = read_archived_item(bare, "b.md")
    assert item.title == "中美贸易协定评估推迟"
    assert item.url == "https://www.dw.com/zh/中美贸易协定评估推迟/a-54567890"
    assert item.published == datetime(2020, 8, 15, 11, 5, 13, tzinfo=UTC)
    assert item.authors == ("Josh Rudolph",)
    feed_item = archived_item_to_item("b.md", item)
    assert feed_item.source == "德国之声" and feed_item.guid == item.url
    # A generic site takes the outlet the front matter names as its source.
    generic = FRONT.replace("www.dw.com", "example.org") + "<p>正文。</p>\n"
    item = archived_item_to_item("c.md", read_archived_item(generic, "c.md"))
    assert adapter_for(item.url).adapt(item, "my folder", datetime.now(UTC)).source == "德国之声"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "x.md: empty file, not an archived item"),
        (
            "---\ntitle: a\n<p>never closed</p>\n",
            "x.md: its front matter (from line 1) has no closing",
        ),
        (
            "---\nlayout: post\n---\n<p>body</p>\n",
            "x.md: its front matter names neither a title nor",
        ),
    ],
)
def test_a_file_in_no_known_format_is_a_one_line_error_naming_it(text: str, message: str) -> None:
    with pytest.raises(ParseError) as raised:
        read_archived_item(text, "x.md")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_folder_feed_skips_a_file_in_no_known_format_and_keeps_the_rest() -> None:
    files = (("1.md", (FRONT + SEED_PART).encode()), ("2.md", b"---\ntitle: x\n"))
    parsed = parse_archive(files, "archive")
    assert [item.url for item in parsed.items] == ["https://www.dw.com/zh/a-54567890"]
    assert parsed.warning is not None
    assert "feed 'archive': skipped files in no known item format: 2.md:" in parsed.warning


def test_parse_reads_a_front_matter_item_and_refuses_a_broken_one(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text(FRONT + SEED_PART, encoding="utf-8")
    (tmp_path / "bad.md").write_text("---\ntitle: x\n", encoding="utf-8")
    done = monitor("parse", "good.md", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["title"] == "中美贸易协定评估推迟" and record["adapter"] == "dw"
    assert record["published"] == "2020-08-15T10:33:05.052000+00:00"
    done = monitor("parse", "bad.md", cwd=tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "monitor: error: bad.md: its front matter (from line 1) has no closing '---'"
    ]


RELATIVE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>/news/123</link><description>x</description></item>
<item><title>b</title><link>https://other.example/b</link><guid>g</guid></item>
</channel></rss>"""

BASED_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://www.dw.com/zh/"><title>t</title>
<entry><title>c</title><id>urn:c</id><link href="a-54567890"/><updated>2020-08-15T10:00:00Z</updated>
<content type="html">&lt;p&gt;x&lt;/p&gt;</content></entry></feed>"""


def test_relative_item_links_are_resolved_against_the_feed_address() -> None:
    first, second = parse_feed(RELATIVE_RSS, "f", base_url="https://www.dw.com/rss/zh").items
    assert first.url == "https://www.dw.com/news/123"
    assert first.guid == first.url  # the link was its identity
    assert adapter_for(first.url).name == "dw"
    assert second.url == "https://other.example/b" and second.guid == "g"


def test_xml_base_comes_before_the_feed_address() -> None:
    (entry,) = parse_feed(BASED_ATOM, "f", base_url="https://mirror.example/feed").items
    assert entry.url == "https://www.dw.com/zh/a-54567890"


def test_a_run_stores_relative_links_as_addresses_on_the_feed_host(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.cli import main

    feed_server.routes["/feeds/rss.xml"] = Response(RELATIVE_RSS)
    config = write_config(tmp_path, [("site", feed_server.url("/feeds/rss.xml"))])
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["export", "--config", str(config)]) == 0
    urls = sorted(json.loads(line)["url"] for line in capsys.readouterr().out.splitlines())
    assert urls == sorted(["https://other.example/b", feed_server.url("/news/123")])


def test_parse_unwraps_image_proxies_in_its_markup(tmp_path: Path) -> None:
    proxied = SEED_PART.replace(
        "<p>（德国之声",
        '<img src="https://images.weserv.nl/?url=api.dw.com/image/1_303.jpg"><p>（德国之声',
    )
    (tmp_path / "item.md").write_text(proxied, encoding="utf-8")
    done = monitor("parse", "item.md", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["images"] == ["https://api.dw.com/image/1_303.jpg"]
    assert "weserv" not in record["html"]
    assert 'src="https://api.dw.com/image/1_303.jpg"' in record["html"]


def test_a_site_title_suffix_is_cut_and_the_repeated_title_is_not_text() -> None:
    # RFI's video items: the page repeats the title above its one line of text.
    text = (
        "<!--1600680873000-->\n"
        "[白昼之夜如期举行 – 法国国际广播电台 - RFI](https://www.rfi.fr/cn/20200921-x)\n------\n\n"
        "<div><div>21/09/2020 - 11:13</div><p>白昼之夜如期举行</p>"
        "<p>金秋10月2日法国迎来了一年一度的白昼之夜。</p><p>© 2020 AFP</p></div>\n"
    )
    item = archived_item_to_item("v.md", read_archived_item(text, "v.md"))
    article = adapter_for(item.url).adapt(item, "RFI", datetime.now(UTC))
    assert article.title == "白昼之夜如期举行"
    assert article.text == "金秋10月2日法国迎来了一年一度的白昼之夜。"
