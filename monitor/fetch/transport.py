"""httpx's transport: its connections on asyncio's own streams, its pool fair.

The hook is httpcore's own (`network_backend`, here `streams.AsyncioBackend`),
but httpx does not pass one through, so it is set on the pool httpx built; if
a later httpx builds it otherwise, the transport is left as it is.

The certificate authorities that verify TLS are loaded in a thread while the
run starts (`trusted_context`): loading them took 16-28 ms on the way to the
first fetch. A TLS handshake waits until they are in.

The pool itself gives each waiting request a connection of its own
(`FairPool`).
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from concurrent.futures import Future
from time import monotonic

import certifi
import httpcore
import httpx

from .streams import AsyncioBackend

SWEEP = 0.1


def transport(limits: httpx.Limits, verify: bool) -> httpx.AsyncHTTPTransport:
    """An httpx transport on asyncio's streams (`streams`), with a fair pool."""
    context, loaded = trusted_context() if verify else (False, None)
    made = httpx.AsyncHTTPTransport(verify=context, limits=limits)
    if not _hook(made, loaded) and loaded is not None:
        loaded.result()  # no stream of ours would wait for the authorities
    return made


def _hook(made: httpx.AsyncHTTPTransport, loaded: Future[None] | None) -> bool:
    """Set the network backend of the pool httpx built; whether it could."""
    pool = getattr(made, "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = AsyncioBackend(loaded)
        if type(pool) is httpcore.AsyncConnectionPool and FairPool.fits(pool):
            pool.__class__ = FairPool
        return True
    return False


class FairPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, where no idle connection is promised to two requests.

    httpcore gives every waiting request the first idle connection, the same
    one to all of them: the first to start on it takes it, the others are
    turned away (``ConnectionNotAvailable``) and go round again. A run's
    fetches start in bursts, as others end: 200 feeds over 16 connections
    took ~980 attempts, and 0.07 CPU-s of the event loop more than one each
    (0.25 → 0.18 s; a run of 200 feeds 1.64 → 1.57 s, median of 14). Here a
    connection promised to a request that has not started on it yet is passed
    over. The rules are otherwise httpcore's, in its order: closed and expired
    connections dropped (the expired ones found by a sweep at most every
    `SWEEP` seconds, and by asking the idle connection a request is about to
    be given); then each waiting request given an idle connection,
    else a new one while under the limit, else a new one in place of an idle
    one. A request left waiting gets one when a connection is next released.
    For HTTP/1.1, the only version the fetcher speaks: an HTTP/2 connection
    could be shared.
    """

    _swept_at = float("-inf")

    @staticmethod
    def fits(pool: httpcore.AsyncConnectionPool) -> bool:
        """Whether `pool` and its requests have the parts this relies on (httpcore
        1.0's): another httpcore keeps its own pool, slower but correct."""
        names = ("_requests", "_connections", "_max_connections", "_max_keepalive_connections")
        module = getattr(getattr(httpcore, "_async", None), "connection_pool", None)
        request = getattr(module, "AsyncPoolRequest", None)
        return (
            all(hasattr(pool, name) for name in (*names, "create_connection"))
            and hasattr(request, "is_queued")
            and hasattr(request, "assign_to_connection")
        )

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        closing = []
        connections = self._connections
        # Whether each idle connection expired (its socket polled) is asked at most
        # every `SWEEP` seconds, and always of the one about to be given out:
        # asking all of them whenever a request started or ended polled 16 sockets
        # 22 times a feed when 200 feeds answered 304 on kept connections.
        now = monotonic()
        sweep = now - self._swept_at >= SWEEP
        if sweep:
            self._swept_at = now
        for connection in list(connections):
            if connection.is_closed():
                connections.remove(connection)
            elif (sweep and connection.has_expired()) or (
                connection.is_idle() and len(connections) > self._max_keepalive_connections
            ):
                connections.remove(connection)
                closing.append(connection)
        waiting = [request for request in self._requests if request.is_queued()]
        if not waiting:
            return closing
        promised = {
            id(request.connection)
            for request in self._requests
            if request.connection is not None and request.connection.is_available()
        }
        for request in waiting:
            origin = request.request.url.origin
            chosen = None
            for connection in list(connections):
                if (
                    id(connection) in promised
                    or not connection.is_available()
                    or not connection.can_handle_request(origin)
                ):
                    continue
                if not sweep and connection.has_expired():
                    connections.remove(connection)
                    closing.append(connection)
                    continue
                chosen = connection
                break
            if chosen is None and len(connections) >= self._max_connections:
                idle = next((c for c in connections if id(c) not in promised and c.is_idle()), None)
                if idle is None:
                    continue  # it waits for a connection to be released
                connections.remove(idle)
                closing.append(idle)
            if chosen is None:
                chosen = self.create_connection(origin)
                connections.append(chosen)
            request.assign_to_connection(chosen)
            promised.add(id(chosen))
        return closing


def trusted_context() -> tuple[ssl.SSLContext, Future[None]]:
    """A context that verifies servers as httpx's default one does (certifi's
    authorities, or those of ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), and the
    loading of its authorities, under way in a thread."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificate and host name
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    loaded: Future[None] = Future()

    def load() -> None:
        file, folder = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
        where = file or folder or certifi.where()
        try:
            if not file and folder:
                context.load_verify_locations(capath=folder)
            else:
                context.load_verify_locations(cafile=where)
        except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
            loaded.set_exception(
                httpcore.ConnectError(f"cannot load trusted certificates from {where}: {e}")
            )
        else:
            loaded.set_result(None)

    threading.Thread(target=load, name="certificates", daemon=True).start()
    return context, loaded
