"""What dedup knows about a text, computed in a few vectorised passes.

From the folded text (`textnorm.fold`) one pass over its code points finds
the letters and digits (the normalised text), the sentence ends, and the
digits; from those come the text hash, the shingle hashes and the simhash
(`fingerprint`), the hash and length of every sentence, and the figures of
sentences that have digits. Doing this per sentence in Python cost ~250 µs for
a 3,000-character article; vectorised it is a fraction of that
(benchmarks/dedup.py). `reference_sentences` in the tests is the plain-Python
definition this must equal, checked there on random text.

A sentence hash is position-independent: ``sum(code[j] * R**j) mod 2**64``
over the sentence's characters, computed for all sentences at once from one
prefix sum, then finished with splitmix64 together with the length.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from .fingerprint import MASK, fingerprint_of_hashes, shingle_hashes, splitmix, splitmix_array
from .textnorm import TAIWAN_NAMES, nfkc, normalize, to_simplified, traditional_characters

SHINGLE_WIDTH = 3
MIN_SENTENCE_CHARS = 10
SENTENCE_ENDS = "。!?;\n"
_R = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
_R_INVERSE = pow(_R, -1, 1 << 64)
_DIGITS = re.compile(r"\d+")


WORD, DECIMAL, END, TRADITIONAL, NAME_START = 1, 2, 4, 8, 16


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """For every BMP code point, flags: letter or digit, decimal digit, sentence end,
    Traditional character, first character of a Taiwan name. Built once, in ~15 ms."""
    chars = [chr(i) for i in range(0x10000)]
    table = np.fromiter((c.isalnum() for c in chars), dtype=np.uint8, count=0x10000) * WORD
    table |= np.fromiter((c.isdecimal() for c in chars), dtype=np.uint8, count=0x10000) * DECIMAL
    table[[ord(c) for c in SENTENCE_ENDS]] |= END
    table[[ord(c) for c in traditional_characters()]] |= TRADITIONAL
    table[[ord(name[0]) for name in TAIWAN_NAMES]] |= NAME_START
    return table


def _flags(codes: np.ndarray) -> np.ndarray:
    if not len(codes) or codes.max() < 0x10000:
        flags: np.ndarray = _table()[codes]
        return flags
    flags = _table()[np.where(codes < 0x10000, codes, 0)]
    for position in np.flatnonzero(codes >= 0x10000):
        char = chr(int(codes[position]))
        flags[position] = WORD * char.isalnum() | DECIMAL * char.isdecimal()
    return flags


def _fold(text: str) -> tuple[str, np.ndarray, np.ndarray]:
    """`textnorm.fold`, with the code points and their flags (one lookup decides
    whether the text needs converting to Simplified)."""
    folded = nfkc(text).lower()
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    flags = _flags(codes)
    marks = flags & (TRADITIONAL | NAME_START)
    if marks.any() and (
        (marks & TRADITIONAL).any() or any(name in folded for name in TAIWAN_NAMES)
    ):
        folded = to_simplified(folded).lower()
        codes = np.frombuffer(folded.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
        flags = _flags(codes)
    return folded, codes, flags


def _classify(flags: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    word = (flags & WORD).astype(bool)
    decimal = (flags & DECIMAL).astype(bool)
    end = (flags & END).astype(bool)
    # A full stop ends a sentence unless a digit follows it (7.1234).
    dots = np.flatnonzero(codes == ord("."))
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


def sentence_hash(sentence: str) -> int:
    """The hash `Features` gives a normalised sentence, one at a time (for tests)."""
    total, power = 0, 1
    for char in sentence:
        total = (total + ord(char) * power) & MASK
        power = (power * _R) & MASK
    value = splitmix((total + len(sentence) * _R) & MASK)
    return value - (1 << 64) if value >= 1 << 63 else value


def _small_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big")


@dataclass(frozen=True, eq=False)
class Features:
    """Everything dedup needs to know about one article's text."""

    normalized_length: int
    text_hash: str
    simhash: int
    sentences: dict[int, int]
    """Hash → length of every sentence of at least `MIN_SENTENCE_CHARS`."""
    figures: dict[int, int]
    """Shape (digits masked) → digits, for each such sentence that has digits."""
    text: str
    """The text these are the features of."""
    width: int = SHINGLE_WIDTH

    @property
    def sentence_chars(self) -> int:
        return sum(self.sentences.values())

    @cached_property
    def shingles(self) -> np.ndarray:
        """The sorted distinct shingle hashes, to confirm a candidate by containment.

        Computed with the fingerprint, but not carried from a worker process to
        the main one (see `__getstate__`): they were half of a prepared feed's
        bytes and most of its unpickling, and only the few items that share
        sentences with another are ever compared; those recompute them here.
        """
        return shingle_hashes(normalize(self.text), self.width)

    def __getstate__(self) -> dict[str, Any]:
        # `text` is the article's own string object: pickled once, for both.
        return {name: value for name, value in self.__dict__.items() if name != "shingles"}

    @classmethod
    def of(cls, text: str, width: int = SHINGLE_WIDTH) -> Features:
        _, codes, flags = _fold(text)
        word, decimal, end = _classify(flags, codes)
        kept = codes[word]
        norm = kept.astype("<u4").tobytes().decode("utf-32-le")
        hashes = shingle_hashes(norm, width, kept)
        sentences, figures = _sentences(kept, norm, np.cumsum(end)[word], decimal[word])
        features = cls(
            normalized_length=len(norm),
            text_hash=hashlib.blake2b(norm.encode(), digest_size=16).hexdigest(),
            simhash=fingerprint_of_hashes(hashes),
            sentences=sentences,
            figures=figures,
            text=text,
            width=width,
        )
        features.__dict__["shingles"] = hashes  # the cached property, already known
        return features


def _sentences(
    kept: np.ndarray, norm: str, sentence_of: np.ndarray, decimal: np.ndarray
) -> tuple[dict[int, int], dict[int, int]]:
    if not len(kept):
        return {}, {}
    starts = np.flatnonzero(np.concatenate(([True], sentence_of[1:] != sentence_of[:-1])))
    stops = np.append(starts[1:], len(kept))
    lengths = stops - starts
    chosen = lengths >= MIN_SENTENCE_CHARS
    if not chosen.any():
        return {}, {}
    starts, stops, lengths = starts[chosen], stops[chosen], lengths[chosen]
    powers, inverse = _powers(len(kept))
    prefix = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(kept * powers)))
    x = (prefix[stops] - prefix[starts]) * inverse[starts]
    x = x + lengths.astype(np.uint64) * np.uint64(_R)
    values = splitmix_array(x).view(np.int64)
    found = dict(zip(values.tolist(), lengths.tolist(), strict=True))
    figures: dict[int, int] = {}
    if decimal.any():
        digits_before = np.concatenate(([0], np.cumsum(decimal)))
        with_digits = (digits_before[stops] - digits_before[starts]) > 0
        spans = zip(starts[with_digits].tolist(), stops[with_digits].tolist(), strict=True)
        for start, stop in spans:
            sentence = norm[start:stop]
            digits = " ".join(_DIGITS.findall(sentence))
            figures[_small_hash(_DIGITS.sub("#", sentence))] = _small_hash(digits)
    return found, figures
