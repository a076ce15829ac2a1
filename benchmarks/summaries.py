"""What the digest's summaries open and end with, on every real item of the development months.

    python benchmarks/summaries.py MIRROR [--months 2020-07,...] [--outlet NAME] [--show 3]

MIRROR is a clone of ``zhouxiang93123/waimei`` (see `archive.py`). Each item
of July, August, September and November 2020 is read as a folder feed reads
it, cleaned by the adapter its URL chooses, and summarised as the digest
summarises a headline (`digest.summary.summarize`, 120 characters, the
default `summary_chars`); an article captured more than once counts once.
Per outlet, it counts the summaries that:

- open with a dateline or byline rather than the news: a wire's dateline
  ("路透华盛顿8月11日 - ", "香港——"), a reporter's or outlet's tag in brackets,
  "本网获悉：", "作者 …";
- take in a heading, caption or credit line (a short line with no sentence
  end, run into the sentence after it);
- are cut inside their first sentence (an ellipsis), and of those, English
  ones cut inside a word;
- are empty where the text is not.

Prints the counts per outlet and overall, with a few examples of each.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive import DEVELOPMENT_MONTHS  # noqa: E402
from furniture import LATEST, latest_captures  # noqa: E402

from monitor.digest.summary import ELLIPSIS, summarize  # noqa: E402
from monitor.errors import ParseError  # noqa: E402
from monitor.parse import adapter_for, archived_item_to_item, read_archived_item  # noqa: E402

CHARS = 120
OPENINGS = re.compile(
    r"^(?:（[^）]{1,30}）|【[^】]{1,30}】|\([^)]{1,30}\)|(?:作者\s*\S{1,12}\s*)?路透\S{0,20}?"
    r"\d{1,2}月\d{1,2}日\s*-|[一-鿿]{2,8}——|(?:\d{4}年\d{1,2}月\d{1,2}日，)?本网获悉|作者)"
)
SENTENCE_END = re.compile(r"[。！？!?…；;.:：”」』）)\"']$")
KINDS = ("dateline or byline", "heading or credit", "cut", "cut inside a word", "empty")


def defects(text: str, summary: str) -> list[str]:
    """What is wrong with `summary` of `text` (`KINDS`)."""
    if not summary:
        return ["empty"] if text.strip() else []
    found = []
    if OPENINGS.match(summary):
        found.append("dateline or byline")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    used = [line for line in lines[:6] if line in summary or summary.startswith(line[:20])]
    if any(not SENTENCE_END.search(line) and len(line) <= 40 for line in used[:-1]):
        found.append("heading or credit")
    if summary.endswith(ELLIPSIS):
        found.append("cut")
        before = summary[:-1]
        at = text.find(before)
        after = text[at + len(before) : at + len(before) + 1] if at != -1 else ""
        if before[-1:].isascii() and before[-1:].isalnum() and after.isascii() and after.isalnum():
            found.append("cut inside a word")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path, help="a (bare) clone of zhouxiang93123/waimei")
    parser.add_argument("--months", default=",".join(DEVELOPMENT_MONTHS))
    parser.add_argument("--outlet", help="only this outlet")
    parser.add_argument("--show", type=int, default=2, help="examples shown per outlet and kind")
    args = parser.parse_args()
    months = tuple(m.strip() for m in args.months.split(",") if m.strip())
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    for archived in latest_captures(args.mirror, months, args.outlet):
        try:
            item = archived_item_to_item(archived.path, read_archived_item(archived.text))
        except ParseError:
            continue
        fetched = (item.published or LATEST) + timedelta(days=1)
        article = adapter_for(item.url).adapt(item, archived.outlet, fetched, with_html=False)
        summary = summarize(article.text, CHARS)
        counts[archived.outlet]["items"] += 1
        for kind in defects(article.text, summary):
            counts[archived.outlet][kind] += 1
            examples[archived.outlet, kind].append(summary[:70])
    total: Counter[str] = Counter()
    print(f"summaries of {CHARS} characters, {datetime.now(UTC):%Y-%m-%d}, months {args.months}")
    print(f"{'outlet':24} {'items':>6} " + " ".join(f"{k[:18]:>18}" for k in KINDS))
    for outlet, count in sorted(counts.items(), key=lambda kv: -kv[1]["items"]):
        total.update(count)
        print(f"{outlet[:24]:24} {count['items']:>6} " + " ".join(f"{count[k]:>18}" for k in KINDS))
    print(f"{'all':24} {total['items']:>6} " + " ".join(f"{total[k]:>18}" for k in KINDS))
    for (outlet, kind), shown in sorted(examples.items()):
        for example in shown[: args.show]:
            print(f"  {outlet[:16]} · {kind}: {example}")


if __name__ == "__main__":
    main()
