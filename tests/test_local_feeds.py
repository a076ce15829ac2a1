"""Local feeds only from the folders the config allows, and files only their owner reads.

A feed may be a file or a folder, read with the rights of whoever runs
`monitor`, and its items are mailed to the digest's readers: a feed at
``~/.ssh/`` would mail private files. So local feeds are read only under the
config's own folder and the folders ``[fetch] local_folders`` lists.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import ROOT
from fixtures.make_samples import SAMPLES, build

from monitor.cli import main
from monitor.config import FeedConfig, FetchConfig, load_config
from monitor.errors import ConfigError, FetchError
from monitor.fetch import Fetcher, Validators

RSS = build()["dw.xml"].encode()


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    """A config folder, and a folder beside it holding a private feed file."""
    home, elsewhere = tmp_path / "home", tmp_path / "private"
    home.mkdir()
    elsewhere.mkdir()
    (elsewhere / "notes.xml").write_bytes(RSS)
    (home / "inside.xml").write_bytes(RSS)
    return home, elsewhere


def config_with(home: Path, url: str, fetch: str = "") -> Path:
    path = home / "config.toml"
    path.write_text(
        f'[storage]\npath = "m.db"\n[fetch]\n{fetch}\n[[feeds]]\nname = "f"\nurl = "{url}"\n',
        encoding="utf-8",
    )
    return path


def outside_urls(home: Path, elsewhere: Path) -> list[str]:
    (home / "link.xml").symlink_to(elsewhere / "notes.xml")
    return [
        str(elsewhere / "notes.xml"),
        (elsewhere / "notes.xml").as_uri(),
        str(elsewhere),
        "../private/notes.xml",
        "link.xml",  # inside by name, outside once its link is followed
        "~/.ssh",
    ]


def test_a_local_feed_outside_the_config_folder_is_refused_naming_its_line(
    places: tuple[Path, Path],
) -> None:
    home, elsewhere = places
    for url in outside_urls(home, elsewhere):
        with pytest.raises(ConfigError) as caught:
            load_config(config_with(home, url))
        message = str(caught.value)
        assert message.startswith(f"{home / 'config.toml'}:7: feeds[0].url: "), url
        assert "is outside the config's folder" in message and "[fetch] local_folders" in message
    assert load_config(config_with(home, "inside.xml")).feeds[0].url == "inside.xml"


def test_a_folder_listed_in_local_folders_may_hold_feeds(places: tuple[Path, Path]) -> None:
    home, elsewhere = places
    config = load_config(
        config_with(home, str(elsewhere / "notes.xml"), 'local_folders = ["../private"]')
    )
    assert config.fetch.local_folders == (elsewhere,)
    assert config.local_roots == (home.resolve(), elsewhere)


def test_feeds_add_and_import_opml_refuse_them_too(
    places: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    home, elsewhere = places
    config = config_with(home, "inside.xml")
    before = config.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["feeds", "add", str(elsewhere), "--config", str(config)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is outside the config's folder" in error
    opml = home / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="ok" xmlUrl="https://example.org/rss.xml"/>'
        f'<outline text="notes" xmlUrl="{elsewhere / "notes.xml"}"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    assert main(["import-opml", str(opml), "--config", str(config)]) == 2
    error = capsys.readouterr().err
    assert "feed 'notes'" in error and "nothing imported" in error
    assert config.read_text(encoding="utf-8") == before


def test_the_fetcher_checks_again_when_it_reads(places: tuple[Path, Path]) -> None:
    """A link made after the config was read still leads nowhere."""
    home, elsewhere = places

    async def fetch(url: str) -> object:
        async with Fetcher(FetchConfig(), home, [home]) as fetcher:
            return await fetcher.fetch(FeedConfig(name="f", url=url), Validators())

    assert asyncio.run(fetch("inside.xml"))
    (home / "later.xml").symlink_to(elsewhere / "notes.xml")
    with pytest.raises(FetchError, match="feed 'f': .* is outside the folders local feeds"):
        asyncio.run(fetch("later.xml"))


def test_the_database_and_the_outbox_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    shutil.copy(ROOT / "config.example.toml", tmp_path)
    shutil.copytree(SAMPLES, tmp_path / "monitor" / "samples")
    old = os.umask(0o022)  # the usual default: new files readable by all
    try:
        assert main(["run", "--quiet", "--config", str(tmp_path / "config.example.toml")]) == 0
    finally:
        os.umask(old)
    files = [tmp_path / "monitor.db", *(tmp_path / "outbox").iterdir()]
    files += [p for p in tmp_path.glob("monitor.db-*")]
    assert len(files) >= 3
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
