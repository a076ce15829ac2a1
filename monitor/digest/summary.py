"""Short extractive summaries: the article's own lead sentences.

News puts what matters first, so the lead sentences are the summary readers
expect; on the seeds they read as a fair account of each article, where a
TextRank-style pick jumped to quotes in the middle. What opens an article
before its news is not summary: outlet and reporter tags in brackets
("（德国之声中文网）", "【大纪元2020年08月12日讯】（大纪元记者古清儿报导）"),
a wire's dateline ("路透华盛顿8月11日 - ", "作者 马蓉路透北京8月11日 - ",
"香港——"), "本网获悉："; nor are short lines that end no sentence (a heading,
a caption, a credit, a date), which would run into the sentence after them.
On the development months' 33,190 real items (`benchmarks/summaries.py`),
3,783 summaries opened with such a dateline or byline and 430 took in such a
line, all but a few of them before these rules.

Chinese text is measured in characters; Latin letters, digits and spaces
count half, so that an English summary holds about as much as a Chinese one
(120 characters of English is about 20 words, where 120 Chinese characters
are two or three sentences), and its sentences end at ". " too.
"""

from __future__ import annotations

import re

# A sentence ends at 。！？!? (or … / ；) and any closing quotes or brackets after it;
# in Latin text also at a full stop before a space and a capital.
_ABBREVIATED = "|".join(
    f"(?<=\\b{word})"
    for word in ("[A-Z]", "Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "Gen", "Gov", "Sen", "Rep",
                 "Prof", "Mt", "No", "Inc", "Co", "Corp", "Ltd", "vs", "Jan", "Feb", "Aug",
                 "Sept", "Oct", "Nov", "Dec")
)  # fmt: skip
_SENTENCE = re.compile(
    rf"(?:[^。！？!?…；;.\n]|(?:{_ABBREVIATED})\.|\.(?![”’\"')]*\s+[\"“‘(]?[A-Z]))*"
    r"(?:[。！？!?…；;.]+[”’」』）)\"']*|$)"
)
_OPENING = re.compile(
    r"""\s*(?:
        （[^）]{1,30}）|【[^】]{1,30}】|\([^)]{1,30}\)            # outlet or reporter tags
      | (?:作者\s*[^\s路]{1,12}\s*)?路透[^\s\d-]{0,20}?\d{1,2}月\d{1,2}日\s*[-–—]   # Reuters
      | [\u4e00-\u9fff]{2,8}——(?!——)                               # 香港——
      | (?:\d{4}年\d{1,2}月\d{1,2}日[，,]\s*)?本网获悉[：:]         # 维权网
    )\s*""",
    re.VERBOSE,
)
_ENDS_SENTENCE = re.compile(r"[。！？!?…；;.:：][”’」』）)\"']*\s*$")
HEADING_CHARS = 40
"""A line this short that ends no sentence is a heading, a caption or a credit."""
ELLIPSIS = "…"


def sentences(text: str, limit: int | None = None) -> list[str]:
    """The text's sentences, in order; the first `limit` of them only, if given."""
    found: list[str] = []
    for paragraph in text.split("\n"):
        for match in _SENTENCE.finditer(paragraph.strip()):
            sentence = match.group(0).strip()
            if sentence:
                found.append(sentence)
                if len(found) == limit:
                    return found
    return found


def summarize(text: str, max_chars: int, max_sentences: int = 3) -> str:
    """Up to `max_sentences` lead sentences within `max_chars` characters (`width`).

    Whole sentences only; when even the first sentence is too long it is cut
    (at a word's end in Latin text) and ends in an ellipsis, so a reader can tell.
    """
    found = sentences(_lead(text))
    chosen: list[str] = []
    length = 0.0
    for sentence in found:
        if len(chosen) == max_sentences or length + width(sentence) > max_chars:
            break
        chosen.append(sentence)
        length += width(sentence)
    if chosen:
        return "".join(chosen) if _is_cjk(chosen[0]) else " ".join(chosen)
    if not found:
        return ""
    return _cut(found[0], max_chars - 1) + ELLIPSIS


def without_opening(text: str) -> str:
    """`text` without the tag or dateline it opens with (`_OPENING`), if any: the
    place an outlet writes from is not what its article is about."""
    opened = _OPENING.match(text)
    return text[opened.end() :] if opened is not None and opened.end() else text


def width(text: str) -> float:
    """`text`'s length as summaries count it: ASCII characters count half."""
    ascii_chars = sum(1 for c in text if c < "\x80")
    return len(text) - ascii_chars / 2


def _lead(text: str) -> str:
    """`text` from its news on: without the tags and datelines before it, nor its
    short lines that end no sentence (headings, captions, credits), unless they
    are all it has."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    kept = [line for line in lines if len(line) > HEADING_CHARS or _ENDS_SENTENCE.search(line)]
    lines = kept or lines
    for _ in range(3):  # 【大纪元…讯】（大纪元记者…报导）, a line of its own or not
        opened = _OPENING.match(lines[0]) if lines else None
        if opened is None or opened.end() == 0:
            break
        if opened.end() < len(lines[0]):
            lines[0] = lines[0][opened.end() :]
        elif len(lines) > 1:
            del lines[0]
        else:
            break
    return "\n".join(lines)


def _cut(sentence: str, max_chars: float) -> str:
    """The start of `sentence` within `max_chars` (`width`), at a word's end when
    it is Latin text."""
    length = 0.0
    for end, c in enumerate(sentence):
        length += 0.5 if c < "\x80" else 1
        if length > max_chars:
            cut = sentence[:end]
            if c.isascii() and c.isalnum():
                # Not inside a Latin word or a number: back to its start, if that
                # leaves something.
                word = re.search(r"[A-Za-z0-9]+$", cut)
                if word is not None and word.start() > 0:
                    cut = cut[: word.start()]
            return cut.rstrip(" ,;:-—")
    return sentence


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text[:20])
