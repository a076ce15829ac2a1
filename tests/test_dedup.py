from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from simhash import Simhash

from monitor.adapters import GENERIC
from monitor.archive import read_archived_item
from monitor.dedup import (
    MIN_TEXT_CHARS,
    Candidate,
    Features,
    best_match,
    blocks,
    fingerprint,
    hamming,
    normalize,
    shingles,
)
from monitor.models import Item

ARTICLE = "\n".join(
    [
        "据韩国媒体报道，韩国国防部3月17日着手进入恢复《韩日军事情报保护协定》正常化所需程序。",
        "据政府相关人士消息，韩国国防部当天下午已向外交部发送公文，要求启动军情协定正常化所需程序。",
        "韩国总统尹锡悦日前表示，“韩日军情协定”将完全恢复正常。",
        "据了解，作为对韩国法院判被日强征劳工索赔胜诉的报复措施，日本政府于2019年7月宣布限制对韩出口3种关键半导体材料。",
        "中央广播电视总台环球资讯广播军事评论员魏东旭解读称，韩国着手恢复协定，是支持美国打造军事同盟小圈子的举动。",
    ]
)
OTHER = "\n".join(
    [
        "朝鲜领导人金正恩继续他对俄罗斯的特殊访问，周五上午参观了多家航空工厂，特别是生产战斗机的工厂。",
        "俄罗斯新闻稿中称，金正恩周五在俄罗斯远东阿穆尔河畔共青城参观了尤里-加加林航空制造厂。",
        "克里姆林宫发言人周五表示：金正恩访问俄罗斯期间没有签署任何协议。这也不在计划中。",
    ]
)
CHROME = "\n".join(
    ["关闭广告", "国际在线14271人阅读"] + [f"相关新闻标题第{i}条 浏览 {i * 37}" for i in range(20)]
)


def candidate(stored: str, new: Features, item_id: int = 1) -> Candidate:
    old = Features.of(stored)
    shared = sum(n for h, n in new.paragraphs.items() if h in old.paragraphs)
    return Candidate(
        item_id, item_id * 10, old.simhash, old.normalized_length, old.paragraph_chars, shared
    )


def test_normalize_folds_width_case_and_punctuation() -> None:
    assert normalize("ＡＢＣ，１２３！ Hello,  World") == normalize("abc,123! hello world")
    assert normalize("“韩日军情协定”将完全恢复正常。") == "韩日军情协定将完全恢复正常"


def test_fingerprint_is_the_simhash_package_value() -> None:
    norm = normalize(ARTICLE)
    assert fingerprint(norm) == Simhash(sorted(shingles(norm)), f=64).value


def test_half_width_copy_is_the_same_article() -> None:
    copy = ARTICLE.replace("，", ",").replace("。", ".").replace("“", '"').replace("”", '"')
    new = Features.of(copy)
    assert new.text_hash == Features.of(ARTICLE).text_hash
    assert hamming(new.simhash, Features.of(ARTICLE).simhash) == 0


def test_aggregator_page_matches_by_containment() -> None:
    page = Features.of(CHROME + "\n" + ARTICLE + "\n版权与免责声明:本文内容转载自其他媒体")
    match = best_match(page, [candidate(ARTICLE, page)], max_distance=3)
    assert match is not None and match.story_id == 10
    assert match.reason.startswith("paragraph containment")
    # ...and the other way round: the original arriving after the aggregator copy.
    original = Features.of(ARTICLE)
    assert best_match(original, [candidate(CHROME + "\n" + ARTICLE, original)], 3) is not None


def test_cut_tail_matches() -> None:
    short = "\n".join(ARTICLE.split("\n")[:4])
    new = Features.of(short)
    assert best_match(new, [candidate(ARTICLE, new)], 3) is not None


def seed_text(prefix: str) -> str:
    path = next((Path(__file__).parent / "fixtures" / "seeds").glob(f"{prefix}_*.txt"))
    archived = read_archived_item(path.read_text(encoding="utf-8"))
    item = Item("g", archived.url, archived.title, None, (), archived.body)
    return GENERIC.adapt(item, "s", datetime.now(UTC)).text


@pytest.mark.parametrize("seed", ["000", "001", "003", "004"])
def test_edits_in_many_paragraphs_match_by_simhash(seed: str) -> None:
    """One character changed in each of the first eight paragraphs: no paragraph is
    shared verbatim any more, but the fingerprint moves at most 3 bits."""
    text = seed_text(seed)
    edited = "\n".join(
        p[:10] + "某" + p[11:] if len(p) > 40 and i < 8 else p
        for i, p in enumerate(text.split("\n"))
    )
    new = Features.of(edited)
    match = best_match(new, [candidate(text, new)], 3)
    assert match is not None and match.reason.startswith("simhash distance")


def test_different_seeds_stay_far_apart() -> None:
    prints = {seed: Features.of(seed_text(seed)).simhash for seed in ("000", "001", "003", "004")}
    distances = [
        hamming(a, b) for i, a in enumerate(prints.values()) for b in list(prints.values())[i + 1 :]
    ]
    assert min(distances) > 10


def test_different_articles_do_not_match() -> None:
    new = Features.of(OTHER)
    assert hamming(new.simhash, Features.of(ARTICLE).simhash) > 10
    assert best_match(new, [candidate(ARTICLE, new)], 3) is None


def test_two_articles_sharing_only_chrome_do_not_match() -> None:
    a = Features.of(CHROME + "\n" + ARTICLE)
    assert best_match(a, [candidate(CHROME + "\n" + OTHER, a)], 3) is None


def test_short_texts_are_never_merged_on_similarity() -> None:
    title = "韩日全面恢复军事情报共享"
    assert len(normalize(title)) < MIN_TEXT_CHARS
    new = Features.of(title)
    assert best_match(new, [candidate(title, new)], 3) is None


@given(st.integers(min_value=0, max_value=2**64 - 1), st.sets(st.integers(0, 63), max_size=3))
def test_pigeonhole_blocks_find_every_fingerprint_within_distance(
    value: int, flips: set[int]
) -> None:
    other = value
    for bit in flips:
        other ^= 1 << bit
    assert any(a == b for a, b in zip(blocks(value, 4), blocks(other, 4), strict=True))


@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(1, 16))
def test_blocks_cover_all_bits(value: int, count: int) -> None:
    parts = blocks(value, count)
    assert len(parts) == count
    rebuilt, shift = 0, 0
    for index, part in enumerate(parts):
        width = round((index + 1) * 64 / count) - round(index * 64 / count)
        rebuilt |= part << shift
        shift += width
    assert rebuilt == value


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
