"""A feed's redirects lead only to public addresses, or about the feed's own host."""

from __future__ import annotations

import asyncio

import pytest
from conftest import FeedServer, Response
from fixtures.make_samples import build

from monitor.config import FeedConfig, FetchConfig
from monitor.errors import FetchError
from monitor.fetch import Fetcher, Validators
from monitor.fetch import fetcher as fetcher_module
from monitor.fetch.reach import is_public, redirect_problem

RSS = build()["dw.xml"].encode()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("not an address", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


@pytest.mark.parametrize(
    ("configured", "target", "addresses", "allowed"),
    [
        ("https://news.example/rss", "https://cdn.example/rss", ["93.184.216.34"], True),
        ("https://news.example/rss", "http://intranet/", ["10.0.0.8"], False),
        ("https://news.example/rss", "http://169.254.169.254/latest/", ["169.254.169.254"], False),
        ("https://news.example/rss", "http://localhost:8080/", ["127.0.0.1", "::1"], False),
        (
            "https://news.example/rss",
            "https://mixed.example/",
            ["93.184.216.34", "10.0.0.1"],
            False,
        ),
        ("https://news.example/rss", "https://nowhere.example/", [], False),
        ("https://news.example/rss", "file:///etc/passwd", [], False),
        ("http://10.0.0.5/rss", "http://10.0.0.5/new.xml", ["10.0.0.5"], True),  # its own host
        ("http://10.0.0.5/rss", "http://10.0.0.6/rss", ["10.0.0.6"], False),
        ("http://10.0.0.5/rss", "https://news.example/rss", ["93.184.216.34"], True),
    ],
)
def test_the_redirect_rule(
    configured: str, target: str, addresses: list[str], allowed: bool
) -> None:
    problem = redirect_problem(configured, target, addresses)
    assert (problem is None) is allowed, problem


def fetch(url: str) -> object:
    async def go() -> object:
        async with Fetcher(FetchConfig(timeout=5), fetcher_module.Path(".")) as fetcher:
            return await fetcher.fetch(FeedConfig(name="f", url=url), Validators())

    return asyncio.run(go())


def test_a_feed_is_not_redirected_to_another_private_host(feed_server: FeedServer) -> None:
    port = feed_server.base.rsplit(":", 1)[1]
    feed_server.routes["/old.xml"] = Response(
        b"", 301, {"Location": f"http://localhost:{port}/feed.xml"}
    )
    feed_server.routes["/new.xml"] = Response(b"", 301, {"Location": "/feed.xml"})
    feed_server.routes["/feed.xml"] = Response(RSS)
    with pytest.raises(
        FetchError,
        match=r"feed 'f': redirected to 'http://localhost:\d+/feed.xml' \((127\.0\.0\.1|::1)\), which is not a public address",
    ):
        fetch(feed_server.url("/old.xml"))
    assert [path for path, _ in feed_server.requests] == ["/old.xml"]  # never asked
    moved = fetch(feed_server.url("/new.xml"))  # about its own host: followed
    assert moved.moved_to == feed_server.url("/feed.xml")


def test_a_name_that_resolves_elsewhere_when_connecting_gains_nothing(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def public(url: str, who: str) -> list[str]:
        return ["93.184.216.34"]  # what the name said when asked first

    monkeypatch.setattr(fetcher_module, "addresses_of", public)
    port = feed_server.base.rsplit(":", 1)[1]
    feed_server.routes["/old.xml"] = Response(
        b"", 301, {"Location": f"http://localhost:{port}/feed.xml"}
    )
    feed_server.routes["/feed.xml"] = Response(RSS)
    with pytest.raises(FetchError, match=r"\((127\.0\.0\.1|::1)\), which is not a public address"):
        fetch(feed_server.url("/old.xml"))
