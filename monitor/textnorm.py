"""Fold Chinese and mixed text to one form, so copies of an article compare equal.

NFKC (which also folds full-width letters, digits and punctuation), then
Traditional to Simplified Chinese with Taiwan phrasing (OpenCC's ``tw2sp``:
軟體→软件, 記憶體→内存), a few names OpenCC leaves alone, and lower case.
`normalize` then keeps only letters and digits, so punctuation, spacing and
line breaks never matter.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

# Names Taiwan writes differently that OpenCC's phrase tables do not map.
TAIWAN_NAMES = {
    "川普": "特朗普",
    "賀錦麗": "哈里斯",
    "贺锦丽": "哈里斯",
    "蒲亭": "普京",
    "蒲丁": "普京",
}
_NAMES = re.compile("|".join(map(re.escape, TAIWAN_NAMES)))
_NON_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("tw2sp")


@lru_cache(maxsize=1)
def traditional_characters() -> str:
    """Every CJK character that OpenCC's t2s changes: a sign the text needs converting.

    Most text is Simplified already; finding none of these spares the ~100 µs
    conversion of a 3,000-character article. Built once, in ~5 ms.
    """
    import opencc

    chars = "".join(map(chr, range(0x3400, 0xA000)))
    simplified = opencc.OpenCC("t2s").convert(chars)
    return "".join(a for a, b in zip(chars, simplified, strict=True) if a != b)


@lru_cache(maxsize=1)
def _traditional() -> re.Pattern[str]:
    return re.compile(f"[{re.escape(traditional_characters())}]|{_NAMES.pattern}")


def needs_conversion(text: str) -> bool:
    return _traditional().search(text) is not None


def to_simplified(text: str) -> str:
    """Traditional (Taiwan phrasing) to Simplified, names included."""
    text = _converter().convert(text)
    return _NAMES.sub(lambda m: TAIWAN_NAMES[m.group(0)], text)


def nfkc(text: str) -> str:
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """`text` in Simplified Chinese, NFKC, lower case; punctuation kept."""
    text = nfkc(text).lower()
    return to_simplified(text).lower() if needs_conversion(text) else text


def letters_and_digits(folded: str) -> str:
    return _NON_WORD.sub("", folded)


def normalize(text: str) -> str:
    """Text reduced to what identifies an article: folded letters and digits only."""
    return letters_and_digits(fold(text))
