"""Short extractive summaries: the article's own lead sentences.

News puts what matters first, so the lead sentences are the summary readers
expect; on the seeds they read as a fair account of each article, where a
TextRank-style pick jumped to quotes in the middle. A leading dateline or
outlet tag in brackets ("（德国之声中文网）", "【环球网报道】") is not summary.
"""

from __future__ import annotations

import re

# A sentence ends at 。！？!? (or … / ；) and any closing quotes or brackets after it.
_SENTENCE = re.compile(r"[^。！？!?…；;\n]*(?:[。！？!?…；;]+[”’」』）)\"']*|$)")
_LEADING_TAG = re.compile(r"^\s*(?:（[^）]{1,30}）|【[^】]{1,30}】|\([^)]{1,30}\))\s*")
ELLIPSIS = "…"


def sentences(text: str) -> list[str]:
    found: list[str] = []
    for paragraph in text.split("\n"):
        for match in _SENTENCE.finditer(paragraph.strip()):
            sentence = match.group(0).strip()
            if sentence:
                found.append(sentence)
    return found


def summarize(text: str, max_chars: int, max_sentences: int = 3) -> str:
    """Up to `max_sentences` lead sentences within `max_chars` characters.

    Whole sentences only; when even the first sentence is too long it is cut
    and ends in an ellipsis, so a reader can tell.
    """
    found = sentences(_LEADING_TAG.sub("", text, count=1))
    chosen: list[str] = []
    length = 0
    for sentence in found:
        if len(chosen) == max_sentences or length + len(sentence) > max_chars:
            break
        chosen.append(sentence)
        length += len(sentence)
    if chosen:
        return "".join(chosen) if _is_cjk(chosen[0]) else " ".join(chosen)
    if not found:
        return ""
    return found[0][: max_chars - 1].rstrip() + ELLIPSIS


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text[:20])
