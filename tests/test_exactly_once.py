"""A digest whose send had no known end goes again as the very same message.

Between the server's "250" and the commit that records it, or when a server
takes the message and never answers, `monitor` cannot know whether the digest
was delivered. It records the message before sending; the next send repeats
it unchanged, with its Message-ID, so that servers and clients that drop a
Message-ID they have seen drop it, and nothing new goes out until it is
settled. `monitor status` shows such a digest meanwhile.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    Backend,
    FeedServer,
    MailHandler,
    MailServer,
    Response,
    running_smtp,
    smtp_table,
    socket_server,
    text_part,
    write_config,
)
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import load_config
from monitor.store import Storage


@pytest.fixture
def feeds(feed_server: FeedServer) -> list[tuple[str, str]]:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    feed_server.routes["/rfi.xml"] = Response(build()["rfi.xml"].encode())
    return [("dw", feed_server.url("/dw.xml")), ("rfi", feed_server.url("/rfi.xml"))]


class KillingHandler(MailHandler):
    """Takes the message, then kills its sender before it can hear "250"."""

    victim = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        os.kill(self.victim, signal.SIGKILL)
        return answer


def status(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(config)]) == 0
    (digest,) = json.loads(capsys.readouterr().out)["digests"]
    return dict(digest)


def delivered(config: Path) -> list[tuple[int, str]]:
    with Storage(load_config(config).storage.target) as storage:
        assert storage.integrity_check() == "ok"
        return [(d["id"], d["status"]) for d in storage.digests()]


def test_a_sender_killed_before_it_heard_250_sends_the_same_message_again(
    tmp_path: Path, feeds: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    handler = KillingHandler()
    with running_smtp(handler) as controller:
        config = write_config(tmp_path, feeds, smtp=smtp_table(controller.port))
        assert main(["run", "--no-digest", "--config", str(config)]) == 0
        sender = subprocess.Popen(
            [sys.executable, "-m", "monitor", "digest", "--config", str(config)],
            stderr=subprocess.PIPE,
            text=True,
        )
        handler.victim = sender.pid
        assert sender.wait(timeout=60) == -signal.SIGKILL
        assert len(handler.messages) == 1
        assert delivered(config) == [(1, "pending")]
        shown = status(config, capsys)
        (uncertain,) = shown["uncertain"]
        assert uncertain["message_id"] == handler.messages[0]["Message-ID"]
        assert shown["pending_stories"] > 0

        handler.victim = os.getpid() + 10**7  # no such process: nobody is killed now
        with pytest.raises(ProcessLookupError):
            os.kill(handler.victim, 0)

    plain = MailHandler()
    with running_smtp(plain) as controller:
        config = write_config(tmp_path, feeds, smtp=smtp_table(controller.port))
        capsys.readouterr()
        assert main(["digest", "--config", str(config)]) == 0
        err = capsys.readouterr().err
        first = handler.messages[0]
        assert f"digest daily: sent {first['Message-ID']} again" in err
        assert "no pending stories; no digest sent" in err
        (again,) = plain.messages
        assert again["Message-ID"] == first["Message-ID"]
        assert again["Subject"] == first["Subject"] and text_part(again) == text_part(first)
        assert delivered(config) == [(1, "sent")]
        shown = status(config, capsys)
        assert shown["uncertain"] == [] and shown["pending_stories"] == 0
        assert main(["digest", "--config", str(config)]) == 0
        assert len(plain.messages) == 1


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Takes the whole message, then never answers it."""

    def handle(conn: socket.socket) -> None:
        conn.sendall(b"220 silent ESMTP\r\n")
        reader = conn.makefile("rb")
        in_data = False
        for line in reader:
            if in_data:
                if line == b".\r\n":
                    time.sleep(3)  # past the client's timeout
                    break
                continue
            command = line[:4].upper()
            if command == b"EHLO":
                conn.sendall(b"250 silent\r\n")
            elif command in (b"MAIL", b"RCPT"):
                conn.sendall(b"250 ok\r\n")
            elif command == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                in_data = True
            else:
                break
        reader.close()

    with socket_server(handle) as port:
        yield port


def test_no_answer_after_the_message_is_uncertain_and_settled_by_the_same_message(
    backend: Backend,
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    silent_server: int,
    smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    smtp = smtp_table(silent_server) + "\ntimeout = 1"
    config = write_config(tmp_path, feeds, smtp=smtp, storage=backend.storage)
    capsys.readouterr()
    assert main(["run", "--config", str(config)]) == 3
    err = capsys.readouterr().err
    assert f"SMTP server 127.0.0.1:{silent_server}: no answer after the message" in err
    assert "it may have been delivered, and is sent again, as the same message <" in err
    (uncertain,) = status(config, capsys)["uncertain"]
    assert "no answer after the message" in uncertain["error"]
    capsys.readouterr()
    assert main(["status", "--config", str(config)]) == 0
    assert f"uncertain: {uncertain['message_id']} of " in capsys.readouterr().out

    config = write_config(
        tmp_path, feeds, smtp=smtp_table(smtp_server.port), storage=backend.storage
    )
    assert main(["digest", "--config", str(config)]) == 0
    (message,) = smtp_server.messages
    assert message["Message-ID"] == uncertain["message_id"]
    assert status(config, capsys)["uncertain"] == []
    assert delivered(config) == [(1, "sent")]


def test_a_refusal_is_certain_and_the_stories_wait_for_a_new_message(
    tmp_path: Path,
    feeds: list[tuple[str, str]],
    smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, feeds, smtp=smtp_table(smtp_server.port))
    smtp_server.handler.refuse = "554 5.6.0 message refused"
    assert main(["run", "--config", str(config)]) == 3
    shown = status(config, capsys)
    assert shown["uncertain"] == [] and shown["failed_since_delivered"] == 1
    assert "554 5.6.0 message refused" in shown["last_failure"]["error"]
    capsys.readouterr()
    assert main(["status", "--config", str(config)]) == 0
    assert "1 failed since, the last at" in capsys.readouterr().out
    smtp_server.handler.refuse = None
    assert main(["digest", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 1
    assert delivered(config) == [(1, "failed"), (2, "sent")]
    assert status(config, capsys)["failed_since_delivered"] == 0
