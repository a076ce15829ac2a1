"""Reading a whole database out: the export of every item, and a copy into another database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import StorageError
from .base import StorageBase
from .encoding import ITEM_COLUMNS, stored_item, without_nul
from .schema import TABLES


class ExportStore(StorageBase):
    """The whole database read out: as JSON records, or into another database."""

    def export_items(self) -> Iterator[dict[str, Any]]:
        """Every stored item with its story and the URL of the story's canonical item."""
        with self._errors("export"):
            cursor = self._db.execute(
                f"""SELECT {ITEM_COLUMNS}, s.canonical_item_id, c.url AS canonical_url,
                       i.fetched_at, i.match_reason
                    FROM items i JOIN feeds f ON f.id = i.feed_id
                    JOIN stories s ON s.id = i.story_id
                    LEFT JOIN items c ON c.id = s.canonical_item_id
                    ORDER BY i.id"""
            )
            for row in cursor:
                item = stored_item(row)
                yield {
                    "url": item.url,
                    "title": item.title,
                    "feed": item.feed,
                    "published": item.published.isoformat(),
                    "story": item.story,
                    "duplicate_of": None
                    if row["canonical_item_id"] == item.id
                    else row["canonical_url"],
                    "topics": list(item.topics),
                    "source": item.source,
                    "original_source": item.original_source,
                    "guid": row["guid"],
                    "fetched_at": row["fetched_at"],
                    "match": row["match_reason"],
                    "related_to": item.related_to,
                }

    def is_empty(self) -> bool:
        with self._errors("read"):
            return all(
                self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
                for table in ("feeds", "items", "digests")
            )

    def copy_from(self, source: StorageBase, batch: int = 2000) -> dict[str, int]:
        """Copy every row of `source` into this empty database, ids and all.

        One transaction: an interrupted copy leaves this database empty, ready
        for another try. Returns the rows copied per table.
        """
        if not self.is_empty():
            raise StorageError(f"database {self.name}: not empty; copy only into a new database")
        copied: dict[str, int] = {}
        with source._errors("read for copy"), source._db.snapshot(), self.transaction():
            for table, columns in TABLES.items():
                names = ", ".join(columns)
                marks = ", ".join("?" * len(columns))
                insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"
                if table == "meta":
                    # The copied index rows come with the features version they were made with.
                    insert += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                count = 0
                for batch_rows in source._db.stream(f"SELECT {names} FROM {table}", batch):
                    rows = [
                        tuple(without_nul(value) for value in row)
                        for row in batch_rows
                        if not (table == "meta" and row[0] == "schema_version")
                    ]
                    self._db.executemany(insert, rows)
                    count += len(rows)
                copied[table] = count
            self._db.reset_sequences(["feeds", "digests", "stories", "items"])
        return copied
