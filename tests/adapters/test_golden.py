"""Each seed item through its site adapter, compared field by field with a golden file.

The golden files in ``golden/`` were written from the adapters' output and
checked by reading each seed: change them only after reading the seed again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.models import Article
from monitor.parse.adapters import adapter_for
from monitor.parse.archive import archived_item_to_item, read_archived_item

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"
GOLDEN = Path(__file__).resolve().parent / "golden"
FETCHED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
FEEDS = {
    "000": "DW 中文",
    "001": "纽约时报中文网",
    "002": "趣看热点",
    "003": "RFI 中文",
    "004": "RFI 中文",
}
AGGREGATOR_URL = "https://www.qukanredian.com/"

# Strings of each site's furniture that must never reach an article's text.
FURNITURE = {
    "000": ["2023-03-18T15:50:17", "德国之声版权声明", "相关图集", "美军可进入更多菲律宾军事基地",
            "朝鲜于2023年3月10日在未知地点发射火箭"],
    "001": ["MOTOKO RICH", "2024年6月21日", "点击查看本文英文版", "翻译：纽约时报中文网",
            "点击查看更多关于", "Kiuko Notoya", "Getty Images", "朝鲜官方发布的照片显示",
            "首尔火车站的电视屏幕上"],
    "002": ["关闭广告", "人阅读", "猜你喜欢", "精彩推荐", "浏览", "编辑丨", "签审丨", "总台记者丨",
            "版权与免责声明", "本站所有信息收集于互联网", "Copyright", "ICP备", "懂球帝"],
    "003": ["01/08/2023", "分享", "facebook", "whatsapp"],
    "004": ["15/09/2023", "作者：", "艾米"],
}  # fmt: skip


def adapt(seed: Path, feed: str) -> tuple[str, Article]:
    item = archived_item_to_item(seed.name, read_archived_item(seed.read_text(encoding="utf-8")))
    adapter = adapter_for(item.url or AGGREGATOR_URL)
    return adapter.name, adapter.adapt(item, feed, FETCHED)


@pytest.mark.parametrize("prefix", sorted(FEEDS))
def test_seed_matches_its_golden_file(prefix: str) -> None:
    expected = json.loads((GOLDEN / f"{prefix}.json").read_text(encoding="utf-8"))
    seed = SEEDS / expected["seed"]
    name, article = adapt(seed, FEEDS[prefix])
    paragraphs = article.text.split("\n")
    assert name == expected["adapter"]
    assert article.title == expected["title"]
    assert article.url == expected["url"]
    assert article.published.tzinfo is not None
    assert article.published.isoformat(timespec="seconds") == expected["published"]
    assert list(article.authors) == expected["authors"]
    assert paragraphs[0] == expected["first_paragraph"]
    assert paragraphs[-1] == expected["last_paragraph"]
    assert len(paragraphs) == expected["paragraphs"]
    assert list(article.images) == expected["images"]
    assert article.source == expected["source"]
    assert article.original_source == expected["original_source"]


@pytest.mark.parametrize("prefix", sorted(FEEDS))
def test_no_furniture_survives(prefix: str) -> None:
    seed = next(SEEDS.glob(f"{prefix}_*.txt"))
    _, article = adapt(seed, FEEDS[prefix])
    for furniture in FURNITURE[prefix]:
        assert furniture not in article.text, furniture
        assert furniture not in article.html, furniture
    assert "<script" not in article.html and "images.weserv.nl" not in " ".join(article.images)


@pytest.mark.parametrize("prefix", ["000", "001", "003", "004"])
def test_aggregator_chrome_around_an_article_leaves_the_same_text(prefix: str) -> None:
    """An aggregator page (seed 002's chrome, as plain text) around a clean article."""
    seed = next(SEEDS.glob(f"{prefix}_*.txt"))
    _, original = adapt(seed, FEEDS[prefix])
    chrome = read_archived_item((SEEDS / "002_2ee1b763c5ca8a1d.txt").read_text(encoding="utf-8"))
    chrome_lines = chrome.body.split("\n")
    related = chrome_lines[chrome_lines.index("猜你喜欢") :]
    page = "\n".join(
        ["关闭广告", "", original.title, "", "国际在线8212人阅读", ""]
        + ["  " + line for line in original.text.split("\n")]
        + [
            "",
            "  编辑丨林维",
            "",
            "  签审丨蔡耀远",
            "",
            "版权与免责声明:本文内容转载自其他媒体,不代表本网观点。",
        ]
        + related
    )
    copy = archived_item_to_item("copy.txt", read_archived_item(page))
    for url in (AGGREGATOR_URL + "a.html", "https://unknown-aggregator.example/a.html"):
        adapter = adapter_for(url)
        article = adapter.adapt(copy, "趣看热点", FETCHED)
        assert article.text == original.text, adapter.name
        assert article.title == original.title
        assert article.original_source == "国际在线"
