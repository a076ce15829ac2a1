"""Broken and hostile feeds against a real misbehaving HTTP server on 127.0.0.1.

Each must give one clear line naming the feed, while the other feeds in the
same run are processed normally.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import FeedConfig, FetchConfig
from monitor.errors import FetchError
from monitor.fetch import Fetcher, Validators

GOOD = build()["dw.xml"].encode()


def rss(items: str, encoding: str = "utf-8", declare: bool = True) -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if declare else ""
    return f'{declaration}<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


def run(config: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    return capsys.readouterr().err.splitlines()


def export(config: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["export", "--config", str(config)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def status(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(config)]) == 0
    return {f["name"]: f for f in json.loads(capsys.readouterr().out)["feeds"]}


def trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.end_headers()
    try:
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:
        pass


def bomb(encoding: str) -> Response:
    zeros = b"\0" * 50_000_000
    body = gzip.compress(zeros, compresslevel=9) if encoding == "gzip" else zlib.compress(zeros, 9)
    return Response(body, headers={"Content-Encoding": encoding})


def test_every_broken_feed_is_one_line_and_the_good_one_is_stored(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    routes: dict[str, Any] = {
        "/good": Response(GOOD),
        "/404": Response(b"no", 404),
        "/500": Response(b"oops", 500),
        "/503": Response(b"busy", 503, {"Retry-After": "3600"}),
        "/html": Response(b"<!DOCTYPE html><html><body><p>Welcome</p></body></html>"),
        "/empty": Response(b""),
        "/broken": Response(b"<rss version='2.0'><chan"),
        "/loop-a": Response(b"", 302, {"Location": "/loop-b"}),
        "/loop-b": Response(b"", 302, {"Location": "/loop-a"}),
        "/hang": Response(GOOD, delay=8),
        "/trickle": trickle,
        "/huge": Response(b"x" * 3_000_000, chunked=True),
        "/gzip-bomb": bomb("gzip"),
        "/deflate-bomb": bomb("deflate"),
        "/br": Response(b"xx", headers={"Content-Encoding": "br"}),
    }
    for n in range(8):
        routes[f"/hop{n}"] = Response(b"", 307, {"Location": f"/hop{n + 1}"})
    feed_server.routes.update(routes)
    names = [p.strip("/") for p in routes if not p.startswith(("/hop", "/loop-b"))]
    feeds = [(name, feed_server.url(f"/{name}")) for name in names] + [
        ("hops", feed_server.url("/hop0"))
    ]
    config = write_config(tmp_path, feeds, extra="", topics="")
    text = config.read_text().replace("timeout = 5", "timeout = 2\nmax_bytes = 1_000_000")
    config.write_text(text)
    started = time.monotonic()
    lines = run(config, capsys)
    assert time.monotonic() - started < 15  # every stalled feed was cut off
    expected = {
        "404": "HTTP 404 Not Found",
        "500": "HTTP 500 Internal Server Error",
        "503": "HTTP 503 Service Unavailable, retry after 3600",
        "html": "an HTML page, not a feed (monitor feeds add with the page's address",
        "empty": "empty response body",
        "broken": "not a readable feed",
        "loop-a": "redirect loop",
        "hops": "more than 5 redirects",
        "hang": "timed out after 2 s",
        "trickle": "timed out after 2 s",
        "huge": "over max_bytes (1000000)",
        "gzip-bomb": "over max_bytes (1000000), cut off",
        "deflate-bomb": "over max_bytes (1000000), cut off",
        "br": "unsupported Content-Encoding 'br'",
    }
    for name, words in expected.items():
        matching = [line for line in lines if line.startswith(f"monitor: feed {name!r}: ")]
        assert len(matching) == 1, (name, lines)
        assert words in matching[0], (name, matching)
    assert (
        f"{len(feeds)} feeds · 1 new item · 0 reposts collapsed · {len(expected)} feeds failed"
        in lines[-1]
    )
    assert [r["feed"] for r in export(config, capsys)] == ["good"]
    states = status(config, capsys)
    assert states["503"]["state"] == "failing" and states["good"]["state"] == "ok"


def test_a_bomb_is_cut_off_with_memory_bounded(feed_server: FeedServer) -> None:
    feed_server.routes["/bomb"] = bomb("gzip")

    async def go() -> None:
        async with Fetcher(FetchConfig(max_bytes=1_000_000), Path(".")) as fetcher:
            await fetcher.fetch(FeedConfig("bomb", feed_server.url("/bomb")), Validators())

    tracemalloc.start()
    with pytest.raises(FetchError, match="over max_bytes"):
        asyncio.run(go())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20_000_000  # 50 MB of zeros never inflated


def test_permanent_redirects_are_remembered_temporary_ones_are_not(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = build()
    feed_server.routes.update(
        {
            "/old": Response(b"", 301, {"Location": "/new"}),
            "/new": Response(samples["dw.xml"].encode()),
            "/temp": Response(b"", 302, {"Location": "/elsewhere"}),
            "/elsewhere": Response(samples["rfi.xml"].encode()),
        }
    )
    config = write_config(
        tmp_path, [("moved", feed_server.url("/old")), ("temp", feed_server.url("/temp"))]
    )
    lines = run(config, capsys)
    assert any("moved permanently to " + feed_server.url("/new") in line for line in lines)
    run(config, capsys)
    assert feed_server.hits("/old") == 1 and feed_server.hits("/new") == 2
    assert feed_server.hits("/temp") == 2
    assert status(config, capsys)["moved"]["moved_to"] == feed_server.url("/new")


def test_gone_feeds_are_not_fetched_again(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/gone"] = Response(b"", 410)
    config = write_config(tmp_path, [("gone", feed_server.url("/gone"))])
    first = run(config, capsys)
    assert "the feed is gone and will not be fetched again" in first[0]
    second = run(config, capsys)
    assert feed_server.hits("/gone") == 1
    assert second[0] == "monitor: feed 'gone': gone (HTTP 410); not fetched until its url changes"
    assert status(config, capsys)["gone"]["state"] == "gone"


class _TLSServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture
def tls_feed(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A feed served over TLS by a certificate of a new authority: its URL, and
    the authority's certificate as a PEM file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD)

    server = _TLSServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/feed", tmp_path / "ca.pem"
    finally:
        server.shutdown()
        server.server_close()


def test_tls_is_verified_unless_the_feed_opts_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tls_feed: tuple[str, Path]
) -> None:
    url, _ = tls_feed
    config = write_config(tmp_path, [("checked", url)])
    text = (
        config.read_text() + f'[[feeds]]\nname = "trusted"\nurl = "{url}?b"\nverify_tls = false\n'
    )
    config.write_text(text)
    lines = run(config, capsys)
    assert any(
        line.startswith("monitor: feed 'checked': cannot connect")
        and "CERTIFICATE_VERIFY_FAILED" in line
        for line in lines
    ), lines
    assert [r["feed"] for r in export(config, capsys)] == ["trusted"]


def test_the_authorities_of_ssl_cert_file_are_trusted(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tls_feed: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As httpx's own default: the authorities load in a thread as the run starts,
    and the handshake waits for them."""
    url, ca = tls_feed
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    config = write_config(tmp_path, [("checked", url)])
    assert run(config, capsys)[-1].endswith(" 0 feeds failed")
    assert [r["feed"] for r in export(config, capsys)] == ["checked"]
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    (tmp_path / "again").mkdir()
    config = write_config(tmp_path / "again", [("checked", url)])
    line, _ = run(config, capsys)
    assert line.startswith(
        f"monitor: feed 'checked': cannot connect: cannot load trusted certificates from "
        f"{tmp_path / 'missing.pem'}"
    ), line


def test_a_redirect_to_a_port_out_of_range_fails_its_feed_alone(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/moved"] = Response(
        b"", status=301, headers={"Location": "http://127.0.0.1:99999/feed"}
    )
    item = "<item><title>韩国国防部恢复军情协定</title><link>https://x.org/1</link></item>"
    feed_server.routes["/fine"] = Response(rss(item).encode())
    feeds = [("moved", feed_server.url("/moved")), ("fine", feed_server.url("/fine"))]
    config = write_config(tmp_path, feeds)
    lines = run(config, capsys)
    assert lines[0] == "monitor: feed 'moved': cannot connect: port 99999 is out of range"
    assert [r["feed"] for r in export(config, capsys)] == ["fine"]


def test_unknown_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, [("nowhere", "http://no-such-host.invalid/feed.xml")])
    lines = run(config, capsys)
    assert lines[0].startswith("monitor: feed 'nowhere': ")
    assert "cannot connect" in lines[0] or "timed out" in lines[0]


@pytest.mark.parametrize(
    ("encoding", "declare", "title"),
    [
        ("gbk", True, "韩国国防部恢复军情协定"),
        ("gb18030", False, "韩国国防部恢复军情协定，朝鲜半岛局势紧张"),
        ("big5", True, "韓國國防部恢復軍情協定"),
        ("big5", False, "韓國國防部恢復軍情協定，朝鮮半島局勢緊張"),
        ("iso-8859-1", True, "Café déjà vu"),
        ("utf-8-sig", False, "韩国国防部恢复军情协定"),
        ("utf-16", False, "韩国国防部恢复军情协定"),
    ],
)
def test_charsets_declared_or_not(
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    encoding: str,
    declare: bool,
    title: str,
) -> None:
    item = f"<item><title>{title}</title><link>https://x.org/1</link><description>{title}</description></item>"
    name = encoding.replace("-sig", "") if encoding != "utf-16" else "utf-16"
    body = rss(item, name, declare and encoding not in ("utf-8-sig", "utf-16")).encode(encoding)
    feed_server.routes["/feed"] = Response(body)
    config = write_config(tmp_path, [("feed", feed_server.url("/feed"))])
    run(config, capsys)
    assert [r["title"] for r in export(config, capsys)] == [title]


@pytest.mark.parametrize(
    ("encoding", "declared", "content_type"),
    [
        ("gbk", "utf-8", "application/xml"),  # a template's declaration
        ("gbk", None, "text/xml; charset=utf-8"),  # a server's default charset
        ("big5", "utf-8", "application/rss+xml; charset=UTF-8"),
        ("gb18030", "utf8", "application/xml; charset=utf-8"),
        ("big5", "gbk", "application/xml; charset=gbk"),
    ],
)
def test_a_wrongly_declared_charset_is_detected(
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    encoding: str,
    declared: str | None,
    content_type: str,
) -> None:
    """Declared UTF-8 (or another encoding the document does not read in), it was
    read as windows-1252: mojibake in every title, summary and digest."""
    title = "韩国总统尹锡悦访问日本" if encoding != "big5" else "韓國總統尹錫悅訪問日本"
    text = "韩国总统尹锡悦周四抵达东京，与日本首相举行会谈，双方同意恢复军事情报共享协定。"
    if encoding == "big5":
        text = "韓國總統尹錫悅週四抵達東京，與日本首相舉行會談，雙方同意恢復軍事情報共享協定。"
    items = "".join(
        f"<item><title>{title}{n}</title><link>https://x.org/{n}</link>"
        f"<description>{text * 3}{n}</description></item>"
        for n in range(3)
    )
    body = rss(items, declared or "", declared is not None).encode(encoding)
    feed_server.routes["/feed"] = Response(body, headers={"Content-Type": content_type})
    config = write_config(tmp_path, [("feed", feed_server.url("/feed"))])
    lines = run(config, capsys)
    assert not [line for line in lines if "damaged" in line or "warning" in line], lines
    assert sorted(r["title"] for r in export(config, capsys)) == [f"{title}{n}" for n in range(3)]


def test_odd_items_are_stored_sanely(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    body_text = "韩国国防部周五表示，将恢复与日本的军事情报共享协定，这一决定引起各方关注。"
    items = "".join(
        [
            f"<item><title>没有GUID也没有链接</title><description>{body_text}一</description></item>",
            f"<item><title>来自未来</title><link>https://x.org/future</link><pubDate>Sat, 01 Jan 2999 00:00:00 GMT</pubDate><description>{body_text}二</description></item>",
            f"<item><title>一九七零</title><link>https://x.org/1970</link><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate><description>{body_text}三</description></item>",
            f"<item><guid>dup</guid><title>重复一</title><link>https://x.org/d1</link><description>{body_text}四</description></item>",
            f"<item><guid>dup</guid><title>重复二</title><link>https://x.org/d2</link><description>{body_text}五</description></item>",
            f"<item><title>{'长' * 100_000}</title><link>https://x.org/long</link><description>{body_text}六</description></item>",
            f"<item><title></title><link>https://x.org/untitled</link><description>{body_text}七</description></item>",
        ]
    )
    feed_server.routes["/odd"] = Response(rss(items).encode())
    config = write_config(tmp_path, [("odd", feed_server.url("/odd"))])
    run(config, capsys)
    records = {r["title"][:10]: r for r in export(config, capsys)}
    # The two items under GUID "dup" link to pages of their own: both are kept.
    assert len(records) == 7
    assert records["重复一"]["guid"] != records["重复二"]["guid"]
    now = time.time()
    for record in records.values():
        published = __import__("datetime").datetime.fromisoformat(record["published"]).timestamp()
        assert 946_684_800 < published <= now + 86_400  # no 1970, no 2999
    long_title = next(r["title"] for r in records.values() if r["title"].startswith("长"))
    assert len(long_title) <= 300
    assert any(r["title"].startswith(body_text[:10]) for r in records.values())  # untitled item
    run(config, capsys)
    assert len(export(config, capsys)) == 7  # nothing new the second time, even without GUIDs


def test_a_guid_that_changes_on_every_fetch_is_not_a_new_item(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = {"n": 0}

    def changing(_: object) -> Response:
        calls["n"] += 1
        item = (
            f"<item><guid>urn:uuid:{calls['n']}</guid><title>同一篇文章</title>"
            "<link>https://x.org/same?utm_source=rss&amp;utm_campaign="
            + str(calls["n"])
            + "</link>"
            "<description>韩国国防部周五表示，将恢复与日本的军事情报共享协定。</description></item>"
        )
        return Response(rss(item).encode())

    feed_server.routes["/changing"] = changing
    config = write_config(tmp_path, [("changing", feed_server.url("/changing"))])
    for _ in range(3):
        run(config, capsys)
    records = export(config, capsys)
    assert len(records) == 1  # the same page, however its GUID and tracking change
