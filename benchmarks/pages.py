"""What full text costs: teaser feeds whose article pages are fetched, on real items.

    python benchmarks/pages.py MIRROR [--days 2020-09-14,2020-09-15,…] [--per-outlet 200]

Takes the real items of the development days given (`archive.py`; held-out
months refused) of outlets with a page layout of their own (DW, RFI,
纽约时报中文网) and of two without (BBC, 美国之音: their pages read by the
generic extractor), at most PER_OUTLET each. Serves them from a loopback server twice:
as full-text feeds (the archive's markup in each item), and as teaser feeds
(the first sentence) whose items link to a page per article on the same
server, in its site's page layout with its ads, related lists and navigation
(`tests/fixtures/article_pages.py`), naming the real address as canonical.

Runs `ingest` (what `monitor run --no-digest` does, worker processes
included) on each, into a new SQLite file, and prints: wall time; the cost a
page adds per item; pages per second; how many teaser items got back exactly
the text their full-text item has (page reading gives what the feed gave);
and how many stories differ between the two runs. Pages are fetched with
``page_delay = 0`` and ``per_host = 8`` to measure the work, not the
politeness; the time politeness adds at the defaults is printed beside it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from email.utils import format_datetime
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from archive import items  # noqa: E402
from fixtures.article_pages import SampleArticle, page_for, sample_article, teaser_feed  # noqa: E402
from ingest import serve  # noqa: E402

from monitor.config import load_config  # noqa: E402
from monitor.parse import archived_item_to_item, read_archived_item  # noqa: E402
from monitor.parse.adapters import markup  # noqa: E402
from monitor.service import ingest  # noqa: E402
from monitor.store import Storage  # noqa: E402

# The outlet's feed key (its layout in `article_pages.PAGES`, or generic) by outlet.
OUTLETS = {
    "DW 中文": "dw",
    "RFI 中文": "rfi",
    "纽约时报中文网": "nytimes",
    "BBC": "bbc",
    "美国之音": "voa",
}
FEED_SIZE = 50
DEFAULT_PAGE_DELAY = 1.0
DEFAULT_PER_HOST = 2


def real_articles(mirror: Path, days: tuple[str, ...], per_outlet: int) -> list[SampleArticle]:
    """The days' items of `OUTLETS`, as the sample-article records the page builders take."""
    taken: Counter[str] = Counter()
    found = []
    for archived in items(mirror, days):
        key = OUTLETS.get(archived.outlet)
        if key is None or taken[key] >= per_outlet:
            continue
        item = archived_item_to_item(archived.path, read_archived_item(archived.text))
        if not item.url.startswith("http"):
            continue
        article = sample_article(item, key)
        if len(markup.text_of(markup.parse_fragment("".join(article.paragraphs)))) < 300:
            continue  # a teaser already; nothing for a page to add
        taken[key] += 1
        found.append(article)
    return found


def full_feed(title: str, articles: list[SampleArticle]) -> bytes:
    entries = "".join(
        "<item>"
        f"<title>{escape(a.title)}</title><link>{escape(a.url)}</link>"
        f'<guid isPermaLink="false">{escape(a.guid)}</guid>'
        f"<pubDate>{format_datetime(a.published)}</pubDate>"
        f"<description>{escape(a.raw_html)}</description></item>"
        for a in articles
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}'
        f"</title><link>https://example.org/</link><description>x</description>{entries}"
        "</channel></rss>"
    ).encode()


def feeds_of(
    articles: list[SampleArticle], base: str, routes: dict[str, bytes]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Full-text and teaser feeds (name, path, adapter) of `articles`, their routes added."""
    by_outlet: dict[str, list[SampleArticle]] = defaultdict(list)
    for article in articles:
        by_outlet[article.feed].append(article)
    full, teasers = [], []
    for key, outlet_articles in sorted(by_outlet.items()):
        for start in range(0, len(outlet_articles), FEED_SIZE):
            chunk = outlet_articles[start : start + FEED_SIZE]
            name = f"{key}-{start // FEED_SIZE}"
            routes[f"/full/{name}.xml"] = full_feed(name, chunk)
            entries = []
            for number, article in enumerate(chunk):
                path = f"/pages/{name}/{number}.html"
                routes[path] = page_for(article).encode()
                entries.append((article, base + path))
            routes[f"/teasers/{name}.xml"] = teaser_feed(name, entries).encode()
            full.append((name, f"/full/{name}.xml", key))
            teasers.append((name, f"/teasers/{name}.xml", key))
    return full, teasers


def run(
    folder: Path, base: str, feeds: list[tuple[str, str, str]]
) -> tuple[float, dict[str, str], list[frozenset[str]], int]:
    """Ingest `feeds` into a new database: seconds, texts by GUID, stories, pages fetched."""
    folder.mkdir(parents=True)
    lines = [
        '[storage]\npath = "monitor.db"',
        "[fetch]\npage_delay = 0\nper_host = 8\nconcurrency = 16\nmax_items = 100000",
    ]
    for name, path, adapter in feeds:
        lines.append(f'[[feeds]]\nname = "{name}"\nurl = "{base}{path}"\nadapter = "{adapter}"')
    (folder / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config(folder / "config.toml")
    with Storage.open(config) as storage:
        started = time.perf_counter()
        report = ingest(config, storage)
        seconds = time.perf_counter() - started
        rows = storage._db.execute("SELECT guid, text, story_id, url FROM items").fetchall()
    texts = {guid: text for guid, text, _, _ in rows}
    members: dict[int, set[str]] = defaultdict(set)
    for _, _, story, url in rows:
        members[story].add(url)
    pages = sum(feed.pages for feed in report.feeds)
    failed = sum(feed.pages_failed for feed in report.feeds)
    if failed:
        print(f"  {failed} pages failed", file=sys.stderr)
    return seconds, texts, sorted(frozenset(m) for m in members.values()), pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--days", default=",".join(f"2020-09-{d}" for d in range(14, 21)))
    parser.add_argument("--per-outlet", type=int, default=200)
    args = parser.parse_args()
    days = tuple(args.days.split(","))
    articles = real_articles(args.mirror, days, args.per_outlet)
    counts = Counter(a.feed for a in articles)
    print(f"real items of {', '.join(days)}: {len(articles)} ({dict(sorted(counts.items()))})")
    routes: dict[str, bytes] = {}
    # Page links relative to the feed's address (resolved as any relative item link
    # is): the routes are complete before the server, which tags them, starts.
    full, teasers = feeds_of(articles, "", routes)
    server, base = serve(routes)
    with tempfile.TemporaryDirectory() as work:
        full_s, full_texts, full_stories, _ = run(Path(work) / "full", base, full)
        teaser_s, teaser_texts, teaser_stories, pages = run(Path(work) / "teasers", base, teasers)
    server.shutdown()
    same = sum(1 for guid, text in teaser_texts.items() if full_texts.get(guid) == text)
    by_outlet: Counter[str] = Counter()
    for article in articles:
        if teaser_texts.get(article.guid) == full_texts.get(article.guid):
            by_outlet[article.feed] += 1
    n = len(articles)
    print(f"full-text feeds:   {full_s:6.2f} s  ({n / full_s:,.0f} items/s)")
    print(
        f"teaser feeds:      {teaser_s:6.2f} s  ({pages} pages fetched, {pages / teaser_s:,.0f} pages/s)"
    )
    print(
        f"a page adds        {1000 * (teaser_s - full_s) / n:6.2f} ms an item (fetch, read, extract)"
    )
    hosts = 1  # every page is on the loopback host here; real outlets are one host each
    polite = n * DEFAULT_PAGE_DELAY / hosts
    print(
        f"politeness at the defaults (page_delay {DEFAULT_PAGE_DELAY:g} s, per_host "
        f"{DEFAULT_PER_HOST}): one host's {n} pages take at least {polite:,.0f} s; "
        "outlets on different hosts go side by side"
    )
    print(f"page text equal to the full-text item's: {same} of {n} ({same / n:.1%})")
    for key in sorted(counts):
        print(f"  {key:8} {by_outlet[key]:4} of {counts[key]}")
    differ = len(set(teaser_stories) ^ set(full_stories))
    print(
        f"stories: {len(teaser_stories)} from teasers, {len(full_stories)} from full texts; "
        f"{differ} differ in their members"
    )


if __name__ == "__main__":
    main()
