"""Stage 2, parse and adapt: feed bytes into `Item`s, and each item into a clean `Article`.

Takes the bytes (or archived item files) that `fetch` read; `parse_feed`
reads RSS with lxml and everything else with feedparser, `parse_archive` the
archive format of full-text mirrors. A site adapter (`adapters/`, chosen by
host with `adapter_for`) then turns each `Item` into an `Article`: canonical
URL, date, authors, the article's own text without the site's furniture,
real image URLs; for a teaser, the same adapter reads the article's page
(`page`). Hands on `Article`s to `dedup` (through `service`, which
runs this stage in worker processes).
"""

from .adapters import ADAPTERS, Adapter, adapter_for, adapter_named
from .archive import archived_item_to_item, parse_archive, read_archived_item
from .discover import feed_links, feed_title, looks_like_html
from .feed import ParsedFeed, parse_feed
from .newest import Newest, version_key
from .page import completed, decoded, is_teaser, page_article

__all__ = [
    "ADAPTERS",
    "Adapter",
    "Newest",
    "ParsedFeed",
    "adapter_for",
    "adapter_named",
    "archived_item_to_item",
    "completed",
    "decoded",
    "feed_links",
    "feed_title",
    "is_teaser",
    "looks_like_html",
    "page_article",
    "parse_archive",
    "parse_feed",
    "read_archived_item",
    "version_key",
]
