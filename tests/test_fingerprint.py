"""The vectorised fingerprint returns exactly what the simhash package returns."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simhash import Simhash

from monitor.dedup import Features
from monitor.dedup import features as features_module
from monitor.dedup.features import (
    MIN_SENTENCE_CHARS,
    NUMERALS,
    SHINGLE_WIDTH,
    UNITS,
    arabic,
    sentence_hash,
    small_hash,
)
from monitor.dedup.fingerprint import common, feature_hash, fingerprint, shingle_hashes
from monitor.textnorm import fold, nfkc, normalize, simplified_characters

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
TEXT = st.text(alphabet=st.one_of(CJK, st.characters(codec="utf-8")), min_size=0, max_size=400)


def package_value(text: str, width: int) -> int:
    features = sorted({text[i : i + width] for i in range(max(len(text) - width + 1, 1))})
    return int(Simhash(features, f=64, hashfunc=feature_hash).value)


@settings(max_examples=300)
@given(TEXT, st.integers(2, 6))
def test_same_value_as_the_simhash_package(text: str, width: int) -> None:
    if not text:
        assert fingerprint(text, width) == 0
        return
    assert fingerprint(text, width) == package_value(text, width)


def test_same_value_on_a_real_article() -> None:
    from dedup_corpus import seed_texts

    for text in seed_texts().values():
        norm = normalize(text)
        assert fingerprint(norm, SHINGLE_WIDTH) == package_value(norm, SHINGLE_WIDTH)


def test_feature_hash_agrees_with_the_vectorised_hashes() -> None:
    text = "韩日军情协定将完全恢复正常abc"
    expected = sorted({feature_hash(text[i : i + 3].encode()) for i in range(len(text) - 2)})
    assert [int(h) for h in shingle_hashes(text, 3)] == expected


# The plain definition of what `Features.of` computes, one sentence at a time.
_END = re.compile(r"[。!?;\n:、]+|[.,](?!\d)")
_NON_WORD_BUT_BREAK = re.compile(r"[^\w\n]+|_+")


def in_digits(sentence: str) -> str:
    """Chinese numerals before a unit as digits, but for 一 alone."""
    pattern = f"([{NUMERALS}]+)(?=[{UNITS}])"
    return re.sub(pattern, lambda m: m[1] if m[1] == "一" else arabic(m[1]), sentence)


def reference(text: str) -> tuple[str, dict[int, int], dict[int, int]]:
    parts = _NON_WORD_BUT_BREAK.sub("", _END.sub("\n", fold(text))).split("\n")
    sentences = {sentence_hash(p): len(p) for p in parts if len(p) >= MIN_SENTENCE_CHARS}
    figures = {}
    for part in parts:
        written = in_digits(part)
        if len(part) >= MIN_SENTENCE_CHARS and re.search(r"\d", written):
            digits = " ".join(re.findall(r"\d+", written))
            figures[small_hash(re.sub(r"\d+", "#", written))] = small_hash(digits)
    return "".join(parts), sentences, figures


MIXED = st.text(
    alphabet=st.one_of(
        CJK,
        st.sampled_from("。！？；.,，、 \n1234567890ＡＢＣ軟體記憶體川普"),
        st.sampled_from("一二两十百千万點点〇级例年架"),
        st.characters(codec="utf-8"),
    ),
    max_size=300,
)


@settings(max_examples=300)
@given(MIXED)
def test_vectorised_features_equal_the_plain_definition(text: str) -> None:
    norm, sentences, figures = reference(text)
    features = Features.of(text)
    assert features.normalized_length == len(norm)
    assert features.text_hash == Features.of(norm).text_hash
    assert features.sentences == sentences
    assert features.figures == figures
    assert features.simhash == (package_value(norm, SHINGLE_WIDTH) if norm else 0)


@settings(max_examples=200)
@given(MIXED)
def test_shingles_recomputed_after_pickling_equal_those_computed_with_the_fingerprint(
    text: str,
) -> None:
    features = Features.of(text)
    carried = pickle.loads(pickle.dumps(features))
    assert "shingles" not in carried.__dict__  # not sent between processes
    assert (carried.simhash, carried.sentences) == (features.simhash, features.sentences)
    assert carried.shingles.every.tolist() == features.shingles.every.tolist()


def described(features: Features) -> tuple[object, ...]:
    return (
        features.normalized_length, features.text_hash, features.simhash, features.sentences,
        features.figures, features.text, features.width, features.shingles.every.tolist(),
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(MIXED, max_size=8), st.integers(1, 400))
def test_texts_taken_together_get_the_features_each_gets_alone(
    texts: list[str], batch_chars: int
) -> None:
    """Sentences, shingles and figures never run from one text into the next, also
    where a text ends with a full stop and the next starts with a digit, and
    wherever the batches are cut."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(features_module, "BATCH_CHARS", batch_chars)
        together = Features.of_many(texts)
    assert [described(f) for f in together] == [described(Features.of(t)) for t in texts]


def test_a_full_stop_ending_one_text_and_a_digit_starting_the_next() -> None:
    texts = [
        "韩国国防部着手进入恢复协定正常化所需程序3.",
        "5月17日双方举行了第二轮会谈并发表声明。",
    ]
    together = Features.of_many(texts)
    assert [described(f) for f in together] == [described(Features.of(t)) for t in texts]
    assert all(f.sentences for f in together)


def test_a_repeated_sentence_is_kept_once_where_it_first_comes() -> None:
    """Within one text only: the index needs each item's sentences distinct."""
    a, b = "韩国国防部着手进入恢复协定正常化所需程序", "双方举行了第二轮会谈并发表联合声明全文"
    first, second = Features.of_many([f"{a}。{b}。{a}。", f"{b}。{a}。"])
    hashes = [sentence_hash(a), sentence_hash(b)]
    assert np.frombuffer(first.sentence_hashes, "<i8").tolist() == hashes
    assert np.frombuffer(second.sentence_hashes, "<i8").tolist() == hashes[::-1]
    assert first.sentence_chars == len(a) + len(b) == second.sentence_chars
    assert first.sentences == {hashes[0]: len(a), hashes[1]: len(b)}


# Characters whose folding depends on their neighbours or gives several: marks,
# Hangul jamo and syllables, the capital sigma, ligatures, the dotted capital I.
TRICKY = st.sampled_from(
    "e\u0301\u0308\u0b3e\u09be\u1100\u1161\u11a8\uac00\u3131\u314fΣΟΔΟΣ σ İ ﬁ ㎏ ½ Ａｂ１，（）：…"
)


@settings(max_examples=500)
@given(
    st.lists(
        st.text(alphabet=st.one_of(CJK, TRICKY, st.characters(codec="utf-8")), max_size=60),
        max_size=6,
    )
)
def test_folding_by_table_gives_what_folding_each_text_gives(texts: list[str]) -> None:
    _, codes, bounds = features_module.folded_code_points(texts)
    for i, text in enumerate(texts):
        own = codes[bounds[i] : bounds[i + 1]].astype("<u4").tobytes().decode("utf-32-le")
        assert own == nfkc(text).lower().translate(simplified_characters())


@given(
    st.sets(st.integers(0, 2**64 - 1), max_size=60), st.sets(st.integers(0, 2**64 - 1), max_size=60)
)
def test_common_counts_what_intersect1d_finds(a: set[int], b: set[int]) -> None:
    left = np.array(sorted(a), dtype=np.uint64)
    right = np.array(sorted(b | set(list(a)[: len(a) // 2])), dtype=np.uint64)
    expected = len(np.intersect1d(left, right, assume_unique=True))
    assert common(left, right) == expected == common(right, left)
