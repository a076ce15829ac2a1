"""Ingest speed: `monitor run --no-digest` over generated feeds on a loopback server.

    python benchmarks/ingest.py [--feeds 200] [--items 50] [--peers] [--rounds 1]
        [--real MIRROR]

Serves FEEDS × ITEMS generated Chinese articles (random sentences over the
seeds' character frequencies, ~900 characters each, a tenth of them reposted
in a second feed) from a
threaded HTTP server on 127.0.0.1 with ETag support, then times a first
`monitor run --no-digest` (everything new) and a second one (every feed
answers 304). With --real, the feeds hold real items instead: those of the
development months of the public archive (`archive.py`), each feed one
outlet's items in date order, repeated under new links where the archive runs
short (the count is printed). With --peers it runs reader and rss2email on the same feeds in
the same run when they are installed (``pip install reader==3.26 rss2email==3.14
sgmllib3k``: reader's own copy of feedparser imports ``sgmllib``, which Python 3
no longer has). Prints wall time, CPU time, peak RSS,
items per second and ratios. With --rounds N every tool runs N times, the
tools taking turns, and each figure is the median of its N (a ratio, the
median of the rounds' ratios, which are printed too), the wall times' spread
(fastest to slowest round) beside it. A 2-core machine
shared with others slows a tool that uses both cores more than one that uses
one, and not for long: one round can be an outlier.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dedup_corpus import seed_texts  # noqa: E402


def make_feeds(feeds: int, items: int, seed: int = 7) -> dict[str, bytes]:
    rng = random.Random(seed)
    chars = [c for c in "".join(seed_texts().values()) if "\u4e00" <= c <= "\u9fff"]

    def sentence() -> str:
        return "".join(rng.choices(chars, k=rng.randint(18, 45))) + "。"

    articles: list[tuple[str, str]] = []
    out: dict[str, bytes] = {}
    start = datetime(2026, 11, 20, tzinfo=UTC)
    for f in range(feeds):
        entries = []
        for i in range(items):
            if articles and rng.random() < 0.1:
                title, body = rng.choice(articles)  # a repost from another feed
            else:
                paragraphs = ["".join(sentence() for _ in range(3)) for _ in range(8)]
                title = paragraphs[0][:24]
                body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
                articles.append((title, body))
            link = f"https://news{f}.example/{i}.html"
            when = format_datetime(start + timedelta(minutes=f * items + i))
            entries.append(
                f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>{when}</pubDate><description><![CDATA[{body}]]></description></item>"
            )
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>feed {f}</title><link>https://news{f}.example/</link>{''.join(entries)}"
            "</channel></rss>"
        )
        out[f"/feed{f}.xml"] = xml.encode()
    return out


def real_feeds(mirror: Path, feeds: int, items: int) -> tuple[dict[str, bytes], int]:
    """FEEDS feeds of ITEMS real archived items each, and how many items are repeats.

    The development months of the archive (`archive.py`), each outlet's items in
    date order cut into feeds of ITEMS, the outlets taking turns. Where the
    archive runs short, its items come again under new links and GUIDs
    (``#2``, ``#3`` …): the repeats are counted and printed.
    """
    from archive import items as archived_items

    from monitor.parse import read_archived_item

    by_outlet: dict[str, list[tuple[str, str, str, str]]] = {}
    for archived in archived_items(mirror):
        try:
            item = read_archived_item(archived.text, archived.path)
        except Exception:  # noqa: BLE001 - a file in no known format is no feed item
            continue
        when = format_datetime(item.published) if item.published else ""
        by_outlet.setdefault(archived.outlet, []).append((item.title, item.url, when, item.body))
    chunks = [
        (outlet, entries[start : start + items])
        for outlet, entries in by_outlet.items()
        for start in range(0, len(entries) - items + 1, items)
    ]
    chunks.sort(key=lambda chunk: (by_outlet[chunk[0]].index(chunk[1][0]), chunk[0]))
    out: dict[str, bytes] = {}
    repeats = 0
    for f in range(feeds):
        outlet, entries = chunks[f % len(chunks)]
        round_ = f // len(chunks)
        rendered = []
        for title, url, when, body in entries:
            link = f"{url}#{round_ + 1}" if round_ else url
            repeats += 1 if round_ else 0
            rendered.append(
                f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
                f"<guid>{escape(link)}</guid><pubDate>{when}</pubDate>"
                f"<description><![CDATA[{body.replace(']]>', ']]]]><![CDATA[>')}]]></description></item>"
            )
        out[f"/feed{f}.xml"] = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(outlet)} {f}</title><link>https://feeds.example/{f}</link>"
            f"{''.join(rendered)}</channel></rss>"
        ).encode()
    return out, repeats


def serve(feeds: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    """A loopback server of `feeds` (path → body), with ETags."""
    found = {
        path: (body, '"' + hashlib.md5(body).hexdigest() + '"') for path, body in feeds.items()
    }
    return serve_with(found.get)


def serve_with(
    lookup: Callable[[str], tuple[bytes, str] | None],
) -> tuple[ThreadingHTTPServer, str]:
    """A loopback server answering each path with what `lookup` gives (body, ETag),
    304 to its ETag, 404 to None."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            found = lookup(path)
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, etag = found
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            kind = "text/html; charset=utf-8" if path.endswith(".html") else "application/rss+xml"
            self.send_header("Content-Type", kind)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        # socketserver's default backlog of 5 drops concurrent connections, and the
        # client's SYN retry costs a whole second: that would measure the server.
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# Runs a command and prints the CPU seconds and peak memory of it and every
# process it starts, worker processes included (they are not its children when
# started by a fork server, so getrusage would miss them). CPU is the whole
# machine's, from /proc/stat, less what this benchmark's own feed server used;
# memory is the largest sum of the proportional set sizes (PSS: pages shared
# between processes counted once) of the process tree, sampled every 100 ms:
# reading every process's smaps_rollup every 20 ms cost a run of five processes
# about 10% of its CPU (a one-process run far less), and the peak is a plateau.
# Memory is sampled in a thread, and the wall time is taken from starting the
# command to its exit: found by polling every 100 ms, the exit came 50 ms late
# on average, whatever the tool.
MEASURE = r"""
import os, subprocess, sys, threading, time
def busy():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
def tree_rss(root):
    pids, total = [root], 0
    while pids:
        pid = pids.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("Pss:")) * 1024
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    pids += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total
before = busy()
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak, done = [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], tree_rss(child.pid))
        done.wait(0.1)
sampler = threading.Thread(target=sample)
sampler.start()
child.wait()
wall = time.perf_counter() - started
done.set()
sampler.join()
if child.returncode:
    sys.exit(child.returncode)
print(wall, busy() - before, peak[0] / 2**20)
"""


def timed(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak memory (MB) of `command` and all its processes."""
    compile_monitor()
    server_before = resource.getrusage(resource.RUSAGE_SELF)
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=cwd, check=True,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True)  # fmt: skip
    server_after = resource.getrusage(resource.RUSAGE_SELF)
    server = (server_after.ru_utime + server_after.ru_stime) - (
        server_before.ru_utime + server_before.ru_stime
    )
    wall, cpu, peak = done.stdout.split()
    return float(wall), max(0.0, float(cpu) - server), float(peak)


def run_monitor(base: str, paths: list[str], folder: Path) -> list[tuple[str, float, float, float]]:
    config = folder / "config.toml"
    lines = ['[storage]\npath = "monitor.db"\n[fetch]\nconcurrency = 16\nper_host = 16\n']
    for path in paths:
        # Archive replays stay offline: no item's article page is fetched.
        lines.append(f'[[feeds]]\nname = "{path}"\nurl = "{base}{path}"\nfull_text = "never"\n')
    config.write_text("".join(lines), encoding="utf-8")
    command = [sys.executable, "-m", "monitor", "run", "--no-digest", "--config", str(config)]
    return [
        ("monitor, first run", *timed(command, folder)),
        ("monitor, second run", *timed(command, folder)),
    ]


def run_reader(base: str, paths: list[str], folder: Path) -> list[tuple[str, float, float, float]]:
    script = folder / "reader_bench.py"
    script.write_text(
        "import sys\nfrom reader import make_reader\n"
        "r = make_reader(sys.argv[1])\n"
        "for url in sys.argv[2:]:\n    r.add_feed(url, exist_ok=True)\n"
        "r.update_feeds(workers=16)\n",
        encoding="utf-8",
    )
    command = [
        sys.executable,
        str(script),
        str(folder / "reader.sqlite"),
        *[base + p for p in paths],
    ]
    return [
        ("reader, first run", *timed(command, folder)),
        ("reader, second run", *timed(command, folder)),
    ]


def run_rss2email(
    base: str, paths: list[str], folder: Path
) -> list[tuple[str, float, float, float]]:
    r2e = shutil.which("r2e")
    assert r2e
    env = {"XDG_CONFIG_HOME": str(folder / "config"), "XDG_DATA_HOME": str(folder / "data")}
    subprocess.run([r2e, "new", "bench@example.org"], check=True, env={**os.environ, **env}, cwd=folder,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    for n, path in enumerate(paths):
        subprocess.run(
            [r2e, "add", f"f{n}", base + path], check=True, env={**os.environ, **env}, cwd=folder
        )
    command = [r2e, "run", "--no-send"]
    return [("rss2email, first run", *timed(command, folder, env)),
            ("rss2email, second run", *timed(command, folder, env))]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="monitor ingest benchmark")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument(
        "--peers", action="store_true", help="also run reader and rss2email if installed"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="run every tool this many times, in turns"
    )
    parser.add_argument(
        "--real",
        type=Path,
        metavar="MIRROR",
        help="real items of a clone of zhouxiang93123/waimei (see archive.py) instead of "
        "generated ones",
    )
    args = parser.parse_args()
    if args.real:
        feeds, repeats = real_feeds(args.real, args.feeds, args.items)
        print(
            f"real items of {args.real.name} (development months), "
            f"{repeats:,} of them repeated under new links"
        )
    else:
        feeds = make_feeds(args.feeds, args.items)
    megabytes = sum(len(b) for b in feeds.values()) / 1e6
    server, base = serve(feeds)
    paths = sorted(feeds)
    tools = [run_monitor]
    if args.peers:
        try:
            import reader  # noqa: F401
        except ImportError:
            print("reader is not installed: skipped")
        else:
            tools.append(run_reader)
        if shutil.which("r2e"):
            tools.append(run_rss2email)
        else:
            print("rss2email is not installed: skipped")
    rounds: list[list[tuple[str, float, float, float]]] = []
    try:
        for _ in range(max(1, args.rounds)):
            results: list[tuple[str, float, float, float]] = []
            for tool in tools:
                with tempfile.TemporaryDirectory() as folder:
                    results += tool(base, paths, Path(folder))
            rounds.append(results)
    finally:
        server.shutdown()
    items = args.feeds * args.items
    medians = [
        (name, *(statistics.median(r[n][column] for r in rounds) for column in (1, 2, 3)))
        for n, (name, *_) in enumerate(rounds[0])
    ]
    print(f"{args.feeds} feeds × {args.items} items = {items:,} items, {megabytes:.1f} MB of XML; "
          f"{os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d}")  # fmt: skip
    if len(rounds) > 1:
        print(f"medians of {len(rounds)} rounds")
    walls = [{row[0]: row[1] for row in round_} for round_ in rounds]
    print(f"{'run':<24}{'wall s':>9}{'spread':>13}{'cpu s':>9}{'peak MB':>9}{'items/s':>10}"
          f"{'vs monitor':>12}")  # fmt: skip
    for n, (name, wall, cpu, peak) in enumerate(medians):
        ratios = _ratios(name, walls)
        ratio = f"{statistics.median(ratios):.1f}×" if ratios else ""
        rate = f"{items / wall:,.0f}" if "first" in name else "-"
        each = [round_[n][1] for round_ in rounds]
        spread = f"{min(each):.2f}-{max(each):.2f}"
        print(f"{name:<24}{wall:>9.2f}{spread:>13}{cpu:>9.2f}{peak:>9.0f}{rate:>10}{ratio:>12}")
    if len(rounds) > 1:
        for name, *_ in medians:
            ratios = _ratios(name, walls)
            if ratios:
                each = " ".join(f"{ratio:.1f}×" for ratio in ratios)
                print(f"{name.split(',')[0]} / monitor, first runs, round by round: {each}")


def compile_monitor() -> None:
    """Write the bytecode of monitor's modules, as installing a package does (the
    peers' is written by pip). Run from a checkout under PYTHONDONTWRITEBYTECODE,
    every start would compile them again: 45 ms of a second run."""
    compileall.compile_dir(ROOT / "monitor", quiet=1)


def _ratios(name: str, walls: list[dict[str, float]]) -> list[float]:
    """The first run of the tool `name` names against monitor's, in each round."""
    if "first" not in name or name.startswith("monitor"):
        return []
    return [round_[name] / round_["monitor, first run"] for round_ in walls]


if __name__ == "__main__":
    main()
