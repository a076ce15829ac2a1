"""Decide whether a new article is a repost of one already stored.

Rules, in order, and why:

1. Same GUID in the same feed, or the same canonical URL: the very same page
   seen again. It is not stored a second time.
2. Same normalised text (a hash of it): a verbatim copy at another address.
   Stored, and joined to the story it copies so the digest can say "also
   carried by".
3. Near-duplicate by simhash: a 64-bit fingerprint over unweighted character
   4-grams of the normalised text; a Hamming distance of at most
   ``[dedup] max_distance`` (default 3) is the same article with small edits.
   Candidates come from a pigeonhole index: split into ``max_distance + 1``
   blocks, any fingerprint within that distance shares at least one block
   exactly, so an indexed equality lookup finds them all.
4. Paragraph containment: an aggregator page wraps the whole article in ads
   and "related" lists, which moves a whole-text fingerprint by 11-23 bits,
   and a shortened copy drops the tail. Both keep most paragraphs verbatim,
   so each paragraph (normalised, at least `MIN_PARAGRAPH_CHARS` long) is
   hashed and indexed; when at least `MIN_CONTAINMENT` of the shorter text's
   paragraph characters appear in the other, it is the same article.

False merges are worse than missed ones (a story silently vanishing from a
digest is the one error a reader cannot notice), so texts shorter than
`MIN_TEXT_CHARS` are only ever merged by rules 1 and 2.

Normalisation (NFKC, which also folds full-width forms; lower case; every
character that is not a letter or digit dropped) makes half-width and
full-width punctuation, spacing and line breaks irrelevant.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from simhash import Simhash

SHINGLE_WIDTH = 4
MIN_TEXT_CHARS = 80
MIN_PARAGRAPH_CHARS = 12
MIN_CONTAINMENT = 0.8
MIN_SHARED_CHARS = 80
FINGERPRINT_BITS = 64

_NON_WORD = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Text reduced to what identifies an article: letters and digits, folded."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def text_hash(normalized: str) -> str:
    return hashlib.blake2b(normalized.encode(), digest_size=16).hexdigest()


def shingles(normalized: str, width: int = SHINGLE_WIDTH) -> set[str]:
    if len(normalized) <= width:
        return {normalized} if normalized else set()
    return {normalized[i : i + width] for i in range(len(normalized) - width + 1)}


def fingerprint(normalized: str) -> int:
    """The simhash package's 64-bit simhash of the text's unweighted shingles."""
    features = sorted(shingles(normalized))
    if not features:
        return 0
    return int(Simhash(features, f=FINGERPRINT_BITS).value)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def blocks(value: int, count: int) -> list[int]:
    """`value` cut into `count` contiguous bit ranges (pigeonhole blocks)."""
    bounds = [round(i * FINGERPRINT_BITS / count) for i in range(count + 1)]
    return [(value >> bounds[i]) & ((1 << (bounds[i + 1] - bounds[i])) - 1) for i in range(count)]


def paragraph_hashes(text: str) -> dict[int, int]:
    """Hash → normalised length of every paragraph long enough to be distinctive."""
    found: dict[int, int] = {}
    for line in text.split("\n"):
        norm = normalize(line)
        if len(norm) >= MIN_PARAGRAPH_CHARS:
            digest = hashlib.blake2b(norm.encode(), digest_size=8).digest()
            found[int.from_bytes(digest, "big", signed=True)] = len(norm)
    return found


@dataclass(frozen=True)
class Features:
    """Everything dedup needs to know about one article's text."""

    normalized_length: int
    text_hash: str
    simhash: int
    paragraphs: dict[int, int]

    @classmethod
    def of(cls, text: str) -> Features:
        norm = normalize(text)
        return cls(
            normalized_length=len(norm),
            text_hash=text_hash(norm),
            simhash=fingerprint(norm),
            paragraphs=paragraph_hashes(text),
        )

    @property
    def paragraph_chars(self) -> int:
        return sum(self.paragraphs.values())


@dataclass(frozen=True)
class Candidate:
    """A stored item that shares a fingerprint block or a paragraph with the new one."""

    item_id: int
    story_id: int
    simhash: int
    normalized_length: int
    paragraph_chars: int
    shared_paragraph_chars: int


@dataclass(frozen=True)
class Match:
    item_id: int
    story_id: int
    reason: str


def best_match(new: Features, candidates: list[Candidate], max_distance: int) -> Match | None:
    """The stored item `new` is a repost of, or None. Pure: tests call it directly."""
    if new.normalized_length < MIN_TEXT_CHARS:
        return None
    best: tuple[float, Candidate, str] | None = None
    for cand in candidates:
        if cand.normalized_length < MIN_TEXT_CHARS:
            continue
        distance = hamming(new.simhash, cand.simhash)
        score = 0.0
        reason = ""
        if distance <= max_distance:
            score, reason = 2.0 - distance / FINGERPRINT_BITS, f"simhash distance {distance}"
        shorter = min(new.paragraph_chars, cand.paragraph_chars)
        if shorter and cand.shared_paragraph_chars >= MIN_SHARED_CHARS:
            containment = cand.shared_paragraph_chars / shorter
            if containment >= MIN_CONTAINMENT and containment > score:
                score, reason = containment, f"paragraph containment {containment:.2f}"
        if reason and (best is None or score > best[0]):
            best = (score, cand, reason)
    if best is None:
        return None
    return Match(item_id=best[1].item_id, story_id=best[1].story_id, reason=best[2])
