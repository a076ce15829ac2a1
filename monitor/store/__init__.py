"""Stage 4, store: one database, SQLite or PostgreSQL, behind `Storage`.

Takes a feed's new articles with their features and story decisions and
writes them in one transaction; keeps each feed's state (validators,
errors, schedule, claims), the dedup index, digests and deliveries, and the
leases that keep two processes from doing one job. Hands on pending
`Story`s to `digest`. Nothing outside this package writes SQL: each part's
SQL lives in its own module (`feeds`, `items`, `index`, `digests`, `pages`,
`stories`, `leases`, `export`, `retention`), the schema and its migrations in
`schema`, and the two backends in `sqlite` and `postgres`. Every driver error
is a `StorageError` naming the database.
"""

from .digests import DeliveryProblems
from .feeds import FeedState
from .items import NewItem, StoredVersion, guid_aside
from .leases import DAEMON_LEASE, HOLDER, daemon_holder, is_stale
from .pages import DuePage, EditPage, PageFailure
from .retention import Pruned
from .schema import SCHEMA_VERSION
from .storage import Storage
from .stories import Member, WindowItem

__all__ = [
    "DAEMON_LEASE",
    "HOLDER",
    "SCHEMA_VERSION",
    "DeliveryProblems",
    "DuePage",
    "EditPage",
    "FeedState",
    "Member",
    "NewItem",
    "StoredVersion",
    "guid_aside",
    "PageFailure",
    "Pruned",
    "Storage",
    "WindowItem",
    "daemon_holder",
    "is_stale",
]
