"""Random and mutated feed bytes through parse → adapter → dedup features.

Whatever comes in, the only exceptions that may come out are `MonitorError`s.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fixtures.make_samples import build
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.dedup import Features
from monitor.errors import MonitorError
from monitor.parse import adapter_for, parse_feed

SAMPLES = [content.encode() for content in build().values()]
FETCHED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def through_the_pipeline(content: bytes) -> None:
    try:
        parsed = parse_feed(content, "fuzz")
    except MonitorError:
        return
    for item in parsed.items:
        article = adapter_for(item.url).adapt(item, "fuzz", FETCHED)
        Features.of(article.text or article.title)
        assert "<script" not in article.html.lower()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 20))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "duplicate"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 500))]
        elif action == "insert":
            data[position:position] = draw(
                st.sampled_from(
                    [b"<", b"]]>", b"&", b"<script>alert(1)</script>", b"\x00", b"\xff\xfe"]
                )
            )
        else:
            end = min(len(data), position + draw(st.integers(1, 300)))
            data[position:position] = data[position:end]
        if not data:
            data = bytearray(b" ")
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_feeds(content: bytes) -> None:
    through_the_pipeline(content)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes(content: bytes) -> None:
    through_the_pipeline(content)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=500))
def test_random_item_html(html: str) -> None:
    item = f'<rss version="2.0"><channel><item><title>t</title><description><![CDATA[{html}]]></description></item></channel></rss>'
    through_the_pipeline(
        item.encode("utf-8", errors="surrogatepass").decode("utf-8", "replace").encode()
    )


def test_a_mangled_encoding_declaration_is_read_as_undeclared() -> None:
    """feedparser itself crashes on these; they are parsed as if nothing were declared."""
    feed = SAMPLES[0].split(b"?>", 1)[1]
    for declaration in (
        b'<?\x00]>xml version="1.0" encoding="\xff\xfeutf-8"?>',
        b'<?\x00ml version="1.0" encoding="\x00tf-8"?>',
        b'<?xml version="1.0" encoding="\x80tf-8"?>',
    ):
        parsed = parse_feed(declaration + feed, "fuzz")
        assert parsed.items and parsed.items[0].title
