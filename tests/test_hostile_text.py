"""Characters a feed can use to deceive or disturb, and titles given as markup.

A right-to-left override makes a title read in another order than it is
written; ESC and BEL reach terminals through ``monitor parse`` and
``export``. A title of type html is markup: read once, never shown as tags
or escaped twice.
"""

from __future__ import annotations

import json
import random
from html import escape
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config

from monitor.cli import main
from monitor.parse.adapters.base import title_text, visible

UNWANTED = "\x00\x07\x08\x0b\x0c\x0d\x1b\x1f\x7f\x80\x85\x9f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_invisible_characters_go_and_tab_newline_and_joiners_stay() -> None:
    assert visible("a" + UNWANTED + "b") == "ab"
    assert visible("a\tb\nc\u200dd\u200ce") == "a\tb\nc\u200dd\u200ce"


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("A <script> & B", "A <script> & B"),  # text that only looks odd
        ("C &lt;b&gt; &amp; D", "C <b> & D"),  # markup: read once
        ("E <b>bold</b> &amp; F", "E bold & F"),
        ("朝鲜&#x53D1;射", "朝鲜发射"),
    ],
)
def test_a_title_is_read_as_markup_only_when_it_is_markup(title: str, text: str) -> None:
    assert title_text(title) == text


def body(number: int) -> str:
    rng = random.Random(number)
    return "".join(
        "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(30)) + "。" for _ in range(10)
    )


def test_no_control_or_direction_character_survives_either_parse_path(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # XML forbids C0 controls even as references; they come inside escaped HTML.
    html = f"<p>{body(1)}&#27;[31m&#7;\u202egnp.exe\u0085</p>"
    feed_server.routes["/rss.xml"] = Response(
        (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>\u202e甲乙丙\u0085</title><link>https://e.org/1</link>"
            f"<description>{escape(html)}</description></item></channel></rss>"
        ).encode()
    )
    feed_server.routes["/atom.xml"] = Response(
        (
            '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>'
            "<id>urn:a</id><updated>2026-11-23T00:00:00Z</updated>"
            '<entry><title type="html">丁 &amp;lt;script&amp;gt; \u2066戊\u2069</title>'
            '<link href="https://e.org/2"/><id>2</id><updated>2026-11-23T00:00:00Z</updated>'
            f'<content type="html">{escape(html.replace(body(1), body(2)))}</content>'
            "</entry></feed>"
        ).encode()
    )
    config = write_config(
        tmp_path, [("rss", feed_server.url("/rss.xml")), ("atom", feed_server.url("/atom.xml"))]
    )
    assert main(["run", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["export", "--config", str(config)]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(item["title"] for item in exported) == ["丁 <script> 戊", "甲乙丙"]
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    (preview,) = (tmp_path / "outbox").glob("*.html")
    for shown in (eml.read_text(encoding="utf-8"), preview.read_text(encoding="utf-8")):
        assert not any(c in shown for c in UNWANTED.replace("\x0d", ""))
    page = preview.read_text(encoding="utf-8")
    assert "丁 &lt;script&gt; 戊" in page and "&amp;lt;" not in page
    for feed in ("rss.xml", "atom.xml"):
        assert main(["parse", "--json", feed_server.url(f"/{feed}")]) == 0
        (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        for field in ("title", "text"):
            assert not any(c in record[field] for c in UNWANTED), (feed, field)
        assert "gnp.exe" in record["text"]
