"""Near-duplicate decisions as pure functions, and the labelled set's accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Backend
from dedup_corpus import (
    cluster_score,
    clusters,
    clusters_in_batches,
    corpus,
    evaluate,
    partition,
    reposts,
    seed_texts,
    templates,
)
from hypothesis import given
from hypothesis import strategies as st
from postgres import database

from monitor.dedup import Candidate, Features
from monitor.dedup.rules import MIN_TEXT_CHARS, best_match, blocks, hamming
from monitor.figures import figures_differ
from monitor.store import Storage
from monitor.textnorm import normalize


def candidate(stored: str) -> Candidate:
    f = Features.of(stored)
    return Candidate(1, 10, f.simhash, f.normalized_length, f.figures, f.shingles)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return seed_texts()


def test_normalize_folds_width_case_punctuation_and_traditional() -> None:
    assert normalize("ＡＢＣ，１２３！ Hello,  World") == normalize("abc,123! hello world")
    assert normalize("“韩日军情协定”将完全恢复正常。") == "韩日军情协定将完全恢复正常"
    assert normalize("川普政府的軟體計畫與記憶體") == normalize("特朗普政府的软件计划与内存")


def test_a_simplified_copy_of_a_taiwanese_text_folds_as_the_text() -> None:
    """Outlets carrying a Taiwanese report in Simplified characters keep its words:
    folded by Taiwan's phrase tables (新增→添加, 甘比亚→冈比亚, 社群→社区), the
    original differed from the copy in most sentences."""
    taiwanese = "甘比亞副總統確診，巴羅透過社群媒體表示，台灣今天新增3例，隨著疫情升溫"
    copy = "甘比亚副总统确诊，巴罗透过社群媒体表示，台湾今天新增3例，随着疫情升温"
    assert normalize(taiwanese) == normalize(copy)
    assert normalize("隨著") == normalize("随着") == normalize("随著")


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize("way", ["chrome", "traditional", "cut_40", "new_lead", "edited", "flash"])
def test_each_way_of_reposting_is_caught(texts: dict[str, str], way: str) -> None:
    for prefix, text in texts.items():
        new = Features.of(reposts(text)[way])
        assert best_match(new, [candidate(text)], 3) is not None, (prefix, way)


def test_small_edits_match_by_fingerprint(texts: dict[str, str]) -> None:
    new = Features.of(reposts(texts["001"])["expanded"])
    match = best_match(new, [candidate(texts["001"])], 3)
    assert match is not None and match.reason.startswith("simhash distance")


def test_distinct_articles_on_one_subject_stay_apart(texts: dict[str, str]) -> None:
    # 000 and 002 report the same event (韩日军情协定, March 2023); 001 and 004 are
    # both about Russia and North Korea. All different articles.
    for a, b in [("000", "002"), ("001", "004"), ("003", "004"), ("000", "003")]:
        assert best_match(Features.of(texts[b]), [candidate(texts[a])], 3) is None
        assert hamming(Features.of(texts[a]).simhash, Features.of(texts[b]).simhash) > 20


def test_template_stories_differing_in_figures_never_merge() -> None:
    docs = templates()
    for a in docs:
        for b in docs:
            if a.name != b.name and a.name.split("_")[0] == b.name.split("_")[0]:
                assert figures_differ(Features.of(a.text).figures, Features.of(b.text).figures)
                assert best_match(Features.of(b.text), [candidate(a.text)], 3) is None


def test_one_updated_figure_among_many_is_still_the_same_article(texts: dict[str, str]) -> None:
    text = texts["004"]
    updated = text.replace("50亿美元", "55亿美元", 1)
    assert updated != text
    assert best_match(Features.of(updated), [candidate(text)], 3) is not None


def test_short_texts_are_never_merged_on_similarity() -> None:
    title = "韩日全面恢复军事情报共享"
    assert len(normalize(title)) < MIN_TEXT_CHARS
    assert best_match(Features.of(title), [candidate(title)], 3) is None


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
    rebuilt, shift = 0, 0
    for index, part in enumerate(parts):
        width = round((index + 1) * 64 / count) - round(index * 64 / count)
        rebuilt |= part << shift
        shift += width
    assert rebuilt == value


def test_labelled_set_pairwise_accuracy() -> None:
    """Target: precision 1.00 and recall >= 0.975 over all pairs of the labelled set,
    and every repost found from its original.

    The pairs missed are of two copies made different ways, one without the
    original's lead (`new_lead`, `attributed_lead`, a chrome page's furniture
    first) and one without much of its body (`condensed`, `flash`): each adds at
    its top what the other lacks, as a follow-up would (`rules.overlap`). Stored
    with their original, they join its story (`test_labelled_set_through_storage`).
    """
    score = evaluate(corpus())
    assert score.false_merges == []
    assert score.precision == 1.0
    assert score.recall >= 0.975, score.missed
    assert not [pair for pair in score.missed if "/original" in pair[0] + pair[1]]


@pytest.mark.parametrize("order", ["as built", "reversed"])
def test_labelled_set_through_storage(order: str, backend: Backend) -> None:
    """The same set stored one by one through the database: candidates come from the index."""
    docs = corpus()
    if order == "reversed":
        docs.reverse()
    target = backend.target if isinstance(backend.target, str) else backend.target.parent
    score = cluster_score(docs, clusters(docs, target))
    assert score.precision == 1.0, score.false_merges
    assert score.recall >= 0.98, score.missed


def test_a_feed_stored_at_once_makes_the_stories_stored_one_by_one_make(
    backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Batched look-ups and writes decide exactly as item-by-item storing: reposts of an
    item earlier in the same batch included (batches of 7 mix them)."""
    docs = corpus()
    if isinstance(backend.target, Path):
        batched = clusters_in_batches(docs, backend.target.parent, batch=7)
        (tmp_path / "one-by-one").mkdir()
        one_by_one = clusters(docs, tmp_path / "one-by-one")
    else:
        batched = clusters_in_batches(docs, backend.target, batch=7)
        with database(request.getfixturevalue("postgres_server")) as url:
            Storage(url, migrate=True).close()
            one_by_one = clusters(docs, url)
    assert cluster_score(docs, batched).precision == 1.0
    assert partition(batched) == partition(one_by_one)
