"""A `Digest` as plain data: what the email shows, for tools and tests to read.

`monitor digest --preview FILE.json` writes it. The structure follows the email:
sections in order, each story with its link, outlet, summary, the outlets that
also carried it and its related entries, and what the digest left out (related
entries named by outlet, headlines counted per section, the left-out story ids).
"""

from __future__ import annotations

from typing import Any

from ..models import Digest, DigestEntry


def digest_data(digest: Digest) -> dict[str, Any]:
    return {
        "name": digest.name,
        "subject": digest.subject,
        "date": digest.date,
        "generated": digest.generated.isoformat(),
        "stories_shown": digest.story_count,
        "sections": [
            {
                "name": section.name,
                "stories": [_entry(entry) for entry in section.entries],
                "not_shown": section.not_shown,
            }
            for section in digest.sections
        ],
        "story_ids": list(digest.story_ids),
        "left_out": list(digest.left_out),
        "expired": digest.expired,
    }


def _entry(entry: DigestEntry) -> dict[str, Any]:
    return {
        "story": entry.story,
        "title": entry.title,
        "url": entry.url,
        "outlet": entry.source,
        "published": entry.published.isoformat(),
        "summary": entry.summary,
        "also_carried_by": [{"outlet": item.source, "url": item.url} for item in entry.also],
        "related": [_entry(other) for other in entry.related],
        "related_left_out": list(entry.more_related),
        "updated": entry.updated,
    }
