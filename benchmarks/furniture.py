"""Furniture left in the text: every real item of the development months through its adapter.

    python benchmarks/furniture.py MIRROR [--months 2020-07,...] [--outlet NAME] [--show 20]

MIRROR is a clone of ``zhouxiang93123/waimei`` (see `archive.py`). Each item
of July, August, September and November 2020 (33,834 items, 18 outlets) is
read as a folder feed reads it and cleaned by the adapter its URL chooses.
An article the archive holds more than once (captured again later) counts
once. Per outlet, the lines of the cleaned texts that recur in at least 1 % of the
outlet's items and in at least 5 of them are printed with their counts: what
recurs across an outlet's articles is its furniture (a sign-off, a credit, a
subscription appeal), unless it is listed in `LEGITIMATE` with the reason it
belongs in the text. Also per outlet: the share of items whose text came out
empty or under 50 characters, leaving out those whose item holds no more
than that itself (a teaser, a title alone) and the video and picture items
(an embedded video; pictures with under 200 characters of text around them),
and the items the feed marked as cut short ("......more", "[…]": their page
has the rest, see `Article.truncated`).

Target: no unlisted recurring line in any outlet; under 0.5 % short texts.
The exit status is 1 when an outlet misses it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive import DEVELOPMENT_MONTHS, ArchivedFile, items  # noqa: E402

from monitor.errors import ParseError  # noqa: E402
from monitor.parse import adapter_for, archived_item_to_item, read_archived_item  # noqa: E402
from monitor.parse.adapters import markup  # noqa: E402

LATEST = datetime(2030, 1, 1, tzinfo=UTC)
"""Dates are plausible before this (an item without one is read as fetched then)."""
MIN_SHARE = 0.01
MIN_ITEMS = 5
SHORT = 50

# Lines that recur because the articles share them, not because a page adds them:
# (outlet, pattern of the whole line, why it belongs in the text).
LEGITIMATE: list[tuple[str, re.Pattern[str], str]] = [
    (outlet, re.compile(pattern), reason)
    for outlet, pattern, reason in [
        ("(臺)中央社CNA", r"以下為全球各地過去24小時的疫情與相關發展：|[※●] \S{1,6}",
         "the daily pandemic round-up: its fixed lead and its regions' headings"),
        ("路透", r".*(?:人民币|汇率|离岸|在岸|逆周期).*",
         "the daily yuan market report: its fixed table heads and background paragraphs"),
        ("中国数字时代", r"CDS档案.*|以下为中国数字时代编辑摘自.*|因为李文亮的微博随时可能被.*",
         "series headers and editors' notes of the CDS archive and the Li Wenliang comment series"),
        ("中国数字时代", r"\d{1,3}|……|参考资料：",
         "the numbers of numbered comment lists, an elision, a references heading"),
        ("维权网", r"[^，,]{1,200}|为了更方便人们查询本网统计的在押政治犯.*|被判刑.*刑期至.*|"
         r"如您获知有未上名单的政治犯良心犯的境况.*",
         "the monthly roster of prisoners of conscience: its names, sentences, lead and close"),
        ("CCTV新闻联播", r"国内联播快讯|国际联播快讯|.{4,30}",
         "the programme's fixed section headings and the titles of its recurring reports"),
    ]
]  # fmt: skip


@dataclass
class Outlet:
    items: int = 0
    adapters: Counter[str] = field(default_factory=Counter)
    lines: Counter[str] = field(default_factory=Counter)
    short: list[str] = field(default_factory=list)
    without_text: int = 0
    cut_short: int = 0
    unreadable: list[str] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path, help="a (bare) clone of zhouxiang93123/waimei")
    parser.add_argument("--months", default=",".join(DEVELOPMENT_MONTHS))
    parser.add_argument("--outlet", help="only this outlet")
    parser.add_argument("--show", type=int, default=12, help="recurring lines shown per outlet")
    args = parser.parse_args()
    months = tuple(m.strip() for m in args.months.split(",") if m.strip())
    outlets: dict[str, Outlet] = defaultdict(Outlet)
    for archived in latest_captures(args.mirror, months, args.outlet):
        outlet = outlets[archived.outlet]
        outlet.items += 1
        try:
            item = archived_item_to_item(archived.path, read_archived_item(archived.text))
        except ParseError as e:
            outlet.unreadable.append(str(e))
            continue
        adapter = adapter_for(item.url)
        outlet.adapters[adapter.name] += 1
        fetched = (item.published or LATEST) + timedelta(days=1)
        article = adapter.adapt(item, archived.outlet, fetched, with_html=False)
        outlet.lines.update(set(article.text.split("\n")) - {""})
        outlet.cut_short += article.truncated
        if len(article.text) < SHORT:
            given = markup.text_of(markup.parse_fragment(item.html))
            given_chars = len("".join(given.replace(" ".join(item.title.split()), "").split()))
            video = any(tag in item.html for tag in ("<iframe", "<video", "<embed"))
            pictures = "<img" in item.html and given_chars < 4 * SHORT
            if given_chars < SHORT or video or pictures:
                # A teaser, a title alone, a video, a cartoon or a chart with a line
                # and the mirror's furniture: there is no more text to be had.
                outlet.without_text += 1
            else:
                outlet.short.append(f"{archived.path}: {article.text[:60]!r}")
    failed = report(outlets, args.show)
    sys.exit(1 if failed else 0)


def latest_captures(
    mirror: Path, months: tuple[str, ...], outlet: str | None = None
) -> list[ArchivedFile]:
    """The items of `months` (of `outlet` only, when given), each article once: the
    archive often holds one more than once (captured again on a later day), whose
    lines would recur without being furniture. The last capture counts."""
    latest: dict[str, ArchivedFile] = {}
    for archived in items(mirror, months):
        if not outlet or archived.outlet == outlet:
            latest[_url_of(archived.text) or archived.path] = archived
    return list(latest.values())


def _url_of(text: str) -> str:
    start = text.find("\nfrom:")
    return text[start + 6 : text.find("\n", start + 1)].strip() if start != -1 else ""


def recurring(name: str, outlet: Outlet) -> list[tuple[str, int]]:
    floor = max(MIN_ITEMS, MIN_SHARE * outlet.items)
    return [
        (line, count)
        for line, count in outlet.lines.most_common()
        if count >= floor and not any(o == name and p.fullmatch(line) for o, p, _ in LEGITIMATE)
    ]


def report(outlets: dict[str, Outlet], show: int) -> list[str]:
    failed = []
    rows = []
    for name, outlet in sorted(outlets.items(), key=lambda kv: -kv[1].items):
        lines = recurring(name, outlet)
        with_text = outlet.items - outlet.without_text - len(outlet.unreadable)
        short = len(outlet.short) / with_text if with_text else 0.0
        adapters = ", ".join(a for a, _ in outlet.adapters.most_common())
        rows.append(
            f"| {name} | {adapters} | {outlet.items} | {len(lines)} | {100 * short:.2f} % "
            f"| {outlet.without_text} | {outlet.cut_short} | {len(outlet.unreadable)} |"
        )
        if lines or short >= 0.005 or outlet.unreadable:
            failed.append(name)
            print(f"\n## {name}: {outlet.items} items")
            for line, count in lines[:show]:
                print(f"  {count:5d}  {line[:110]}")
            for text in outlet.short[:show]:
                print(f"  short: {text}")
            for problem in outlet.unreadable[:show]:
                print(f"  unreadable: {problem}")
    print(
        "\n| outlet | adapter | items | recurring lines | text under 50 chars "
        "| no more text in the item | cut short by the feed | unreadable |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n{len(failed)} of {len(outlets)} outlets miss the target")
    return failed


if __name__ == "__main__":
    main()
