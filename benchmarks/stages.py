"""Where a first run's time goes, stage by stage, on one core.

    python benchmarks/stages.py [--feeds 200] [--items 50] [--real MIRROR]

Runs each stage of ingesting the generated feeds of `ingest.py` (with
--real, its feeds of real archived items) in this one
process, with no fetching and no pool, and prints the milliseconds per feed of
each: parsing (lxml, or feedparser), adapting (site adapter, text only, as a
run does), the dedup features, carrying a prepared feed to the main process
(pickling both ways), and storing it in a new SQLite database (dedup decision
and writes, one transaction per feed). The sum is the CPU a first run needs per feed; the
storing figure is also the floor of a first run's wall time per feed, since
one thread stores. The last line is the floor these make for a first run on
this machine's cores, without fetching and with every core kept busy.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import make_feeds, real_feeds  # noqa: E402

from monitor.config import load_config  # noqa: E402
from monitor.dedup import Features  # noqa: E402
from monitor.models import FetchResult  # noqa: E402
from monitor.parse import (  # noqa: E402
    adapter_for,  # noqa: E402
    parse_feed,  # noqa: E402
)
from monitor.service import FeedReport  # noqa: E402
from monitor.service.pipeline import store_feed  # noqa: E402
from monitor.service.preparation import prepare_feed  # noqa: E402
from monitor.store import Storage  # noqa: E402

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description="monitor per-stage costs")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--real", type=Path, metavar="MIRROR", help="real items of the archive")
    args = parser.parse_args()
    if args.real:
        feeds, _ = real_feeds(args.real, args.feeds, args.items)
    else:
        feeds = make_feeds(args.feeds, args.items)
    spent = dict.fromkeys(("parse", "adapt", "features", "pickle", "store"), 0.0)

    def clock(stage: str, started: float) -> float:
        now = time.perf_counter()
        spent[stage] += now - started
        return now

    with tempfile.TemporaryDirectory() as folder:
        lines = ['[storage]\npath = "monitor.db"\n']
        lines += [
            f'[[feeds]]\nname = "{p}"\nurl = "http://127.0.0.1{p}"\nfull_text = "never"\n'
            for p in feeds
        ]
        (Path(folder) / "config.toml").write_text("".join(lines), encoding="utf-8")
        config = load_config(Path(folder) / "config.toml")
        storage = Storage.open(config)
        for feed in config.feeds:
            content = feeds[feed.url.removeprefix("http://127.0.0.1")]
            started = time.perf_counter()
            parsed = parse_feed(content, feed.name)
            started = clock("parse", started)
            articles = [
                adapter_for(i.url).adapt(i, feed.name, NOW, with_html=False) for i in parsed.items
            ]
            started = clock("adapt", started)
            Features.of_many([article.text or article.title for article in articles])
            clock("features", started)
            prepared = prepare_feed(feed.name, content, (), None, None, NOW, {})
            started = time.perf_counter()
            prepared = pickle.loads(pickle.dumps(prepared))
            started = clock("pickle", started)
            state = storage.feed_state(feed.name, feed.url)
            result = FetchResult(url=feed.url, status=200, content=content)
            store_feed(config, storage, feed, state, result, FeedReport(feed.name), NOW, prepared)
            clock("store", started)
        storage.close()
    per_feed = {stage: 1000 * seconds / args.feeds for stage, seconds in spent.items()}
    print(f"{args.feeds} feeds × {args.items} items; ms per feed, one core")
    for stage, ms in per_feed.items():
        print(f"{stage:<10}{ms:>8.1f}")
    total = sum(per_feed.values())
    print(f"{'total':<10}{total:>8.1f}")
    cores = os.cpu_count() or 1
    print(f"floor of a first run of {args.feeds} feeds: {total * args.feeds / 1000:.1f} CPU-s, "
          f"{total * args.feeds / 1000 / cores:.1f} s on {cores} cores fully used")  # fmt: skip


if __name__ == "__main__":
    main()
