"""A labelled set for near-duplicate detection, built from the seeds.

Each seed's clean article (what its site adapter makes of it) is reposted in
the ways real feeds repost: aggregator chrome around it, half-width
punctuation, Traditional characters in Taiwan wording, a cut tail, a new lead,
paragraphs flattened into one, condensed, expanded, lightly edited, and
combinations. The distinct seeds are different articles (some about the same
event), and template stories (a daily exchange-rate fixing, a daily case
count) differ only in their figures: all of those are different stories.

``python tests/dedup_corpus.py`` prints precision and recall of "same story"
over all pairs, for the shipped thresholds and for other shingle widths.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.dedup import Candidate, Features  # noqa: E402
from monitor.dedup.rules import best_match, hamming  # noqa: E402
from monitor.parse import (  # noqa: E402
    adapter_for,  # noqa: E402
    archived_item_to_item,
    read_archived_item,
)

SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"
FETCHED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Doc:
    name: str
    story: str
    text: str


def seed_texts() -> dict[str, str]:
    texts = {}
    for path in sorted(SEEDS.glob("*.txt")):
        item = archived_item_to_item(path.name, read_archived_item(path.read_text("utf-8")))
        adapter = adapter_for(item.url or "https://www.qukanredian.com/")
        texts[path.name[:3]] = adapter.adapt(item, "feed", FETCHED).text
    return texts


def chrome_lines() -> tuple[list[str], list[str]]:
    """Seed 002's own head and tail chrome, uncleaned."""
    lines = [s.strip() for s in (SEEDS / "002_2ee1b763c5ca8a1d.txt").read_text("utf-8").split("\n")]
    lines = [s for s in lines if s]
    return lines[:3], lines[lines.index("猜你喜欢") :]


def sentences_of(text: str) -> list[str]:
    import re

    return [s for s in re.split(r"(?<=[。！？])", text) if s.strip()]


def to_traditional(text: str) -> str:
    import opencc

    return str(opencc.OpenCC("s2twp").convert(text)).replace("特朗普", "川普")


def half_width(text: str) -> str:
    table = str.maketrans({"，": ",", "。": ".", "：": ":", "；": ";", "（": "(", "）": ")",
                           "“": '"', "”": '"', "！": "!", "？": "?"})  # fmt: skip
    return text.translate(table)


def reposts(text: str) -> dict[str, str]:
    """`text` reposted each way, by name."""
    head, tail = chrome_lines()
    paragraphs = text.split("\n")
    sentences = sentences_of(text.replace("\n", "\n\u2029"))
    joined = "".join(sentences)
    cut = max(1, len(sentences) * 4 // 5)
    chrome = "\n".join(head + paragraphs + tail)
    lead = (
        "据中央社今天报道，"
        + "。".join(paragraphs[0].split("。")[1:])
        + "\n"
        + "\n".join(paragraphs[1:])
    )
    new_lead = "（法新社东京讯）本社记者获悉相关消息并综合外电报道如下。\n" + "\n".join(
        paragraphs[1:]
    )
    edited = "\n".join(p[:12] + "某" + p[13:] if len(p) > 40 else p for p in paragraphs)
    condensed = "".join(s for i, s in enumerate(sentences) if i % 3 != 2).replace("\u2029", "")
    expanded = text + "\n本文发表后，相关各方又有新的表态，记者将继续追踪报道这一事件的后续发展。"
    flash = "\n".join(paragraphs[: max(2, len(paragraphs) // 3)])
    return {
        "chrome": chrome,
        "half_width": half_width(text),
        "traditional": to_traditional(text),
        "cut_20": joined[: len("".join(sentences[:cut]))].replace("\u2029", ""),
        "cut_40": "".join(sentences[: max(1, len(sentences) * 3 // 5)]).replace("\u2029", ""),
        "attributed_lead": lead,
        "new_lead": new_lead,
        "flattened": text.replace("\n", ""),
        "flattened_spaces": text.replace("\n", "  "),
        "edited": edited,
        "condensed": condensed,
        "expanded": expanded,
        "flash": flash,
        "traditional_chrome": to_traditional(chrome),
        "half_width_cut": half_width("".join(sentences[:cut]).replace("\u2029", "")),
        "lead_chrome": "\n".join(head + new_lead.split("\n") + tail),
        "traditional_cut_flattened": to_traditional("".join(sentences[:cut]).replace("\u2029", "")),
    }


def templates() -> list[Doc]:
    """Stories that share a template and differ in their figures: all different."""
    docs = []
    fixings = [("7.1234", "20", "升", "7.1098", "7.1342"), ("7.1254", "20", "降", "7.1120", "7.1388"),
               ("7.1190", "64", "升", "7.1035", "7.1301")]  # fmt: skip
    for day, (rate, points, way, low, high) in enumerate(fixings, start=20):
        docs.append(
            Doc(
                f"fixing_{day}",
                f"fixing_{day}",
                (
                    f"中国外汇交易中心11月{day}日公布，人民币对美元汇率中间价报{rate}，较前一交易日调{way}{points}个基点。\n"
                    f"当日在岸人民币对美元即期汇率开盘报{low}，盘中最高触及{high}，市场交投较为平稳。\n"
                    f"分析人士认为，近期美元指数走势和国内经济数据是影响人民币汇率的主要因素，预计短期内人民币汇率将在合理均衡水平上保持基本稳定。"
                ),
            )
        )
    counts = [(21, "1,234", "56", "3"), (22, "1,310", "61", "4"), (23, "987", "40", "2")]
    for day, cases, severe, deaths in counts:
        docs.append(
            Doc(
                f"cases_{day}",
                f"cases_{day}",
                (
                    f"卫生部门11月{day}日通报，过去24小时新增确诊病例{cases}例，其中重症{severe}例，死亡{deaths}例。\n"
                    f"截至{day}日零时，累计报告确诊病例及重症病例数较前一周有所变化，各地医疗机构运转总体正常。\n"
                    f"卫生部门提醒民众注意个人防护，出现发热等症状应及时就医，老年人和慢性病患者尤其需要加强防范。"
                ),
            )
        )
    return docs


def corpus() -> list[Doc]:
    docs: list[Doc] = []
    for prefix, text in seed_texts().items():
        docs.append(Doc(f"{prefix}/original", prefix, text))
        docs.extend(Doc(f"{prefix}/{way}", prefix, repost) for way, repost in reposts(text).items())
    return docs + templates()


def candidate(stored: Features, item_id: int = 1) -> Candidate:
    return Candidate(item_id, item_id, stored.simhash, stored.normalized_length,
                     stored.figures, stored.shingles)  # fmt: skip


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    false_merges: list[tuple[str, str]]
    missed: list[tuple[str, str]]


def evaluate(docs: list[Doc], width: int = 4, max_distance: int = 3) -> Score:
    features = [Features.of(d.text, width) for d in docs]
    tp = fp = fn = 0
    false_merges, missed = [], []
    for (i, a), (j, b) in combinations(enumerate(docs), 2):
        same = a.story == b.story
        merged = best_match(features[j], [candidate(features[i])], max_distance)
        if merged and same:
            tp += 1
        elif merged:
            fp += 1
            false_merges.append((a.name, b.name))
        elif same:
            fn += 1
            missed.append((a.name, b.name))
    return Score(tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn), false_merges, missed)


def margins(docs: list[Doc], width: int) -> tuple[float, float, int]:
    """Lowest containment of a true pair, highest of a false one the figures do not veto,
    and how many true pairs the fingerprint alone (distance <= 3) catches."""
    from monitor.dedup.fingerprint import containment
    from monitor.figures import figures_differ

    features = [Features.of(d.text, width) for d in docs]
    true_low, false_high, by_simhash = 1.0, 0.0, 0
    for (i, a), (j, b) in combinations(enumerate(docs), 2):
        c = containment(features[i].shingles.every, features[j].shingles.every)
        if a.story == b.story:
            true_low = min(true_low, c)
            by_simhash += hamming(features[i].simhash, features[j].simhash) <= 3
        elif not figures_differ(features[i].figures, features[j].figures):
            false_high = max(false_high, c)
    return true_low, false_high, by_simhash


def main() -> None:
    import tempfile

    docs = corpus()
    stories = len({d.story for d in docs})
    positives = sum(a.story == b.story for a, b in combinations(docs, 2))
    print(f"{len(docs)} documents, {stories} stories, {len(docs) * (len(docs) - 1) // 2} pairs"
          f" ({positives} of the same story)")  # fmt: skip
    for width in (2, 3, 4, 5, 6):
        score = evaluate(docs, width)
        low, high, simhash_only = margins(docs, width)
        print(f"shingle width {width}: pairwise precision {score.precision:.3f} recall {score.recall:.3f};"
              f" containment true >= {low:.2f}, false <= {high:.2f}, gap {low - high:+.2f};"
              f" {simhash_only} true pairs within distance 3")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        score = cluster_score(docs, clusters(docs, Path(folder)))
    print(
        f"stored in order through SQLite: precision {score.precision:.3f} recall {score.recall:.3f}"
    )
    features = {d.name: Features.of(d.text) for d in docs}
    print("simhash distance from each original, by way of reposting:")
    for way in reposts("x\ny"):
        distances = [hamming(features[f"{p}/original"].simhash, features[f"{p}/{way}"].simhash)
                     for p in ("000", "001", "002", "003", "004")]  # fmt: skip
        print(f"  {way:28} {distances}")
    originals = [n for n in features if n.endswith("/original")]
    apart = [
        hamming(features[a].simhash, features[b].simhash) for a, b in combinations(originals, 2)
    ]
    print(f"  distinct seeds: min {min(apart)}, max {max(apart)}")
    score = evaluate(docs)
    for pair in score.missed + score.false_merges:
        print("  wrong:", pair)


def clusters(docs: list[Doc], target: Path | str, max_distance: int = 3) -> dict[str, int]:
    """Store the documents one by one, in order, through the real storage and story assignment.

    `target` is a folder for a new SQLite file, or a PostgreSQL database's URL.
    """
    return clusters_in_batches(docs, target, 1, max_distance)


def clusters_in_batches(
    docs: list[Doc], target: Path | str, batch: int, max_distance: int = 3
) -> dict[str, int]:
    """Store the documents `batch` at a time, as one feed's new items are stored."""
    from monitor.dedup import assign_stories
    from monitor.models import Article
    from monitor.store import NewItem, Storage

    stories: dict[str, int] = {}
    where = target / "corpus.db" if isinstance(target, Path) else target
    with Storage(where, block_count=max_distance + 1) as storage:
        feed = storage.feed_state("corpus", "corpus").id
        since = datetime(2000, 1, 1, tzinfo=UTC)
        for start in range(0, len(docs), batch):
            chunk = docs[start : start + batch]
            features = [Features.of(doc.text) for doc in chunk]
            with storage.transaction():
                decisions = assign_stories(storage, features, since, max_distance)
                items = [
                    NewItem(doc.name, Article(doc.name, f"https://corpus.example/{start + n}",
                            FETCHED, (), doc.text, "", (), "corpus"), f, (), d.story, d.reason)
                    for n, (doc, f, d) in enumerate(zip(chunk, features, decisions, strict=True))
                ]  # fmt: skip
                ids = storage.insert_items(feed, items, FETCHED)
                rows = storage._db.execute(
                    f"SELECT id, story_id FROM items WHERE id >= {min(ids)}"
                ).fetchall()
                story_of = {row[0]: row[1] for row in rows}
            for doc, item_id in zip(chunk, ids, strict=True):
                stories[doc.name] = story_of[item_id]
    return stories


def partition(stories: dict[str, int]) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for name, story in stories.items():
        groups.setdefault(story, set()).add(name)
    return {frozenset(group) for group in groups.values()}


def cluster_score(docs: list[Doc], stories: dict[str, int]) -> Score:
    tp = fp = fn = 0
    false_merges, missed = [], []
    for a, b in combinations(docs, 2):
        same, merged = a.story == b.story, stories[a.name] == stories[b.name]
        tp += same and merged
        fp += merged and not same
        fn += same and not merged
        if merged and not same:
            false_merges.append((a.name, b.name))
        if same and not merged:
            missed.append((a.name, b.name))
    return Score(tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn), false_merges, missed)


if __name__ == "__main__":
    main()
