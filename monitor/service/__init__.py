"""What drives the stages: the one-shot run, the daemon, the worker pool, scheduling.

``fetch → parse (site adapter) → dedup → store → digest → send``

`ingest` runs the first four stages for every configured feed once
(`monitor run`): feeds are fetched concurrently, parsed, adapted and
fingerprinted in worker processes (`preparation`, `workers`), and stored
through one database thread (`dbthread`). `send_digests` runs the last two.
`run_daemon` does both on each feed's and each digest's schedule
(`schedule`); `redecide` decides a window's stories again. Takes a `Config`
and a `Storage`; hands on reports of what each feed and digest did.

Exports are imported when first used (`monitor.lazy`): `monitor run` needs
neither the daemon's scheduler nor, when every feed answers 304, the parsing
and dedup code.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .daemon import run_daemon
    from .digests import DigestOutcome, preview_digest, send_digests
    from .pipeline import FeedReport, RunReport, ingest
    from .redecision import Redecided, redecide
    from .retention import prune_old
    from .schedule import next_digest_slot

__all__ = [
    "DigestOutcome",
    "FeedReport",
    "Redecided",
    "RunReport",
    "ingest",
    "next_digest_slot",
    "preview_digest",
    "prune_old",
    "redecide",
    "run_daemon",
    "send_digests",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "daemon": ("run_daemon",),
        "digests": ("DigestOutcome", "preview_digest", "send_digests"),
        "pipeline": ("FeedReport", "RunReport", "ingest"),
        "redecision": ("Redecided", "redecide"),
        "retention": ("prune_old",),
        "schedule": ("next_digest_slot",),
    },
)
