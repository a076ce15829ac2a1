"""Which stories the digest places under a topic, on real items, against labels read by hand.

    python benchmarks/topics.py MIRROR [--labels FILE] [--draw FILE]

MIRROR is a clone of ``zhouxiang93123/waimei`` (see `archive.py`). The items
of ten development days (the two-day windows of the story pairs) are read as
a folder feed reads them, cleaned by their adapters, and matched against the
topics of ``labels/topics.toml``, those a reader following East Asian security
would configure. Every item a topic's keyword occurs in, in its headline or
its text (after the opening dateline, as the digest reads it), is a
candidate placement, counted by where the keywords occur:

- ``title``: in the headline;
- ``lead``: not there, but in the text's first two sentences;
- ``body x1``, ``body x2``, ``body x3+``: only further down, once, twice, or
  more often.

``labels/topic_placements.jsonl`` holds a sample of the placements of each
kind but ``title``, read and labelled ``about`` or ``passing``
(``labels/TOPIC_PLACEMENTS.md``), 40 of them by two readers. The benchmark
prints, per kind, how many placements the days have and how many of the
labelled are ``about``; then, over the placements outside the headline, the
precision and recall of what `monitor.digest.topics.match_topics` keeps with
``min_mentions`` 1 (every mention), 2 and 3, each kind weighed by its size in
the days (headline placements are kept by every rule and were not labelled). ``--draw FILE`` writes the sample to
label, with the texts, to FILE (outside the repository).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tomllib
from collections import Counter
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pairs import texts  # noqa: E402

from monitor.config import TopicConfig  # noqa: E402
from monitor.digest import match_topics  # noqa: E402
from monitor.digest.summary import sentences, without_opening  # noqa: E402
from monitor.textnorm import simplified  # noqa: E402

TOPICS = HERE / "labels" / "topics.toml"
LABELS = HERE / "labels" / "topic_placements.jsonl"
DAYS = (
    "2020-07-29", "2020-07-30", "2020-08-12", "2020-08-13", "2020-08-26", "2020-08-27",
    "2020-09-23", "2020-09-24", "2020-11-18", "2020-11-19",
)  # fmt: skip
KINDS = ("title", "lead", "body x1", "body x2", "body x3+")
DRAWN = {"body x1": 120, "body x2": 80, "body x3+": 60, "lead": 60}
"""Placements of each kind drawn to label."""
SEED = 20201


def topics() -> tuple[TopicConfig, ...]:
    table = tomllib.loads(TOPICS.read_text(encoding="utf-8"))
    return tuple(TopicConfig(t["name"], tuple(t["keywords"])) for t in table["topics"])


def _folded(text: str) -> str:
    return simplified(text).casefold()


def kind_of(title: str, text: str, topic: TopicConfig) -> str | None:
    """Where `topic`'s keywords occur in the item (`KINDS`); None: nowhere."""
    text = without_opening(text)
    words = [_folded(word) for word in topic.keywords]
    if any(word in _folded(title) for word in words):
        return "title"
    if any(word in _folded("".join(sentences(text)[:2])) for word in words):
        return "lead"
    mentions = sum(_folded(text).count(word) for word in words)
    return (
        None
        if not mentions
        else ("body x1", "body x2")[mentions - 1]
        if mentions < 3
        else "body x3+"
    )


def placements(
    found: dict[str, dict[str, str]], configured: tuple[TopicConfig, ...]
) -> list[dict[str, str]]:
    """Every (item, topic) whose keywords occur in the item, with their kind."""
    out = []
    for path, item in sorted(found.items()):
        for topic in configured:
            kind = kind_of(item["title"], item["text"], topic)
            if kind:
                out.append({"path": path, "topic": topic.name, "kind": kind})
    return out


def draw(placed: list[dict[str, str]], found: dict[str, dict[str, str]], out: Path) -> None:
    rng = random.Random(SEED)
    sample = []
    for kind, count in DRAWN.items():
        sample += rng.sample([p for p in placed if p["kind"] == kind], count)
    rng.shuffle(sample)
    keywords = {t.name: t.keywords for t in topics()}
    with out.open("w", encoding="utf-8") as f:
        for n, p in enumerate(sample):
            item = found[p["path"]]
            row = {"id": n, **p, "keywords": keywords[p["topic"]], "outlet": item["outlet"],
                   "title": item["title"], "text": item["text"][:2500]}  # fmt: skip
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(sample)} placements to label written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--draw", type=Path, metavar="FILE", help="write a sample to label")
    args = parser.parse_args()
    configured = topics()
    found = texts(args.mirror, DAYS)
    placed = placements(found, configured)
    if args.draw:
        draw(placed, found, args.draw)
        return
    by_kind = Counter(p["kind"] for p in placed)
    labels = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines()]
    kinds = {(p["path"], p["topic"]): p["kind"] for p in placed}
    read: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for label in labels:
        read[kinds[(label["path"], label["topic"])]][label["label"]] += 1
    print(f"{len(found):,} items of {len(DAYS)} development days, {len(configured)} topics: "
          f"{len(placed):,} placements; {len(labels)} labelled")  # fmt: skip
    twice = [label for label in labels if "second" in label]
    agree = sum(1 for label in twice if label["second"] == label["label"])
    print(f"two readers on {len(twice)} placements: agree on {agree}")
    print(f"{'kind':<10}{'placements':>11}{'labelled':>10}{'about':>8}")
    for kind in KINDS:
        n = sum(read[kind].values())
        share = f"{read[kind]['about'] / n:.0%}" if n else "-"
        print(f"{kind:<10}{by_kind[kind]:>11,}{n:>10}{share:>8}")
    weights = {kind: by_kind[kind] / sum(read[kind].values()) for kind in KINDS if read[kind]}
    about = sum(weights[kind] * read[kind]["about"] for kind in weights)
    print("outside the headline, each kind weighed by its placements in the days:")
    for least in (1, 2, 3):
        kept: dict[str, float] = {"about": 0.0, "passing": 0.0}
        for label in labels:
            topic = next(t for t in configured if t.name == label["topic"])
            item = found[label["path"]]
            if match_topics(item["title"], item["text"], (replace(topic, min_mentions=least),)):
                kind = kinds[(label["path"], label["topic"])]
                kept[label["label"]] += weights[kind]
        default = " (the default)" if least == TopicConfig.min_mentions else ""
        print(
            f"  min_mentions {least}{default}: precision "
            f"{kept['about'] / (kept['about'] + kept['passing']):.3f}, "
            f"recall {kept['about'] / about:.3f}"
        )


if __name__ == "__main__":
    main()
