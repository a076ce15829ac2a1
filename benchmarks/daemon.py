"""What a running daemon costs: CPU seconds an hour and memory over 48 cycles, real items.

    python benchmarks/daemon.py MIRROR [--feeds 1000] [--items 20] [--cycle 8]
        [--cycles 48] [--changing 0.1]

Serves FEEDS feeds of ITEMS real archived items each (the development months
of the archive, `archive.py`; held-out months are never read) from a loopback
server with ETags, and starts `monitor daemon` on them with ``interval`` set to
CYCLE seconds, standing in for the 30 minutes of a real deployment. Every
CYCLE seconds a tenth of the feeds (CHANGING) change: each gets two new items
from items held back for this, and drops its two oldest; the other feeds
answer 304. After the first cycle (every feed's first, full fetch) it samples
the CPU seconds of the daemon's whole process tree (worker processes
included) at each cycle's end, and its memory (the sum of proportional set
sizes), and prints: CPU per cycle (median and spread), what that makes an
hour at a 30-minute interval, fetches per cycle, and the memory at cycles 8
and 48 with their difference. Then it makes the interval an hour (a SIGHUP
reload), lets every feed be fetched once more, and prints the CPU the daemon
spends waiting with no feed due, an hour's worth: what it spends between two
cycles 30 minutes apart.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from email.utils import format_datetime
from html import escape
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive import items as archived_items  # noqa: E402
from ingest import serve_with  # noqa: E402

from monitor.parse import read_archived_item  # noqa: E402

CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def rendered_items(mirror: Path) -> Iterator[str]:
    """The archive's items of the development months as RSS ``<item>``s, in date order."""
    for archived in archived_items(mirror):
        try:
            item = read_archived_item(archived.text, archived.path)
        except Exception:  # noqa: BLE001 - a file in no known format is no feed item
            continue
        when = format_datetime(item.published) if item.published else ""
        body = item.body.replace("]]>", "]]]]><![CDATA[>")
        yield (
            f"<item><title>{escape(item.title)}</title><link>{escape(item.url)}</link>"
            f"<guid>{escape(item.url)}#{archived.path}</guid><pubDate>{when}</pubDate>"
            f"<description><![CDATA[{body}]]></description></item>"
        )


class Feeds:
    """The feeds as the server answers them; `change` makes a share of them new."""

    def __init__(self, count: int, size: int, items: list[str], changing: float) -> None:
        self.entries = [items[f * size : (f + 1) * size] for f in range(count)]
        self.reserve = items[count * size :]
        self.changing = max(1, round(count * changing))
        self.turn = 0
        self.lock = threading.Lock()
        self.fetches = 0
        self.bodies: dict[str, tuple[bytes, str]] = {}
        for f in range(count):
            self._render(f)

    def _render(self, f: int) -> None:
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>feed {f}</title><link>https://feeds.example/{f}</link>"
            f"{''.join(reversed(self.entries[f]))}</channel></rss>"
        ).encode()
        self.bodies[f"/feed{f}.xml"] = (body, '"' + hashlib.md5(body).hexdigest() + '"')

    def change(self) -> int:
        """Two new items, two dropped, in the next tenth of the feeds; returns how many."""
        with self.lock:
            changed = 0
            for _ in range(self.changing):
                f = self.turn % len(self.entries)
                self.turn += 1
                if len(self.reserve) < 2:
                    break
                new, self.reserve = self.reserve[:2], self.reserve[2:]
                self.entries[f] = self.entries[f][2:] + new
                self._render(f)
                changed += 1
            return changed


def serve(feeds: Feeds) -> tuple[ThreadingHTTPServer, str]:
    def lookup(path: str) -> tuple[bytes, str] | None:
        with feeds.lock:
            feeds.fetches += 1
            return feeds.bodies.get(path)

    return serve_with(lookup)


def tree(root: int) -> list[int]:
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    pending += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def cpu_seconds(root: int) -> float:
    """User and system CPU of the process tree, its ended children included."""
    total = 0.0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the name.
        total += sum(int(x) for x in fields[11:15]) / CLOCK_TICK
    return total


def memory_mb(root: int) -> float:
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):
            continue
    return total / 1024


# Seconds of a daemon with no feed due, to measure what waiting costs.
IDLE = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--cycle", type=float, default=8.0, help="seconds standing in for 30 min")
    parser.add_argument("--cycles", type=int, default=48)
    parser.add_argument("--changing", type=float, default=0.1)
    args = parser.parse_args()
    items = list(rendered_items(args.mirror))
    needed = args.feeds * args.items + 2 * round(args.feeds * args.changing) * args.cycles
    if len(items) < needed:
        raise SystemExit(f"daemon.py: {needed:,} items needed, the archive has {len(items):,}")
    feeds = Feeds(args.feeds, args.items, items, args.changing)
    server, base = serve(feeds)
    print(
        f"{args.feeds} feeds × {args.items} real items; every {args.cycle:g} s "
        f"(for 30 min) {feeds.changing} feeds get 2 new items; {args.cycles} cycles; "
        f"{os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as folder:
        lines = [
            '[storage]\npath = "monitor.db"',
            f'[fetch]\ninterval = "{args.cycle}s"\nmin_interval = "1s"\nconcurrency = 16\nper_host = 16',
            '[digest]\nsend_at = "03:00"\ntimezone = "UTC"',
        ]
        lines += [
            f'[[feeds]]\nname = "feed{f}"\nurl = "{base}/feed{f}.xml"\nfull_text = "never"'
            for f in range(args.feeds)
        ]
        (Path(folder) / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "daemon", "--config", "config.toml"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            # The first cycle: every feed's first fetch, all of its items new.
            started = time.monotonic()
            while feeds.fetches < args.feeds:
                time.sleep(0.2)
            time.sleep(args.cycle)
            first = time.monotonic() - started
            samples = [(cpu_seconds(daemon.pid), memory_mb(daemon.pid), feeds.fetches)]
            for _ in range(args.cycles):
                feeds.change()
                time.sleep(args.cycle)
                samples.append((cpu_seconds(daemon.pid), memory_mb(daemon.pid), feeds.fetches))
            # Between two cycles 30 minutes apart the daemon waits: the interval
            # made an hour (a reload), every feed fetched once more to take it,
            # then the CPU of IDLE seconds with no feed due.
            config = Path(folder) / "config.toml"
            config.write_text(
                config.read_text(encoding="utf-8").replace(f'"{args.cycle}s"', '"1h"'),
                encoding="utf-8",
            )
            daemon.send_signal(signal.SIGHUP)
            time.sleep(2 * args.cycle)
            before = cpu_seconds(daemon.pid)
            time.sleep(IDLE)
            idle = (cpu_seconds(daemon.pid) - before) / IDLE
        finally:
            daemon.terminate()
            daemon.wait(30)
    server.shutdown()
    per_cycle = [b[0] - a[0] for a, b in zip(samples, samples[1:], strict=False)]
    fetches = [b[2] - a[2] for a, b in zip(samples, samples[1:], strict=False)]
    median = statistics.median(per_cycle)
    print(f"first cycle (all {args.feeds * args.items:,} items new): {first:.1f} s")
    print(
        f"CPU per cycle: median {median:.2f} s (min {min(per_cycle):.2f}, "
        f"max {max(per_cycle):.2f}); {statistics.median(fetches):.0f} fetches a cycle"
    )
    print(
        f"at a 30-minute interval: {2 * median:.1f} CPU seconds an hour in cycles, "
        f"{idle * 3600:.1f} waiting between them (no feed due: {1000 * idle:.2f} ms a second)"
    )
    at_8, at_48 = samples[min(8, len(samples) - 1)][1], samples[-1][1]
    print(
        f"memory (PSS of the process tree): cycle 8 {at_8:.0f} MB, cycle {args.cycles} "
        f"{at_48:.0f} MB ({(at_48 - at_8) / at_8:+.1%})"
    )


if __name__ == "__main__":
    main()
