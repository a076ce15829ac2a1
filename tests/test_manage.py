"""Managing the configuration through the real CLI: init, feeds, OPML, progress."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main
from monitor.cli.opml import read_opml
from monitor.config import load_config

OPML = Path(__file__).parent / "fixtures" / "opml"


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd, capture_output=True, text=True,
        timeout=120, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_init_writes_a_working_config_and_says_what_next(tmp_path: Path) -> None:
    done = cli("init", "starter.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "next: monitor run --config starter.toml" in done.stderr
    assert (tmp_path / "samples" / "dw.xml").exists()
    assert "# monitor configuration" in (tmp_path / "starter.toml").read_text(encoding="utf-8")
    run = cli("run", "--config", "starter.toml", cwd=tmp_path)
    assert run.returncode == 0 and "5 feeds · 7 new items · 2 reposts collapsed" in run.stderr
    again = cli("init", "starter.toml", cwd=tmp_path)
    assert again.returncode == 2 and "exists already (use --force" in again.stderr
    assert cli("init", "starter.toml", "--force", cwd=tmp_path).returncode == 0


def test_init_given_a_folder_writes_its_config_and_a_failure_leaves_nothing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "starter"
    folder.mkdir()
    done = cli("init", "starter", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"next: monitor run --config {Path('starter') / 'config.toml'}" in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["config.toml", "samples"]
    assert cli("init", "starter", cwd=tmp_path).returncode == 2
    (tmp_path / "a-file").write_text("")
    blocked = cli("init", "a-file/sub/config.toml", cwd=tmp_path)
    assert blocked.returncode == 2 and blocked.stderr == (
        "monitor: error: a-file/sub/config.toml: cannot write: a-file is a file, not a folder\n"
    )
    # The samples cannot be copied: a config replaced by --force stays as it was.
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "samples").write_text("in the way")
    (tmp_path / "other" / "config.toml").write_text("# mine\n")
    failed = cli("init", "other/config.toml", "--force", cwd=tmp_path)
    assert failed.returncode == 2 and failed.stderr == (
        "monitor: error: other/config.toml: cannot write: "
        f"{Path('other') / 'samples'} is a file, not a folder\n"
    )
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["config.toml", "samples"]
    assert (tmp_path / "other" / "config.toml").read_text() == "# mine\n"


def test_init_and_run_in_the_platform_folders(tmp_path: Path) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "MONITOR_CONFIG": "",
    }
    work = tmp_path / "elsewhere"
    work.mkdir()
    assert cli("init", cwd=work, env=env).returncode == 0
    assert (tmp_path / "cfg" / "monitor" / "config.toml").exists()
    run = cli("run", cwd=work, env=env)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "data" / "monitor" / "monitor.db").exists()
    assert list((tmp_path / "data" / "monitor" / "outbox").glob("*.eml"))


COMMENTED = """# my feeds, kept by hand
[storage]
path = "monitor.db"   # beside this file

[[topics]]
name = "朝鲜半岛"
keywords = ["朝鲜"]

[[feeds]]
name = "dw"   # the first one
url = "{url}"
"""


def test_feeds_add_checks_the_feed_and_keeps_comments(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = build()
    feed_server.routes["/dw.xml"] = Response(samples["dw.xml"].encode())
    feed_server.routes["/rfi.xml"] = Response(samples["rfi.xml"].encode())
    config = tmp_path / "config.toml"
    config.write_text(COMMENTED.format(url=feed_server.url("/dw.xml")), encoding="utf-8")
    assert (
        main(
            [
                "feeds",
                "add",
                feed_server.url("/rfi.xml"),
                "--name",
                "RFI",
                "--topics",
                "朝鲜半岛",
                "--config",
                str(config),
            ]
        )
        == 0
    )
    added = capsys.readouterr().err
    assert "added feed 'RFI'" in added and ": 2 items, newest: " in added
    text = config.read_text(encoding="utf-8")
    assert (
        "# my feeds, kept by hand" in text
        and "# the first one" in text
        and "# beside this file" in text
    )
    loaded = load_config(config)
    assert [(f.name, f.topics) for f in loaded.feeds] == [("dw", ()), ("RFI", ("朝鲜半岛",))]
    before = config.read_text(encoding="utf-8")
    for bad, words in [
        ([feed_server.url("/missing.xml"), "--name", "x"], "HTTP 404"),
        (["ftp://x/y"], "unsupported URL scheme"),
        ([feed_server.url("/rfi.xml"), "--name", "RFI"], "exists already"),
        (
            [feed_server.url("/rfi.xml"), "--name", "y", "--topics", "体育"],
            "no [[topics]] named '体育'",
        ),
    ]:
        assert main(["feeds", "add", *bad, "--config", str(config)]) != 0
        assert words in capsys.readouterr().err
        assert config.read_text(encoding="utf-8") == before


def test_pause_resume_remove(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/dw.xml"] = Response(build()["dw.xml"].encode())
    config = write_config(tmp_path, [("dw", feed_server.url("/dw.xml"))])
    assert main(["feeds", "pause", "dw", "--config", str(config)]) == 0
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert feed_server.hits("/dw.xml") == 0
    capsys.readouterr()
    assert main(["feeds", "list", "--config", str(config)]) == 0
    assert "dw (paused)" in capsys.readouterr().out
    assert main(["feeds", "resume", "dw", "--config", str(config)]) == 0
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert feed_server.hits("/dw.xml") == 1
    capsys.readouterr()
    assert main(["feeds", "remove", "nope", "--config", str(config)]) == 2
    assert "no feed named or at 'nope' (feeds: dw)" in capsys.readouterr().err
    assert main(["feeds", "remove", "dw", "--config", str(config)]) == 0
    assert load_config(config).feeds == ()


def test_a_feed_is_named_by_its_name_or_its_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        [
            ("dw", "https://rss.dw.com/rdf/rss-chi-all"),
            ("rfi", "rfi.xml"),
            ("twin a", "https://twin.example/feed"),
            ("twin b", "https://TWIN.example:443/feed#top"),
        ],
    )
    for argv in (
        ["feeds", "pause", "https://rss.dw.com/rdf/rss-chi-all"],
        ["feeds", "pause", "HTTPS://rss.DW.com/rdf/rss-chi-all?utm_source=x"],  # the same page
        ["feeds", "resume", "rfi.xml"],
    ):
        assert main([*argv, "--config", str(config)]) == 0, argv
    paused = {feed.name for feed in load_config(config).feeds if feed.paused}
    assert paused == {"dw"}
    capsys.readouterr()
    assert main(["feeds", "remove", "https://twin.example/feed", "--config", str(config)]) == 2
    assert "feeds 'twin a', 'twin b' are all at https://twin.example/feed; name the one" in (
        capsys.readouterr().err
    )
    assert main(["feeds", "remove", "rfi.xml", "--config", str(config)]) == 0
    assert [feed.name for feed in load_config(config).feeds] == ["dw", "twin a", "twin b"]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("rss2email.opml", [("dw", ()), ("rfi", ())]),
        ("reader.opml", [("纽约时报中文网", ("东亚", "国际", "评论")), ("BBC 中文", ())]),
        (
            "miniflux.opml",
            [("DW 中文", ("朝鲜半岛",)), ("RFI 中文", ("朝鲜半岛",)), ("联合早报", ("All",))],
        ),
        (
            "freshrss.opml",
            [
                ("中央社", ("东亚安全",)),
                ("VOA 中文", ("东亚安全",)),
                ("美国之音", ("Uncategorized",)),
            ],
        ),
    ],
)
def test_opml_styles_import_and_round_trip(
    tmp_path: Path,
    fixture: str,
    expected: list[tuple[str, tuple[str, ...]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "monitor.db"\n', encoding="utf-8")
    assert main(["import-opml", str(OPML / fixture), "--config", str(config)]) == 0
    loaded = load_config(config)
    assert [(f.name, f.topics) for f in loaded.feeds] == expected
    assert {t.name for t in loaded.topics} == {c for _, cats in expected for c in cats}
    originals = {f.url: f for f in read_opml((OPML / fixture).read_bytes(), fixture)}
    assert {f.url for f in loaded.feeds} == set(originals)
    exported = tmp_path / "out.opml"
    assert main(["export-opml", str(exported), "--config", str(config)]) == 0
    again = read_opml(exported.read_bytes(), "out.opml")
    assert [(f.name, f.url, f.categories) for f in again] == [
        (f.name, f.url, f.topics) for f in loaded.feeds
    ]
    # Importing the same list again adds nothing.
    assert main(["import-opml", str(exported), "--config", str(config)]) == 0
    assert "imported 0 feeds" in capsys.readouterr().err
    assert len(load_config(config).feeds) == len(expected)


def test_local_feeds_leave_by_their_absolute_address_and_come_back_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert cli("init", "home/config.toml", cwd=tmp_path).returncode == 0
    exported = tmp_path / "feeds.opml"
    assert main(["export-opml", str(exported), "--config", str(home / "config.toml")]) == 0
    urls = [f.url for f in read_opml(exported.read_bytes(), "feeds.opml")]
    assert urls and all(url.startswith("file:///") for url in urls)
    assert (home / "samples" / "dw.xml").resolve().as_uri() in urls
    capsys.readouterr()
    assert main(["import-opml", str(exported), "--config", str(home / "config.toml")]) == 0
    assert "imported 0 feeds" in capsys.readouterr().err  # the same files
    # Another config, allowed to read the samples where they are: the feeds work.
    other = tmp_path / "other"
    other.mkdir()
    config = other / "config.toml"
    folders = f'[fetch]\nlocal_folders = ["{(home / "samples").as_posix()}"]\n'
    config.write_text('[storage]\npath = "monitor.db"\n' + folders, encoding="utf-8")
    assert main(["import-opml", str(exported), "--config", str(config)]) == 0
    assert f"imported {len(urls)} feeds" in capsys.readouterr().err
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert "0 feeds failed" in capsys.readouterr().err
    # A file that is not there is imported with a warning.
    (home / "samples" / "dw.xml").rename(home / "samples" / "gone.xml")
    again = tmp_path / "again"
    again.mkdir()
    (again / "config.toml").write_text(
        '[storage]\npath = "monitor.db"\n' + folders, encoding="utf-8"
    )
    assert main(["import-opml", str(exported), "--config", str(again / "config.toml")]) == 0
    dw = (home / "samples" / "dw.xml").resolve()
    assert (
        f"warning: feed 'DW 中文': no such file {dw}; imported as it is" in capsys.readouterr().err
    )


def test_a_feed_renamed_in_the_config_keeps_its_items_and_history(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = build()
    for name in ("dw.xml", "nytimes.xml"):
        feed_server.routes[f"/{name}"] = Response(samples[name].encode(), etag=f'"{name}"')
    feeds = [("DW 中文", feed_server.url("/dw.xml")), ("NYT", feed_server.url("/nytimes.xml"))]
    config = write_config(tmp_path, feeds)
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["export", "--config", str(config)]) == 0
    before = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    text = config.read_text(encoding="utf-8").replace('name = "DW 中文"', 'name = "DW"')
    config.write_text(text, encoding="utf-8")
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert "feed 'DW' was 'DW 中文': its items and history stay with it" in err
    assert "0 new items" in err
    asked = [headers for path, headers in feed_server.requests if path == "/dw.xml"]
    assert asked[-1].get("If-None-Match") == '"dw.xml"'  # its validators kept
    assert main(["export", "--config", str(config)]) == 0
    after = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(after) == len(before)
    renamed = {r["url"]: r["feed"] for r in after}
    assert {r["url"]: "DW" if r["feed"] == "DW 中文" else r["feed"] for r in before} == renamed


def test_feeds_add_names_a_feed_by_its_title_as_text_and_keeps_tables_apart(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        '<title type="html">&lt;b&gt;金正恩&lt;/b&gt; 视察 &amp;amp; 讲话</title>'
        "<entry><title>一条</title><id>urn:1</id><link href='https://x.org/1'/>"
        "<updated>2026-11-22T08:00:00Z</updated><content>正文。</content></entry></feed>"
    )
    feed_server.routes["/atom.xml"] = Response(atom.encode())
    feed_server.routes["/again.xml"] = Response(atom.encode())
    config = tmp_path / "config.toml"
    config.write_text(COMMENTED.format(url=feed_server.url("/dw.xml")), encoding="utf-8")
    capsys.readouterr()
    assert main(["feeds", "add", feed_server.url("/atom.xml"), "--config", str(config)]) == 0
    said = capsys.readouterr().err
    assert "added feed '金正恩 视察 & 讲话'" in said and ": 1 item, newest: 一条" in said
    text = config.read_text(encoding="utf-8")
    assert '\n\n[[feeds]]\nname = "金正恩 视察 & 讲话"' in text
    # Another feed of the same title: the name is taken, and --name is the way out.
    assert main(["feeds", "add", feed_server.url("/again.xml"), "--config", str(config)]) == 2
    assert (
        "'金正恩 视察 & 讲话' (its own title) exists already; give this one another with --name"
        in (capsys.readouterr().err)
    )
    for path in ("/a.xml", "/b.xml"):  # unchecked, each named after its address
        main(["feeds", "add", "--no-check", feed_server.url(path), "--config", str(config)])
    assert "(named after its address) exists already" in capsys.readouterr().err


def test_progress_bar_in_a_terminal_plain_lines_otherwise(tmp_path: Path) -> None:
    assert cli("init", "c.toml", cwd=tmp_path).returncode == 0
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", "c.toml"],
        cwd=tmp_path, stdin=slave, stdout=slave, stderr=slave, env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    shown = output.decode(errors="replace")
    assert "feeds" in shown and "5/5" in shown and "reposts collapsed" in shown
    plain = cli("run", "--config", "c.toml", cwd=tmp_path)
    assert "\x1b[" not in plain.stderr and "5/5" not in plain.stderr
    assert (
        plain.stderr.splitlines()[0]
        == "monitor: 5 feeds · 0 new items · 0 reposts collapsed · 0 feeds failed"
    )
