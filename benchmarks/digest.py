"""Digest speed: `monitor digest --preview` over the stories of a first run.

    python benchmarks/digest.py [--feeds 20,60,200] [--items 50]

For each size, stores the generated feeds of `ingest.py` (a first `monitor
run --no-digest` from a loopback server), then times building and rendering
the digest of everything stored, in its own process as a user runs it: the
stories read, their topics, grouping related coverage, summaries, the HTML and
text. Prints the stories pending, the seconds the preview took and its peak
memory (RSS).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import make_feeds, serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="monitor digest speed")
    parser.add_argument("--feeds", default="20,60,200", help="comma-separated feed counts")
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    print("feeds   stories  preview s  peak MB")
    for count in [int(n) for n in args.feeds.split(",")]:
        feeds = make_feeds(count, args.items)
        server, base = serve(feeds)
        try:
            with tempfile.TemporaryDirectory() as folder:
                config = Path(folder) / "config.toml"
                lines = ['[storage]\npath = "monitor.db"\n']
                lines += [
                    f'[[feeds]]\nname = "{p}"\nurl = "{base}{p}"\nfull_text = "never"\n'
                    for p in feeds
                ]
                config.write_text("".join(lines), encoding="utf-8")
                monitor = [sys.executable, "-m", "monitor"]
                run = [*monitor, "run", "--no-digest", "--config", str(config)]
                subprocess.run(run, cwd=folder, check=True, capture_output=True)
                preview = [*monitor, "digest", "--preview", "digest.html", "--config", str(config)]
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", MEASURE, *preview], cwd=folder, check=True,
                    capture_output=True, text=True,
                )  # fmt: skip
                seconds = time.perf_counter() - started
                peak = float(done.stdout.split()[-1])
                stories = _stories(Path(folder) / "monitor.db")
        finally:
            server.shutdown()
        print(f"{count:5d} {stories:9,d} {seconds:10.2f} {peak:8.0f}")


# The preview's own peak resident memory, reported by a parent that runs nothing else.
MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def _stories(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM stories").fetchone()[0])


if __name__ == "__main__":
    main()
