"""Fetching from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from conftest import FeedServer, Response, socket_server

from monitor.config import FeedConfig, FetchConfig
from monitor.errors import FetchError
from monitor.fetch import Fetcher, Validators
from monitor.fetch import streams as streams_module
from monitor.fetch.streams import AsyncioBackend, readable
from monitor.fetch.transport import FairPool, transport
from monitor.models import FetchResult

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


def fetch(
    url: str,
    validators: Validators | None = None,
    *,
    base: Path = Path("."),
    **limits: float,
) -> FetchResult:
    config = FetchConfig(**limits)  # type: ignore[arg-type]

    async def go() -> FetchResult:
        async with Fetcher(config, base) as fetcher:
            return await fetcher.fetch(
                FeedConfig(name="feed one", url=url), validators or Validators()
            )

    return asyncio.run(go())


def test_conditional_get_with_etag_and_last_modified(feed_server: FeedServer) -> None:
    feed_server.routes["/f"] = Response(
        RSS, etag='"abc"', headers={"Last-Modified": "Sat, 21 Nov 2026 10:00:00 GMT"}
    )
    first = fetch(feed_server.url("/f"))
    assert first.status == 200 and first.content == RSS
    assert first.etag == '"abc"' and first.last_modified == "Sat, 21 Nov 2026 10:00:00 GMT"
    second = fetch(feed_server.url("/f"), Validators(first.etag, first.last_modified))
    assert second.not_modified and second.content is None
    assert second.etag == '"abc"'
    headers = feed_server.requests[-1][1]
    assert headers["If-None-Match"] == '"abc"'
    assert headers["If-Modified-Since"] == "Sat, 21 Nov 2026 10:00:00 GMT"


def test_feeds_answering_304_share_one_kept_alive_connection(feed_server: FeedServer) -> None:
    """A 304 has no body to read, but its connection goes back to the pool only once
    that empty body is read: closed unread, every unchanged feed cost a new
    connection (a TLS handshake, on a real host)."""
    clients: list[tuple[str, int]] = []

    def unchanged(handler: Any) -> Response:
        clients.append(handler.client_address)
        return Response(RSS, etag='"same"')

    for n in range(3):
        feed_server.routes[f"/f{n}"] = unchanged

    async def go() -> list[FetchResult]:
        async with Fetcher(FetchConfig(), Path(".")) as fetcher:
            return [
                await fetcher.fetch(
                    FeedConfig(name=f"f{n}", url=feed_server.url(f"/f{n}")), Validators('"same"')
                )
                for n in range(3)
            ]

    assert [result.status for result in asyncio.run(go())] == [304] * 3
    assert len(clients) == 3 and len(set(clients)) == 1


def test_redirects_and_error_pages_keep_their_connection(feed_server: FeedServer) -> None:
    """A redirect's or an error page's small body is read, so that the next request
    goes out on the same connection."""
    clients: list[tuple[str, int]] = []

    def answer(response: Response) -> Any:
        def route(handler: Any) -> Response:
            clients.append(handler.client_address)
            return response

        return route

    feed_server.routes["/old"] = answer(Response(b"moved", 302, {"Location": "/new"}))
    feed_server.routes["/new"] = answer(Response(RSS))
    feed_server.routes["/broken"] = answer(Response(b"<h1>oops</h1>" * 100, 500))

    async def go() -> list[int | str]:
        outcomes: list[int | str] = []
        async with Fetcher(FetchConfig(), Path(".")) as fetcher:
            for path in ("/old", "/broken", "/new"):
                feed = FeedConfig(name=path, url=feed_server.url(path))
                try:
                    outcomes.append((await fetcher.fetch(feed, Validators())).status)
                except FetchError as e:
                    outcomes.append(str(e))
        return outcomes

    assert asyncio.run(go()) == [200, "feed '/broken': HTTP 500 Internal Server Error", 200]
    assert len(clients) == 4 and len(set(clients)) == 1


def test_an_error_page_that_stalls_is_not_waited_for() -> None:
    """The body of an error page is read only to keep its connection: one that
    stops arriving is given up after a second, not the fetch timeout."""
    release = threading.Event()

    def handle(conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1000\r\n\r\noops")
        release.wait(10)

    with socket_server(handle) as port:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"^feed 'feed one': HTTP 500 Internal Server Error$"):
            fetch(f"http://127.0.0.1:{port}/f.xml", timeout=10)
        took = time.monotonic() - started
        release.set()
    assert took < 3


def test_http_error_names_the_feed(feed_server: FeedServer) -> None:
    with pytest.raises(FetchError, match=r"^feed 'feed one': HTTP 404 Not Found$"):
        fetch(feed_server.url("/missing"))


def test_body_over_max_bytes_is_cut_off_while_streaming(feed_server: FeedServer) -> None:
    feed_server.routes["/big"] = Response(b"x" * 200_000, chunked=True)
    with pytest.raises(FetchError, match=r"over max_bytes \(50000\), cut off"):
        fetch(feed_server.url("/big"), max_bytes=50_000)


def test_declared_length_over_max_bytes_is_refused_early(feed_server: FeedServer) -> None:
    feed_server.routes["/big"] = Response(b"x" * 200_000)
    with pytest.raises(FetchError, match="body of 200000 bytes is over max_bytes"):
        fetch(feed_server.url("/big"), max_bytes=50_000)


def test_slow_server_times_out(feed_server: FeedServer) -> None:
    feed_server.routes["/slow"] = Response(RSS, delay=3)
    with pytest.raises(FetchError, match="timed out after 0.5 s"):
        fetch(feed_server.url("/slow"), timeout=0.5)


def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="^feed 'feed one': cannot connect"):
        fetch(f"http://127.0.0.1:{port}/feed.xml")


def test_redirect_is_followed(feed_server: FeedServer) -> None:
    feed_server.routes["/old"] = Response(b"", 301, {"Location": "/new"})
    feed_server.routes["/new"] = Response(RSS)
    result = fetch(feed_server.url("/old"))
    assert result.content == RSS and result.url == feed_server.url("/new")


def test_local_path_and_file_url(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_bytes(RSS)
    assert fetch("feed.xml", base=tmp_path).content == RSS
    assert fetch((tmp_path / "feed.xml").as_uri()).content == RSS
    with pytest.raises(FetchError, match="no such file"):
        fetch("absent.xml", base=tmp_path)
    with pytest.raises(FetchError, match=r"has no \*\.txt or \*\.md items"):
        fetch(str(tmp_path))


def test_folder_of_archived_items(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("<!--1-->\n[t](https://x.org/b)\n------\n\n<p>b</p>")
    (tmp_path / "a.md").write_text("plain text page")
    (tmp_path / "notes.json").write_text("{}")
    result = fetch(str(tmp_path))
    assert [name for name, _ in result.files] == ["a.md", "b.txt"]


def test_connection_the_server_closed_while_idle_is_not_reused() -> None:
    """A server may drop a kept-alive connection between requests without saying so
    (its idle timeout); the next fetch must notice and connect again."""
    accepted: list[int] = []

    def handle(conn: socket.socket) -> None:
        accepted.append(1)
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(RSS), RSS))
        # Closed with no "Connection: close": the client still holds it as idle.

    async def go(port: int) -> list[FetchResult]:
        async with Fetcher(FetchConfig(), Path(".")) as fetcher:
            results = []
            for name in ("one", "two", "three"):
                feed = FeedConfig(name=name, url=f"http://127.0.0.1:{port}/{name}.xml")
                results.append(await fetcher.fetch(feed, Validators()))
                await asyncio.sleep(0.1)  # the close reaches the client's socket
            return results

    with socket_server(handle) as port:
        results = asyncio.run(go(port))
    assert [result.content for result in results] == [RSS] * 3
    assert len(accepted) == 3


def test_the_transport_checks_idle_connections_itself() -> None:
    """The cheap check is in place (it falls back silently if httpx builds its pool
    otherwise, so this is what tells)."""
    made = transport(httpx.Limits(max_connections=4), verify=True)
    assert isinstance(made._pool._network_backend, AsyncioBackend)  # type: ignore[attr-defined]


def test_each_request_is_sent_once_on_a_connection_of_its_own(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fetches start in bursts, as others end. httpcore's own pool gave every waiting
    request the same idle connection and turned all but one away, to try again: 60
    feeds over 8 connections took 83-89 attempts."""
    bodies = {f"/f{n}": RSS + b" " * n for n in range(60)}
    for path, body in bodies.items():
        feed_server.routes[path] = Response(body)
    attempts: list[bytes] = []
    send = httpcore.AsyncHTTPConnection.handle_async_request

    async def counted(self: httpcore.AsyncHTTPConnection, request: httpcore.Request) -> Any:
        attempts.append(request.url.target)
        return await send(self, request)

    monkeypatch.setattr(httpcore.AsyncHTTPConnection, "handle_async_request", counted)

    async def go() -> list[FetchResult]:
        async with Fetcher(FetchConfig(concurrency=8, per_host=8), Path(".")) as fetcher:
            feeds = [FeedConfig(name=path, url=feed_server.url(path)) for path in bodies]
            return await asyncio.gather(*(fetcher.fetch(feed, Validators()) for feed in feeds))

    results = asyncio.run(go())
    assert [result.content for result in results] == list(bodies.values())
    assert sorted(attempts) == sorted(path.encode() for path in bodies)
    assert isinstance(transport(httpx.Limits(), verify=False)._pool, FairPool)  # type: ignore[attr-defined]


def test_an_httpcore_without_the_parts_the_fair_pool_needs_keeps_its_own_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from httpcore._async import connection_pool

    monkeypatch.delattr(connection_pool.AsyncPoolRequest, "assign_to_connection")
    made = transport(httpx.Limits(), verify=False)
    assert type(made._pool) is httpcore.AsyncConnectionPool  # type: ignore[attr-defined]


def test_a_request_waits_for_a_connection_and_may_be_cancelled_meanwhile(
    feed_server: FeedServer,
) -> None:
    """At the limit, a request waits until a connection is released; one cancelled
    while it waits leaves none promised to it. A connection to another origin is
    closed to make room (127.0.0.1 and localhost are two origins)."""
    feed_server.routes["/slow"] = Response(RSS, delay=0.3)
    feed_server.routes["/f"] = Response(RSS + b" ")
    elsewhere = feed_server.url("/f").replace("127.0.0.1", "localhost")

    async def go() -> tuple[list[bytes], bool]:
        made = transport(httpx.Limits(max_connections=1), verify=False)
        async with httpx.AsyncClient(transport=made) as client:
            slow = asyncio.create_task(client.get(feed_server.url("/slow")))
            await asyncio.sleep(0.1)
            cancelled = asyncio.create_task(client.get(feed_server.url("/f")))
            waiting = asyncio.create_task(client.get(feed_server.url("/f")))
            await asyncio.sleep(0.05)
            cancelled.cancel()
            responses = await asyncio.wait_for(asyncio.gather(slow, waiting), 5)
            responses.append(await asyncio.wait_for(client.get(elsewhere), 5))
            return [response.content for response in responses], cancelled.cancelled()

    contents, cancelled = asyncio.run(go())
    assert contents == [RSS, RSS + b" ", RSS + b" "] and cancelled
    assert feed_server.hits("/f") == 2


def test_an_idle_connection_found_open_is_polled_again_only_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A just-used connection is always polled (a server closing after a response
    does so at once); one idle for a while is taken as open for `RECHECK`. A close
    the event loop has read is known without a poll."""
    now = [100.0]
    polls: list[bool] = []
    monkeypatch.setattr(streams_module, "monotonic", lambda: now[0])
    monkeypatch.setattr(
        streams_module, "readable", lambda sock: polls.append(readable(sock)) or polls[-1]
    )
    peers: list[socket.socket] = []
    closed = threading.Event()

    def handle(conn: socket.socket) -> None:
        peers.append(conn)
        closed.wait(5)

    async def go(port: int) -> list[bool]:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port)
        await stream.write(b"GET / HTTP/1.1\r\n\r\n")
        answers = [stream.get_extra_info("is_readable") for _ in range(2)]  # just used
        now[0] += 1  # idle for a second
        answers += [stream.get_extra_info("is_readable") for _ in range(2)]
        while not peers:
            await asyncio.sleep(0.01)
        peers[0].close()
        closed.set()
        time.sleep(0.1)  # the close reaches this socket, the event loop not yet told
        answers.append(stream.get_extra_info("is_readable"))  # within RECHECK of the last
        now[0] += streams_module.RECHECK
        answers.append(stream.get_extra_info("is_readable"))
        await asyncio.sleep(0.05)  # the event loop reads the end
        answers.append(stream.get_extra_info("is_readable"))  # known without a poll
        await stream.aclose()
        return answers

    with socket_server(handle) as port:
        answers = asyncio.run(go(port))
    assert answers == [False, False, False, False, False, True, True]
    assert polls == [False, False, False, True]


def test_idle_connections_are_polled_when_given_out_and_at_most_every_sweep(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the server closed an idle connection is asked of the one a request
    is about to get, and of all of them at most every `SWEEP`: asking all of them
    whenever a request started or ended polled every kept connection for each
    feed. A connection the server closed is still never given out."""
    polls: list[bool] = []
    monkeypatch.setattr(
        streams_module, "readable", lambda sock: polls.append(readable(sock)) or polls[-1]
    )
    paths = [f"/f{n}" for n in range(60)]
    for path in paths:
        feed_server.routes[path] = Response(RSS, etag='"same"')

    async def go() -> list[int]:
        async with Fetcher(FetchConfig(concurrency=8, per_host=8), Path(".")) as fetcher:
            feeds = [FeedConfig(name=path, url=feed_server.url(path)) for path in paths]
            for feed in feeds[:8]:  # eight connections, kept
                await fetcher.fetch(feed, Validators())
            polls.clear()
            done = await asyncio.gather(*(fetcher.fetch(f, Validators('"same"')) for f in feeds))
            return [result.status for result in done]

    assert asyncio.run(go()) == [304] * len(paths)
    assert len(polls) <= 2 * len(paths)  # every kept connection at every start and end: 407


def test_a_body_larger_than_the_read_buffer_arrives_whole(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading pauses while `HIGH_WATER` waits unread and resumes as httpcore reads
    (a megabyte; here 16 kB, so that the test server's pace reaches it)."""
    monkeypatch.setattr(streams_module, "HIGH_WATER", 16_384)
    paused: list[bool] = []
    received = streams_module.Receiver.data_received

    def spied(self: streams_module.Receiver, data: bytes) -> None:
        received(self, data)
        paused.append(self._paused_reading)

    monkeypatch.setattr(streams_module.Receiver, "data_received", spied)
    body = RSS + b"<!--" + bytes(range(48, 58)) * 400_000 + b"-->"
    feed_server.routes["/big"] = Response(body)
    assert fetch(feed_server.url("/big"), max_bytes=10_000_000).content == body
    assert any(paused), paused


@pytest.mark.parametrize("reset", [False, True])
def test_a_server_that_stops_mid_body_fails_its_feed_in_one_line(reset: bool) -> None:
    """A close (the body short of its length) or a reset: one line naming the feed."""

    def handle(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + RSS[:100])
        if reset:  # RST instead of FIN
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )

    with socket_server(handle) as port, pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{port}/feed.xml")
    message = str(caught.value)
    assert message.startswith("feed 'feed one': ") and "\n" not in message, message
