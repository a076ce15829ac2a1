"""Candidate pairs of real items for the story-identity labels, and batches to read.

    python benchmarks/pairs.py MIRROR [--windows 2020-07-29:2020-07-30,…]
        [--out pairs.jsonl] [--read DIR] [--batch 135] [--held-out]

MIRROR is a clone of ``zhouxiang93123/waimei`` (`archive.py`; held-out months
refused, unless --held-out: an evaluation's pairs). For each window of days,
every pair of its items is a candidate when one of these finds it, and each
candidate records which:

- ``containment``: the share of the shorter text's character 5-grams (after
  folding: NFKC, Traditional → Simplified, letters and digits only) found in
  the other, at least 0.2; sampled in bands (0.2-0.4, 0.4-0.6, 0.6-0.8, 0.8-1);
- ``title``: character-bigram Jaccard similarity of the folded titles, at
  least 0.25;
- ``url``: the same link, or the same article number at the end of it;
- ``random``: two items of the window drawn at random.

Writes the pairs (archive paths, sources, the containment and title scores)
as JSON lines to OUT, and with --read, batches of BATCH pairs as text to read:
each side's outlet, time, title, length and the start and end of its text. The
labels (``dup``, ``related``, ``different``) go to
``benchmarks/labels/story_pairs.jsonl`` by path; the texts stay out of the
repository. The labelling guide is ``benchmarks/labels/STORY_PAIRS.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive import allow_held_out, items  # noqa: E402

from monitor.parse import adapter_for, archived_item_to_item, read_archived_item  # noqa: E402
from monitor.textnorm import normalize  # noqa: E402

WINDOWS = (
    ("2020-07-29", "2020-07-30"),
    ("2020-08-12", "2020-08-13"),
    ("2020-08-26", "2020-08-27"),
    ("2020-09-23", "2020-09-24"),
    ("2020-11-18", "2020-11-19"),
)
BANDS = ((0.2, 0.4, 100), (0.4, 0.6, 90), (0.6, 0.8, 80), (0.8, 1.01, 80))
TITLE_PAIRS = 100
RANDOM_PAIRS = 80
MAX_GRAM_ITEMS = 25
"""A 5-gram in more items than this is a phrase of the day, not evidence."""
_ARTICLE_NUMBER = re.compile(r"(\d{5,})(?:\.\w+)?/?$")


def texts(mirror: Path, days: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The items of `days` by archive path: outlet, url, title, time, text."""
    found = {}
    now = datetime.now(UTC)
    for archived in items(mirror, days):
        try:
            item = archived_item_to_item(archived.path, read_archived_item(archived.text))
        except Exception:  # noqa: BLE001 - a file in no known format is no item
            continue
        article = adapter_for(item.url).adapt(item, archived.outlet, now, with_html=False)
        if len(article.text) < 50:
            continue
        found[archived.path] = {
            "outlet": archived.outlet,
            "url": article.url,
            "title": article.title,
            "time": article.published.isoformat(timespec="minutes"),
            "text": article.text,
        }
    return found


def grams(text: str, width: int = 5) -> set[str]:
    folded = normalize(text)
    return {folded[i : i + width] for i in range(max(len(folded) - width + 1, 1))}


def bigrams(text: str) -> set[str]:
    folded = normalize(text)
    return {folded[i : i + 2] for i in range(max(len(folded) - 1, 1))}


def candidates(found: dict[str, dict[str, str]], rng: random.Random) -> list[dict[str, object]]:
    paths = sorted(found)
    sets = {p: grams(found[p]["text"]) for p in paths}
    postings: dict[str, list[str]] = defaultdict(list)
    for p in paths:
        for gram in sets[p]:
            postings[gram].append(p)
    shared: Counter[tuple[str, str]] = Counter()
    for owners in postings.values():
        if 1 < len(owners) <= MAX_GRAM_ITEMS:
            for a, b in combinations(owners, 2):
                shared[(a, b)] += 1
    containment = {
        pair: count / max(1, min(len(sets[pair[0]]), len(sets[pair[1]])))
        for pair, count in shared.items()
    }
    titles = {p: bigrams(found[p]["title"]) for p in paths}

    def title_score(a: str, b: str) -> float:
        union = titles[a] | titles[b]
        return len(titles[a] & titles[b]) / len(union) if union else 0.0

    chosen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for low, high, count in BANDS:
        band = sorted(pair for pair, score in containment.items() if low <= score < high)
        for pair in rng.sample(band, min(count, len(band))):
            chosen[pair].add("containment")
    similar = sorted(
        (pair for pair in combinations(paths, 2) if title_score(*pair) >= 0.25),
        key=lambda pair: -title_score(*pair),
    )
    for pair in [p for p in similar if p not in chosen][:TITLE_PAIRS]:
        chosen[pair].add("title")
    for pair in similar:
        if pair in chosen:
            chosen[pair].add("title")
    by_link: dict[str, list[str]] = defaultdict(list)
    for p in paths:
        url = found[p]["url"]
        number = _ARTICLE_NUMBER.search(url)
        by_link[url].append(p)
        if number:
            by_link[f"{found[p]['outlet']}#{number.group(1)}"].append(p)
    for owners in by_link.values():
        for pair in combinations(sorted(set(owners)), 2):
            chosen[pair].add("url")
    for _ in range(RANDOM_PAIRS):
        a, b = sorted(rng.sample(paths, 2))
        chosen[(a, b)].add("random")
    return [
        {
            "a": a,
            "b": b,
            "sources": sorted(sources),
            "containment": round(containment.get((a, b), 0.0), 3),
            "title": round(title_score(a, b), 3),
        }
        for (a, b), sources in sorted(chosen.items())
    ]


def shown(item: dict[str, str]) -> str:
    text = item["text"].replace("\n", " / ")
    head = text[:450]
    tail = f" … {text[-150:]}" if len(text) > 600 else text[450:]
    return (
        f"{item['outlet']} · {item['time']} · {len(item['text'])} chars\n"
        f"  title: {item['title']}\n  text: {head}{tail}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--windows", default=",".join(f"{a}:{b}" for a, b in WINDOWS))
    parser.add_argument("--out", type=Path, default=Path("pairs.jsonl"))
    parser.add_argument("--read", type=Path, help="write batches of pairs to read here")
    parser.add_argument("--batch", type=int, default=135)
    parser.add_argument(
        "--held-out", action="store_true",
        help="allow the held-out months: to draw an evaluation's pairs, never to tune",
    )  # fmt: skip
    args = parser.parse_args()
    if args.held_out:
        allow_held_out()
    rng = random.Random(24)
    pairs: list[dict[str, object]] = []
    everything: dict[str, dict[str, str]] = {}
    for window in args.windows.split(","):
        days = tuple(window.split(":"))
        found = texts(args.mirror, days)
        everything.update(found)
        found_pairs = [{**pair, "window": window} for pair in candidates(found, rng)]
        print(f"{window}: {len(found)} items, {len(found_pairs)} pairs")
        pairs += found_pairs
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(pair, ensure_ascii=False) + "\n")
    counts = Counter(source for pair in pairs for source in pair["sources"])  # type: ignore[attr-defined]
    print(f"{len(pairs)} pairs; by source: {dict(counts)}")
    if args.read:
        args.read.mkdir(parents=True, exist_ok=True)
        order = list(range(len(pairs)))
        rng.shuffle(order)  # batches mix windows and sources: no source hints a label
        for start in range(0, len(order), args.batch):
            lines = []
            for number in order[start : start + args.batch]:
                pair = pairs[number]
                lines.append(
                    f"## pair {number}\nA: {shown(everything[str(pair['a'])])}"
                    f"B: {shown(everything[str(pair['b'])])}"
                )
            batch = args.read / f"batch_{start // args.batch:02d}.md"
            batch.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
