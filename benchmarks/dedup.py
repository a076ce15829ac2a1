"""Near-duplicate detection: fingerprint speed, index latency and size.

    python benchmarks/dedup.py [--sizes 10000,100000,1000000] [--folder DIR] [--real MIRROR]

Prints how many articles get their features per second (folding, fingerprint,
sentence hashes: everything dedup needs), on one core and on every core, and
the simhash package's own speed on the same features; then, for each index
size, the latency of finding an item's story and of storing an item (p50,
p99), the time the first look-up takes to read the sentence index into memory
and the memory it takes, and the database size per million items, split into
the article text and the dedup index.

With --real, the articles are real: the texts of the development months of a
clone of ``zhouxiang93123/waimei`` (`archive.py`), as the site adapters read
them, in date order. An index larger than the archive holds its items again
(the repeats are counted and printed: each repeat's clauses are in the index
once more, which lengthens what a look-up reads). The probes are 200 items of
the archive's last days held out of the index and 200 stored items cut to
their first four fifths (a repost); real news repeats itself, so some of the
held-out items find a story too. Without --real, synthetic articles of ~3,000
(features) and 800 characters (index): random sentences over the character
frequencies of the seed articles, so sentences are as unique as real ones.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

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


@dataclass
class Texts:
    """What a benchmark stores and probes with."""

    stored: Callable[[int], str]
    """The text stored as item number N."""
    fresh: list[str]
    """Texts never stored (at least 201)."""
    repeats: Callable[[int], int] = lambda count: 0
    """How many of the first COUNT stored texts are earlier ones again."""


def synthetic_texts(writer: Writer, chars: int) -> Texts:
    return Texts(
        stored=lambda _: writer.article(chars), fresh=[writer.article(chars) for _ in range(201)]
    )


def real_texts(mirror: Path) -> list[str]:
    """The texts of the archive's development months, as the adapters read them,
    in date order (those under 50 characters left out: no text to compare)."""
    from archive import DEVELOPMENT_MONTHS
    from pairs import texts

    return [item["text"] for item in texts(mirror, DEVELOPMENT_MONTHS).values()]


def archive_texts(texts: list[str]) -> Texts:
    """The archive's texts, its last 201 held out as the new ones; the rest stored in
    turn, again from the first where the index is larger."""
    pool, fresh = texts[:-201], texts[-201:]
    return Texts(
        stored=lambda number: pool[number % len(pool)],
        fresh=fresh,
        repeats=lambda count: max(0, count - len(pool)),
    )


def _features_of_all(texts: list[str]) -> int:
    """As the pipeline computes them: a feed's 50 texts at a time."""
    for start in range(0, len(texts), 50):
        Features.of_many(texts[start : start + 50])
    return len(texts)


def fingerprint_speed(articles: list[str]) -> None:
    count = len(articles)
    mean = sum(map(len, articles)) / count
    print(f"features of {count:,} articles of {mean:,.0f} characters on average:")
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


def resident_mb() -> float:
    """This process's resident memory now, in MB (Linux; 0 elsewhere)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    found = re.search(r"^VmRSS:\s*(\d+)", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def add(storage: Storage, feed: int, number: int, text: str, features: Features) -> None:
    article = Article(f"t{number}", f"https://bench.example/{number}", NOW, (), text, "", (), "b")
    storage.insert_item(feed_id=feed, guid=str(number), article=article, features=features,
                        topics=(), story_id=storage.new_story(NOW), match_reason=None, now=NOW)  # fmt: skip


def index_benchmark(texts: Texts, size: int, folder: Path) -> None:
    path = folder / f"index-{size}.db"
    with Storage(path) as storage:
        feed = storage.feed_state("bench", "bench").id
        started = time.perf_counter()
        characters = 0
        for start in range(0, size, 5000):
            with storage.transaction():
                for number in range(start, min(size, start + 5000)):
                    text = texts.stored(number)
                    characters += len(text)
                    add(storage, feed, number, text, Features.of(text))
        load = time.perf_counter() - started
        # Probes: half new articles, half reposts (a cut tail) of stored ones.
        originals = [texts.stored(size + offset) for offset in range(200)]
        with storage.transaction():
            for offset, text in enumerate(originals):
                add(storage, feed, size + offset, text, Features.of(text))
        probes = texts.fresh[:200] + [text[: len(text) * 4 // 5] for text in originals]
        since = NOW - timedelta(days=14)
        # The first look-up reads every item's sentence hashes into memory.
        before = resident_mb()
        started = time.perf_counter()
        find_story(storage, Features.of(texts.fresh[200]), since, 3)
        first = time.perf_counter() - started
        memory = resident_mb() - before
        lookups, found_new, found_repost = [], 0, 0
        for number, text in enumerate(probes):
            features = Features.of(text)
            started = time.perf_counter()
            story, _ = find_story(storage, features, since, 3)
            lookups.append(time.perf_counter() - started)
            if number < 200:
                found_new += story is not None
            else:
                found_repost += story is not None
        inserts = []
        for offset in range(300):
            text = texts.stored(size + 1000 + offset)
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
    repeats = texts.repeats(size + 1500)
    print(f"{size:>9,} items ({characters / size:,.0f} characters on average"
          f"{f', {repeats:,} of them repeats' if repeats else ''}; loaded in {load:.0f} s): "
          f"find story p50 {percentile(lookups, 0.5) * 1e3:.2f} ms, p99 {percentile(lookups, 0.99) * 1e3:.2f} ms "
          f"(found a story for {found_repost}/200 reposts and {found_new}/200 new items; "
          f"the first read the index in {first:.2f} s, +{memory:.0f} MB resident); "
          f"store p50 {percentile(inserts, 0.5) * 1e3:.2f} ms, p99 {percentile(inserts, 0.99) * 1e3:.2f} ms; "
          f"database {total:.2f} GB per million items, of which the dedup index {index:.2f} GB")  # fmt: skip
    for leftover in folder.glob(f"index-{size}.db*"):
        leftover.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description="Near-duplicate detection benchmark.")
    parser.add_argument("--sizes", default="10000,100000", help="index sizes, comma-separated")
    parser.add_argument("--folder", help="where to build the databases (default: a temporary one)")
    parser.add_argument("--real", type=Path, metavar="MIRROR", help="real items of the archive")
    args = parser.parse_args()
    if args.real:
        started = time.perf_counter()
        real = real_texts(args.real)
        print(f"{len(real):,} real texts of the development months read and adapted "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
        fingerprint_speed(real[:: max(1, len(real) // 4000)][:4000])
        texts = archive_texts(real)
    else:
        writer = Writer()
        fingerprint_speed([writer.article(3000) for _ in range(4000)])
        texts = synthetic_texts(writer, 800)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            index_benchmark(texts, size, Path(folder))


if __name__ == "__main__":
    main()
