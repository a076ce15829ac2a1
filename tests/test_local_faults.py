"""Local faults: the config file and the database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.store import Storage


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("monitor: error: ")
    return line


def test_config_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", str(tmp_path)]) == 2
    assert "cannot read config file" in one_line_error(capsys)


def test_config_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('[[feeds]]\nname = "德国"\n'.encode("gbk"))
    assert main(["run", "--config", str(path)]) == 2
    assert "not UTF-8 text" in one_line_error(capsys)


def test_smtp_password_file_must_be_private(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    config = write_config(
        tmp_path, [("a", "a.xml")], smtp='[smtp]\nhost = "h"\npassword_file = "password"'
    )
    smtp = load_config(config).smtp
    assert smtp is not None
    with pytest.raises(ConfigError, match="can be read by others; run: chmod 600") as caught:
        smtp.password()
    assert "s3cret" not in str(caught.value)
    secret.chmod(0o600)
    assert smtp.password() == "s3cret"


def locked(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_a_locked_database_waits_then_says_so(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/dw"] = Response(build()["dw.xml"].encode())
    config = write_config(tmp_path, [("dw", feed_server.url("/dw"))])
    config.write_text(
        config.read_text().replace('path = "monitor.db"', 'path = "monitor.db"\nbusy_timeout = 0.5')
    )
    assert main(["run", "--config", str(config)]) == 0
    holder = locked(tmp_path / "monitor.db")
    try:
        capsys.readouterr()
        assert main(["run", "--config", str(config)]) == 1
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert "monitor.db" in line and "locked by another process (waited 0.5 s)" in line
    finally:
        holder.rollback()
        holder.close()


def test_a_read_only_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, [("a", "a.xml")])
    path = tmp_path / "monitor.db"
    with Storage(path):
        pass
    for leftover in tmp_path.glob("monitor.db-*"):
        leftover.unlink()
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        assert main(["run", "--config", str(config)]) == 1
        assert "read-only" in one_line_error(capsys)
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_full_disk_keeps_the_database_consistent(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two long articles: the database must grow to hold them, whatever room its
    # pages have left.
    paragraph = "据韩国媒体报道，韩国国防部着手恢复《韩日军事情报保护协定》正常化所需程序。"
    items = "".join(
        f"<item><title>第{n}篇</title><link>https://example.org/{n}</link>"
        f"<description><![CDATA[{f'<p>{paragraph}{n}</p>' * 400}]]></description></item>"
        for n in (1, 2)
    )
    rss = f'<rss version="2.0"><channel><title>rfi</title>{items}</channel></rss>'
    feed_server.routes["/rfi"] = Response(rss.encode())
    config = write_config(tmp_path, [("rfi", feed_server.url("/rfi"))])
    from monitor.service import ingest

    loaded = load_config(config)
    with Storage.open(loaded) as storage:
        pages = storage._db.execute("PRAGMA page_count").fetchone()[0]
        storage._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full now
        report = ingest(loaded, storage)
        (feed,) = report.feeds
        assert feed.error is not None and "database or disk is full" in feed.error
        assert list(storage.export_items()) == []
        assert storage.integrity_check() == "ok"
    assert main(["run", "--config", str(config)]) == 0  # room again: it catches up
    capsys.readouterr()
    assert main(["export", "--config", str(config)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_nothing_from_a_feed_becomes_a_path(tmp_path: Path, feed_server: FeedServer) -> None:
    evil = "../../etc/evil"
    item = f"<item><title>{evil}</title><link>file:///etc/passwd</link><guid>{evil}</guid><description>x</description></item>"
    feed_server.routes["/evil"] = Response(
        f'<rss version="2.0"><channel>{item}</channel></rss>'.encode()
    )
    config = write_config(tmp_path, [("evil", feed_server.url("/evil"))])
    before = set(os.listdir(tmp_path.parent))
    assert main(["run", "--config", str(config)]) == 0
    assert set(os.listdir(tmp_path.parent)) == before
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir())[0].startswith("digest-")
