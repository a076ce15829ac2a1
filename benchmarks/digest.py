"""Digest speed: `monitor digest --preview` over the stories of a first run.

    python benchmarks/digest.py [--feeds 20,60,200] [--items 50] [--real MIRROR]
        [--rounds N]

For each size, stores the feeds of `ingest.py` (a first `monitor run
--no-digest` from a loopback server): with --real, real items of a clone of
``zhouxiang93123/waimei`` (its development months, `ingest.real_feeds`),
else generated ones. Then it times building and rendering
the digest of everything stored, in its own process as a user runs it: the
stories read, their topics, grouping related coverage, summaries, the HTML and
text. Prints the stories pending, the seconds the preview took (the median of
--rounds previews, and the fastest and slowest) and its peak memory (RSS).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import make_feeds, real_feeds, serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="monitor digest speed")
    parser.add_argument("--feeds", default="20,60,200", help="comma-separated feed counts")
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--real", type=Path, metavar="MIRROR", help="real items of the archive")
    parser.add_argument("--rounds", type=int, default=1, help="previews of each database")
    args = parser.parse_args()
    print("real items (development months)" if args.real else "generated items")
    print("feeds   stories  preview s     spread  peak MB")
    for count in [int(n) for n in args.feeds.split(",")]:
        if args.real:
            feeds, _ = real_feeds(args.real, count, args.items)
        else:
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
                timings, peaks = [], []
                for _ in range(args.rounds):
                    started = time.perf_counter()
                    done = subprocess.run(
                        [sys.executable, "-c", MEASURE, *preview], cwd=folder, check=True,
                        capture_output=True, text=True,
                    )  # fmt: skip
                    timings.append(time.perf_counter() - started)
                    peaks.append(float(done.stdout.split()[-1]))
                stories = _stories(Path(folder) / "monitor.db")
        finally:
            server.shutdown()
        spread = f"{min(timings):.2f}-{max(timings):.2f}"
        print(
            f"{count:5d} {stories:9,d} {statistics.median(timings):10.2f} {spread:>10} "
            f"{max(peaks):8.0f}"
        )


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
