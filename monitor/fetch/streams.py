"""httpcore's network streams on asyncio's own transports.

httpcore reaches the network through a backend (``network_backend``); under
asyncio its default is anyio's, which opens a cancel scope for every read and
write and asks sniffio which event loop runs each time. Here a connection is
an asyncio transport and a small protocol that buffers what arrives
(`Receiver`); a read waits for the buffer under ``asyncio.timeout``, and TLS
is asyncio's ``start_tls`` on the same transport. A second run of 200 feeds
all answering 304, twenty runs of each in turns: 0.368 → 0.338 s (median),
CPU 0.388 → 0.356 s.

Whenever a request starts or ends, httpcore's pool asks idle connections
whether the server closed them (``get_extra_info("is_readable")``). What the
event loop has seen is in the receiver; what arrived since, the socket is
polled for. anyio answered by building a dictionary of every attribute of the
socket (a system call each) to take the socket from it: a sixth of the CPU
fetching took. An answer that the connection is still open stands for a
millisecond once it has been idle a while (`RECHECK`): the same connections
were asked again and again within that time (10,500 polls for 200 feeds, then
5,600; each poll lets another thread take the interpreter lock).

The errors are httpcore's (``ConnectError``, ``ReadTimeout``, …), as its own
backends raise them, so httpx maps them to its own.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import typing
from concurrent.futures import Future
from time import monotonic

import httpcore

# Reading stops while this much arrived that httpcore has not read yet.
HIGH_WATER = 1 << 20
# An idle connection found open is taken to be still open for RECHECK seconds,
# once it has been idle for QUIET: a server that closes after a response does so
# at once, and one that closes an idle connection later races any check anyway.
RECHECK = 0.001
QUIET = 0.05
# A happy-eyeballs delay, as anyio's (RFC 8305): the next address is tried when
# the last has not answered in this time.
HAPPY_EYEBALLS = 0.25


class Signal:
    """What one waiter waits for: set by a protocol callback, awaited by a stream."""

    def __init__(self) -> None:
        self._future: asyncio.Future[None] | None = None

    async def wait(self) -> None:
        self._future = asyncio.get_running_loop().create_future()
        try:
            await self._future
        finally:
            self._future = None

    def set(self) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(None)


class Receiver(asyncio.Protocol):
    """Buffers what the transport receives until the stream reads it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self._data = Signal()
        self._drained = Signal()
        self._paused_reading = self._paused_writing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self._paused_reading = True
        self._data.set()

    def eof_received(self) -> bool:
        self.eof = True
        self._data.set()
        return False  # the transport closes: a client writes nothing after the server ends

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._data.set()
        self._drained.set()

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        self._drained.set()

    async def received(self) -> None:
        """Until data or the end of the connection arrives (nothing is buffered yet)."""
        await self._data.wait()

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._paused_reading and len(self.buffer) <= HIGH_WATER // 2:
            self._paused_reading = False
            if self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()
        return data

    async def drained(self) -> None:
        """Until the transport takes more to write."""
        if self._paused_writing and not self.eof:
            await self._drained.wait()


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection: an asyncio transport and its `Receiver`. A TLS handshake
    first waits for the trusted authorities (`loaded`) being read in a thread."""

    def __init__(self, receiver: Receiver, loaded: Future[None] | None = None) -> None:
        assert receiver.transport is not None
        self._receiver = receiver
        self._transport = receiver.transport
        self._loaded = loaded
        self._socket: socket.socket | None = self._transport.get_extra_info("socket")
        self._used_at = self._open_at = -1.0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        receiver = self._receiver
        self._used_at = monotonic()
        if not receiver.buffer and not receiver.eof:
            try:
                async with asyncio.timeout(timeout):
                    await receiver.received()
            except TimeoutError as e:
                raise httpcore.ReadTimeout(str(e) or "timed out reading") from e
        if receiver.buffer:
            return receiver.take(max_bytes)
        if receiver.error is not None:
            raise httpcore.ReadError(str(receiver.error)) from receiver.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        receiver = self._receiver
        self._used_at = monotonic()
        if self._transport.is_closing():
            raise httpcore.WriteError(str(receiver.error or "the connection is closed"))
        try:
            self._transport.write(buffer)
            async with asyncio.timeout(timeout):
                await receiver.drained()
        except TimeoutError as e:
            raise httpcore.WriteTimeout(str(e) or "timed out writing") from e
        except (OSError, RuntimeError) as e:
            raise httpcore.WriteError(str(e)) from e

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._loaded is not None:
            try:
                self._loaded.result()  # at most the rest of a load begun as the run started
            except BaseException:
                self._transport.close()  # or the server waits for a handshake
                raise
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                secured = await loop.start_tls(
                    self._transport, self._receiver, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as e:
            self._transport.close()
            raise httpcore.ConnectTimeout(str(e) or "timed out in the TLS handshake") from e
        except (OSError, RuntimeError) as e:  # ssl.SSLError is an OSError
            self._transport.close()
            raise httpcore.ConnectError(str(e)) from e
        if secured is None:  # the server closed the connection during the handshake
            raise httpcore.ConnectError("the server closed the connection during the TLS handshake")
        self._receiver.transport = secured
        return AsyncioStream(self._receiver)

    def get_extra_info(self, info: str) -> typing.Any:
        transport = self._transport
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return self._socket
        if info == "is_readable":
            return self._readable()
        return None

    def _readable(self) -> bool:
        """Whether the server sent something or closed the connection. What the event
        loop has seen is in the receiver; what arrived since, only the socket knows
        (a server closing a connection after its response closes it at once)."""
        receiver = self._receiver
        if receiver.buffer or receiver.eof or self._transport.is_closing():
            return True
        if self._socket is None:
            return False
        now = monotonic()
        if now - self._open_at < RECHECK and self._open_at - self._used_at > QUIET:
            return False
        if readable(self._socket):
            return True
        self._open_at = now
        return False


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections as `AsyncioStream`s."""

    def __init__(self, loaded: Future[None] | None = None) -> None:
        self._loaded = loaded

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if not 0 < port < 65536:  # asyncio fails on one with an IndexError
            raise httpcore.ConnectError(f"port {port} is out of range")
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, receiver = await loop.create_connection(
                    Receiver, host, port, local_addr=local, happy_eyeballs_delay=HAPPY_EYEBALLS
                )
        except TimeoutError as e:
            raise httpcore.ConnectTimeout(str(e) or "timed out connecting") from e
        except OSError as e:  # socket.gaierror is an OSError
            raise httpcore.ConnectError(str(e)) from e
        _set_options(transport, socket_options)
        return AsyncioStream(receiver, self._loaded)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def readable(sock: socket.socket) -> bool:
    """Whether reading `sock` would not block: it has data, or the peer closed it
    (for an idle connection, only the second can be)."""
    fd = sock.fileno()
    if fd < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


def _set_options(
    transport: asyncio.BaseTransport, options: typing.Iterable[httpcore.SOCKET_OPTION] | None
) -> None:
    sock: socket.socket | None = transport.get_extra_info("socket")
    if sock is not None:
        for option in options or ():
            sock.setsockopt(*option)
