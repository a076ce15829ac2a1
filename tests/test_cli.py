"""The command line as a user meets it: exit codes, one-line errors, the README."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ROOT, FeedServer, Response, write_config
from fixtures.make_samples import SAMPLES, build

from monitor.cli import main


def monitor(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_example_config_runs_offline_into_the_outbox(tmp_path: Path) -> None:
    """The README's main job: bundled samples, SQLite, digest in the outbox."""
    shutil.copy(ROOT / "config.example.toml", tmp_path)
    shutil.copytree(SAMPLES, tmp_path / "monitor" / "samples")
    done = monitor("run", "--config", "config.example.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "5 feeds · 7 new items · 2 reposts collapsed · 0 feeds failed" in done.stderr
    files = sorted(p.suffix for p in (tmp_path / "outbox").iterdir())
    assert files == [".eml", ".html"]
    assert (tmp_path / "monitor.db").exists()
    exported = monitor(
        "export", "--format", "jsonl", cwd=tmp_path, env={"MONITOR_CONFIG": "config.example.toml"}
    )
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(records) == 7 and len({r["story"] for r in records}) == 5


def test_failing_feed_is_one_line_and_the_others_still_run(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    feed_server.routes["/html"] = Response(b"<html><body>Sorry</body></html>")
    feeds = [
        ("gone", feed_server.url("/gone.xml")),
        ("page", feed_server.url("/html")),
        ("dw", feed_server.url("/dw.xml")),
        ("missing file", "nothing-here.xml"),
    ]
    config = write_config(tmp_path, feeds)
    assert main(["run", "--config", str(config)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert "monitor: feed 'gone': HTTP 404 Not Found" in lines
    assert any(line.startswith("monitor: feed 'page': an HTML page, not a feed") for line in lines)
    assert any(line.startswith("monitor: feed 'missing file': no such file") for line in lines)
    assert (
        "monitor: 4 feeds · 1 new item · 0 reposts collapsed · 3 feeds failed (see the lines above)"
        in lines
    )
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_bad_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [("a", "gopher://x/y")])
    assert main(["run", "--config", str(config)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(
        rf"monitor: error: {re.escape(str(config))}:\d+: feeds\[0\]\.url: unsupported URL scheme 'gopher'.*",
        line,
    )


def test_unusable_database_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [("a", "a.xml")])
    (tmp_path / "monitor.db").write_bytes(b"garbage" * 1000)
    assert main(["run", "--config", str(config)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "monitor.db" in line and "corrupted" in line


def test_no_config_anywhere(tmp_path: Path) -> None:
    env = {"MONITOR_CONFIG": "", "XDG_CONFIG_HOME": str(tmp_path / "nothing")}
    done = monitor("run", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert (
        "no config file: pass --config PATH, set MONITOR_CONFIG, or run monitor init" in done.stderr
    )


def commands() -> list[str]:
    """Every top-level command the parser knows."""
    import argparse

    from monitor.cli.arguments import build_parser

    (group,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(group.choices)


def test_every_command_has_help_with_an_example(tmp_path: Path) -> None:
    assert {"run", "daemon", "migrate", "status"} <= set(commands())
    for command in commands():
        done = monitor(command, "--help", cwd=tmp_path)
        assert done.returncode == 0
        assert "example" in done.stdout and f"monitor {command}" in done.stdout


def test_readme_documents_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in commands():
        assert f"`monitor {command}" in readme, command


def readme_setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- setup-commands", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_has_the_two_setup_commands_that_ci_runs() -> None:
    install_and_run, run_tests = readme_setup_commands()
    assert "monitor run --config config.example.toml" in install_and_run
    assert "pytest" in run_tests
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "setup-commands" in ci  # .ci/run reads the commands from the README itself


def test_shipped_samples_are_built_from_the_seed_fixtures() -> None:
    for name, content in build().items():
        assert (SAMPLES / name).read_text(encoding="utf-8") == content, name


def test_parse_shows_each_item_of_a_folder_as_json(tmp_path: Path) -> None:
    seeds = ROOT / "tests" / "fixtures" / "seeds"
    done = monitor("parse", str(seeds), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["adapter"] for r in records] == ["dw", "nytimes", "generic", "rfi", "rfi"]
    assert records[2]["original_source"] == "国际在线"
    assert all(r["text"] and r["published"] and "<p>" in r["html"] for r in records)


def test_parse_says_when_the_feed_cut_an_item_short(tmp_path: Path) -> None:
    rti = ROOT / "tests" / "adapters" / "archive" / "RTI中央廣播電臺-a.md"
    done = monitor("parse", str(rti), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "adapter: rti" in done.stdout and "......more" not in done.stdout
    assert "truncated: yes, by the feed (its page has the rest)" in done.stdout
    seed = monitor("parse", str(ROOT / "tests" / "fixtures" / "seeds"), cwd=tmp_path)
    assert "truncated:" not in seed.stdout


def test_parse_a_feed_over_http_with_a_forced_adapter(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/aggregator.xml"] = Response(build()["aggregator.xml"].encode())
    done = monitor(
        "parse", feed_server.url("/aggregator.xml"), "--adapter", "aggregator", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("adapter: aggregator") == 2
    assert "original_source: 国际在线" in done.stdout
    assert "关闭广告" not in done.stdout


def test_parse_of_a_file_that_is_no_feed_nor_page_is_an_error(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    rng = random.Random(7)
    junk = bytes(rng.randrange(256) for _ in range(5000))
    assert b"<" in junk
    feed_server.routes["/junk"] = Response(
        junk, headers={"Content-Type": "application/octet-stream"}
    )
    feed_server.routes["/junk.html"] = Response(
        b"\0\0" + junk, headers={"Content-Type": "text/html"}
    )
    for path in ("/junk", "/junk.html"):
        done = monitor("parse", feed_server.url(path), cwd=tmp_path)
        assert done.returncode == 1, done.stdout
        assert done.stdout == ""
        assert done.stderr.startswith(f"monitor: error: feed '{feed_server.url(path)}': ")


def test_parse_an_unknown_adapter_is_a_clear_error(tmp_path: Path) -> None:
    done = monitor("parse", "x.txt", "--adapter", "nope", cwd=tmp_path)
    assert done.returncode == 2
    from monitor.parse.adapters import ADAPTERS

    known = ", ".join(sorted(adapter.name for adapter in ADAPTERS))
    assert "generic" in known and "nytimes" in known
    assert done.stderr.strip() == f"monitor: error: no adapter named 'nope' (known: {known})"


def test_readme_guides_the_move_to_postgresql() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = readme.split("## SQLite or PostgreSQL", 1)[1].split("\n## ", 1)[0]
    for needed in ("PGPASSWORD", "monitor migrate  ", "monitor migrate --from sqlite:///", "| 4 |"):
        assert needed in guide, needed


def test_global_options_go_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = write_config(tmp_path, [("one", "one.xml")])
    other = tmp_path / "other"
    other.mkdir()
    two = write_config(other, [("two", "two.xml")])
    for argv, shown in [
        (["--config", str(one), "feeds", "list"], "one"),
        (["-c", str(one), "feeds", "list"], "one"),
        (["feeds", "list", "-c", str(two)], "two"),
        (["-c", str(one), "feeds", "list", "--config", str(two)], "two"),  # the later wins
        (["--debug", "-c", str(two), "--log-format", "json", "feeds", "list"], "two"),
    ]:
        capsys.readouterr()
        assert main(argv) == 0, argv
        assert capsys.readouterr().out.split("\t")[0] == shown, argv


def test_one_of_a_thing_is_not_plural(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    config = write_config(tmp_path, [("dw", feed_server.url("/dw.xml"))])
    capsys.readouterr()
    assert main(["run", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert "monitor: 1 feed · 1 new item · 0 reposts collapsed · 0 feeds failed\n" in err
    assert "monitor: digest daily delivered: 1 story in 1 section to reader@example.org" in err


def test_status_shows_every_time_in_one_zone_and_no_next_fetch_when_paused(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    config = write_config(
        tmp_path, [("dw", feed_server.url("/dw.xml")), ("quiet", feed_server.url("/dw.xml"))]
    )
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert main(["feeds", "pause", "quiet", "--config", str(config)]) == 0
    shanghai = {"TZ": "Asia/Shanghai"}
    report = json.loads(
        monitor("status", "--json", "-c", str(config), cwd=tmp_path, env=shanghai).stdout
    )
    assert report["zone"] == "CST +0800"
    dw, quiet = report["feeds"]
    times = [dw["last_fetch"], dw["next_fetch"], report["digests"][0]["next_due"]]
    assert all(t.endswith("+08:00") for t in times), times
    assert quiet["state"] == "paused" and quiet["next_fetch"] is None
    text = monitor("status", "-c", str(config), cwd=tmp_path, env=shanghai).stdout
    assert text.endswith("times in CST +0800\n")
    shown = datetime.fromisoformat(dw["last_fetch"]).strftime("%m-%d %H:%M")
    assert re.search(rf"^dw\s+ok\s+{shown}\s", text, re.MULTILINE)
    assert re.search(r"^quiet\s+paused\s.*\s-$", text, re.MULTILINE)
    utc = json.loads(
        monitor("status", "--json", "--utc", "-c", str(config), cwd=tmp_path, env=shanghai).stdout
    )
    assert utc["zone"] == "UTC +0000" and utc["feeds"][0]["last_fetch"].endswith("+00:00")
    assert datetime.fromisoformat(utc["feeds"][0]["last_fetch"]) == datetime.fromisoformat(
        dw["last_fetch"]
    )


def test_the_config_may_be_given_before_or_after_a_feeds_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path, [("dw", "http://127.0.0.1:1/dw.xml")]))
    listed = []
    for args in (["feeds", "--config", config, "list"], ["feeds", "list", "--config", config],
                 ["--config", config, "feeds", "list"]):  # fmt: skip
        capsys.readouterr()
        assert main(args) == 0
        listed.append(capsys.readouterr().out)
    assert listed == [listed[0]] * 3 and listed[0].startswith("dw\t")


def test_feeds_alone_lists_its_actions_and_a_refused_connection_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["feeds"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: monitor feeds") and all(
        action in out for action in ("list", "add", "remove", "pause", "resume")
    )
    config = write_config(tmp_path, [("closed", "http://127.0.0.1:1/feed.xml")])
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert "monitor: feed 'closed': cannot connect: connection refused\n" in capsys.readouterr().err


def test_a_feeds_failed_pages_are_logged_five_and_a_count_of_the_rest() -> None:
    from monitor.service import FeedReport

    over = "feed 't': 4,900 items over [fetch] max_items (100) skipped"
    pages = [f"feed 't': page {n}: HTTP 404" for n in range(9)]
    report = FeedReport("t", item_errors=[over], page_errors=pages)
    assert (
        report.problem_lines()
        == [
            over,  # every problem of the feed's items is told
            *pages[:5],
            "feed 't': 4 more article pages failed",
        ]
    )
    six = FeedReport("t", page_errors=pages[:6])
    assert six.problem_lines() == pages[:6]  # a count would save no line
