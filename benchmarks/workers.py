"""Several `monitor daemon` workers sharing one PostgreSQL database: items/s ingest.

    python benchmarks/workers.py [--feeds 200] [--items 50] [--workers 1 2 4]

Serves the generated feeds of `ingest.py` on 127.0.0.1, starts a throwaway
PostgreSQL cluster (the tests' helper: Debian's server programs, or
$MONITOR_TEST_POSTGRES), and for each worker count starts that many daemons
on a new database with the same config. Times from the first start until
every item is stored, and prints items/s, stories and how many feeds each
worker fetched.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from ingest import make_feeds, serve  # noqa: E402
from postgres import cluster, database  # noqa: E402

from monitor.store import Storage  # noqa: E402


def config_text(url: str, base: str, paths: list[str]) -> str:
    lines = [
        "[storage]", f'url = "{url}"',
        "[fetch]", "concurrency = 16", "per_host = 16", 'interval = "6h"',
        "[digest]", 'recipients = ["reader@example.org"]', 'sender = "monitor@example.org"',
        'outbox = "outbox"', 'send_at = "23:59"',
    ]  # fmt: skip
    for path in paths:
        lines += ["[[feeds]]", f'name = "{path.strip("/")}"', f'url = "{base}{path}"']
        lines.append('full_text = "never"')
    return "\n".join(lines) + "\n"


def stored(url: str) -> tuple[int, int]:
    with Storage(url) as storage:
        row = storage._db.execute("SELECT COUNT(*), COUNT(DISTINCT story_id) FROM items").fetchone()
    return int(row[0]), int(row[1])


def run(server_url: str, base: str, paths: list[str], workers: int, expected: int) -> None:
    with database(server_url) as url, tempfile.TemporaryDirectory() as folder:
        Storage(url, migrate=True).close()
        config = Path(folder) / "config.toml"
        config.write_text(config_text(url, base, paths), encoding="utf-8")
        started = time.perf_counter()
        command = [sys.executable, "-m", "monitor", "daemon", "--config", str(config)]
        logs = [(Path(folder) / f"w{n}.log").open("w") for n in range(workers)]
        daemons = [
            subprocess.Popen([*command, "--log-format", "json"], stdout=log, stderr=log)
            for log in logs
        ]
        try:
            while (count := stored(url))[0] < expected:
                if time.perf_counter() - started > 600:
                    raise SystemExit(f"only {count[0]} of {expected} items after 600 s")
                time.sleep(0.05)
            wall = time.perf_counter() - started
        finally:
            for daemon in daemons:
                daemon.send_signal(signal.SIGTERM)
            for daemon in daemons:
                daemon.wait(timeout=60)
            for log in logs:
                log.close()
        fetched = []
        for n in range(workers):
            lines = (Path(folder) / f"w{n}.log").read_text(encoding="utf-8").splitlines()
            events = [json.loads(line) for line in lines if line.startswith("{")]
            fetched.append(sum(1 for event in events if event.get("event") == "fetch"))
        items, stories = count
        print(
            f"| {workers} | {wall:.2f} s | {items / wall:,.0f} | {stories:,} | "
            f"{' / '.join(str(f) for f in fetched)} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    feeds = make_feeds(args.feeds, args.items)
    server, base = serve(feeds)
    paths = sorted(feeds)
    print(f"{args.feeds} feeds × {args.items} items, {len(paths) * args.items:,} items\n")
    print("| workers | all stored | items/s | stories | feeds fetched per worker |")
    print("| --- | --- | --- | --- | --- |")
    with cluster() as server_url:
        for workers in args.workers:
            run(server_url, base, paths, workers, len(paths) * args.items)
    server.shutdown()


if __name__ == "__main__":
    main()
