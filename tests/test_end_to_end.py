"""The whole pipeline through the real CLI: HTTP feeds in, one email out; on both backends."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    Backend,
    FeedServer,
    MailServer,
    Response,
    html_part,
    smtp_table,
    text_part,
    write_config,
)
from fixtures.make_samples import build

from monitor.cli import main

TOPICS = """
[[topics]]
name = "俄朝关系"
keywords = ["普京", "俄朝", "朝俄"]
[[topics]]
name = "朝鲜半岛"
keywords = ["朝鲜", "韩国", "平壤"]
"""


def serve_samples(feed_server: FeedServer) -> list[tuple[str, str]]:
    feeds = []
    for index, (name, content) in enumerate(sorted(build().items())):
        path = f"/{name}"
        feed_server.routes[path] = Response(
            content.encode(), headers={"Content-Type": "application/rss+xml"}, etag=f'"v{index}"'
        )
        feeds.append((name.removesuffix(".xml"), feed_server.url(path)))
    return feeds


def export(config: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["export", "--config", str(config), "--format", "jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_run_sends_one_email_with_each_story_once(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(
        tmp_path,
        serve_samples(feed_server),
        smtp=smtp_table(smtp_server.port),
        topics=TOPICS,
        storage=backend.storage,
    )
    assert main(["run", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    text = text_part(message)
    html = html_part(message)

    # The DW article and its aggregator copy: listed once, the copy under "also carried by".
    dw_title = "对抗朝鲜：韩日追求军情合作 “正常化”"
    assert text.count(dw_title) == 1
    assert html.count(dw_title) == 1
    entry = text[text.index(dw_title) :].split("\n* ", 1)[0]
    assert "\n  DW 中文 · 2023-03-18 23:50\n" in entry  # outlet, page date in Asia/Shanghai
    assert "也见于: aggregator <https://www.qukanredian.com/news/20230319/dw-korea-japan" in entry
    # The 国际在线 article and the aggregator page that reposts it: one story.
    assert text.count("韩日全面恢复军事情报共享") == 1
    assert "https://news.cri.cn/20230318/korea-japan-gsomia-sample.html" in text
    # Different articles on related subjects stay separate stories.
    assert "面对俄朝条约，韩国日本的恐慌和忧虑" in text
    assert "朝俄蜜月" in text
    assert message["Subject"].startswith("每日摘要 ")
    assert "5 条新闻" in message["Subject"]  # four headlines and one related entry
    # DW's and 国际在线's own reports of the same event: one headline, related coverage.
    assert "相关报道:\n  - 韩日全面恢复军事情报共享 (国际在线 · 03-18 17:12)" in entry

    records = export(config, capsys)
    assert len(records) == 7
    by_url = {r["url"]: r for r in records}
    copy = by_url["https://www.qukanredian.com/news/20230319/dw-korea-japan.html"]
    original = next(r for r in records if r["feed"] == "dw")
    assert copy["story"] == original["story"]
    assert copy["duplicate_of"] == original["url"]
    assert original["duplicate_of"] is None
    assert len({r["story"] for r in records}) == 5
    for record in records:
        assert {"url", "title", "feed", "published", "story", "duplicate_of", "topics"} <= set(
            record
        )
        assert str(record["published"]).endswith("+00:00")


def test_second_run_fetches_conditionally_and_sends_nothing_new(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(
        tmp_path,
        serve_samples(feed_server),
        smtp=smtp_table(smtp_server.port),
        storage=backend.storage,
    )
    assert main(["run", "--config", str(config)]) == 0
    assert main(["run", "--config", str(config)]) == 0
    assert len(smtp_server.messages) == 1
    second_round = feed_server.requests[len(feed_server.requests) // 2 :]
    assert all(headers.get("If-None-Match", "").startswith('"v') for _, headers in second_round)
    assert "no pending stories" in capsys.readouterr().err


def test_repost_arriving_after_delivery_is_recorded_not_sent_again(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    samples = build()
    feed_server.routes["/dw.xml"] = Response(samples["dw.xml"].encode())
    feed_server.routes["/aggregator.xml"] = Response(b"", status=503)
    feeds = [("dw", feed_server.url("/dw.xml")), ("aggregator", feed_server.url("/aggregator.xml"))]
    config = write_config(
        tmp_path, feeds, smtp=smtp_table(smtp_server.port), storage=backend.storage
    )
    assert main(["run", "--config", str(config)]) == 0
    assert "HTTP 503" in capsys.readouterr().err
    feed_server.routes["/aggregator.xml"] = Response(samples["aggregator.xml"].encode())
    assert main(["run", "--config", str(config)]) == 0
    # The aggregator's own page (a different story) goes out; the DW copy does not.
    assert len(smtp_server.messages) == 2
    second = text_part(smtp_server.messages[1])
    assert "韩日全面恢复军事情报共享" in second
    assert "对抗朝鲜" not in second
    stories = {r["url"]: r["story"] for r in export(config, capsys)}
    assert len(stories) == 3 and len(set(stories.values())) == 2


def test_no_digest_only_fetches_and_digest_delivers_later(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, serve_samples(feed_server), storage=backend.storage)
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert not (tmp_path / "outbox").exists()
    preview = tmp_path / "preview.html"
    assert main(["digest", "--config", str(config), "--preview", str(preview)]) == 0
    assert "对抗朝鲜" in preview.read_text(encoding="utf-8")
    assert not (tmp_path / "outbox").exists()
    data_file = tmp_path / "preview.json"
    assert main(["digest", "--config", str(config), "--preview", str(data_file)]) == 0
    data = json.loads(data_file.read_text(encoding="utf-8"))
    entries = [story for section in data["sections"] for story in section["stories"]]
    related = [other for story in entries for other in story["related"]]
    assert data["stories_shown"] == len(entries) + len(related) == len(data["story_ids"])
    assert f"{data['stories_shown']} 条新闻" in data["subject"]
    assert "对抗朝鲜：韩日追求军情合作 “正常化”" in {s["title"] for s in entries + related}
    assert all(s["url"].startswith("https://") and s["outlet"] for s in entries + related)
    assert data["left_out"] == [] and all(s["not_shown"] == 0 for s in data["sections"])
    text_file = tmp_path / "preview.txt"
    assert main(["digest", "--config", str(config), "--preview", str(text_file)]) == 0
    text = text_file.read_text(encoding="utf-8")
    assert "对抗朝鲜" in text and "<a " not in text and "<html" not in text
    assert main(["digest", "--config", str(config)]) == 0
    files = sorted(p.suffix for p in (tmp_path / "outbox").iterdir())
    assert files == [".eml", ".html"]
    (sent,) = (tmp_path / "outbox").glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(sent.read_bytes())
    assert text_part(message) == text  # type: ignore[arg-type]
    assert main(["digest", "--config", str(config)]) == 0
    assert len(list((tmp_path / "outbox").iterdir())) == 2


def sample_urls() -> set[str]:
    from monitor.parse import adapter_for, parse_feed

    return {
        adapter_for(item.url).adapt(item, name, datetime.now(UTC)).url
        for name, content in build().items()
        for item in parse_feed(content.encode(), name).items
    }


def twice_the_samples(feed_server: FeedServer) -> list[tuple[str, str]]:
    """Ten feeds: enough for worker processes."""
    feeds = serve_samples(feed_server)
    for name, content in build().items():
        path = f"/again/{name}"
        feed_server.routes[path] = Response(content.encode(), etag='"again"')
        feeds.append((f"{name.removesuffix('.xml')} again", feed_server.url(path)))
    return feeds


def test_workers_start_with_the_run_when_new_feeds_must_be_parsed(
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.service.workers import LazyPool

    started: list[bool] = []
    real = LazyPool._start

    def counted(*args: Any, **kwargs: Any) -> None:
        started.append(True)
        real(*args, **kwargs)

    monkeypatch.setattr(LazyPool, "_start", counted)
    config = write_config(tmp_path, twice_the_samples(feed_server))
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert len(started) == 1  # at the start: every feed was new
    first = export(config, capsys)
    # The second time every feed answers 304: no worker is started for nothing.
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert len(started) == 1
    assert sorted(str(item["url"]) for item in first) == sorted(sample_urls())
    assert export(config, capsys) == first


def test_a_run_where_every_feed_answers_304_imports_no_parsing_or_dedup_code(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Only fetching and recording: NumPy, the dedup index and the parsers would
    # be imported for nothing (a tenth of such a run's time).
    config = write_config(tmp_path, twice_the_samples(feed_server))
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    code = (
        "import sys; from monitor.cli import main; "
        f"code = main(['run', '--no-digest', '--config', {str(config)!r}]); "
        "print(code, sorted(m for m in ('numpy', 'lxml', 'monitor.dedup', 'monitor.service.preparation') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert " 0 new items" in done.stderr
    assert done.stdout.split() == ["0", "[]"]


def test_a_run_in_its_own_process_stores_what_its_forked_workers_prepared(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # In its own interpreter the run has one thread when its workers start, so
    # they are forked from it (tests/test_workers.py); here the whole run.
    config = write_config(tmp_path, twice_the_samples(feed_server))
    command = [sys.executable, "-m", "monitor", "run", "--no-digest", "--config", str(config)]
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run(
        [*command, "--debug"], capture_output=True, text=True, timeout=120, env=environment
    )
    assert done.returncode == 0, done.stderr
    assert "10 feeds · " in done.stderr and " 0 feeds failed" in done.stderr
    assert " worker processes forked from this run" in done.stderr
    assert "cannot start" not in done.stderr
    assert sorted(str(item["url"]) for item in export(config, capsys)) == sorted(sample_urls())


def test_ctrl_c_stops_a_run_and_its_workers_and_keeps_what_was_stored(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feeds = twice_the_samples(feed_server)
    for _, url in feeds[5:]:  # still being fetched when Ctrl-C comes
        route = url.removeprefix(feed_server.base)
        feed_server.routes[route] = replace(feed_server.routes[route], delay=5.0)  # type: ignore[type-var]
    config = write_config(tmp_path, feeds)
    command = [sys.executable, "-m", "monitor", "run", "--no-digest", "--config", str(config)]
    # A terminal's foreground job takes SIGINT as it is by default. Started from a
    # process that ignores it (a script's `cmd &`, some CI runners), the run would
    # inherit the ignoring, as Python and every program do, and run on to its end.
    run = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_sigint_as_by_default,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _stored_feeds(tmp_path / "monitor.db"):
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C: to every process
    _, err = run.communicate(timeout=15)
    assert run.returncode == 130, err
    assert err.strip().splitlines()[-1] == "monitor: interrupted; what was stored is kept"
    time.sleep(0.2)
    assert _processes_in_group(run.pid) == []  # no worker left behind
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        recorded = {row[0] for row in db.execute("SELECT id FROM feeds WHERE etag IS NOT NULL")}
        stored = {row[0] for row in db.execute("SELECT DISTINCT feed_id FROM items")}
    assert stored and stored <= recorded and len(recorded) < len(feeds)


def _sigint_as_by_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _processes_in_group(group: int) -> list[int]:
    """The live processes of a process group (read from /proc: no procps needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _stored_feeds(path: Path) -> int:
    """Feeds recorded as fetched so far (none before the database exists)."""
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
        try:
            return int(
                db.execute("SELECT COUNT(*) FROM feeds WHERE etag IS NOT NULL").fetchone()[0]
            )
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


def test_workers_that_cannot_start_leave_the_parsing_to_the_run_itself(
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.service.workers import LazyPool

    def refused(*_: object, **__: object) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(LazyPool, "_start", refused)
    config = write_config(tmp_path, twice_the_samples(feed_server))
    capsys.readouterr()
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert "worker processes cannot start (Resource temporarily unavailable)" in err
    assert "10 feeds · " in err and " 0 feeds failed" in err
    assert sorted(str(item["url"]) for item in export(config, capsys)) == sorted(sample_urls())
