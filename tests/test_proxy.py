"""Feeds through an HTTP or a SOCKS5 proxy: for every feed, for one, or as the environment says.

Both proxies are real servers on 127.0.0.1, written here: an HTTP proxy that
forwards absolute-URI requests, and a SOCKS5 one that relays a connection.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigError


@pytest.fixture
def http_proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Forward(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.path)  # an absolute URI: what a client asks a proxy
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(self.path, timeout=5) as upstream:
                body = upstream.read()
                self.send_response(upstream.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def socks_proxy() -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """SOCKS5, no authentication, CONNECT to an IPv4 address or a name."""
    seen: list[tuple[str, int]] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def relay(client: socket.socket) -> None:
        with client:
            version, methods = client.recv(2)
            client.recv(methods)  # whichever it offers: "no authentication" is chosen
            assert version == 5
            client.sendall(b"\x05\x00")
            head = client.recv(4)
            if head[3] == 1:
                host = socket.inet_ntoa(client.recv(4))
            else:
                host = client.recv(client.recv(1)[0]).decode()
            (port,) = struct.unpack("!H", client.recv(2))
            seen.append((host, port))
            with socket.create_connection((host, port), timeout=5) as upstream:
                client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + b"\x00\x00")
                pair = [client, upstream]
                while True:
                    ready, _, _ = select.select(pair, [], [], 5)
                    if not ready:
                        return
                    for source in ready:
                        data = source.recv(65536)
                        if not data:
                            return
                        (upstream if source is client else client).sendall(data)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=relay, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"socks5://127.0.0.1:{listener.getsockname()[1]}", seen
    listener.close()


def feeds(feed_server: FeedServer) -> list[tuple[str, str]]:
    samples = build()
    feed_server.routes["/dw.xml"] = Response(samples["dw.xml"].encode())
    feed_server.routes["/rfi.xml"] = Response(samples["rfi.xml"].encode())
    return [("dw", feed_server.url("/dw.xml")), ("rfi", feed_server.url("/rfi.xml"))]


def configure(tmp_path: Path, feed_server: FeedServer, fetch: str, rfi: str = "") -> Path:
    config = write_config(tmp_path, feeds(feed_server))
    text = config.read_text(encoding="utf-8").replace("timeout = 5", f"timeout = 5\n{fetch}")
    if rfi:
        text = text.replace('name = "rfi"', f'name = "rfi"\n{rfi}')
    config.write_text(text, encoding="utf-8")
    return config


def run(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    return capsys.readouterr().err


def test_every_feed_through_an_http_proxy_but_one_that_goes_direct(
    tmp_path: Path,
    feed_server: FeedServer,
    http_proxy: tuple[str, list[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, seen = http_proxy
    config = configure(tmp_path, feed_server, f'proxy = "{url}"', rfi='proxy = "direct"')
    assert "2 feeds · 3 new items" in run(config, capsys)
    assert seen == [feed_server.url("/dw.xml")]


def test_one_feed_through_a_socks_proxy(
    tmp_path: Path,
    feed_server: FeedServer,
    socks_proxy: tuple[str, list[tuple[str, int]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, seen = socks_proxy
    config = configure(tmp_path, feed_server, "", rfi=f'proxy = "{url}"')
    assert "2 feeds · 3 new items" in run(config, capsys)
    port = int(feed_server.base.rsplit(":", 1)[1])
    assert seen == [("127.0.0.1", port)]


def test_the_environments_proxy_by_default(
    tmp_path: Path,
    feed_server: FeedServer,
    http_proxy: tuple[str, list[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, seen = http_proxy
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    config = configure(tmp_path, feed_server, "", rfi='proxy = "direct"')
    assert "2 feeds · 3 new items" in run(config, capsys)
    assert seen == [feed_server.url("/dw.xml")]
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    seen.clear()
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode() + b" ")
    run(config, capsys)
    assert seen == []


@pytest.mark.parametrize("value", ["ftp://p:21", "socks5://nohost", "http://p"])
def test_a_proxy_that_is_not_one_is_refused_naming_its_key(tmp_path: Path, value: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fetch]\nproxy = "direct"\n[[feeds]]\nname = "a"\nurl = "https://e.org/rss"\nproxy = "{value}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"config.toml:6: feeds\[0\].proxy: "):
        load_config(config)
