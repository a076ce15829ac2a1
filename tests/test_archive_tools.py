"""The benchmarks' reader of the public archive: held-out months, folder feeds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import archive  # noqa: E402

ITEM = """---
title: "{title}"
date: {day}T08:00:00.000Z
from: https://www.rfi.fr/cn/{slug}
categories: [ {outlet} ]
---
<!--1596009600000-->
[{title}](https://www.rfi.fr/cn/{slug})
------
<p>{title}。</p>
"""


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A git repository laid out as the archive: an item a file, a folder a day."""
    repo = tmp_path / "waimei"
    items = [
        ("2020-07-29", "法广", "first", "七月的第一条"),
        ("2020-07-30", "法广", "second", "七月的第二条"),
        ("2020-07-30", "德国之声", "dw", "德国之声的一条"),
        ("2020-10-05", "法广", "held", "十月的一条"),
    ]
    for day, outlet, slug, title in items:
        folder = repo / "archived" / day
        folder.mkdir(parents=True, exist_ok=True)
        text = ITEM.format(title=title, day=day, slug=slug, outlet=outlet)
        (folder / f"{day}-{title}.md").write_text(text, encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "items"], check=True)
    return repo


def test_the_held_out_months_are_refused_unless_an_evaluation_asks(
    mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = [item.path for item in archive.items(mirror, ("2020-07",))]
    assert [Path(p).parent.name for p in read] == ["2020-07-29", "2020-07-30", "2020-07-30"]
    with pytest.raises(SystemExit, match="2020-10-05 is held out for evaluation"):
        list(archive.items(mirror, ("2020-10-05",)))
    monkeypatch.setattr(archive._HeldOut, "allowed", False)
    archive.allow_held_out()
    (held,) = archive.items(mirror, ("2020-10-05",))
    assert held.outlet == "RFI 中文" and "十月的一条" in held.text


@pytest.mark.parametrize("reverse", [False, True])
def test_folder_feeds_list_an_outlets_items_in_date_order_or_backwards(
    reverse: bool, mirror: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    feeds = archive.write_folder_feeds(mirror, ("2020-07",), work, reverse)
    assert list(feeds) == (["RFI 中文", "DW 中文"] if reverse else ["DW 中文", "RFI 中文"])
    assert feeds["RFI 中文"] == 2
    names = sorted((work / "feeds" / "RFI 中文").iterdir())
    titles = [p.read_text(encoding="utf-8").split('"')[1] for p in names]
    assert titles == (
        ["七月的第二条", "七月的第一条"] if reverse else ["七月的第一条", "七月的第二条"]
    )
