"""The fast RSS reader gives exactly what feedparser gives, or declines.

`parse_feed` reads plain RSS 2.0 with lxml (`monitor.parse.rss`) and hands every
other document to feedparser. Each document here goes both ways, through
`parse_feed` and through `parse_with_feedparser`, and the items must be
equal field for field; the tests also check the fast reader really took the
documents it should, so a reader that declines everything cannot pass.
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from fixtures.make_samples import build
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.errors import ParseError
from monitor.parse import parse_feed
from monitor.parse.feed import as_utf8, parse_with_feedparser
from monitor.parse.rss import read_rss

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import make_feeds  # noqa: E402
from test_fuzz import mutated  # noqa: E402

NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"'
)


def rss(items: str, channel: str = "", declaration: str = '<?xml version="1.0"?>') -> bytes:
    return (
        f'{declaration}<rss version="2.0" {NAMESPACES}><channel><title>t</title>'
        f"{channel}{items}</channel></rss>"
    ).encode()


def same_both_ways(content: bytes, content_type: str | None = None) -> bool:
    """Assert both readers agree; whether the fast one took the document."""
    try:
        expected = parse_with_feedparser(content, "f", content_type)
    except ParseError:
        assert read_rss(as_utf8(content, content_type), content_type) is None
        with pytest.raises(ParseError):
            parse_feed(content, "f", content_type)
        return False
    assert parse_feed(content, "f", content_type) == expected
    return read_rss(as_utf8(content, content_type), content_type) is not None


def test_the_bundled_samples_and_generated_feeds_are_read_fast_and_the_same() -> None:
    documents = [p.read_bytes() for p in sorted((ROOT / "monitor" / "samples").glob("*.xml"))]
    documents += [content.encode() for content in build().values()]
    documents += list(make_feeds(4, 20).values())
    taken = [same_both_ways(content) for content in documents]
    assert sum(taken) >= len(documents) - 2, taken


@pytest.mark.parametrize(
    ("item", "fast"),
    [
        (
            "<title>  R&amp;D &lt;b&gt;bold&lt;/b&gt;  </title><link>https://a.example/1</link>",
            True,
        ),
        ("<title><![CDATA[<b>x</b> & y]]></title><guid>https://a.example/2</guid>", True),
        ('<guid isPermaLink="false">tag:a,1</guid><title>no link</title>', True),
        ('<guid isPermaLink="TRUE">https://a.example/3</guid><title>case</title>', True),
        ("<link>https://a.example/4</link><guid>https://a.example/other</guid>", True),
        ("<guid>https://a.example/5</guid><link>https://a.example/5b</link>", True),
        ("<link>/relative/6</link><title>relative</title>", True),
        ("<link>http:///a.example/7</link><title>slashes</title>", True),
        ("<link></link><guid>https://a.example/8</guid>", True),
        ("<title>caf\u00c3\u00a9 mojibake</title><link>https://a.example/9</link>", True),
        ("<title>c1 &#128; &#150; marks</title><link>https://a.example/10</link>", True),
        ("<pubDate>Sat, 18 Mar 2023 16:17:05 +0000</pubDate><title>d</title>", True),
        ("<pubDate>2023-03-18T16:17:05+08:00</pubDate><title>iso</title>", True),
        ("<pubDate>2023年3月18日</pubDate><title>chinese date</title>", True),
        ("<pubDate>not a date</pubDate><dc:date>2023-03-18</dc:date><title>x</title>", True),
        ("<pubDate></pubDate><title>empty date</title>", True),
        ("<dc:creator>张三</dc:creator><dc:creator>李四</dc:creator><title>x</title>", False),
        ("<dc:creator> 张三 </dc:creator><title>x</title>", True),
        ("<dc:creator>a@b.example (A B)</dc:creator><title>x</title>", False),
        ("<author>a@b.example (A B)</author><title>x</title>", False),
        ("<description>&lt;p&gt;escaped&lt;/p&gt;</description><title>x</title>", True),
        (
            "<description><![CDATA[<p>short</p>]]></description>"
            "<content:encoded><![CDATA[<p>the longer body</p>]]></content:encoded>",
            True,
        ),
        ("<description><p>raw markup</p></description><title>x</title>", False),
        ("<media:title>media</media:title><title>x</title>", False),
        ('<category domain="d">c</category><enclosure url="u" type="t"/><title>x</title>', True),
        ("<title>a</title><title>b</title>", False),
        ("<title>   </title>", True),
        ("<!-- a comment --><title>commented</title><link>https://a.example/c</link>", True),
        ("", True),
    ],
)
def test_tricky_items(item: str, fast: bool) -> None:
    assert same_both_ways(rss(f"<item>{item}</item><item><title>next</title></item>")) is fast


GB2312 = rss("<item><title>中文</title></item>", "", "<?xml version='1.0' encoding='gb2312'?>")
GB2312 = GB2312.decode().encode("gb2312")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (rss("<item><title>x</title></item>"), "text/html"),
        (rss("<item><title>x</title></item>"), "text/xml"),
        (rss("<item><title>x</title></item>"), "application/rss+xml; charset=gbk"),
        (rss("<item><title>\u4e2d</title></item>", declaration=""), None),
        (GB2312, None),
        (rss("<item><title>x</title></item>").replace(b'"2.0"', b'"0.91"'), None),
        (
            b'<!DOCTYPE rss [<!ENTITY e "x">]>'
            + rss("<item><title>&e;</title></item>", declaration=""),
            None,
        ),
        (rss("<item><title>&nbsp;</title></item>"), None),
        (rss('<item xml:base="https://b.example/"><link>r</link></item>'), None),
        (rss("<item><title>x</title></item>", channel="<ttl>30</ttl>"), "application/xml"),
        (rss("<item><title>cut"), None),
    ],
)
def test_documents_either_reader_may_take(content: bytes, content_type: str | None) -> None:
    same_both_ways(content, content_type)


def wrapped(
    items: str, channel: str = "", rss_attributes: str = "", channel_attributes: str = ""
) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"{rss_attributes} {NAMESPACES}>'
        f"<channel{channel_attributes}><title>t</title>{channel}{items}</channel></rss>"
    ).encode()


KOI8_IN_TEXT = '<![CDATA[<?xml version="1.0" encoding="koi8-r"?>]]>'


# Documents where what feedparser reads is easy to miss: attributes it takes as
# a base URL, a link, a date or an id; items, entries and a ttl at other depths
# or in other letter cases; elements inside elements the fast reader skips;
# query strings it repairs; an encoding named later on the first line.
@pytest.mark.parametrize(
    "content",
    [
        wrapped("<item><title>x</title><link>https://a.example/?a=1&amp;b;c=2</link></item>"),
        wrapped("<item><title>x</title><link>https://a.example/?a=1&amp;amp;b=2</link></item>"),
        wrapped("<item base='https://b.example/d/'><title>x</title><link>r</link></item>"),
        wrapped("<item><link>r</link></item>", channel_attributes=" base='https://b.example/'"),
        wrapped("<item><link>r</link></item>", rss_attributes=" base='https://b.example/'"),
        wrapped("<item href='https://b.example/x'><title>x</title></item>"),
        wrapped("<item lastmod='2020-01-02T00:00:00Z'><title>x</title></item>"),
        wrapped(
            "<item><title>x</title><category><link>https://e.example/</link></category></item>"
        ),
        wrapped(
            "<item><link>https://a.example/1</link><comments><title>o</title></comments></item>"
        ),
        wrapped("<Item><title>x</title><link>https://a.example/1</link></Item>"),
        wrapped("<entry><title>x</title><link>https://a.example/1</link></entry>"),
        wrapped("<foo><item><title>x</title><link>https://a.example/1</link></item></foo>"),
        wrapped("<item xmlns='http://purl.org/rss/1.0/'><title>x</title></item>"),
        wrapped("<item><title>x</title></item>", channel="<image><ttl>60</ttl></image>"),
        wrapped("<item><title>x</title></item>", channel="<ttl>3<!-- c -->0</ttl>"),
        wrapped("<item><title>x</title></item>", channel="<TTL>30</TTL>"),
        wrapped(
            f"<item><title>中文</title><description>{KOI8_IN_TEXT}</description></item>"
        ).replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="utf-8"?>'),
    ],
)
def test_what_feedparser_reads_between_the_lines(content: bytes) -> None:
    same_both_ways(content)


@pytest.mark.parametrize(
    ("content", "fast"),
    [
        (wrapped("<item><description><![CDATA[<!DOCTYPE html><!ENTITY e>]]></description></item>"),
         True),
        (wrapped("<item><category xml:base='https://b.example/'>c</category><link>r</link></item>"),
         False),
        (wrapped("<item><category base='https://b.example/'>c</category><link>r</link></item>"),
         False),
        (wrapped("<item><link>r</link></item>", channel="<image BaSe='https://b.example/'/>"),
         False),
        (wrapped("<item><link>r</link></item><item><category xml:base='https://b.example/'/></item>"),
         False),
        (wrapped("<item><title>a database</title><link>r</link></item>"), True),
        (wrapped("<item><link>r</link></item>").replace(b"?><rss", b'?><!-- <!ENTITY e "x"> --><rss'),
         False),
        (wrapped("<item><link>r</link></item>").replace(b"?><rss", b"?><!-- <a --><!DOCTYPE rss><rss"),
         False),
    ],
)  # fmt: skip
def test_declarations_count_only_where_feedparser_looks(content: bytes, fast: bool) -> None:
    """A DOCTYPE or an ENTITY before the first element, and a base URL on any element
    (feedparser applies it to the links that follow, even outside the element), send
    a document to feedparser; the same words in an article's text do not."""
    assert same_both_ways(content) is fast


def test_only_plain_utf8_rss_is_taken() -> None:
    plain = rss("<item><title>x</title></item>")
    assert read_rss(plain, None) is not None
    assert read_rss(plain, "application/rss+xml; charset=utf-8") is not None
    assert read_rss(plain, "text/html") is None
    assert read_rss(plain.replace(b'"2.0"', b'"0.91"'), None) is None
    assert read_rss(rss("<item><title>cut"), None) is None


TEXTS = st.sampled_from(
    ["", "  ", "plain", "R&amp;D", "&lt;b&gt;x&lt;/b&gt;", "<![CDATA[<p>a & b</p>]]>",
     "中文标题", "caf\u00c3\u00a9", "&#128;&#159;", "https://a.example/x?a=1&amp;b=2",
     "/relative", "http:///x", "Sat, 18 Mar 2023 16:17:05 +0000", "2023-03-18T08:00:00Z",
     "a@b.example (A)", "  spaced\n out  "]
)  # fmt: skip
# Mostly what the fast reader takes, so that it is the one tested; now and then
# what it must decline.
KNOWN = ["title", "link", "guid", "pubDate", "description", "content:encoded", "dc:creator",
         "dc:date", "category", "comments"]  # fmt: skip
TAGS = st.sampled_from(KNOWN * 4 + ["author", "source", "media:title", "pubdate"])
ATTRIBUTES = st.sampled_from(
    [""] * 6
    + [' isPermaLink="false"', ' isPermaLink="true"', ' a="1"', ' base="https://b.example/"']
)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    items = []
    for _ in range(draw(st.integers(0, 4))):
        children = draw(
            st.lists(st.tuples(TAGS, ATTRIBUTES, TEXTS), max_size=8, unique_by=lambda c: c[0])
            | st.lists(st.tuples(TAGS, ATTRIBUTES, TEXTS), max_size=3)
        )
        items.append("".join(f"<{t}{a}>{x}</{t}>" for t, a, x in children))
    channel = draw(st.sampled_from(["", "<ttl>15</ttl>", "<ttl>x</ttl>", "<link>l</link>"]))
    return rss("".join(f"<item>{i}</item>" for i in items), channel)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_read_the_same_both_ways(content: bytes) -> None:
    same_both_ways(content)


def test_markup_characters_escaped_by_a_library_are_read_fast_and_the_same() -> None:
    item = f"<item><title>{escape('<a> & b')}</title></item>"
    assert same_both_ways(rss(item))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_samples_read_the_same_both_ways(content: bytes) -> None:
    same_both_ways(content)


RSS_DATES = st.builds(
    "{}{} {} {:04d} {:02d}:{:02d}:{:02d} {}".format,
    st.sampled_from(["", "Mon, ", "Fri, ", "Sun, "]),
    st.integers(0, 39),
    st.sampled_from(["Jan", "Feb", "Jun", "Nov", "Dec", "Foo"]),
    st.integers(0, 9999),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.one_of(
        st.sampled_from(["GMT", "UT", "UTC", "EST", "Z", "+05:30"]),
        st.builds(
            "{}{:02d}{:02d}".format, st.sampled_from("+-"), st.integers(0, 99), st.integers(0, 99)
        ),
    ),
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(RSS_DATES, st.text(alphabet="0123456789 :+-,TZFriNovGMT", max_size=40)))
def test_dates_are_read_as_feedparser_reads_them(text: str) -> None:
    from feedparser.datetimes import _parse_date

    from monitor.parse.rss import _date

    assert _date(text) == _parse_date(text)


def test_the_usual_rss_date_is_read_without_feedparser(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.parse import rss

    monkeypatch.setattr(rss, "_parse_date", None)  # called, it would fail the test
    assert rss._date("Fri, 20 Nov 2026 23:30:00 -0500")[:6] == (2026, 11, 21, 4, 30, 0)
    assert rss._date("1 Jan 2027 00:00:00 +0800")[:6] == (2026, 12, 31, 16, 0, 0)


LINKS = st.builds(
    "{}{}{}{}".format,
    st.sampled_from(["", "http", "https", "a+b-c.d", "1x", "h t"]),
    st.sampled_from(["", ":", "://", ":/"]),
    st.sampled_from(["", "/", "//", "///"]),
    st.text(alphabet="htps:/ab.?#x 中", max_size=12),
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(LINKS, st.text(alphabet="htps:/ab+-.,?#x 中", max_size=24)))
def test_links_are_resolved_as_feedparser_resolves_them(uri: str) -> None:
    from feedparser.urls import _urljoin

    from monitor.parse.rss import _resolved

    assert _resolved(uri) == _urljoin("", uri)


def test_extra_slashes_after_the_scheme_are_dropped_as_feedparser_drops_them() -> None:
    from monitor.parse.rss import _resolved

    assert _resolved("https:///news.example/1") == "https://news.example/1"
    assert _resolved("https://news.example//1") == "https://news.example//1"


DECLARATION_PARTS = st.sampled_from(
    ["<?", "?>", "encoding=", "'", '"', "\n", "utf-8", "gbk", " ", "x", "?", "<", ">", "="]
)


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(DECLARATION_PARTS, max_size=16).map("".join),
    st.sampled_from(["", "<?xml ", '<?xml version="1.0" encoding="utf-8"?>']),
)
def test_the_declared_encoding_is_read_as_feedparser_reads_it(text: str, start: str) -> None:
    """Whatever the quotes, repeats and lines, the same capture as feedparser's regex."""
    from feedparser.encodings import RE_XML_PI_ENCODING

    from monitor.parse.rss import pi_encoding

    content = (start + text).encode()
    found = RE_XML_PI_ENCODING.match(content)
    assert pi_encoding(content) == (found.group(1) if found else None)
