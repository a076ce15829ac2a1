"""Real servers on 127.0.0.1 for the tests: an HTTP feed server and an SMTP server."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from postgres import cluster, database

from monitor.store.storage import Storage

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    delay: float = 0.0
    chunked: bool = False


@dataclass
class FeedServer:
    """A threaded HTTP server whose routes the test sets: path → Response."""

    routes: dict[str, Response | Callable[[BaseHTTPRequestHandler], Response | None]]
    requests: list[tuple[str, dict[str, str]]]
    base: str
    request_times: list[tuple[str, float]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


def _handler(server_state: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            server_state.requests.append((self.path, dict(self.headers.items())))
            server_state.request_times.append((self.path, time.monotonic()))
            route = server_state.routes.get(self.path)
            if route is None:
                self._send(Response(b"not found", 404))
                return
            response = route(self) if callable(route) else route
            if response is None:
                return  # the route wrote its own (mis)behaviour
            if response.delay:
                time.sleep(response.delay)
            if response.etag and self.headers.get("If-None-Match") == response.etag:
                self._send(Response(b"", 304, {"ETag": response.etag}))
                return
            self._send(response)

        def _send(self, response: Response) -> None:
            try:
                self.send_response(response.status)
                headers = dict(response.headers)
                if response.etag:
                    headers["ETag"] = response.etag
                for name, value in headers.items():
                    self.send_header(name, value)
                if response.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(response.body), 4096):
                        chunk = response.body[start : start + 4096]
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is expected, not news."""


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer(routes={}, requests=[], base="")
    httpd = _QuietServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


class MailHandler:
    """Collects accepted messages; can be told to refuse them."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: str | None = None
        self.refuse_recipients: set[str] = set()
        self.recipient_reply = "550 5.1.1 no such mailbox"
        """What the server answers a recipient of `refuse_recipients`."""
        self.replies: dict[str, str] = {}
        """What it answers these recipients instead (each its own)."""

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.replies:
            return self.replies[address]
        if address in self.refuse_recipients:
            return self.recipient_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return self.refuse
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class MailServer:
    handler: MailHandler
    port: int

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_smtp(handler: MailHandler, **options: Any) -> Iterator[Controller]:
    """An aiosmtpd server on 127.0.0.1 for the block; `options` go to its SMTP class."""
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    handler = MailHandler()
    with running_smtp(handler) as controller:
        yield MailServer(handler, controller.port)


def authenticator(users: dict[str, str]) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = users.get(data.login.decode()) == data.password.decode()
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One PostgreSQL server for the whole session; each test gets its own database."""
    with cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (no schema yet)."""
    with database(postgres_server) as url:
        yield url


@dataclass(frozen=True)
class Backend:
    """Where a test's database lives: a SQLite file in its folder, or a PostgreSQL URL."""

    kind: str
    target: Path | str

    @property
    def storage(self) -> str:
        """The [storage] key for `write_config`."""
        if self.kind == "sqlite":
            return 'path = "monitor.db"'
        return f'url = "{self.target}"'

    def open(self, **options: Any) -> Storage:
        return Storage(self.target, **options)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test using this runs once on SQLite and once on PostgreSQL (schema in place)."""
    if request.param == "sqlite":
        yield Backend("sqlite", tmp_path / "monitor.db")
        return
    with database(request.getfixturevalue("postgres_server")) as url:
        Storage(url, migrate=True).close()
        yield Backend("postgresql", url)


def write_config(
    folder: Path,
    feeds: list[tuple[str, str]],
    *,
    smtp: str = "",
    extra: str = "",
    topics: str = "",
    storage: str = 'path = "monitor.db"',
) -> Path:
    """A config file in `folder` for `feeds` (name, url); outbox unless `smtp` is given."""
    lines = [
        "[storage]",
        storage,
        "[fetch]",
        "timeout = 5",
        "[digest]",
        'timezone = "Asia/Shanghai"',
        'recipients = ["reader@example.org"]',
        'sender = "monitor@example.org"',
        'outbox = "outbox"',
        extra,
        smtp,
        topics,
    ]
    for name, url in feeds:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def smtp_table(port: int, security: str = "none", **more: str) -> str:
    lines = ["[smtp]", 'host = "127.0.0.1"', f"port = {port}", f'security = "{security}"']
    lines += [f'{key} = "{value}"' for key, value in more.items()]
    return "\n".join(lines)


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@contextmanager
def socket_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that gives each connection to `handle` in turn,
    for servers that misbehave in ways no real server library allows; its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with conn:
                handle(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
