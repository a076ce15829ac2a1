"""Related coverage on real days: is each "相关报道" entry about its headline's event?

    python benchmarks/related.py MIRROR [--days 2020-07-22,2020-08-19,2020-09-16]
        [--pairs pairs.jsonl]

MIRROR is a clone of ``zhouxiang93123/waimei`` (see `archive.py`). Each day's
items (development months only) are written as folder feeds, one per outlet,
replayed through ``monitor run --no-digest``, and the pending digest is taken
as data (``monitor digest --preview day.json``, every story, at most
`max_related` related entries each, as the email shows them). Every pair the
digest shows as headline + related entry is looked up in the labels saved in
``benchmarks/labels/related.jsonl`` (one line a pair: day, the two URLs,
``same`` or ``different``, a reason), labelled by reading both articles.
Printed: per day and overall, the stories shown and left out (related
entries beyond `max_related`, named only by outlet), the pairs shown, how many
are labelled, the share labelled ``same`` (the precision of related coverage;
target 0.90), and the size of the day's email. ``--pairs FILE`` writes the unlabelled pairs
with their titles and summaries, for reading; their texts stay out of the repo.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from archive import HELD_OUT, write_folder_feeds  # noqa: E402

LABELS = HERE / "labels" / "related.jsonl"
DAYS = ("2020-07-22", "2020-08-19", "2020-09-16")


def replay(mirror: Path, day: str, work: Path) -> dict[str, object]:
    """The day's digest as data, from its items replayed as folder feeds."""
    if HELD_OUT.match(day):
        raise SystemExit(f"related.py: {day} is held out for evaluation")
    feeds = write_folder_feeds(mirror, (day,), work)
    lines = [
        '[storage]\npath = "monitor.db"\n',
        "[fetch]\nmax_items = 100000\n",
        '[digest]\nmax_stories = 100000\ntimezone = "Asia/Shanghai"\n',
    ]
    for name in feeds:
        lines.append(f'[[feeds]]\nname = "{name}"\nurl = "feeds/{name}"\n')
    config = work / "config.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    monitor = [sys.executable, "-m", "monitor"]
    subprocess.run([*monitor, "run", "--no-digest", "-c", str(config)], check=True)
    preview = work / "digest.json"
    subprocess.run([*monitor, "digest", "--preview", str(preview), "-c", str(config)], check=True)
    data: dict[str, object] = json.loads(preview.read_text(encoding="utf-8"))
    html = work / "digest.html"
    subprocess.run([*monitor, "digest", "--preview", str(html), "-c", str(config)], check=True)
    data["html_bytes"] = html.stat().st_size
    data["items"] = sum(feeds.values())
    return data


def shown_pairs(data: dict[str, object]) -> list[tuple[dict[str, str], dict[str, str]]]:
    pairs = []
    for section in data["sections"]:  # type: ignore[attr-defined]
        for story in section["stories"]:
            pairs += [(story, other) for other in story["related"]]
    return pairs


def load_labels() -> dict[tuple[str, str], dict[str, str]]:
    labels: dict[tuple[str, str], dict[str, str]] = {}
    if LABELS.exists():
        for line in LABELS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                label = json.loads(line)
                # Either way round: a change of headline keeps the pair's label.
                labels[label["head"], label["related"]] = label
                labels[label["related"], label["head"]] = label
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--days", default=",".join(DAYS))
    parser.add_argument("--pairs", type=Path, help="write the unlabelled pairs here")
    args = parser.parse_args()
    labels = load_labels()
    unlabelled = []
    totals: Counter[str] = Counter()
    print("| day | items | stories shown | left out | related pairs | labelled | same event "
          "| precision | email (HTML) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for day in (d.strip() for d in args.days.split(",") if d.strip()):
        with tempfile.TemporaryDirectory(prefix="monitor-related-") as temporary:
            data = replay(args.mirror, day, Path(temporary))
        pairs = shown_pairs(data)
        found = [labels.get((head["url"], other["url"])) for head, other in pairs]
        same = sum(1 for label in found if label and label["label"] == "same")
        labelled = sum(1 for label in found if label)
        for (head, other), label in zip(pairs, found, strict=True):
            if label is None:
                unlabelled.append({"day": day, "head": head, "related": other})
        precision = f"{same / labelled:.3f}" if labelled else "-"
        print(
            f"| {day} | {data['items']} | {data['stories_shown']} | {len(data['left_out'])} "  # type: ignore[arg-type]
            f"| {len(pairs)} | {labelled} "
            f"| {same} | {precision} | {int(data['html_bytes']) / 1e6:.2f} MB |"  # type: ignore[call-overload]
        )
        totals.update(pairs=len(pairs), labelled=labelled, same=same)
        sections = data["sections"]  # type: ignore[attr-defined]
        related_out = sum(len(s["related_left_out"]) for x in sections for s in x["stories"])
        over = sum(x["not_shown"] for x in sections)
        print(
            f"|   | left out: {related_out} related entries beyond max_related, "
            f"{over} headlines over max_stories, {data['expired']} past the window |"
        )
    overall = totals["same"] / totals["labelled"] if totals["labelled"] else 0.0
    print(
        f"\nall days: {totals['pairs']} pairs shown, {totals['labelled']} labelled, "
        f"precision {overall:.3f} (target 0.90)"
    )
    if args.pairs:
        with args.pairs.open("w", encoding="utf-8") as out:
            for pair in unlabelled:
                out.write(json.dumps(pair, ensure_ascii=False) + "\n")
        print(f"{len(unlabelled)} unlabelled pairs written to {args.pairs}")


if __name__ == "__main__":
    main()
