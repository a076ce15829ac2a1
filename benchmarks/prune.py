"""Retention on real items: database size per item, and the time `monitor prune` takes.

    python benchmarks/prune.py MIRROR [--months 2020-07,2020-08,2020-09,2020-11]

MIRROR is a clone of ``zhouxiang93123/waimei`` (see `archive.py`). The items
of the development months (33,834, 18 outlets) are written as folder feeds,
one per outlet, and stored by ``monitor run --no-digest`` in a SQLite file.
Then one digest settles every story (the best 100 shown, the rest left out),
every story is made two years old and no feed lists its items any more, and
``monitor prune`` removes them all. Printed: the database's size per stored
item and per million items, the prune's wall time per million stories and
items, and the file's size after (SQLite keeps freed pages for reuse).
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from archive import DEVELOPMENT_MONTHS, write_folder_feeds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--months", default=",".join(DEVELOPMENT_MONTHS))
    args = parser.parse_args()
    months = tuple(m.strip() for m in args.months.split(",") if m.strip())
    with tempfile.TemporaryDirectory(prefix="monitor-prune-") as temporary:
        work = Path(temporary)
        feeds = write_folder_feeds(args.mirror, months, work)
        lines = ['[storage]\npath = "monitor.db"\n', "[fetch]\nmax_items = 100000\n"]
        lines += [f'[[feeds]]\nname = "{n}"\nurl = "feeds/{n}"\n' for n in feeds]
        config = work / "config.toml"
        config.write_text("\n".join(lines), encoding="utf-8")
        monitor = [sys.executable, "-m", "monitor", "-c", str(config)]
        subprocess.run([*monitor, "run", "--no-digest", "--quiet"], check=True)
        subprocess.run([*monitor, "digest"], check=True, capture_output=True)
        database = work / "monitor.db"
        with sqlite3.connect(database) as db:
            stored = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            stories = db.execute("SELECT COUNT(*) FROM stories").fetchone()[0]
            db.execute("UPDATE stories SET created_at = '2000-01-01T00:00:00+00:00'")
            db.execute("UPDATE feeds SET last_guids = '[]'")
        size = database.stat().st_size
        start = time.perf_counter()
        done = subprocess.run([*monitor, "prune"], check=True, capture_output=True, text=True)
        took = time.perf_counter() - start
        with sqlite3.connect(database) as db:
            left = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        print(f"items of {', '.join(months)}: {sum(feeds.values()):,} files, {stored:,} stored "
              f"in {stories:,} stories")  # fmt: skip
        print(f"database: {size / 1e6:.1f} MB, {size / stored / 1e3:.2f} kB an item, "
              f"{size / stored * 1e6 / 1e9:.2f} GB a million items")  # fmt: skip
        print(f"prune: {done.stdout.strip()}")
        print(f"prune: {took:.2f} s for {stories:,} stories ({stored:,} items): "
              f"{took / stored * 1e6 / 60:.1f} min a million items; {left} items left")  # fmt: skip


if __name__ == "__main__":
    main()
