"""Fold Chinese and mixed text to one form, so copies of an article compare equal.

NFKC (which also folds full-width letters, digits and punctuation), lower
case, then Traditional characters to Simplified one by one (what OpenCC's
``t2s`` makes of each alone), and a few words Taiwan writes otherwise
(川普→特朗普, 软体→软件). `normalize` then keeps only letters and digits, so
punctuation, spacing and line breaks never matter.

Every text is folded the same way, whatever its script. Outlets that carry a
Taiwanese report in Simplified characters (RFI, VOA and 联合早报 carrying
CNA's copy) convert its characters and keep its words: folding the
Traditional text with OpenCC's Taiwan phrase tables (``tw2sp``: 新增→添加,
资料→数据, 甘比亚→冈比亚, 社群→社区) made it differ from such a copy in
most sentences, while a word table applied to Traditional texts alone never
reaches a Simplified copy that keeps the word. Folding characters is lossy
(后 and 後 become one), which comparing texts never minds.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Words Taiwan writes otherwise, in Simplified characters: folded in every text,
# since a Simplified copy of a Taiwanese report keeps them.
TAIWAN_WORDS = {
    "川普": "特朗普",
    "贺锦丽": "哈里斯",
    "蒲亭": "普京",
    "蒲丁": "普京",
    "软体": "软件",
    "记忆体": "内存",
    "网路": "网络",
    "计画": "计划",
}
# Characters OpenCC's t2s leaves alone that Simplified texts write otherwise.
VARIANTS = {"著": "着"}
_WORDS = re.compile("|".join(map(re.escape, TAIWAN_WORDS)))
_NON_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def simplified_characters() -> dict[int, str]:
    """For each CJK character OpenCC's t2s changes when alone, the one it makes of it.

    Built once, in ~20 ms; `str.translate` then folds a text by characters, and
    `dedup.features` puts the same table into its lookup of code points.
    """
    import opencc

    chars = [chr(code) for code in range(0x3400, 0xA000)]
    # One character a line: t2s's phrase tables never see two together.
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    table = {
        ord(old): new
        for old, new in zip(chars, converted, strict=True)
        if new != old and len(new) == 1
    }
    table.update((ord(old), new) for old, new in VARIANTS.items())
    return table


@lru_cache(maxsize=1)
def _simplified_table() -> np.ndarray:
    """`simplified_characters` as a lookup of every BMP code point (a numpy array)."""
    import numpy as np

    table = np.arange(0x10000, dtype="<u4")
    for code, char in simplified_characters().items():
        table[code] = ord(char)
    return table


def simplified(text: str) -> str:
    """`text` with its Traditional characters Simplified one by one (no NFKC, no
    case): for matching words, where `fold`'s cost (a millisecond for a 4 kB
    article, most of it `str.translate`) would be paid for every item stored;
    by a lookup of the code points, ~30 µs."""
    import numpy as np

    table = _simplified_table()
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    inside = codes < 0x10000
    if inside.all():
        out = table[codes]
    else:
        out = codes.copy()
        out[inside] = table[codes[inside]]
    return bytes(out.tobytes()).decode("utf-32-le")


def taiwan_words(text: str) -> str:
    """Taiwan's words (`TAIWAN_WORDS`) in `text`, already folded, as the mainland's."""
    return _WORDS.sub(lambda m: TAIWAN_WORDS[m.group(0)], text)


def nfkc(text: str) -> str:
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def fold_characters(text: str) -> str:
    """`fold` but for Taiwan's words: what folding each character alone makes of
    `text` (`dedup.features` folds by a table of characters, then the words)."""
    return nfkc(text).lower().translate(simplified_characters())


def fold(text: str) -> str:
    """`text` in Simplified Chinese, NFKC, lower case; punctuation kept."""
    return taiwan_words(fold_characters(text))


def letters_and_digits(folded: str) -> str:
    return _NON_WORD.sub("", folded)


def normalize(text: str) -> str:
    """Text reduced to what identifies an article: folded letters and digits only."""
    return letters_and_digits(fold(text))
