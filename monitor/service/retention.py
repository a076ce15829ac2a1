"""Removing what is past `[storage] keep_days` (`Storage.prune_before`), daily or on demand."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..config import Config
from ..store import Pruned, Storage
from ..words import counted

log = logging.getLogger("monitor")


def prune_old(
    config: Config,
    storage: Storage,
    now: datetime,
    *,
    keep_days: int | None = None,
    dry_run: bool = False,
) -> Pruned | None:
    """Remove the stories older than `keep_days` (the config's by default) that no
    digest sends any more, being past the dedup window, or that every digest's every
    recipient has had; None when nothing is to be removed (0 days)."""
    days = config.storage.keep_days if keep_days is None else keep_days
    if not days:
        return None
    recipients = [
        (digest.name, recipient)
        for digest in config.digests
        for recipient in digest.recipients or (digest.sender,)
    ]
    window_start = now - timedelta(days=config.dedup.window_days)
    pruned = storage.prune_before(
        now - timedelta(days=days), recipients, window_start, dry_run=dry_run
    )
    if pruned.stories and not dry_run:
        log.info(
            "retention: removed %s (%s) older than %s",
            counted(pruned.stories, "story", "stories"),
            counted(pruned.items, "item"),
            counted(days, "day"),
        )
    return pruned
