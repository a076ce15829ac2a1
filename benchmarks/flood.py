"""Memory on a flood feed: one feed of tens of thousands of tiny items.

    python benchmarks/flood.py [--items 84000 200000] [--max-items 1000]

A hostile or broken feed, not news: the sizes are those of the flood feeds
that once took 0.5-1 GB (84,000 items in 9.7 MB) and 3.5 GB (200,000 items).
Each feed is a local file of generated items (a title of 12 random CJK
characters, a link, a date, a short description; about 250 bytes an item),
read by `monitor run --no-digest` twice: first everything is new, then
everything is known. Prints wall time, CPU time and peak memory (the summed
proportional set sizes of every process the run starts, as
`benchmarks/ingest.py` measures them). The target: under 300 MB at 200,000.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import timed  # noqa: E402


def flood(count: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>']
    for n in range(count):
        title = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(12))
        when = (start + timedelta(seconds=n)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        parts.append(
            f"<item><title>{title}</title><link>https://flood.example/{n}</link>"
            f"<pubDate>{when}</pubDate><description>{title}{title}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[84_000, 200_000])
    parser.add_argument("--max-items", type=int, default=1000, help="[fetch] max_items")
    args = parser.parse_args()
    print(f"one flood feed, [fetch] max_items = {args.max_items:,}; {datetime.now():%Y-%m-%d}")
    print(f"{'items':>9} {'MB':>6}  {'run':<7} {'wall s':>7} {'cpu s':>7} {'peak MB':>8}")
    for count in args.items:
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder)
            body = flood(count)
            (home / "flood.xml").write_bytes(body)
            (home / "config.toml").write_text(
                '[storage]\npath = "monitor.db"\n'
                f"[fetch]\nmax_bytes = {len(body) + 1}\nmax_items = {args.max_items}\n"
                '[[feeds]]\nname = "flood"\nurl = "flood.xml"\n',
                encoding="utf-8",
            )
            command = [sys.executable, "-m", "monitor", "run", "--no-digest", "--config"]
            for run in ("first", "second"):
                wall, cpu, peak = timed([*command, str(home / "config.toml")], home)
                print(
                    f"{count:>9,} {len(body) / 1e6:>6.1f}  {run:<7} {wall:>7.2f} {cpu:>7.2f} "
                    f"{peak:>8.0f}"
                )


if __name__ == "__main__":
    main()
