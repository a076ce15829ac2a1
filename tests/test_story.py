"""Living with dedup's decisions: `monitor story` shows one, `monitor split` undoes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Backend, FeedServer, Response, write_config
from dedup_corpus import seed_texts
from test_end_to_end import serve_samples
from test_story_rules import rss

from monitor.cli import main
from monitor.store import SCHEMA_VERSION

DW_COPY = "https://www.qukanredian.com/news/20230319/dw-korea-japan.html"
URL = "https://news.example.com/"


def stored_samples(backend: Backend, tmp_path: Path, feed_server: FeedServer) -> Path:
    config = write_config(tmp_path, serve_samples(feed_server), storage=backend.storage)
    assert main(["run", "--config", str(config), "--no-digest"]) == 0
    return config


def story_of(config: Path, url: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    assert main(["story", "--config", str(config), url, "--json"]) == 0
    found: dict[str, object] = json.loads(capsys.readouterr().out)
    return found


def test_story_shows_each_member_and_why_it_joined(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stored_samples(backend, tmp_path, feed_server)
    # The aggregator's copy of the DW article, asked for as the feed spelt it.
    found = story_of(config, DW_COPY + "?utm_source=rss", capsys)
    members = found["members"]
    assert isinstance(members, list) and len(members) == 2
    (copy,) = [m for m in members if m["url"] == DW_COPY]
    (original,) = [m for m in members if m["url"] != DW_COPY]
    # The feeds' order decided which came first; the original is the headline's source.
    assert original["source"] == "DW 中文" and original["canonical"] and not copy["canonical"]
    first, second = members
    assert first["reason"] is None
    assert second["reason"].startswith(("containment", "simhash distance", "same text"))
    assert main(["story", "--config", str(config), DW_COPY]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"story {found['story']}: 2 items\n")
    assert "(the headline's source)" in shown and "← this item" in shown
    assert second["reason"] in shown


def test_split_makes_an_item_a_story_of_its_own_and_says_so(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stored_samples(backend, tmp_path, feed_server)
    before = story_of(config, DW_COPY, capsys)
    assert main(["split", "--config", str(config), DW_COPY]) == 0
    after = story_of(config, DW_COPY, capsys)
    (alone,) = after["members"]  # type: ignore[misc]
    assert after["story"] != before["story"] and alone["split_at"] and alone["reason"] is None
    (original,) = [m for m in before["members"] if m["url"] != DW_COPY]  # type: ignore[attr-defined]
    (dw,) = story_of(config, original["url"], capsys)["members"]  # type: ignore[misc]
    assert dw["canonical"] and dw["url"] == original["url"]
    # Both are headlines of the next digest now, the copy no more "also carried by".
    preview = tmp_path / "digest.json"
    assert main(["digest", "--config", str(config), "--preview", str(preview)]) == 0
    entries = [e for s in json.loads(preview.read_text())["sections"] for e in s["stories"]]
    shown = entries + [r for e in entries for r in e["related"]]
    stories = {e["url"]: e["story"] for e in shown}
    assert stories[DW_COPY] == after["story"] and stories[dw["url"]] == before["story"]
    assert all(DW_COPY not in [c["url"] for c in e["also_carried_by"]] for e in shown)
    # Split again: nothing to do, said in one line.
    capsys.readouterr()
    assert main(["split", "--config", str(config), DW_COPY]) == 0
    assert "nothing to split" in capsys.readouterr().err


def test_an_unknown_link_is_one_line_naming_it(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stored_samples(Backend("sqlite", tmp_path / "monitor.db"), tmp_path, feed_server)
    capsys.readouterr()
    assert main(["story", "--config", str(config), "https://example.org/none"]) != 0
    error = capsys.readouterr().err.strip()
    assert "no stored item has the link https://example.org/none" in error
    assert "\n" not in error


@pytest.mark.parametrize("headline", [True, False])
def test_split_after_a_digest_sends_only_what_it_did_not_show_as_a_headline(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    headline: bool,
) -> None:
    """A digest had the story: its headline from DW, the aggregator's copy "also
    carried by". Split out, the copy is news to the reader and is sent; the
    original, split out, was that headline, and is not sent again."""
    config = stored_samples(backend, tmp_path, feed_server)
    assert main(["digest", "--config", str(config)]) == 0
    (dw,) = [m for m in story_of(config, DW_COPY, capsys)["members"] if m["url"] != DW_COPY]  # type: ignore[attr-defined]
    target = dw["url"] if headline else DW_COPY
    capsys.readouterr()
    assert main(["split", "--config", str(config), target]) == 0
    said = capsys.readouterr().err
    assert ("but those that showed it as that story's headline" in said) is headline, said
    preview = tmp_path / "digest.json"
    assert main(["digest", "--config", str(config), "--preview", str(preview)]) == 0
    said = capsys.readouterr().err
    if headline:
        assert "no pending stories" in said and not preview.exists(), said
    else:
        entries = [e for s in json.loads(preview.read_text())["sections"] for e in s["stories"]]
        assert [e["url"] for e in entries] == [target]


@pytest.mark.parametrize("order", [["a", "b"], ["b", "a"]])
def test_the_headline_of_a_story_does_not_hang_on_the_feeds_order(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    order: list[str],
) -> None:
    """Two copies published at one time, from two feeds listed in either order: the
    story, its first member and its headline are the same."""
    article = seed_texts()["000"]
    for name, text in {"a": article, "b": article.replace("周六", "星期六")}.items():
        feed_server.routes[f"/{name}"] = Response(
            rss([(name, text)], hour=8), headers={"Content-Type": "application/rss+xml"}
        )
    config = write_config(
        tmp_path, [(name, feed_server.url(f"/{name}")) for name in order], storage=backend.storage
    )
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    members = story_of(config, URL + "a", capsys)["members"]
    assert isinstance(members, list) and len(members) == 2
    (head,) = [m["url"] for m in members if m["canonical"]]
    assert (head, members[0]["url"]) == (URL + "a", URL + "a")


@pytest.mark.parametrize(
    "command",
    [
        ["story", "https://example.org/a"],
        ["split", "https://example.org/a"],
        ["export"],
        ["prune"],
        ["redecide", "--since", "2"],
    ],
)
def test_commands_about_stored_items_make_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Before the first run there is nothing stored to show, split, export, prune
    or decide again: one line names the database that is not there, and none is made."""
    config = write_config(tmp_path, [])
    database = tmp_path / "monitor.db"
    capsys.readouterr()
    assert main([command[0], "--config", str(config), *command[1:]]) == 1
    assert capsys.readouterr().err == f"monitor: error: database {database}: no such file\n"
    assert not database.exists()


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["digest", "--preview", "next.html"], "nothing to preview"),
        (["digest"], "no digest sent"),
    ],
)
def test_a_digest_before_the_first_run_has_nothing_and_makes_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], said: str
) -> None:
    config = write_config(tmp_path, [])
    capsys.readouterr()
    assert main([command[0], "--config", str(config), *command[1:]]) == 0
    assert f"monitor: no pending stories; {said}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_status_before_the_first_run_lists_the_feeds_and_makes_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [("dw", "http://127.0.0.1:9/dw.xml")])
    database = tmp_path / "monitor.db"
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(f["name"], f["state"], f["items"]) for f in report["feeds"]] == [("dw", "new", 0)]
    assert report["database"] == {"location": str(database), "schema": None, "daemons": []}
    assert [d["pending_stories"] for d in report["digests"]] == [0]
    assert main(["status", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert f"database {database}: not made yet (the first run makes it)\n" in text
    assert not database.exists()
    assert main(["run", "--no-digest", "--config", str(config)]) == 0  # its feed failed
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["database"]["schema"] == SCHEMA_VERSION


def test_status_leaves_out_a_daemon_of_this_machine_that_is_gone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Killed with kill -9, a daemon leaves its lease for up to a minute: status does
    not name it as running meanwhile; a live holder it does."""
    import subprocess
    import sys
    from datetime import UTC, datetime

    from monitor.config import load_config
    from monitor.store import DAEMON_LEASE, HOLDER, Storage

    config = write_config(tmp_path, [("dw", "http://127.0.0.1:9/dw.xml")])
    host = HOLDER.rsplit(" pid ", 1)[0]
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Storage.open(load_config(config)) as storage:
            now = datetime.now(UTC)
            storage.acquire_lease(DAEMON_LEASE, f"{host} pid {gone}", 60, now)
            assert storage.live_leases(DAEMON_LEASE, now) == [f"{host} pid {gone}"]
        capsys.readouterr()
        assert main(["status", "--json", "--config", str(config)]) == 0
        assert json.loads(capsys.readouterr().out)["database"]["daemons"] == []
        with Storage.open(load_config(config)) as storage:
            storage.release_lease(DAEMON_LEASE, f"{host} pid {gone}")
            storage.acquire_lease(DAEMON_LEASE, f"{host} pid {alive.pid}", 60, datetime.now(UTC))
        assert main(["status", "--json", "--config", str(config)]) == 0
        daemons = json.loads(capsys.readouterr().out)["database"]["daemons"]
        assert daemons == [f"{host} pid {alive.pid}"]
    finally:
        alive.kill()
        alive.wait()
