"""Stage 1, fetch: a feed's bytes, from HTTP(S) or from local files.

Takes a `FeedConfig` and the validators stored for it (ETag,
Last-Modified); hands on a `FetchResult`: the body (or the files of a folder
of archived items), the status, new validators and the server's hints for
the next fetch; and the article pages of its items (`Fetcher.fetch_page`).
Bounded by a timeout, a deadline and a byte cap; a failure
is a `FetchError` naming the feed. Nothing here parses.
"""

from .fetcher import Fetcher, Validators, retry_seconds

__all__ = ["Fetcher", "Validators", "retry_seconds"]
