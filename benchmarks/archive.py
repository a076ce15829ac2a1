"""Real items from the public archives of the seed format, read from a git mirror.

    python benchmarks/archive.py MIRROR [--months 2020-07,2020-08] [--export DIR]
    python benchmarks/archive.py MIRROR --outlets

MIRROR is a clone of ``zhouxiang93123/waimei`` (``git clone --bare
https://github.com/zhouxiang93123/waimei``; a bare clone is enough: files are
read with ``git cat-file``). Its ``archived/YYYY-MM-DD/`` folders hold one
item a file: a YAML front matter (``title``, ``date``, ``author``, ``from`` =
the article's URL, ``categories`` = the outlet) before the seed format.

Only the development months are read by default: July, August, September and
November 2020. October and December 2020 and all of 2021 are kept for
evaluation: asked for by name, they are refused, unless a benchmark's
``--held-out`` says the run measures labels made there (`allow_held_out`).

The other benchmarks import `items()`; ``--export`` writes the items to a
folder (one folder per outlet), which `monitor` can read as folder feeds.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEVELOPMENT_MONTHS = ("2020-07", "2020-08", "2020-09", "2020-11")
HELD_OUT = re.compile(r"^(?:2020-10|2020-12|2021-)")
_CATEGORY = re.compile(r"^categories:\s*(?:\[\s*)?(.*?)\s*\]?\s*$", re.MULTILINE)

# One outlet under each of the spellings the archive's `categories` use.
OUTLET_NAMES = {
    "德国之声": "DW 中文",
    "dw": "DW 中文",
    "法广": "RFI 中文",
    "rfi": "RFI 中文",
    "纽约时报": "纽约时报中文网",
    "纽约时报中文网": "纽约时报中文网",
}


@dataclass(frozen=True)
class ArchivedFile:
    path: str
    """Its path in the archive (the day's folder and the file's name)."""
    text: str
    outlet: str
    """The outlet, from the front matter's `categories`, its spellings made one."""

    @property
    def month(self) -> str:
        return self.path.split("/")[1][:7]


def outlet_of(text: str) -> str:
    """The outlet a front matter names (its first category), normalised."""
    head = text[: text.find("\n---", 4)] if text.startswith("---") else ""
    found = _CATEGORY.search(head)
    name = found.group(1).split(",")[0].strip().strip("'\"") if found else ""
    return OUTLET_NAMES.get(name.lower(), OUTLET_NAMES.get(name, name or "?"))


def paths(mirror: Path, months: tuple[str, ...] = DEVELOPMENT_MONTHS) -> list[tuple[str, str]]:
    """The archive's item files of `months` as (path, blob id), in date order."""
    listing = subprocess.run(
        ["git", "-C", str(mirror), "ls-tree", "-r", "-z", "HEAD", "archived/"],
        capture_output=True, check=True,
    ).stdout.decode("utf-8")  # fmt: skip
    # A month ("2020-09") or a single day ("2020-09-15").
    wanted = tuple(f"archived/{m}/" if m.count("-") == 2 else f"archived/{m}-" for m in months)
    found = []
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        if path.startswith(wanted) and path.endswith(".md") and meta.split()[1:2] == ["blob"]:
            found.append((path, meta.split()[2]))
    return sorted(found)


class _HeldOut:
    allowed = False


def allow_held_out() -> None:
    """Let `items` read the held-out months: to measure the rules on labels made
    there (an evaluation), never to develop or tune them."""
    _HeldOut.allowed = True


def items(mirror: Path, months: tuple[str, ...] = DEVELOPMENT_MONTHS) -> Iterator[ArchivedFile]:
    """Every item file of `months` (development months by default), in date order."""
    for month in months:
        if HELD_OUT.match(month) and not _HeldOut.allowed:
            raise SystemExit(
                f"archive.py: {month} is held out for evaluation "
                "(--held-out measures labels made there; never develop on them)"
            )
    listed = paths(mirror, months)
    batch = subprocess.Popen(
        ["git", "-C", str(mirror), "cat-file", "--batch"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert batch.stdin is not None and batch.stdout is not None
    try:
        for path, blob in listed:
            batch.stdin.write(f"{blob}\n".encode())
            batch.stdin.flush()
            header = batch.stdout.readline().split()
            if header[1:2] != [b"blob"]:
                raise SystemExit(f"archive.py: cannot read {path} from the mirror")
            content = batch.stdout.read(int(header[2]))
            batch.stdout.read(1)
            text = content.decode("utf-8", errors="replace")
            yield ArchivedFile(path, text, outlet_of(text))
    finally:
        batch.stdin.close()
        batch.stdout.close()
        batch.wait()


def write_folder_feeds(
    mirror: Path, months: tuple[str, ...], work: Path, reverse: bool = False
) -> dict[str, int]:
    """The items of `months` (or days) as folder feeds under ``work/feeds``, one per
    outlet, each item a file in date order; each feed's name and item count, by
    name, as ``[[feeds]]`` tables list them. With `reverse`, the feeds backwards
    and each feed's items newest first (files named in that order)."""
    counts: Counter[str] = Counter()
    for archived in items(mirror, months):
        name = archived.outlet.replace("/", "_")
        folder = work / "feeds" / name
        folder.mkdir(parents=True, exist_ok=True)
        counts[name] += 1
        number = 100_000 - counts[name] if reverse else counts[name]
        (folder / f"{number:06d}.md").write_text(archived.text, encoding="utf-8")
    return {name: counts[name] for name in sorted(counts, reverse=reverse)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path, help="a (bare) clone of zhouxiang93123/waimei")
    parser.add_argument("--months", default=",".join(DEVELOPMENT_MONTHS))
    parser.add_argument("--outlets", action="store_true", help="count the items per outlet")
    parser.add_argument("--export", type=Path, help="write the items here, a folder per outlet")
    args = parser.parse_args()
    if not (args.mirror / "HEAD").exists() and not (args.mirror / ".git").exists():
        sys.exit(f"archive.py: {args.mirror} is not a git clone of zhouxiang93123/waimei")
    months = tuple(m.strip() for m in args.months.split(",") if m.strip())
    counts: Counter[str] = Counter()
    for item in items(args.mirror, months):
        counts[item.outlet] += 1
        if args.export:
            folder = args.export / item.outlet.replace("/", "_")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{counts[item.outlet]:05d}.md").write_text(item.text, encoding="utf-8")
    for outlet, count in counts.most_common():
        print(f"{count:6d}  {outlet}")
    print(f"{sum(counts.values()):6d}  items of {', '.join(months)}")


if __name__ == "__main__":
    main()
