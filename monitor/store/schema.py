"""The schema: one SQL text per version, applied step by step on both backends.

A step is written once, in SQLite's dialect; the PostgreSQL backend turns its
types into its own (`postgres.PostgresDatabase.ddl`). `base.StorageBase`
applies the steps a database lacks, each in its own transaction.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: feeds, items, stories, the near-duplicate index and digests.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT,
        last_fetched_at TEXT,
        last_status INTEGER,
        last_error TEXT,
        error_count INTEGER NOT NULL DEFAULT 0,
        last_new_at TEXT
    );
    CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        subject TEXT NOT NULL,
        message_id TEXT NOT NULL,
        story_count INTEGER NOT NULL,
        delivered_at TEXT,
        transport TEXT,
        error TEXT
    );
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        canonical_item_id INTEGER,
        delivered_digest_id INTEGER REFERENCES digests (id)
    );
    CREATE INDEX stories_pending ON stories (delivered_digest_id);
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds (id),
        guid TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        published TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        authors TEXT NOT NULL,
        source TEXT NOT NULL,
        original_source TEXT,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        images TEXT NOT NULL,
        topics TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        simhash INTEGER NOT NULL,
        text_length INTEGER NOT NULL,
        paragraph_chars INTEGER NOT NULL,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        match_reason TEXT,
        UNIQUE (feed_id, guid)
    );
    CREATE INDEX items_url ON items (url);
    CREATE INDEX items_text_hash ON items (text_hash);
    CREATE INDEX items_story ON items (story_id);
    CREATE INDEX items_fetched ON items (fetched_at);
    CREATE TABLE simhash_blocks (
        block INTEGER NOT NULL,
        value INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        PRIMARY KEY (block, value, item_id)
    ) WITHOUT ROWID;
    CREATE TABLE paragraphs (
        hash INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        length INTEGER NOT NULL,
        PRIMARY KEY (hash, item_id)
    ) WITHOUT ROWID;
    """,
    # 2: sentence hashes replace paragraph hashes; figures kept for the template veto.
    """
    DROP TABLE paragraphs;
    CREATE TABLE sentences (
        hash INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        length INTEGER NOT NULL,
        PRIMARY KEY (hash, item_id)
    ) WITHOUT ROWID;
    ALTER TABLE items RENAME COLUMN paragraph_chars TO sentence_chars;
    ALTER TABLE items ADD COLUMN figures TEXT NOT NULL DEFAULT '';
    """,
    # 3: deliveries per digest and recipient; leases so two processes never
    # send the same digest at once. Stories delivered before are recorded as
    # delivered to every recipient ('*') of the default digest.
    """
    ALTER TABLE digests ADD COLUMN name TEXT NOT NULL DEFAULT 'daily';
    ALTER TABLE digests ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
    CREATE TABLE deliveries (
        digest TEXT NOT NULL,
        recipient TEXT NOT NULL,
        story_id INTEGER NOT NULL REFERENCES stories (id),
        digest_id INTEGER NOT NULL REFERENCES digests (id),
        PRIMARY KEY (digest, recipient, story_id)
    ) WITHOUT ROWID;
    INSERT INTO deliveries (digest, recipient, story_id, digest_id)
        SELECT 'daily', '*', id, delivered_digest_id FROM stories
        WHERE delivered_digest_id IS NOT NULL;
    CREATE INDEX stories_created ON stories (created_at);
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
    # 4: the fingerprint beside its blocks, so a block match is checked by exact
    # Hamming distance without reading the item (rebuilt by _sync_blocks).
    """
    DROP TABLE simhash_blocks;
    CREATE TABLE simhash_blocks (
        block INTEGER NOT NULL,
        value INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        simhash INTEGER NOT NULL,
        PRIMARY KEY (block, value, item_id)
    ) WITHOUT ROWID;
    DELETE FROM meta WHERE key = 'simhash_blocks';
    """,
    # 5: the fetch schedule lives with the feed, so a restart continues it.
    """
    ALTER TABLE feeds ADD COLUMN next_fetch_at TEXT;
    ALTER TABLE feeds ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE feeds ADD COLUMN moved_to TEXT;
    """,
    # 6: claims, so that several daemons on one database fetch each due feed once.
    """
    ALTER TABLE feeds ADD COLUMN claimed_by TEXT;
    ALTER TABLE feeds ADD COLUMN claimed_until TEXT;
    CREATE INDEX feeds_due ON feeds (next_fetch_at);
    """,
    # 7: one dedup row per item, appended in id order: its fingerprint and its
    # sentence hashes in one blob; the blocks and hashes are indexed in memory
    # (`dedup.index`). The stored features are recomputed on opening, which
    # fills the new table.
    """
    CREATE TABLE item_index (
        item_id INTEGER NOT NULL PRIMARY KEY REFERENCES items (id),
        simhash INTEGER NOT NULL,
        sentences BLOB NOT NULL
    );
    DROP TABLE sentences;
    DROP TABLE simhash_blocks;
    DELETE FROM meta WHERE key IN ('features_version', 'simhash_blocks');
    """,
    # 8: the GUIDs of each feed's last fetch, which need no parsing when they come
    # again: bounded by the feed's size, where all of its GUIDs grow with its age.
    """
    ALTER TABLE feeds ADD COLUMN last_guids TEXT;
    """,
    # 9: no item markup: nothing read it (the digest is made from the text), and
    # it was nearly half of the database (60 → 33 MB for 10,000 items).
    """
    ALTER TABLE items DROP COLUMN html;
    """,
    # 10: a digest's message and stories are recorded before it is sent, so that a
    # send whose end is uncertain (a kill between the server's "250" and the
    # commit, a timeout after the message) is sent again as the very same message,
    # with the same Message-ID. Sends interrupted before this are not retried.
    """
    ALTER TABLE digests ADD COLUMN message BLOB;
    ALTER TABLE digests ADD COLUMN story_ids TEXT;
    UPDATE digests SET status = 'failed', error = 'interrupted, not retried'
        WHERE status = 'pending';
    """,
    # 11: a digest settles the stories it names only in a count (related entries
    # beyond the few shown, headlines beyond max_stories) as left out: recorded
    # per recipient like a delivery, never sent later, so no backlog grows.
    """
    ALTER TABLE deliveries ADD COLUMN shown INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE digests ADD COLUMN left_out TEXT;
    """,
    # 12: when a more complete version of a story already sent arrives (the full
    # report after the flash, from the same outlet), the story is sent again,
    # marked as updated: its deliveries that showed it get `shown` 2 (superseded),
    # which leaves it pending.
    """
    ALTER TABLE stories ADD COLUMN updated_at TEXT;
    """,
    # 13: article pages that failed, per item (its teaser stored meanwhile): how
    # often, why, and when to try again (NULL: never).
    """
    CREATE TABLE pages (
        item_id INTEGER NOT NULL PRIMARY KEY REFERENCES items (id),
        url TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL,
        retry_at TEXT
    );
    CREATE INDEX pages_due ON pages (retry_at);
    """,
    # 14: an item taken out of its story by hand (`monitor split`) says when.
    """
    ALTER TABLE items ADD COLUMN split_at TEXT;
    """,
    # 15: the story an item that began its own repeats under news of its own (a
    # follow-up, an update, a round-up), and why: the digest shows them together.
    """
    ALTER TABLE items ADD COLUMN related_to INTEGER;
    ALTER TABLE items ADD COLUMN related_reason TEXT;
    """,
    # 16: replacing an item (a teaser's full text, an edit) moves the items related
    # to its story, and clears the story it headed: each a scan of its table
    # without these, 7 ms an item at 10,000 items, and growing with them.
    """
    CREATE INDEX items_related ON items (related_to) WHERE related_to IS NOT NULL;
    CREATE INDEX stories_canonical ON stories (canonical_item_id);
    """,
    # 17: what the feed said of each item when it was stored (`parse.newest.signature`):
    # a GUID that comes back after fetches that did not list it is an edit only
    # when that changed, whatever the adapters now make of it.
    """
    ALTER TABLE items ADD COLUMN signature TEXT;
    """,
    # 18: the failed pages of edits the feeds gave of stored items, each edit by its
    # feed, GUID and signature (the stored item under the GUID may change while the
    # edit waits): it waits for its page on a stored teaser's back-off.
    """
    CREATE TABLE edit_pages (
        feed_id INTEGER NOT NULL REFERENCES feeds (id),
        guid TEXT NOT NULL,
        signature TEXT NOT NULL,
        url TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL,
        retry_at TEXT NOT NULL,
        PRIMARY KEY (feed_id, guid, signature)
    );
    """,
    # 19: an item neither its feed nor its page dated (`Article.dated`): its date is
    # when it was fetched, which its page's date replaces when a failed page comes
    # later, and which orders none of its versions.
    """
    ALTER TABLE items ADD COLUMN undated INTEGER NOT NULL DEFAULT 0;
    """,
)
# Tables in the order their rows can be copied (references first), and the
# columns of each, for `copy_from`; leases belong to running processes, not data.
TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "feeds": (
        "id", "name", "url", "etag", "last_modified", "last_fetched_at", "last_status",
        "last_error", "error_count", "last_new_at", "next_fetch_at", "gone", "moved_to",
        "last_guids",
    ),
    "digests": (
        "id", "created_at", "status", "subject", "message_id", "story_count", "delivered_at",
        "transport", "error", "name", "recipients", "message", "story_ids", "left_out",
    ),
    "stories": ("id", "created_at", "canonical_item_id", "delivered_digest_id", "updated_at"),
    "items": (
        "id", "feed_id", "guid", "url", "title", "published", "fetched_at", "authors", "source",
        "original_source", "text", "images", "topics", "text_hash", "simhash",
        "text_length", "sentence_chars", "story_id", "match_reason", "figures", "split_at",
        "related_to", "related_reason", "signature", "undated",
    ),
    "item_index": ("item_id", "simhash", "sentences"),
    "deliveries": ("digest", "recipient", "story_id", "digest_id", "shown"),
    "pages": ("item_id", "url", "attempts", "error", "retry_at"),
    "edit_pages": ("feed_id", "guid", "signature", "url", "attempts", "error", "retry_at"),
}  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)
