"""Delivery to real SMTP servers (aiosmtpd) on 127.0.0.1, and to the outbox."""

from __future__ import annotations

import email.message
import json
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from conftest import (
    Backend,
    FeedServer,
    MailHandler,
    MailServer,
    Response,
    _free_port,
    authenticator,
    running_smtp,
    smtp_table,
    socket_server,
    text_part,
    write_config,
)
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import DeliveryError
from monitor.service import send_digests
from monitor.store import Storage


@pytest.fixture
def feeds(feed_server: FeedServer) -> list[tuple[str, str]]:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    return [("dw", feed_server.url("/dw.xml"))]


def pending(config_path: Path) -> int:
    config = load_config(config_path)
    with Storage(config.storage.target) as storage:
        return len(storage.pending_stories("daily", "reader@example.org"))


def test_failed_delivery_loses_nothing_and_is_retried(
    backend: Backend,
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(
        tmp_path, feeds, smtp=smtp_table(smtp_server.port), storage=backend.storage
    )
    smtp_server.handler.refuse = "451 4.3.0 mailbox temporarily unavailable"
    assert main(["run", "--config", str(config)]) == 3
    err = capsys.readouterr().err
    assert (
        f"SMTP server 127.0.0.1:{smtp_server.port}: 451 4.3.0 mailbox temporarily unavailable"
        in err
    )
    assert smtp_server.messages == []
    assert pending(config) == 1
    smtp_server.handler.refuse = None
    assert main(["digest", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 1
    assert "对抗朝鲜" in text_part(smtp_server.messages[0])
    assert pending(config) == 0
    assert main(["digest", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 1


@pytest.fixture
def dropping_server() -> Iterator[int]:
    """Greets, answers EHLO and MAIL, then drops the connection."""

    def handle(conn: socket.socket) -> None:
        conn.sendall(b"220 flaky ESMTP\r\n")
        reader = conn.makefile("rb")
        for line in reader:
            if line.upper().startswith(b"EHLO"):
                conn.sendall(b"250 flaky\r\n")
            elif line.upper().startswith(b"MAIL"):
                conn.sendall(b"250 ok\r\n")
            else:
                break
        conn.shutdown(socket.SHUT_RDWR)
        reader.close()

    with socket_server(handle) as port:
        yield port


def test_connection_dropped_midway_keeps_stories_pending(
    tmp_path: Path, feeds: list[tuple[str, str]], dropping_server: int
) -> None:
    config = write_config(tmp_path, feeds, smtp=smtp_table(dropping_server))
    assert main(["run", "--config", str(config)]) == 3
    assert pending(config) == 1
    storage_config = load_config(config)
    with Storage(storage_config.storage.target) as storage:
        (digest,) = storage.digests()
    assert digest["status"] == "failed" and "127.0.0.1" in digest["error"]


def test_nobody_listening(
    tmp_path: Path, feeds: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, feeds, smtp=smtp_table(_free_port()))
    assert main(["run", "--config", str(config)]) == 3
    assert "Connection refused" in capsys.readouterr().err
    assert pending(config) == 1


USERS = authenticator({"monitor": "s3cret"})


def test_login_with_password_from_the_environment(
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = MailHandler()
    with running_smtp(
        handler, authenticator=USERS, auth_required=True, auth_require_tls=False
    ) as controller:
        smtp = smtp_table(controller.port, username="monitor", password_env="TEST_SMTP_PASSWORD")
        config = write_config(tmp_path, feeds, smtp=smtp)
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
        assert main(["run", "--config", str(config)]) == 3
        err = capsys.readouterr().err
        assert "login refused (535)" in err and "wrong" not in err
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
        assert main(["digest", "--config", str(config)]) == 0
        assert len(handler.messages) == 1
        monkeypatch.delenv("TEST_SMTP_PASSWORD")
        assert main(["digest", "--config", str(config)]) == 0  # nothing pending: no login


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, ca_file


def test_starttls_with_login(
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    tls: tuple[ssl.SSLContext, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server_context, ca_file = tls
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    handler = MailHandler()
    with running_smtp(
        handler,
        authenticator=USERS,
        auth_required=True,
        tls_context=server_context,
        require_starttls=True,
    ) as controller:
        smtp = smtp_table(
            controller.port,
            "starttls",
            username="monitor",
            password_env="TEST_SMTP_PASSWORD",
            ca_file=str(ca_file),
        )
        assert main(["run", "--config", str(write_config(tmp_path, feeds, smtp=smtp))]) == 0
        assert len(handler.messages) == 1


def test_starttls_verifies_the_certificate(
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    tls: tuple[ssl.SSLContext, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server_context, _ = tls
    handler = MailHandler()
    with running_smtp(handler, tls_context=server_context) as controller:
        smtp = smtp_table(controller.port, "starttls")  # the test CA is not trusted
        assert main(["run", "--config", str(write_config(tmp_path, feeds, smtp=smtp))]) == 3
        assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err
        assert handler.messages == []


def test_implicit_tls(
    tmp_path: Path, feeds: list[tuple[str, str]], tls: tuple[ssl.SSLContext, Path]
) -> None:
    server_context, ca_file = tls
    handler = MailHandler()
    with running_smtp(handler, ssl_context=server_context) as controller:
        smtp = smtp_table(controller.port, "ssl", ca_file=str(ca_file))
        assert main(["run", "--config", str(write_config(tmp_path, feeds, smtp=smtp))]) == 0
        assert len(handler.messages) == 1
        assert handler.envelopes[0] == ("monitor@example.org", ["reader@example.org"])


def test_outbox_gets_eml_and_html_preview(tmp_path: Path, feeds: list[tuple[str, str]]) -> None:
    config = write_config(tmp_path, feeds)
    assert main(["run", "--config", str(config)]) == 0
    eml, html = sorted((tmp_path / "outbox").iterdir())
    assert eml.suffix == ".eml" and html.suffix == ".html"
    assert eml.stem == html.stem
    assert b"multipart/alternative" in eml.read_bytes()
    assert "对抗朝鲜" in html.read_text(encoding="utf-8")
    assert pending(config) == 0


def two_recipients(
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    port: int,
    extra: str = "",
    storage: str = 'path = "monitor.db"',
) -> Path:
    config = write_config(tmp_path, feeds, smtp=smtp_table(port), extra=extra, storage=storage)
    text = config.read_text(encoding="utf-8").replace(
        'recipients = ["reader@example.org"]', 'recipients = ["a@example.org", "b@example.org"]'
    )
    config.write_text(text, encoding="utf-8")
    return config


def test_a_refused_recipient_gets_it_later_and_the_others_only_once(
    backend: Backend,
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = two_recipients(tmp_path, feeds, smtp_server.port, storage=backend.storage)
    smtp_server.handler.refuse_recipients = {"b@example.org"}
    assert main(["run", "--config", str(config)]) == 3
    assert "refused b@example.org: 550 5.1.1 no such mailbox" in capsys.readouterr().err
    assert smtp_server.handler.envelopes == [("monitor@example.org", ["a@example.org"])]
    # a has had it all: the preview is what b gets next.
    preview = tmp_path / "next.json"
    assert main(["digest", "--preview", str(preview), "--config", str(config)]) == 0
    sections = json.loads(preview.read_text(encoding="utf-8"))["sections"]
    previewed = [entry["url"] for section in sections for entry in section["stories"]]
    smtp_server.handler.refuse_recipients = set()
    assert main(["digest", "--config", str(config)]) == 0
    assert smtp_server.handler.envelopes[1] == ("monitor@example.org", ["b@example.org"])
    sent = text_part(smtp_server.messages[1])
    assert previewed and all(url in sent for url in previewed)
    assert main(["digest", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 2


def test_a_scheduled_send_tried_again_goes_to_the_recipient_it_failed_for_alone(
    tmp_path: Path, feed_server: FeedServer, smtp_server: MailServer
) -> None:
    """b's mail server refuses b for now (451): a daemon tries the send of that
    slot again, and meanwhile a story comes in. a, who got the slot's digest,
    gets nothing more until the next slot; b gets everything once the server
    takes it."""
    samples = build()
    feed_server.routes["/dw.xml"] = Response(samples["dw.xml"].encode())
    feeds = [("dw", feed_server.url("/dw.xml")), ("nyt", feed_server.url("/nyt.xml"))]
    config = two_recipients(tmp_path, feeds, smtp_server.port)
    handler = smtp_server.handler
    handler.refuse_recipients, handler.recipient_reply = {"b@example.org"}, "451 4.2.1 busy"
    sender = "monitor@example.org"
    slot = datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        with pytest.raises(DeliveryError, match="refused b@example.org: 451 4.2.1") as failed:
            send_digests(loaded, storage, slot=slot)
        assert not failed.value.permanent
    assert handler.envelopes == [(sender, ["a@example.org"])]
    feed_server.routes["/nyt.xml"] = Response(samples["nytimes.xml"].encode())
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    with Storage.open(loaded) as storage:
        with pytest.raises(DeliveryError, match="refused every recipient \\(b@example.org: "):
            send_digests(loaded, storage, slot=slot)
        assert handler.envelopes == [(sender, ["a@example.org"])]
        handler.refuse_recipients = set()
        (outcome,) = send_digests(loaded, storage, slot=slot)
        assert outcome.recipients == ("b@example.org",)
        assert send_digests(loaded, storage, slot=slot) == []
        (outcome,) = send_digests(loaded, storage, slot=slot + timedelta(days=1))
        assert outcome.recipients == ("a@example.org",)
    assert [to for _, to in handler.envelopes] == [
        ["a@example.org"],
        ["b@example.org"],
        ["a@example.org"],
    ]
    nyt = [m for m in handler.messages if "纽约时报" in text_part(m)]
    assert [m["To"] for m in nyt] == ["b@example.org", "a@example.org"]


def test_a_recipient_refused_for_good_waits_for_the_next_slot_with_everyone(
    tmp_path: Path, feed_server: FeedServer, smtp_server: MailServer
) -> None:
    """b's server refuses b for good (550): the slot is done (a restart does not
    try it again); the next slot sends b what waits for b, and a what came since."""
    samples = build()
    feed_server.routes["/dw.xml"] = Response(samples["dw.xml"].encode())
    feeds = [("dw", feed_server.url("/dw.xml")), ("nyt", feed_server.url("/nyt.xml"))]
    config = two_recipients(tmp_path, feeds, smtp_server.port)
    handler = smtp_server.handler
    handler.refuse_recipients = {"b@example.org"}
    slot = datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        with pytest.raises(DeliveryError, match="refused b@example.org: 550 5.1.1") as failed:
            send_digests(loaded, storage, slot=slot)
        assert failed.value.permanent
    feed_server.routes["/nyt.xml"] = Response(samples["nytimes.xml"].encode())
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    handler.refuse_recipients = set()
    with Storage.open(loaded) as storage:
        assert send_digests(loaded, storage, slot=slot) == []
        sent = send_digests(loaded, storage, slot=slot + timedelta(days=1))
    assert sorted(o.recipients for o in sent) == [("a@example.org",), ("b@example.org",)]
    assert [to for _, to in handler.envelopes][0] == ["a@example.org"]
    assert sorted(m["To"] for m in handler.messages if "纽约时报" in text_part(m)) == [
        "a@example.org",
        "b@example.org",
    ]


def test_a_send_is_permanent_only_when_each_of_its_failures_is(
    tmp_path: Path, feeds: list[tuple[str, str]], smtp_server: MailServer
) -> None:
    """One message a recipient: a's server refuses for good (550), b's for now
    (451). The send as a whole may work in minutes, for b: the daemon must not
    wait a day for it; the error names both."""
    config = two_recipients(tmp_path, feeds, smtp_server.port, extra="per_recipient = true")
    smtp_server.handler.replies = {
        "a@example.org": "550 5.1.1 no such mailbox",
        "b@example.org": "451 4.2.1 mailbox busy",
    }
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    loaded = load_config(config)
    with Storage.open(loaded) as storage, pytest.raises(DeliveryError) as failed:
        send_digests(loaded, storage, slot=datetime(2026, 12, 7, 7, tzinfo=UTC))
    assert not failed.value.permanent
    assert "a@example.org: 550 5.1.1" in str(failed.value)
    assert "b@example.org: 451 4.2.1" in str(failed.value)


def test_a_refused_resend_of_an_uncertain_digest_is_tried_again_soon(
    tmp_path: Path, feeds: list[tuple[str, str]], smtp_server: MailServer
) -> None:
    """The server refuses for good the digest whose delivery was uncertain: it is
    settled as failed, and the send is tried again in minutes (not a day later),
    when the new digest goes out with what the old one held."""
    config = two_recipients(tmp_path, feeds, smtp_server.port)
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    loaded = load_config(config)
    now = datetime(2026, 12, 8, 7, tzinfo=UTC)
    message = email.message.EmailMessage()
    message["Message-ID"] = "<old@example.org>"
    message.set_content("an earlier digest")
    with Storage.open(loaded) as storage:
        old = storage.begin_digest(
            "daily", "old", "<old@example.org>", ["b@example.org"], now, 0, message.as_bytes()
        )
        storage.digest_uncertain(old, "no answer after the message")
    smtp_server.handler.refuse_recipients = {"b@example.org"}
    with Storage.open(loaded) as storage, pytest.raises(DeliveryError) as failed:
        send_digests(loaded, storage, slot=now)
    assert not failed.value.permanent and "refused every recipient" in str(failed.value)
    smtp_server.handler.refuse_recipients = set()
    with Storage.open(loaded) as storage:
        (outcome,) = send_digests(loaded, storage, slot=now)
    assert sorted(outcome.recipients) == ["a@example.org", "b@example.org"]


@pytest.mark.parametrize(("code", "permanent"), [(454, False), (535, True)])
def test_a_login_refused_for_now_is_no_final_answer(code: int, permanent: bool) -> None:
    from email.message import EmailMessage

    from monitor.config import SmtpConfig
    from monitor.send.smtp import send_smtp

    def handle(conn: socket.socket) -> None:
        conn.sendall(b"220 picky ESMTP\r\n")
        reader = conn.makefile("rb")
        for line in reader:
            if line.upper().startswith(b"EHLO"):
                conn.sendall(b"250-picky\r\n250 AUTH PLAIN LOGIN\r\n")
            elif line.upper().startswith(b"AUTH"):
                conn.sendall(f"{code} 4.7.0 try another time\r\n".encode())
            elif line.upper().startswith(b"QUIT"):
                conn.sendall(b"221 bye\r\n")
                break
            else:
                conn.sendall(b"503 no\r\n")
        reader.close()

    with socket_server(handle) as port:
        smtp = SmtpConfig(host="127.0.0.1", port=port, security="none", username="monitor")
        with pytest.raises(DeliveryError, match=f"login refused \\({code}\\)") as failed:
            send_smtp(smtp, EmailMessage(), ["a@example.org"])
    assert failed.value.permanent == permanent


def test_one_message_per_recipient(
    tmp_path: Path, feeds: list[tuple[str, str]], smtp_server: MailServer
) -> None:
    config = two_recipients(tmp_path, feeds, smtp_server.port, extra="per_recipient = true")
    assert main(["run", "--config", str(config)]) == 0
    assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.org", "b@example.org"]


def test_several_digests_with_their_own_topics_and_recipients(
    tmp_path: Path, feed_server: FeedServer, smtp_server: MailServer
) -> None:
    for name in ("dw.xml", "nytimes.xml"):
        feed_server.routes[f"/{name}"] = Response(build()[name].encode())
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[storage]
path = "monitor.db"
[smtp]
host = "127.0.0.1"
port = {smtp_server.port}
security = "none"
[[topics]]
name = "俄朝关系"
keywords = ["俄朝", "普京"]
[[topics]]
name = "朝鲜半岛"
keywords = ["朝鲜", "韩国"]
[[digests]]
name = "russia"
topics = ["俄朝关系"]
recipients = ["russia@example.org"]
sender = "monitor@example.org"
[[digests]]
name = "all"
recipients = ["all@example.org"]
sender = "monitor@example.org"
subject = "全部 {{date}}"
[[feeds]]
name = "dw"
url = "{feed_server.url("/dw.xml")}"
[[feeds]]
name = "nyt"
url = "{feed_server.url("/nytimes.xml")}"
""",
        encoding="utf-8",
    )
    assert main(["run", "--config", str(config)]) == 0
    by_to = {m["To"]: text_part(m) for m in smtp_server.messages}
    assert set(by_to) == {"russia@example.org", "all@example.org"}
    assert "面对俄朝条约" in by_to["russia@example.org"]
    assert "对抗朝鲜" not in by_to["russia@example.org"]
    assert "面对俄朝条约" in by_to["all@example.org"] and "对抗朝鲜" in by_to["all@example.org"]
    assert next(m for m in smtp_server.messages if m["To"] == "all@example.org")[
        "Subject"
    ].startswith("全部 ")
    assert main(["digest", "--config", str(config), "--name", "russia"]) == 0
    assert len(smtp_server.messages) == 2


def test_a_digest_being_sent_elsewhere_is_not_sent_twice(
    backend: Backend,
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import UTC, datetime

    config = write_config(
        tmp_path, feeds, smtp=smtp_table(smtp_server.port), storage=backend.storage
    )
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    with Storage(load_config(config).storage.target) as other:
        assert other.acquire_lease("digest:daily", "host pid 1", 600, datetime.now(UTC)) == ""
        assert main(["digest", "--config", str(config)]) == 3
        assert "digest 'daily' is being sent by host pid 1" in capsys.readouterr().err
        assert smtp_server.messages == []
        other.release_lease("digest:daily", "host pid 1")
    assert main(["digest", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 1


def test_stories_left_out_of_a_digest_are_settled_not_sent_later(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, smtp_server: MailServer
) -> None:
    feeds = []
    for name, content in sorted(build().items()):  # every bundled sample
        feed_server.routes[f"/{name}"] = Response(content.encode())
        feeds.append((name.removesuffix(".xml"), feed_server.url(f"/{name}")))
    extra = "max_stories = 1\nmax_related = 0"
    config = write_config(
        tmp_path, feeds, smtp=smtp_table(smtp_server.port), extra=extra, storage=backend.storage
    )
    assert main(["run", "--config", str(config)]) == 0
    (message,) = smtp_server.messages
    assert "1 条新闻" in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "条新闻未列出" in body.get_content()
    assert pending(config) == 0  # nothing waits for a later digest
    with Storage(load_config(config).storage.target) as storage:
        rows = storage._db.execute("SELECT shown, COUNT(*) FROM deliveries GROUP BY shown")
        counts = dict(rows.fetchall())
    assert counts[1] == 1 and counts[0] >= 1
    assert main(["digest", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 1
    status = subprocess.run(
        [sys.executable, "-m", "monitor", "status", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert f"(1 story shown, {counts[0]} left out)" in status.stdout, status.stdout


def test_a_digest_over_max_bytes_shows_fewer_headlines_and_fits(tmp_path: Path) -> None:
    from email import policy
    from email.parser import BytesParser

    from monitor.models import StoredItem, Story
    from monitor.service.digests import _fitting

    now = datetime(2026, 11, 23, tzinfo=UTC)
    stories = [
        Story(n, (StoredItem(n, "f", str(n), f"https://example.org/{n}", f"第{n}条新闻" * 4,
                             now, f"来源{n % 7}", None, f"第{n}篇的正文，各不相同。" * 20, n, ()),))
        for n in range(1, 201)
    ]  # fmt: skip
    config = load_config(write_config(tmp_path, [], extra="max_bytes = 60000"))
    fitted = _fitting(config, config.digest, stories, now, ["reader@example.org"])
    assert fitted is not None
    built, message, _ = fitted
    size = len(message.as_bytes())
    assert size <= 60_000
    headlines = sum(len(section.entries) for section in built.sections)
    assert 1 < headlines < 200
    assert len(built.story_ids) + len(built.left_out) == 200
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert f"{len(built.story_ids)} 条新闻" in str(parsed["Subject"])


def test_stories_past_the_window_are_counted_once_and_settled(
    tmp_path: Path, feed_server: FeedServer, smtp_server: MailServer
) -> None:
    feeds = []
    for name, content in sorted(build().items()):
        feed_server.routes[f"/{name}"] = Response(content.encode())
        feeds.append((name.removesuffix(".xml"), feed_server.url(f"/{name}")))
    config = write_config(tmp_path, feeds, smtp=smtp_table(smtp_server.port))
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    with Storage(load_config(config).storage.target) as storage, storage.transaction():
        # A story stored long ago and never sent: past the window, no digest shows it.
        storage._db.execute(
            "UPDATE stories SET created_at = '2020-01-01T00:00:00+00:00' WHERE id = "
            "(SELECT MIN(id) FROM stories)"
        )
    assert main(["digest", "--config", str(config)]) == 0
    (message,) = smtp_server.messages
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "另有 1 条新闻超过去重窗口仍未发送" in body.get_content()
    assert pending(config) == 0
    with Storage(load_config(config).storage.target) as storage:
        assert storage.expired_story_ids("daily", "reader@example.org", datetime.now(UTC)) == set()


def _dw_feed(items: list[tuple[str, str, str]]) -> bytes:
    from html import escape

    entries = "".join(
        f"<item><title>{escape(title)}</title><link>https://www.dw.com/zh/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>Sat, 18 Mar 2023 15:50:17 GMT</pubDate>"
        f"<description>{escape(html)}</description></item>"
        for guid, title, html in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>DW</title>'
        f"{entries}</channel></rss>"
    ).encode()


def test_a_more_complete_version_of_a_sent_story_comes_again_marked_updated(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, smtp_server: MailServer
) -> None:
    from dedup_corpus import seed_texts

    paragraphs = [p for p in seed_texts()["000"].split("\n") if p.strip()]
    flash = "".join(f"<p>{p}</p>" for p in paragraphs[:3])
    full = "".join(f"<p>{p}</p>" for p in paragraphs)
    feed_server.routes["/dw.xml"] = Response(_dw_feed([("a-1", "快讯：韩日恢复军情协定", flash)]))
    config = write_config(
        tmp_path, [("dw", feed_server.url("/dw.xml"))], smtp=smtp_table(smtp_server.port),
        storage=backend.storage,
    )  # fmt: skip
    assert main(["run", "--config", str(config)]) == 0
    feed_server.routes["/dw.xml"] = Response(
        _dw_feed(
            [("a-1", "快讯：韩日恢复军情协定", flash), ("a-2", "对抗朝鲜：韩日追求军情合作", full)]
        )
    )
    assert main(["run", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 2
    first = smtp_server.messages[0].get_body(preferencelist=("plain",)).get_content()
    second = smtp_server.messages[1].get_body(preferencelist=("plain",)).get_content()
    assert "〔更新〕" not in first and "快讯：韩日恢复军情协定" in first
    assert "* 〔更新〕对抗朝鲜：韩日追求军情合作" in second
    assert "快讯" not in second  # one story: the full report is its headline now
    assert main(["digest", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 2  # sent once as updated, not again
