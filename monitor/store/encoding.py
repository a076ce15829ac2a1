"""How values are spelled in the database: times, fingerprints, lists, figures, item rows.

Both backends store the same spellings, so a database copied from one to the
other (`export.ExportStore.copy_from`) reads back the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from ..models import StoredItem

ITEM_COLUMNS = """i.id, f.name AS feed, i.guid, i.url, i.title, i.published, i.source,
    i.original_source, i.text, i.story_id, i.topics, i.related_to, i.figures"""


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def precise(moment: datetime) -> str:
    """A schedule time, to the microsecond: with intervals of seconds, rounding matters."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def signed(value: int) -> int:
    """A 64-bit unsigned fingerprint as SQLite's signed INTEGER."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def without_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL, which a SQLite database may have stored."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def json_list(values: Sequence[str]) -> str:
    """`json.dumps(list(values), ensure_ascii=False)`, a quarter of its cost: an item
    has three lists to store."""
    return "[" + ", ".join(map(encode_basestring, values)) + "]"


def stored_item(row: Any) -> StoredItem:
    return StoredItem(
        id=row["id"],
        feed=row["feed"],
        guid=row["guid"],
        url=row["url"],
        title=row["title"],
        published=datetime.fromisoformat(row["published"]),
        source=row["source"],
        original_source=row["original_source"],
        text=row["text"],
        story=row["story_id"],
        topics=tuple(json.loads(row["topics"])),
        related_to=row["related_to"],
        figures=row["figures"],
    )
