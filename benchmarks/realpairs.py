"""Story identity on real news: the labelled pairs, replayed through `monitor run`.

    python benchmarks/realpairs.py MIRROR [--labels benchmarks/labels/story_pairs.jsonl]
        [--reversed] [--errors] [--held-out]

MIRROR is a clone of ``zhouxiang93123/waimei`` (`archive.py`; held-out months
refused, unless --held-out says the labels are an evaluation's, made there).
The labels (`pairs.py` draws the pairs, ``labels/STORY_PAIRS.md`` says how
they are read) name two archive items each and say ``dup`` (the same
article again: they belong in one story), ``related`` (the same event written
separately) or ``different``. Each window of days the labels come from is
written as folder feeds, one per outlet, and replayed through ``monitor run
--no-digest`` into a new database; ``monitor export`` then says which story
each item is in (an item not stored because its link was stored already is in
that item's story).

Printed: pairwise precision and recall of "in the same story" against
``dup``, overall, per candidate source, over the pairs whose two items have
different links (two items under one link are one page to monitor, stored
once: such pairs measure the outlet's links, not the rules) and per window; the share of
``related`` and of ``different`` pairs merged; the targets (precision ≥ 0.99,
recall ≥ 0.95, related merged ≤ 1 %); and, where a second labeller read a
subset (``story_pairs_second.jsonl``), how often the two agree, and the
second's labels scored against the first's as monitor's decisions are (the
figures two readers reach), beside monitor's on the same pairs. With
--reversed the window is replayed again, its feeds listed in reverse order
and each feed's items newest first (as most feeds list them), and the pairs
whose decision changes with the order are counted. With --errors, every pair decided
against its label is listed: its label and reason, how it was found, and the
rule that joined the two (for a merge); then the ``different`` pairs the
digest shows under one headline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from archive import allow_held_out, write_folder_feeds  # noqa: E402
from pairs import texts  # noqa: E402

LABELS = HERE / "labels" / "story_pairs.jsonl"
SECOND = HERE / "labels" / "story_pairs_second.jsonl"


def read_labels(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def replay(
    mirror: Path, days: tuple[str, ...], work: Path, reverse: bool
) -> tuple[dict[str, list[dict[str, Any]]], dict[int, int]]:
    """The window's items replayed as folder feeds: the story of each stored link, the
    rule that joined it to the story, and the story dedup found it related to; and
    the digest of the window: for each story it shows, the headline story it is
    shown under (itself, or the one it is related coverage of)."""
    lines = [
        '[storage]\npath = "monitor.db"\n',
        "[fetch]\nmax_items = 100000\n",
        '[digest]\nmax_stories = 100000\ntimezone = "Asia/Shanghai"\n',
    ]
    for name in write_folder_feeds(mirror, days, work, reverse):
        lines.append(f'[[feeds]]\nname = "{name}"\nurl = "feeds/{name}"\n')
    config = work / "config.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    monitor = [sys.executable, "-m", "monitor"]
    subprocess.run([*monitor, "run", "--no-digest", "--quiet", "-c", str(config)], check=True)
    exported = subprocess.run(
        [*monitor, "export", "-c", str(config)], check=True, capture_output=True, text=True
    ).stdout
    preview = work / "digest.json"
    subprocess.run(
        [*monitor, "digest", "--preview", str(preview), "-c", str(config)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shown_under: dict[int, int] = {}
    for section in json.loads(preview.read_text(encoding="utf-8"))["sections"]:
        for story in section["stories"]:
            shown_under[int(story["story"])] = int(story["story"])
            for other in story["related"]:
                shown_under.setdefault(int(other["story"]), int(story["story"]))
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in map(json.loads, exported.splitlines()):
        stories[record["url"]].append(record)
    return stories, shown_under


def stored_as(
    records: list[dict[str, Any]], title: str, time: str
) -> tuple[int, str | None, int | None] | None:
    """The story, rule and relation of the stored item an archived one became. A
    link captured several times gives several versions under one GUID: each is
    stored beside the others when it is another article, else replaces the one
    before it, so a version no longer stored is the next one stored after it."""
    if not records:
        return None
    chosen = next((r for r in records if r["title"] == title), None)
    if chosen is None:
        when = datetime.fromisoformat(time)
        later = [r for r in records if datetime.fromisoformat(r["published"]) >= when]
        chosen = min(later, key=lambda r: r["published"]) if later else records[-1]
    return int(chosen["story"]), chosen["match"], chosen["related_to"]


@dataclass
class Replayed:
    """What the replays made of the labelled pairs."""

    merged: dict[tuple[str, str], bool | None] = field(default_factory=dict)
    """Whether both items are in one story (None when one was not stored at all)."""
    why: dict[tuple[str, str], str] = field(default_factory=dict)
    """The rules that joined each item to its story."""
    linked: set[tuple[str, str]] = field(default_factory=set)
    """Kept apart, but found related by dedup (one's story is the other's `related_to`)."""
    together: dict[tuple[str, str], bool] = field(default_factory=dict)
    """For the pairs whose two stories the digest shows: whether under one headline
    (one story, or a headline and its related coverage)."""


def story_of(
    archived: dict[str, dict[str, str]], stories: dict[str, list[dict[str, Any]]], path: str
) -> tuple[int, str | None, int | None] | None:
    """What the replay stored of the archived item at `path` (`stored_as`)."""
    item = archived.get(path)
    if item is None:
        return None
    return stored_as(stories.get(item["url"], []), item["title"], item["time"])


def decisions(mirror: Path, labels: list[dict[str, object]], reverse: bool) -> Replayed:
    """What a replay of each labelled pair's window made of the pair."""
    by_window: dict[str, list[dict[str, object]]] = defaultdict(list)
    for label in labels:
        by_window[str(label["window"])].append(label)
    out = Replayed()
    for window, pairs in sorted(by_window.items()):
        days = tuple(window.split(":"))
        archived = texts(mirror, days)
        links = {path: item["url"] for path, item in archived.items()}
        with tempfile.TemporaryDirectory() as work:
            stories, shown_under = replay(mirror, days, Path(work), reverse)

        for pair in pairs:
            a, b = str(pair["a"]), str(pair["b"])
            story_a, story_b = story_of(archived, stories, a), story_of(archived, stories, b)
            if story_a is None or story_b is None:
                out.merged[(a, b)] = None
                continue
            out.merged[(a, b)] = story_a[0] == story_b[0]
            if story_a[0] != story_b[0] and (story_a[2] == story_b[0] or story_b[2] == story_a[0]):
                out.linked.add((a, b))
            if links.get(a) == links.get(b):
                out.why[(a, b)] = "the same link"
            else:
                out.why[(a, b)] = f"{story_a[1] or 'first'} / {story_b[1] or 'first'}"
            under_a, under_b = shown_under.get(story_a[0]), shown_under.get(story_b[0])
            if under_a is not None and under_b is not None:
                out.together[(a, b)] = under_a == under_b
    return out


def in_digest(labels: list[dict[str, object]], together: dict[tuple[str, str], bool]) -> None:
    """How the digest shows the labelled pairs: a copy under a headline of its own
    is a story the reader meets twice; related coverage is best shown together."""
    for kind in ("dup", "related", "different"):
        pairs = [(str(p["a"]), str(p["b"])) for p in labels if p["label"] == kind]
        seen = [together[pair] for pair in pairs if pair in together]
        joined = sum(seen)
        share = f"{joined / len(seen):.1%}" if seen else "-"
        print(
            f"  {kind:<10} {joined:4} of {len(seen):4} shown under one headline ({share}); "
            f"{len(pairs) - len(seen)} not both in the digest"
        )


def report(
    name: str, labels: list[dict[str, object]], merged: dict[tuple[str, str], bool | None]
) -> None:
    kept = [(pair, merged[(str(pair["a"]), str(pair["b"]))]) for pair in labels]
    kept = [(pair, same) for pair, same in kept if same is not None]
    true_pos = sum(1 for pair, same in kept if same and pair["label"] == "dup")
    false_pos = sum(1 for pair, same in kept if same and pair["label"] != "dup")
    false_neg = sum(1 for pair, same in kept if not same and pair["label"] == "dup")
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else float("nan")
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else float("nan")
    kinds = Counter(str(pair["label"]) for pair, _ in kept)
    joined = Counter(str(pair["label"]) for pair, same in kept if same)
    related = joined["related"] / kinds["related"] if kinds["related"] else 0.0
    different = joined["different"] / kinds["different"] if kinds["different"] else 0.0
    print(
        f"{name:<28} {len(kept):5} pairs  precision {precision:.3f} ({true_pos}/{true_pos + false_pos})"
        f"  recall {recall:.3f} ({true_pos}/{true_pos + false_neg})"
        f"  related merged {related:.1%} ({joined['related']}/{kinds['related']})"
        f"  different merged {different:.1%} ({joined['different']}/{kinds['different']})"
    )


def agreement(first: list[dict[str, object]], second: list[dict[str, object]]) -> None:
    """Raw agreement and Cohen's kappa of two labellers on the pairs both read."""
    mine = {(str(p["a"]), str(p["b"])): str(p["label"]) for p in first}
    pairs = [
        (mine[(str(p["a"]), str(p["b"]))], str(p["label"]))
        for p in second
        if (str(p["a"]), str(p["b"])) in mine
    ]
    if not pairs:
        return
    agreed = sum(1 for a, b in pairs if a == b) / len(pairs)
    labels = {a for a, _ in pairs} | {b for _, b in pairs}
    count = len(pairs)
    chance = sum(
        (sum(1 for a, _ in pairs if a == label) / count)
        * (sum(1 for _, b in pairs if b == label) / count)
        for label in labels
    )
    kappa = (agreed - chance) / (1 - chance) if chance < 1 else 1.0
    confusion = Counter(pairs)
    print(f"two labellers on {count} pairs: agree on {agreed:.1%}, Cohen's kappa {kappa:.2f}")
    print("  first/second: " + ", ".join(f"{a}/{b} {n}" for (a, b), n in sorted(confusion.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument(
        "--reversed", action="store_true", help="also replay with feeds and items in reverse order"
    )
    parser.add_argument("--errors", action="store_true", help="list the pairs decided wrongly")
    parser.add_argument(
        "--held-out", action="store_true",
        help="allow the held-out months: to measure labels made there, never to tune",
    )  # fmt: skip
    args = parser.parse_args()
    if args.held_out:
        allow_held_out()
    labels = read_labels(args.labels)
    counts = Counter(str(label["label"]) for label in labels)
    print(f"{len(labels)} labelled pairs: {dict(sorted(counts.items()))}")
    replayed = decisions(args.mirror, labels, reverse=False)
    merged, why, linked = replayed.merged, replayed.why, replayed.linked
    missing = sum(1 for same in merged.values() if same is None)
    if missing:
        print(f"{missing} pairs left out: an item of them was not stored")
    report("all", labels, merged)
    sources = sorted({str(s) for label in labels for s in label["sources"]})  # type: ignore[attr-defined]
    for source in sources:
        report(f"  source {source}", [p for p in labels if source in p["sources"]], merged)  # type: ignore[operator]
    report(
        "  links differ",
        [p for p in labels if why.get((str(p["a"]), str(p["b"]))) != "the same link"],
        merged,
    )
    for window in sorted({str(label["window"]) for label in labels}):
        report(f"  window {window}", [p for p in labels if p["window"] == window], merged)
    print("targets: precision ≥ 0.99, recall ≥ 0.95, related merged ≤ 1 %")
    shown = Counter(str(p["label"]) for p in labels if (str(p["a"]), str(p["b"])) in linked)
    print(
        f"kept apart but related by dedup (shown together): {sum(shown.values())} pairs, "
        f"{shown['related']} of the {counts['related']} related, {shown['dup']} dup, "
        f"{shown['different']} different"
    )
    print("in the digest (at most max_related entries of related coverage a headline):")
    in_digest(labels, replayed.together)
    if args.errors:
        for pair in labels:
            key = (str(pair["a"]), str(pair["b"]))
            same = merged.get(key)
            if same is None or same == (pair["label"] == "dup"):
                continue
            verdict = f"merged ({why.get(key)})" if same else "kept apart"
            print(
                f"{pair['label']:<9} {verdict}; containment {pair['containment']}, "
                f"title {pair['title']}, {'+'.join(pair['sources'])}: {pair['reason']}\n"  # type: ignore[arg-type]
                f"    {pair['a']}\n    {pair['b']}"
            )
        for pair in labels:
            key = (str(pair["a"]), str(pair["b"]))
            if pair["label"] == "different" and replayed.together.get(key):
                print(
                    f"different shown under one headline; {pair['reason']}\n"
                    f"    {pair['a']}\n    {pair['b']}"
                )
    if SECOND.exists() and args.labels == LABELS:
        second = read_labels(SECOND)
        agreement(labels, second)
        # The second reader's labels scored as if they were merges, against the
        # first's: what agreement between two careful readers allows.
        read_twice = {(str(p["a"]), str(p["b"])): p["label"] == "dup" for p in second}
        twice = [p for p in labels if (str(p["a"]), str(p["b"])) in read_twice]
        report("  monitor, pairs read twice", twice, merged)
        report("  second reader, scored alike", twice, dict(read_twice))
    if args.reversed:
        backwards = decisions(args.mirror, labels, reverse=True).merged
        changed = sum(1 for pair, same in merged.items() if backwards.get(pair) != same)
        report("all, order reversed", labels, backwards)
        print(
            f"feeds and items in reverse order: {changed} of {len(merged)} labelled pairs decided otherwise"
        )


if __name__ == "__main__":
    main()
