"""The edges a new user cuts themselves on: closed pipes, paths that cannot be
written, a copy from a database that is not there, a config with nothing to fetch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from fixtures.make_samples import SAMPLES

from monitor.cli import main


@pytest.fixture
def sample_config(tmp_path: Path) -> Path:
    """The bundled samples, run once without a digest: stories are pending."""
    shutil.copy(ROOT / "config.example.toml", tmp_path)
    shutil.copytree(SAMPLES, tmp_path / "monitor" / "samples")
    config = tmp_path / "config.example.toml"
    assert main(["run", "--no-digest", "--quiet", "--config", str(config)]) == 0
    return config


@pytest.mark.parametrize(
    "command",
    [
        ["export"],
        ["feeds", "list"],
        ["export-opml"],
        ["status"],
        ["parse", "monitor/samples/dw.xml"],
    ],
)
def test_output_into_a_closed_pipe_ends_quietly(sample_config: Path, command: list[str]) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # `| head -0`: nobody reads
    done = subprocess.run(
        [sys.executable, "-m", "monitor", *command, "--config", str(sample_config)],
        cwd=sample_config.parent,
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    os.close(writer)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize(
    "command", [["digest", "--preview"], ["export-opml"]], ids=["preview", "opml"]
)
def test_an_output_file_that_cannot_be_written_is_one_line(
    sample_config: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    target = sample_config.parent / "no" / "such" / "folder" / "out.html"
    capsys.readouterr()
    assert main([*command, str(target), "--config", str(sample_config)]) == 1
    error = capsys.readouterr().err
    assert error == f"monitor: error: cannot write {target}: No such file or directory\n"
    assert not target.parent.exists()


def test_a_copy_from_a_database_that_is_not_there_is_refused(
    sample_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = sample_config.parent / "old" / "monitor.db"
    capsys.readouterr()
    code = main(
        ["migrate", "--from", f"sqlite:///{missing}", "--to", str(missing.parent.parent / "n.db")]
    )
    assert code == 1
    assert capsys.readouterr().err == f"monitor: error: database {missing}: no such file\n"
    assert not missing.parent.exists()


def test_another_programs_sqlite_file_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    theirs = tmp_path / "notes.db"
    with sqlite3.connect(theirs) as db:
        db.execute("CREATE TABLE items (note TEXT)")
        db.execute("INSERT INTO items VALUES ('mine')")
    before = theirs.read_bytes()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "{theirs.name}"\n[[feeds]]\nname = "a"\nurl = "a.xml"\n',
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["run", "--no-digest", "--config", str(config)]) == 1
    assert capsys.readouterr().err == (
        f"monitor: error: database {theirs}: holds another program's tables (items); "
        "give [storage] path a file of monitor's own\n"
    )
    assert theirs.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "notes.db"]


@pytest.mark.parametrize(
    ("feeds", "state"),
    [
        ("", "none configured"),
        ('[[feeds]]\nname = "a"\nurl = "a.xml"\npaused = true\n', "all paused"),
    ],
)
def test_a_run_with_nothing_to_fetch_says_so(
    tmp_path: Path, feeds: str, state: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "m.db"\n' + feeds, encoding="utf-8")
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert (
        f"monitor: warning: {config}: no feeds to fetch ({state}); add one with monitor feeds add URL"
        in capsys.readouterr().err.splitlines()
    )


def test_a_folder_or_file_in_the_wrong_place_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file where a folder belongs (the outbox), a folder where a file belongs
    (the database, the password file): one line that says which."""
    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES, samples)
    feed = f'[[feeds]]\nname = "dw"\nurl = "{(samples / "dw.xml").as_posix()}"\n'
    (tmp_path / "taken").write_text("")
    (tmp_path / "a-folder").mkdir()
    config = tmp_path / "config.toml"
    cases = [
        ('[storage]\npath = "a-folder"\n', f"database {tmp_path / 'a-folder'}: a folder; "),
        (
            '[storage]\npath = "m.db"\n[digest]\noutbox = "taken/box"\n',
            f"outbox {tmp_path / 'taken' / 'box'}: cannot write: {tmp_path / 'taken'} is a file",
        ),
        (
            '[storage]\npath = "m.db"\n[smtp]\nhost = "127.0.0.1"\nport = 9\n'
            'username = "u"\npassword_file = "a-folder"\n',
            f"smtp.password_file: {tmp_path / 'a-folder'} is a folder; give the file",
        ),
    ]
    for table, said in cases:
        config.write_text(table + feed, encoding="utf-8")
        capsys.readouterr()
        assert main(["run", "--config", str(config)]) != 0
        err = capsys.readouterr().err
        assert said in err, err
        assert "Traceback" not in err
    config.write_text(cases[0][0] + feed, encoding="utf-8")
    for command in (["digest"], ["status"], ["digest", "--preview", "x.html"]):
        assert main([*command, "--config", str(config)]) == 1
        assert cases[0][1] in capsys.readouterr().err


def test_feeds_remove_finds_a_local_feed_however_its_path_is_spelt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "c.toml")]) == 0
    assert main(["feeds", "remove", "./samples/dw.xml", "--config", str(tmp_path / "c.toml")]) == 0
    assert "removed feed 'DW 中文'" in capsys.readouterr().err
