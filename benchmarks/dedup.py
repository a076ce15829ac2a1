"""Near-duplicate detection: fingerprint speed, index latency and size.

    python benchmarks/dedup.py [--sizes 10000,100000,1000000] [--folder DIR]

Prints how many articles of ~3,000 Chinese characters get their features per
second (folding, fingerprint, sentence hashes: everything dedup needs), on one
core and on every core, and the simhash package's own speed on the same
features; then, for each index size, the latency of finding an item's story and
of storing an item (p50, p99), the time the first look-up takes to read the
sentence index into memory, and the database size per million items, split
into the article text and the dedup index. Synthetic articles are random
sentences over the character frequencies of the seed articles, so sentences
are as unique as real ones.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from dedup_corpus import seed_texts  # noqa: E402

from monitor.dedup import Features  # noqa: E402
from monitor.dedup.features import SHINGLE_WIDTH  # noqa: E402
from monitor.models import Article  # noqa: E402
from monitor.service.pipeline import find_story  # noqa: E402
from monitor.store import Storage  # noqa: E402
from monitor.textnorm import normalize  # noqa: E402

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
INDEX_TABLES = ("item_index", "items_text_hash", "items_url")


class Writer:
    """Random Chinese sentences with the seeds' character frequencies."""

    def __init__(self, seed: int = 1) -> None:
        pool = "".join(seed_texts().values())
        self.chars = [c for c in pool if "\u4e00" <= c <= "\u9fff"]
        self.random = random.Random(seed)

    def sentence(self) -> str:
        length = self.random.randint(18, 45)
        return "".join(self.random.choices(self.chars, k=length)) + "。"

    def article(self, chars: int) -> str:
        paragraphs, size = [], 0
        while size < chars:
            paragraph = "".join(self.sentence() for _ in range(self.random.randint(2, 4)))
            paragraphs.append(paragraph)
            size += len(paragraph)
        return "\n".join(paragraphs)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _features_of_all(texts: list[str]) -> int:
    """As the pipeline computes them: a feed's 50 texts at a time."""
    for start in range(0, len(texts), 50):
        Features.of_many(texts[start : start + 50])
    return len(texts)


def fingerprint_speed(writer: Writer, count: int = 4000) -> None:
    articles = [writer.article(3000) for _ in range(count)]
    Features.of(articles[0])  # build the lookup tables first
    started = time.perf_counter()
    for text in articles[:1000]:
        Features.of(text)
    alone = 1000 / (time.perf_counter() - started)
    started = time.perf_counter()
    _features_of_all(articles)
    single = count / (time.perf_counter() - started)
    print(f"features, one core: {single:,.0f} articles/s ({1e6 / single:.0f} µs each) "
          f"in feeds of 50, {alone:,.0f}/s one by one")  # fmt: skip

    cores = os.cpu_count() or 1
    chunks = [articles[i::cores] for i in range(cores)]
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_features_of_all, [c[:10] for c in chunks]))  # start the workers
        started = time.perf_counter()
        done = sum(pool.map(_features_of_all, chunks))
        parallel = done / (time.perf_counter() - started)
    print(f"features, {cores} cores: {parallel:,.0f} articles/s")

    from simhash import Simhash

    sample = articles[:200]
    started = time.perf_counter()
    for text in sample:
        norm = normalize(text)
        width = SHINGLE_WIDTH
        Simhash(sorted({norm[i : i + width] for i in range(len(norm) - width + 1)}), f=64)
    package = len(sample) / (time.perf_counter() - started)
    print(f"the simhash package on the same shingles (md5 per feature): {package:,.0f}/s "
          f"({1e6 / package:.0f} µs each)")  # fmt: skip


def add(storage: Storage, feed: int, number: int, text: str, features: Features) -> None:
    article = Article(f"t{number}", f"https://bench.example/{number}", NOW, (), text, "", (), "b")
    storage.insert_item(feed_id=feed, guid=str(number), article=article, features=features,
                        topics=(), story_id=storage.new_story(NOW), match_reason=None, now=NOW)  # fmt: skip


def index_benchmark(writer: Writer, size: int, folder: Path) -> None:
    path = folder / f"index-{size}.db"
    with Storage(path) as storage:
        feed = storage.feed_state("bench", "bench").id
        started = time.perf_counter()
        for start in range(0, size, 5000):
            with storage.transaction():
                for number in range(start, min(size, start + 5000)):
                    text = writer.article(800)
                    add(storage, feed, number, text, Features.of(text))
        load = time.perf_counter() - started
        # Probes: half new articles, half reposts (a cut tail) of stored ones.
        originals = [writer.article(800) for _ in range(200)]
        with storage.transaction():
            for offset, text in enumerate(originals):
                add(storage, feed, size + offset, text, Features.of(text))
        probes = [writer.article(800) for _ in range(200)]
        probes += [text[: len(text) * 4 // 5] for text in originals]
        since = NOW - timedelta(days=14)
        # The first look-up reads every item's sentence hashes into memory.
        started = time.perf_counter()
        find_story(storage, Features.of(writer.article(800)), since, 3)
        first = time.perf_counter() - started
        lookups, found = [], 0
        for text in probes:
            features = Features.of(text)
            started = time.perf_counter()
            story, _ = find_story(storage, features, since, 3)
            lookups.append(time.perf_counter() - started)
            found += story is not None
        inserts = []
        for offset in range(300):
            text = writer.article(800)
            features = Features.of(text)
            started = time.perf_counter()
            with storage.transaction():
                add(storage, feed, size + 1000 + offset, text, features)
            inserts.append(time.perf_counter() - started)
    sizes = dict(
        sqlite3.connect(path).execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
    )
    total = sum(sizes.values()) / 1e9 * 1e6 / size
    index = sum(v for k, v in sizes.items() if k.startswith(INDEX_TABLES)) / 1e9 * 1e6 / size
    print(f"{size:>9,} items (800 characters each, loaded in {load:.0f} s): "
          f"find story p50 {percentile(lookups, 0.5) * 1e3:.2f} ms, p99 {percentile(lookups, 0.99) * 1e3:.2f} ms "
          f"({found}/400 probes matched, 200 are reposts; the first read the index in {first:.2f} s); "
          f"store p50 {percentile(inserts, 0.5) * 1e3:.2f} ms, p99 {percentile(inserts, 0.99) * 1e3:.2f} ms; "
          f"database {total:.2f} GB per million items, of which the dedup index {index:.2f} GB")  # fmt: skip
    for leftover in folder.glob(f"index-{size}.db*"):
        leftover.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description="Near-duplicate detection benchmark.")
    parser.add_argument("--sizes", default="10000,100000", help="index sizes, comma-separated")
    parser.add_argument("--folder", help="where to build the databases (default: a temporary one)")
    args = parser.parse_args()
    writer = Writer()
    fingerprint_speed(writer)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            index_benchmark(writer, size, Path(folder))


if __name__ == "__main__":
    main()
