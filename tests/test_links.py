"""Only http, https and mailto links reach the email; any other scheme is shown as text.

An item's link comes from the feed, which anyone can write: a ``javascript:``
or ``data:`` link runs or shows the feed's code in the reader's mail client,
and a ``file:`` link opens the reader's own disk.
"""

from __future__ import annotations

import random
from html import escape
from pathlib import Path

import lxml.html
import pytest
from conftest import FeedServer, Response, write_config

from monitor.cli import main
from monitor.urls import link_target

DANGEROUS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(2)",
    "java\tscript:alert(3)",
    " \x01javascript:alert(4)",
    "java\nscript:alert(5)",
    "vbscript:msgbox(6)",
    "data:text/html,<script>alert(7)</script>",
    "file:///etc/passwd",
    "/news/relative.html",
]
SAFE = ["https://example.org/a.html", "http://example.org/b", "mailto:editor@example.org"]


def body(number: int) -> str:
    """Texts different enough to be stories of their own."""
    rng = random.Random(number)
    return "".join(
        "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(30)) + "。" for _ in range(10)
    )


def rss(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>标题{n}</title><link>{escape(link)}</link><guid>g{n}</guid>"
        f"<pubDate>Mon, 23 Nov 2026 0{n % 10}:00:00 GMT</pubDate>"
        f"<description>{escape(body(n))}</description></item>"
        for n, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def atom(links: list[str]) -> bytes:
    entries = "".join(
        f'<entry><title>标题{n + 50}</title><link href="{escape(link)}"/><id>a{n}</id>'
        f"<updated>2026-11-23T0{n % 10}:30:00Z</updated>"
        f"<content>{escape(body(n + 50))}</content></entry>"
        for n, link in enumerate(links)
    )
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>'
        f"<id>urn:a</id><updated>2026-11-23T00:00:00Z</updated>{entries}</feed>"
    ).encode()


@pytest.mark.parametrize("url", DANGEROUS)
def test_a_link_is_made_only_of_http_https_or_mailto(url: str) -> None:
    assert link_target(url) is None


@pytest.mark.parametrize("url", SAFE)
def test_safe_links_are_kept(url: str) -> None:
    assert link_target(url) == url


def test_tabs_and_newlines_inside_a_safe_link_are_dropped_as_a_browser_does() -> None:
    assert link_target(" https://example.org/a\t/b\n ") == "https://example.org/a/b"


def test_no_dangerous_link_reaches_the_email_on_either_parse_path(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # A control character cannot be written in XML at all.
    links = [link for link in DANGEROUS if "\x01" not in link] + SAFE
    feed_server.routes["/rss.xml"] = Response(rss(links))
    # Each feed its own links: a link another feed has stored is not stored again.
    feed_server.routes["/atom.xml"] = Response(atom([link + "2" for link in links]))
    config = write_config(
        tmp_path, [("rss", feed_server.url("/rss.xml")), ("atom", feed_server.url("/atom.xml"))]
    )
    assert main(["run", "--config", str(config)]) == 0
    (html_file,) = (tmp_path / "outbox").glob("*.html")
    (eml_file,) = (tmp_path / "outbox").glob("*.eml")
    page = lxml.html.fromstring(html_file.read_text(encoding="utf-8"))
    hrefs = [a.get("href") for a in page.iter("a")]
    # A relative link is resolved against the feed's address: a page on its host.
    # So is "java<TAB>script:" in an Atom attribute, which XML reads as
    # "java script:" (a browser too: no scheme has a space).
    elsewhere = [href for href in hrefs if not href.startswith(feed_server.base + "/")]
    assert sorted(elsewhere) == sorted(SAFE + [link + "2" for link in SAFE])
    assert feed_server.url("/news/relative.html") in hrefs
    assert feed_server.url("/news/relative.html2") in hrefs
    text = page.text_content()
    for n in range(len(links)):
        # every story is there, linked or not
        assert f"标题{n}" in text and f"标题{n + 50}" in text
    message = eml_file.read_text(encoding="utf-8")
    for word in ("javascript", "vbscript", "data:text", "file:///", "JaVaScRiPt"):
        assert word not in message.lower() and word not in text.lower()
