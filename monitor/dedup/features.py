"""What dedup knows about a text, computed in a few vectorised passes.

From the folded text (`textnorm.fold`) one pass over its code points finds
the letters and digits (the normalised text), the sentence ends, and the
digits; from those come the text hash, the shingle hashes and the simhash
(`fingerprint`), the hash and length of every sentence, and the figures of
sentences that have digits or Chinese numerals before a unit. Doing this per
sentence in Python cost ~250 µs for a 3,000-character article; vectorised it
is a fraction of that (benchmarks/dedup.py). `reference` in tests/test_fingerprint.py is the
plain-Python definition this must equal, checked there on random text.

A feed's texts go through these passes together (`Features.of_many`), as one
concatenation in which every text starts a sentence and no shingle crosses
from one text into the next; the tests check that each text gets exactly the
features it gets alone.

A sentence hash is position-independent: ``sum(code[j] * R**j) mod 2**64``
over the sentence's characters, computed for all sentences at once from one
prefix sum, then finished with splitmix64 together with the length.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from ..textnorm import TAIWAN_WORDS, fold_characters, simplified_characters, taiwan_words
from .fingerprint import (
    BITS,
    MASK,
    distinct,
    fingerprint_of_hashes,
    shingle_hashes,
    splitmix,
    splitmix_array,
    window_hashes,
)

SHINGLE_WIDTH = 3
LEAD_CHARS = 200
"""How much of a normalised text is its lead: about the first paragraph or two."""
LEAD_LINE_CHARS = 30
"""Lines shorter than this above the first longer one are not the lead but its
furniture (a title, a byline, "关闭广告", a page's related links)."""
BATCH_CHARS = 16_000
MIN_SENTENCE_CHARS = 10
# "Sentences" are clauses: cut at commas and colons too. Two outlets carrying one
# wire story differ in a word, a name's spelling or a dateline in most of its
# sentences but share most of its clauses: of the 324 real copies labelled in
# benchmarks/labels, 239 shared a tenth of their sentences, 301 of their clauses.
# A comma or a full stop ends one unless a digit follows ("6,700", "7.1234",
# "，2020年"), as `boilerplate` cuts a raw text's clauses (`_classify`).
SENTENCE_ENDS = "。!?;\n:、"
_R = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
_R_INVERSE = pow(_R, -1, 1 << 64)
_DIGITS = re.compile(r"\d+")
_NOT_DIGITS = re.compile(r"[^\d\x00]+")  # within sentences joined by NULs (never in them)
# Figures in words: Chinese numerals before a unit of count, magnitude or date
# ("六点四级", "两架", "二〇二〇年", "十一月"), read as the digits a copy may write.
NUMERALS = "〇零一二两三四五六七八九十百千万亿点"
UNITS = "年月日天周岁时人名例架艘级度倍次起枚座项条家所"
_NUMERAL_WORDS = re.compile(f"([{NUMERALS}]+)(?=[{UNITS}])")
_NUMERAL_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_NUMERAL_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_GROUPS = {"万": 10**4, "亿": 10**8}


WORD, DECIMAL, END, WORD_START, NUMERAL, UNIT = 1, 2, 4, 8, 16, 32


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """For every BMP code point, flags: letter or digit, decimal digit, sentence end,
    first character of one of Taiwan's words. Built once, in ~15 ms."""
    chars = [chr(i) for i in range(0x10000)]
    table = np.fromiter((c.isalnum() for c in chars), dtype=np.uint8, count=0x10000) * WORD
    table |= np.fromiter((c.isdecimal() for c in chars), dtype=np.uint8, count=0x10000) * DECIMAL
    table[[ord(c) for c in SENTENCE_ENDS]] |= END
    table[[ord(word[0]) for word in TAIWAN_WORDS]] |= WORD_START
    table[[ord(c) for c in NUMERALS]] |= NUMERAL
    table[[ord(c) for c in UNITS]] |= UNIT
    return table


def warm_up() -> None:
    """Build the character tables now (~80 ms): a worker process does it while the
    run's first feeds are still being fetched, rather than with the first one."""
    _table()
    _expanding()


def _flags(codes: np.ndarray) -> np.ndarray:
    if not len(codes) or codes.max() < 0x10000:
        flags: np.ndarray = _table()[codes]
        return flags
    flags = _table()[np.where(codes < 0x10000, codes, 0)]
    for position in np.flatnonzero(codes >= 0x10000):
        char = chr(int(codes[position]))
        flags[position] = WORD * char.isalnum() | DECIMAL * char.isdecimal()
    return flags


def _classify(flags: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    word = (flags & WORD).astype(bool)
    decimal = (flags & DECIMAL).astype(bool)
    end = (flags & END).astype(bool)
    # A full stop or a comma ends a sentence unless a digit follows it (7.1234, 6,700).
    dots = np.flatnonzero((codes == ord(".")) | (codes == ord(",")))
    if len(dots):
        following = np.append(decimal[1:], False)[dots]
        end[dots[~following]] = True
    return word, decimal, end


_POWERS: tuple[np.ndarray, np.ndarray] = (np.ones(0, np.uint64), np.ones(0, np.uint64))


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """R**i and R**-i modulo 2**64 for i < length, kept for the next text."""
    global _POWERS
    if len(_POWERS[0]) < length:
        size = max(length, 2 * len(_POWERS[0]), 4096)
        powers = np.full(size, _R, dtype=np.uint64)
        inverse = np.full(size, _R_INVERSE, dtype=np.uint64)
        powers[0] = inverse[0] = 1
        _POWERS = (np.cumprod(powers), np.cumprod(inverse))
    return _POWERS[0][:length], _POWERS[1][:length]


def small_hash(text: str) -> int:
    """The 32-bit hash of a figure's shape or digits."""
    return zlib.crc32(text.encode())


def sentence_hash(sentence: str) -> int:
    """The hash `Features` gives a normalised sentence, one at a time (for tests)."""
    total, power = 0, 1
    for char in sentence:
        total = (total + ord(char) * power) & MASK
        power = (power * _R) & MASK
    value = splitmix((total + len(sentence) * _R) & MASK)
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True, eq=False)
class Features:
    """Everything dedup needs to know about one article's text."""

    normalized_length: int
    text_hash: str
    simhash: int
    sentence_hashes: bytes
    """The hash of every distinct sentence of at least `MIN_SENTENCE_CHARS`, as
    little-endian 64-bit integers: as the index stores them (`dedup.index.pack`).
    Bytes cross from a worker process at a twentieth of a dictionary's cost."""
    sentence_lengths: bytes
    """Their lengths, as little-endian 32-bit integers."""
    sentence_chars: int
    """The sum of their lengths."""
    figures: dict[int, int]
    """Shape (digits masked) → digits, for each such sentence that has digits."""
    text: str
    """The text these are the features of."""
    width: int = SHINGLE_WIDTH
    title: str = ""
    """The article's headline: where containment alone is not enough evidence,
    the headlines must agree too (`rules.decide`)."""

    @property
    def sentences(self) -> dict[int, int]:
        """Hash → length of each sentence."""
        hashes = np.frombuffer(self.sentence_hashes, dtype="<i8").tolist()
        lengths = np.frombuffer(self.sentence_lengths, dtype="<i4").tolist()
        return dict(zip(hashes, lengths, strict=True))

    @cached_property
    def shingles(self) -> Shingles:
        """The text's shingles and its lead's, to confirm a candidate (`rules.overlap`).

        Computed when first needed, not carried from a worker process to the
        main one (see `__getstate__`): they were half of a prepared feed's bytes
        and most of its unpickling, and only the few items that share sentences
        with another are ever compared.
        """
        return shingles_of(self.text, self.width)

    def __getstate__(self) -> dict[str, Any]:
        # `text` is the article's own string object: pickled once, for both.
        return {name: value for name, value in self.__dict__.items() if name != "shingles"}

    def knowing(self, shingles: Shingles) -> Features:
        """These features, their shingles already computed elsewhere (`compared_many`)."""
        self.__dict__["shingles"] = shingles
        return self

    @classmethod
    def of(cls, text: str, width: int = SHINGLE_WIDTH, title: str = "") -> Features:
        return cls.of_many([text], width, [title])[0]

    @classmethod
    def of_many(
        cls, texts: Sequence[str], width: int = SHINGLE_WIDTH, titles: Sequence[str] = ()
    ) -> list[Features]:
        """The features of each of `texts`, computed in passes over many at once.

        Per text, NumPy's per-call overhead cost more than the work (45 of 80 µs
        for an 800-character article); texts are taken together up to
        `BATCH_CHARS`, beyond which the arrays outgrow the CPU's caches.
        """
        found: list[Features] = []
        if titles and len(titles) != len(texts):
            raise ValueError(f"{len(titles)} titles for {len(texts)} texts")
        titles = list(titles) or [""] * len(texts)
        start = size = 0
        for end, text in enumerate(texts):
            if size and size + len(text) > BATCH_CHARS:
                found += _features_of(cls, texts[start:end], width, titles[start:end])
                start, size = end, 0
            size += len(text)
        if start < len(texts):
            found += _features_of(cls, texts[start:], width, titles[start:])
        return found


def compared_many(
    texts: Sequence[str], titles: Sequence[str], width: int = SHINGLE_WIDTH
) -> list[tuple[Features, Shingles]]:
    """The features of texts that will all be compared, each with its shingles.

    Items decided again when a run settles (`service.settle`) have met others'
    texts: nearly all of them are compared. Their shingles are computed with
    their features, in a worker process while the run's own process decides
    the items before them, and carried back beside them (`Features.knowing`).
    """
    return [(found, found.shingles) for found in Features.of_many(texts, width, titles)]


@dataclass(frozen=True, eq=False)
class Shingles:
    """A text's distinct shingle hashes, sorted: all of them, and its lead's."""

    every: np.ndarray
    lead: np.ndarray
    """Those of its first `LEAD_CHARS` letters and digits: where a report puts its news."""


def shingles_of(text: str, width: int = SHINGLE_WIDTH) -> Shingles:
    """The shingle hashes of a text, recomputed to confirm a candidate: its folded
    letters and digits (`textnorm.normalize`) found as `Features` finds them."""
    start = 0
    for line in text.split("\n"):
        if len(line.strip()) >= LEAD_LINE_CHARS:
            break
        start += len(line) + 1
    if start >= len(text):
        start = 0
    codes, flags, _ = _fold([text])
    kept = codes[(flags & WORD).astype(bool)]
    every = _shingles_of(kept, width)
    if start:
        # Twice the lead's letters and digits are enough raw text for them.
        codes, flags, _ = _fold([text[start : start + 2 * LEAD_CHARS]])
        kept = codes[(flags & WORD).astype(bool)]
    if len(kept) <= LEAD_CHARS and not start:
        return Shingles(every, every)
    return Shingles(every, _shingles_of(kept[:LEAD_CHARS], width))


def _shingles_of(kept: np.ndarray, width: int) -> np.ndarray:
    return shingle_hashes(kept.astype("<u4").tobytes().decode("utf-32-le"), width, kept)


@lru_cache(maxsize=1)
def _fold_table() -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """For every BMP code point, what `textnorm.fold` makes of it alone (NFKC, lower
    case, Simplified) when that is one character; the characters it makes several of ("…" is
    "...", "㎏" is "kg"), by code point; and which must be folded in their text
    instead: a mark or Hangul jamo (they compose with their neighbours), a capital
    sigma (lower case depends on where it stands), one folding to marks, a
    surrogate. Built once, in ~90 ms.

    Nearly every Chinese text is not NFKC (its full-width "，（）：" are folded to
    ASCII), and `unicodedata.normalize` on it was a third of computing features;
    a lookup in this table gives the same code points at a tenth of the cost.
    """
    mapped = np.arange(0x10000, dtype=np.uint32)
    hard = np.zeros(0x10000, dtype=bool)
    expansions: dict[int, str] = {}
    simplified = simplified_characters()
    for code in range(0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or unicodedata.category(char).startswith("M"):
            hard[code] = True
            continue
        folded = unicodedata.normalize("NFKC", char).lower().translate(simplified)
        if len(folded) == 1:
            mapped[code] = ord(folded)
        elif any(unicodedata.category(part).startswith("M") for part in folded):
            hard[code] = True
        else:
            expansions[code] = folded
    for first, last in _JAMO:
        hard[first : last + 1] = True
    hard[0x03A3] = True  # Σ: σ, or ς at the end of a word
    return mapped, hard, expansions


# Hangul jamo, conjoining and compatibility: they compose into syllables.
_JAMO = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))


def folded_code_points(texts: Sequence[str]) -> tuple[list[str] | None, np.ndarray, np.ndarray]:
    """`textnorm.fold_characters` of each text, as code points end to end, and where
    each text starts; the folded texts too when some were folded as strings."""
    raw = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    bounds = np.cumsum([0] + [len(text) for text in texts])
    mapped, hard, expansions = _fold_table()
    beyond = raw > 0xFFFF
    inside = np.where(beyond, 0, raw)
    difficult = hard[inside] | beyond
    expanding = _expanding()[inside]
    if not (difficult.any() or expanding.any()):
        return None, mapped[inside].astype(np.uint64), bounds
    hard_owners = _owners(bounds, difficult)
    expanding_owners = _owners(bounds, expanding)
    # `str.replace` per character found: `str.translate` looks up every character.
    found = [chr(code) for code in distinct(raw[expanding]).tolist()]
    folded = []
    for i, text in enumerate(texts):
        if i in hard_owners:
            folded.append(fold_characters(text))
            continue
        own = mapped[inside[bounds[i] : bounds[i + 1]]].tobytes().decode("utf-32-le")
        if i in expanding_owners:
            for char in found:
                own = own.replace(char, expansions[ord(char)])
        folded.append(own)
    codes = np.frombuffer("".join(folded).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    return folded, codes, np.cumsum([0] + [len(text) for text in folded])


@lru_cache(maxsize=1)
def _expanding() -> np.ndarray:
    """Whether each BMP code point folds to several characters (`_fold_table`)."""
    flags = np.zeros(0x10000, dtype=bool)
    flags[list(_fold_table()[2])] = True
    return flags


def _owners(bounds: np.ndarray, positions: np.ndarray) -> set[int]:
    """The texts (by index; `bounds`: where each starts) holding the flagged positions."""
    if not positions.any():
        return set()
    found = np.searchsorted(bounds, np.flatnonzero(positions), side="right") - 1
    return set(distinct(found).tolist())


def _fold(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`textnorm.fold` of each text, concatenated: the code points, their flags, and
    where each text starts (one lookup finds the texts that may hold Taiwan's
    words)."""
    known, codes, bounds = folded_code_points(texts)
    flags = _flags(codes)
    marks = flags & WORD_START
    if not marks.any():
        return codes, flags, bounds
    folded = known or [
        codes[bounds[i] : bounds[i + 1]].astype("<u4").tobytes().decode("utf-32-le")
        for i in range(len(texts))
    ]
    converted = False
    for i in distinct(np.searchsorted(bounds, np.flatnonzero(marks), side="right") - 1).tolist():
        if any(word in folded[i] for word in TAIWAN_WORDS):
            folded[i] = taiwan_words(folded[i])
            converted = True
    return _code_points(folded) if converted else (codes, flags, bounds)


def _code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts' code points end to end, their flags, and where each text starts."""
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    return codes, _flags(codes), np.cumsum([0] + [len(text) for text in texts])


def _features_of(
    cls: type[Features], texts: Sequence[str], width: int, titles: Sequence[str]
) -> list[Features]:
    codes, flags, bounds = _fold(texts)
    word, decimal, end = _classify(flags, codes)
    kept = codes[word]
    starts = np.concatenate(([0], np.cumsum(word)))[bounds]  # of each text, in `kept`
    lengths = np.diff(starts)
    norm = kept.astype("<u4").tobytes().decode("utf-32-le")
    shingles, prints = _shingles(kept, norm, starts, width)
    sentence_of = np.cumsum(end)[word]
    first = np.concatenate(([True], sentence_of[1:] != sentence_of[:-1]))
    first[starts[:-1][lengths > 0]] = True  # each text starts a sentence
    figures = decimal[word] | _numeral_words(flags[word], kept)
    sentences = _sentences(kept, norm, np.flatnonzero(first), figures, starts)
    found = []
    for i, text in enumerate(texts):
        own = norm[starts[i] : starts[i + 1]]
        features = cls(
            normalized_length=len(own),
            text_hash=hashlib.blake2b(own.encode(), digest_size=16).hexdigest(),
            simhash=prints[i],
            sentence_hashes=sentences[i][0],
            sentence_lengths=sentences[i][1],
            sentence_chars=sentences[i][2],
            figures=sentences[i][3],
            text=text,
            width=width,
            title=titles[i],
        )
        found.append(features)
    return found


def _shingles(
    kept: np.ndarray, norm: str, starts: np.ndarray, width: int
) -> tuple[list[np.ndarray], list[int]]:
    """Each text's sorted distinct shingle hashes and its fingerprint."""
    lengths = np.diff(starts)
    shingles: list[np.ndarray] = [np.empty(0, dtype=np.uint64)] * len(lengths)
    prints = [0] * len(lengths)
    # A text of at most `width` letters is one shingle of its own length.
    for i in np.flatnonzero((lengths > 0) & (lengths <= width)).tolist():
        a, b = starts[i], starts[i + 1]
        shingles[i] = shingle_hashes(norm[a:b], width, kept[a:b])
        prints[i] = fingerprint_of_hashes(shingles[i])
    longer = np.flatnonzero(lengths > width).tolist()
    if not longer:
        return shingles, prints
    runs = window_hashes(kept, width)
    hashes = splitmix_array(
        np.concatenate([runs[starts[i] : starts[i + 1] - width + 1] for i in longer])
    )
    edges = np.cumsum([0] + [lengths[i] - width + 1 for i in longer]).tolist()
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        hashes[a:b].sort()
    keep = np.zeros(len(hashes), dtype=bool)
    keep[edges[:-1]] = True
    keep[1:] |= hashes[1:] != hashes[:-1]
    distinct = hashes[keep]
    firsts = np.cumsum(keep)[edges[:-1]] - 1
    sizes = np.diff(np.append(firsts, len(distinct)))
    bits = np.unpackbits(distinct.astype(">u8").view(np.uint8)).reshape(-1, BITS)
    bits = bits.astype(np.float32)
    ones = np.ones(sizes.max(), dtype=np.float32)
    # Bit k is set when more than half of the hashes have bit k set. A float32
    # product counts exactly up to 2**24 hashes and is the fastest sum here.
    spans = list(zip(firsts.tolist(), sizes.tolist(), strict=True))
    counts = np.stack([ones[:size] @ bits[a : a + size] for a, size in spans])
    packed = np.packbits(counts > (sizes / 2)[:, None], axis=1)
    for n, (i, (a, size)) in enumerate(zip(longer, spans, strict=True)):
        shingles[i] = distinct[a : a + size]
        prints[i] = int.from_bytes(packed[n].tobytes(), "big")
    return shingles, prints


def _numeral_words(flags: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Where a run of Chinese numerals ends before a unit (`_NUMERAL_WORDS`), but
    for 一 alone (`_in_digits`): most sentences have one, few have a figure."""
    numeral = (flags & NUMERAL).astype(bool)
    found: np.ndarray = numeral & np.append((flags[1:] & UNIT).astype(bool), False)
    alone = (kept == ord("一")) & ~np.concatenate(([False], numeral[:-1]))
    found &= ~alone
    return found


def arabic(numerals: str) -> str:
    """A run of Chinese numerals as the digits a copy would write: 六十二 is 62,
    二〇二〇 2020, 三千五百万 35000000; 六点四 is 64, as "6.4" is once normalised
    (letters and digits only). The run as it is when it holds no number."""
    whole, _, fraction = numerals.strip("点").partition("点")
    if not whole or any(c not in _NUMERAL_DIGITS for c in fraction.replace("点", "")):
        return numerals
    if len(whole) > 1 and all(c in _NUMERAL_DIGITS for c in whole):
        value = "".join(str(_NUMERAL_DIGITS[c]) for c in whole)  # 二〇二〇: digit by digit
    else:
        total = group = digit = 0
        for c in whole:
            if c in _NUMERAL_DIGITS:
                digit = _NUMERAL_DIGITS[c]
            elif c in _NUMERAL_UNITS:
                group += (digit or 1) * _NUMERAL_UNITS[c]
                digit = 0
            elif c in _NUMERAL_GROUPS:
                total += (group + digit) * _NUMERAL_GROUPS[c]
                group = digit = 0
            else:
                return numerals
        value = str(total + group + digit)
    return value + "".join(str(_NUMERAL_DIGITS[c]) for c in fraction.replace("点", ""))


def _in_digits(match: re.Match[str]) -> str:
    run = match.group(1)
    return run if run == "一" else arabic(run)  # 一 alone is mostly an article: 一名, 一次


def _sentences(
    kept: np.ndarray, norm: str, starts: np.ndarray, figures: np.ndarray, texts: np.ndarray
) -> list[tuple[bytes, bytes, int, dict[int, int]]]:
    """Each text's distinct sentences (hashes and lengths, packed as `Features`
    holds them, and the sum of the lengths) and figures (shape → digits), from the
    sentence starts over all texts (`texts`: where each text starts in `kept`)."""
    found: list[tuple[bytes, bytes, int, dict[int, int]]] = [(b"", b"", 0, {}) for _ in texts[1:]]
    stops = np.append(starts[1:], len(kept))
    lengths = stops - starts
    chosen = lengths >= MIN_SENTENCE_CHARS
    starts, stops, lengths = starts[chosen], stops[chosen], lengths[chosen]
    if not len(starts):
        return found
    powers, inverse = _powers(len(kept))
    prefix = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(kept * powers)))
    x = (prefix[stops] - prefix[starts]) * inverse[starts]
    x = x + lengths.astype(np.uint64) * np.uint64(_R)
    values = splitmix_array(x).view(np.int64)
    owner = np.searchsorted(texts, starts, side="right") - 1
    # A sentence a text repeats is kept once, where it first comes.
    order = np.lexsort((values, owner))  # stable: of equal ones, the first comes first
    repeated = (values[order][1:] == values[order][:-1]) & (owner[order][1:] == owner[order][:-1])
    first = np.ones(len(values), dtype=bool)
    first[order[1:][repeated]] = False
    packed = values[first].astype("<i8").tobytes()
    sizes = lengths[first].astype("<i4")
    chars = np.concatenate(([0], np.cumsum(sizes))).tolist()
    edges = np.searchsorted(owner[first], np.arange(len(texts))).tolist()  # first of each text
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        if a < b:
            found[i] = (packed[8 * a : 8 * b], sizes[a:b].tobytes(), chars[b] - chars[a], {})
    figures_before = np.concatenate(([0], np.cumsum(figures)))
    with_figures = np.flatnonzero(figures_before[stops] - figures_before[starts] > 0)
    if len(with_figures):
        # The sentences are read in words and masked together, joined by NULs (a
        # normalised text has none): one call of each regex, not three a sentence,
        # and CRC-32 for the hashes, took figures from a fifth of the features' time
        # to a tenth.
        spans = zip(starts[with_figures].tolist(), stops[with_figures].tolist(), strict=True)
        joined = _NUMERAL_WORDS.sub(_in_digits, "\0".join(norm[a:b] for a, b in spans))
        shapes = _DIGITS.sub("#", joined).split("\0")
        digits = _NOT_DIGITS.sub(" ", joined).split("\0")
        for i, shape, figure in zip(owner[with_figures].tolist(), shapes, digits, strict=True):
            if figure := figure.strip():
                found[i][3][small_hash(shape)] = small_hash(figure)
    return found
