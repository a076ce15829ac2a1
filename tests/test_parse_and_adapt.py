from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import ConfigError, ParseError
from monitor.models import Item
from monitor.parse import adapter_for, adapter_named, parse_feed
from monitor.parse.adapters import GENERIC
from monitor.parse.feed import parse_with_feedparser
from monitor.urls import ALREADY_CANONICAL, canonical_url, host_of, rebuilt_url, unwrap_image_proxy

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>
<item><title>标题一</title><link>https://example.org/a?utm_source=rss&amp;id=1</link>
<guid>g1</guid><pubDate>Sat, 18 Mar 2023 15:50:17 +0000</pubDate><author>x@example.org (记者甲)</author>
<description>short</description>
<content:encoded><![CDATA[<p>正文第一段。</p><p>第二段。</p>]]></content:encoded></item>
<item><title>no guid</title><link>https://example.org/b</link><description>b</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>Atom 条目</title><id>urn:1</id><link href="https://example.org/atom/1"/>
<updated>2024-06-21T04:12:12Z</updated><author><name>作者乙</name></author>
<content type="html">&lt;p&gt;内容&lt;/p&gt;</content></entry></feed>"""


def test_rss_items() -> None:
    parsed = parse_feed(RSS.encode(), "f")
    assert parsed.warning is None
    first, second = parsed.items
    assert first.guid == "g1"
    assert first.title == "标题一"
    assert first.published == datetime(2023, 3, 18, 15, 50, 17, tzinfo=UTC)
    assert first.html == "<p>正文第一段。</p><p>第二段。</p>"
    assert first.authors
    assert second.guid == "https://example.org/b"
    assert second.published is None


def test_atom_items() -> None:
    (entry,) = parse_feed(ATOM.encode(), "f").items
    assert entry.guid == "urn:1" and entry.url == "https://example.org/atom/1"
    assert entry.authors == ("作者乙",)
    assert entry.published == datetime(2024, 6, 21, 4, 12, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty response body"),
        (b"   \n", "empty response body"),
        (b"<html><body><p>Not a feed</p></body></html>", "feed 'f': an HTML page, not a feed"),
        (b"<rss version='2.0'><chan", "feed 'f': not a readable feed"),
    ],
)
def test_unusable_documents_raise_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_feed(body, "f")


def test_an_empty_feed_that_quotes_html_is_an_empty_feed_not_a_page() -> None:
    atom = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>t</title><subtitle><![CDATA[<html> soon]]></subtitle><id>x</id>"
        b"<updated>2020-01-01T00:00:00Z</updated></feed>"
    )
    assert parse_with_feedparser(atom, "f").items == []
    page = b"\xef\xbb\xbf<!-- cached -->\n<!DOCTYPE html><html><body>Welcome</body></html>"
    with pytest.raises(ParseError, match="feed 'f': an HTML page, not a feed"):
        parse_with_feedparser(page, "f")


def test_recoverable_damage_keeps_the_items_with_a_warning() -> None:
    damaged = RSS.replace("</channel></rss>", "<item><title>cut off")
    parsed = parse_feed(damaged.encode(), "f")
    assert [i.guid for i in parsed.items][:2] == ["g1", "https://example.org/b"]
    assert parsed.warning is not None
    assert parsed.warning.startswith("feed 'f': damaged feed, kept")


def test_a_string_that_looks_like_a_path_is_never_opened(tmp_path: object) -> None:
    with pytest.raises(ParseError):
        parse_feed(b"/etc/passwd", "f")


def item(html: str, url: str = "https://example.org/news/1", title: str = "标题") -> Item:
    return Item(guid="g", url=url, title=title, published=None, authors=(), html=html)


def test_generic_adapter_keeps_the_article_and_drops_chrome() -> None:
    html = """
    <nav>首页 | 国际</nav>
    <div class="ad-banner">广告位招租</div>
    <p>第一段：<a href="https://x.org">链接</a>文字。</p>
    <script>alert(1)</script>
    <figure><img src="https://images.weserv.nl/?url=static.dw.com/image/1_303.jpg">
    <figcaption>图片说明</figcaption></figure>
    <p>第二段<br>换行之后。</p>
    <div class="related-links"><a href="/2">相关阅读</a></div>
    <div>2023-03-18T15:50:17.862Z</div>
    <footer>版权所有</footer>
    """
    article = GENERIC.adapt(item(html), "源", NOW)
    assert article.text == "第一段：链接文字。\n第二段\n换行之后。"
    assert article.images == ("https://static.dw.com/image/1_303.jpg",)
    assert article.published == NOW  # no date in the feed: when it was fetched
    assert "<script" not in article.html and "广告" not in article.html
    assert article.source == "源" and article.original_source is None


def test_images_come_from_the_text_kept() -> None:
    """Pictures after a "related" heading, or in a line of the site's furniture, are
    other articles' (China Digital Times reposts a related item's picture after
    相关新闻：, BBC lists its related reports with theirs): the text leaves them out,
    and so do the images."""
    own = "https://chinadigitaltimes.net/chinese/files/2020/08/own.jpg"
    html = (
        f'<p>白俄罗斯举行总统选举，现任总统以多数票胜出。</p><p><img src="{own}"></p>'
        "<p>相关新闻：</p><h3>习近平致电祝贺</h3><p>新华社北京8月10日电……</p>"
        '<p><img src="https://chinadigitaltimes.net/chinese/files/2020/08/other.jpg"></p>'
    )
    url = "https://chinadigitaltimes.net/chinese/2020/08/a/"
    article = adapter_for(url).adapt(item(html, url), "中国数字时代", NOW)
    assert article.text == "白俄罗斯举行总统选举，现任总统以多数票胜出。"
    assert article.images == (own,)


def test_generic_adapter_reads_plain_text_pages() -> None:
    text = "第一行文字。\n\n  第二行文字。\n版权与免责声明:本文内容转载自新华社,不代表本网观点。"
    article = GENERIC.adapt(item(text), "aggregator", NOW)
    assert article.text.split("\n")[:2] == ["第一行文字。", "第二行文字。"]
    assert article.original_source == "新华社"


def test_generic_adapter_sanitises_markup() -> None:
    html = (
        '<p onclick="steal()">a<a href="javascript:alert(1)">x</a>'
        '<img src="data:image/png;base64,AAAA" onerror="x()"><style>p{}</style></p>'
    )
    article = GENERIC.adapt(item(html), "s", NOW)
    for bad in ("onclick", "javascript:", "onerror", "data:", "<style"):
        assert bad not in article.html


def test_adapter_registry() -> None:
    assert adapter_for("https://www.dw.com/zh/a-1").name == "dw"
    assert adapter_for("https://cn.nytimes.com/asia-pacific/x/").name == "nytimes"
    assert adapter_for("https://www.rfi.fr/cn/x").name == "rfi"
    assert adapter_for("https://news.cri.cn/x").name == "cri"
    assert adapter_for("https://www.qukanredian.com/x").name == "aggregator"
    assert adapter_for("https://notdw.com/x") is GENERIC  # a suffix match needs a dot
    assert adapter_for("https://example.org/x") is GENERIC
    assert adapter_for("") is GENERIC
    assert adapter_named("generic") is GENERIC
    with pytest.raises(ConfigError, match="no adapter named 'nope'"):
        adapter_named("nope")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.ORG:443/a?utm_source=rss&id=2#top", "https://example.org/a?id=2"),
        ("http://example.org:8080", "http://example.org:8080/"),
        ("https://www.dw.com/zh/对抗朝鲜/a-1", "https://www.dw.com/zh/%E5%AF%B9%E6%8A%97%E6%9C%9D%E9%B2%9C/a-1"),
        ("https://www.dw.com/zh/%e5%af%b9/a-1?fbclid=x", "https://www.dw.com/zh/%E5%AF%B9/a-1"),
        ("not a url", "not a url"),
    ],
)  # fmt: skip
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert rebuilt_url(url) == expected


url_parts = st.sampled_from(
    ["http", "https", "HTTP", "://", "/", "//", "a", "Z", "0", "-", ".", ":", ":80", ":443",
     "%41", "%e5", "?", "q=1", "&", "#", "utm_source=x", "_", "~", "'", "@", "!", "$", "*",
     "(", ")", "+", ",", ";", "=", " ", "\t", "对", "é", "[", "]", "xn--", "www.", ".com"]
)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(url_parts, min_size=1, max_size=12))
def test_a_plain_urls_host_is_read_as_urlsplit_reads_it(parts: list[str]) -> None:
    def reference(url: str) -> str:
        try:
            return (urlsplit(url).hostname or "").lower()
        except ValueError:  # "Invalid IPv6 URL": no host to read
            return ""

    for url in ("".join(parts), "https://" + "".join(parts), "http://a.b" + "".join(parts)):
        assert host_of(url) == reference(url)


def test_an_item_link_urlsplit_refuses_gets_the_generic_adapter() -> None:
    assert host_of("http://[x/a.html") == ""
    assert adapter_for("http://[x/a.html").name == "generic"


@settings(max_examples=2000, deadline=None)
@given(st.lists(url_parts, min_size=3, max_size=12))
def test_urls_taken_as_they_are_would_come_back_unchanged(parts: list[str]) -> None:
    for url in ("".join(parts), "https://" + "".join(parts), "http://a.b/" + "".join(parts)):
        if ALREADY_CANONICAL.fullmatch(url):
            assert rebuilt_url(url) == url
        assert canonical_url(url) == rebuilt_url(url.strip())


def test_unwrap_image_proxy() -> None:
    assert (
        unwrap_image_proxy("https://images.weserv.nl/?url=static01.nyt.com/images/a.jpg")
        == "https://static01.nyt.com/images/a.jpg"
    )
    assert unwrap_image_proxy("https://s.rfi.fr/a.jpg") == "https://s.rfi.fr/a.jpg"
    # Hosts the quick reading of a host leaves to `urlsplit`: a port, a user.
    assert unwrap_image_proxy("https://IMAGES.weserv.nl:443/?url=x.org/a.jpg") == (
        "https://x.org/a.jpg"
    )
    assert unwrap_image_proxy("http://u@wsrv.nl/?url=ssl:x.org/b.jpg") == "https://x.org/b.jpg"
    assert unwrap_image_proxy("http://[x/?url=a.jpg") == "http://[x/?url=a.jpg"
