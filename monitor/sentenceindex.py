"""The sentence-hash index dedup looks candidates up in, held in memory.

Every stored item has about two dozen sentence hashes. As rows of a B-tree
keyed by hash they were most of the cost of storing a feed, and a growing
one: each new feed's hashes land on random pages, so a commit rewrote more of
the index the bigger it was (10 ms a feed for the first 200 feeds, 18 ms for
feeds 800 to 1,000). The database now keeps each item's hashes as one blob
(`item_sentences`, appended in id order), and each process that decides
stories keeps them sorted in memory, about 16 bytes a sentence (20 MB for
50,000 items of 24 sentences: a fortnight of 200 busy feeds).

Two sorted runs, as in a log-structured merge tree: new hashes are merged into
a small run (a copy of it, not of everything), which is merged into the main
run once it is big enough. Within one hash, item ids ascend, as
the database's index returned them: the order decides ties between candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import isqrt

import numpy as np

SMALL_RUN = 1 << 13


def pack(hashes: Iterable[int]) -> bytes:
    """An item's sentence hashes as the blob the database stores."""
    return np.fromiter(hashes, dtype="<i8").tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<i8")


class SentenceIndex:
    """Which items have each sentence hash."""

    def __init__(self) -> None:
        empty = np.zeros(0, dtype=np.int64)
        self._runs: list[tuple[np.ndarray, np.ndarray]] = [(empty, empty), (empty, empty)]
        """(hashes, item ids) of the main run and the small one, sorted by hash then id."""

    def __len__(self) -> int:
        return sum(len(hashes) for hashes, _ in self._runs)

    def add(self, rows: Iterable[tuple[int, bytes]]) -> None:
        """Add items' (id, packed hashes); ids above every id already added."""
        ids: list[int] = []
        blobs: list[bytes] = []
        for item_id, blob in rows:
            ids.append(item_id)
            blobs.append(blob)
        if not ids:
            return
        hashes = unpack(b"".join(blobs))
        counts = [len(blob) // 8 for blob in blobs]
        owners = np.repeat(np.asarray(ids, dtype=np.int64), counts)
        order = np.lexsort((owners, hashes))
        small = _merged(self._runs[1], (hashes[order], owners[order]))
        # A small run of about sqrt(main × feed) entries balances copying it for every
        # feed against copying the main run each time it is merged in.
        if len(small[0]) >= max(SMALL_RUN, isqrt(len(self._runs[0][0]) << 10)):
            empty = np.zeros(0, dtype=np.int64)
            self._runs = [_merged(self._runs[0], small), (empty, empty)]
        else:
            self._runs[1] = small

    def drop_below(self, item_id: int) -> None:
        """Forget the items with ids below `item_id` (their rows were pruned)."""
        self._runs = [(h[ids >= item_id], ids[ids >= item_id]) for h, ids in self._runs]


def lookup(
    indexes: Sequence[SentenceIndex], hashes: np.ndarray, limit: int
) -> dict[int, list[int]]:
    """The items with each of `hashes` (distinct) in any of `indexes`, in the order
    of `indexes` (older items first), for the hashes found in at most `limit` items."""
    hashes = np.sort(np.asarray(hashes, dtype=np.int64))  # sorted probes: fewer cache misses
    spans = []
    total = np.zeros(len(hashes), dtype=np.int64)
    for index in indexes:
        for run_hashes, run_ids in index._runs:  # the main run holds the older items
            if not len(run_hashes):
                continue
            left = np.searchsorted(run_hashes, hashes)
            present = run_hashes[np.minimum(left, len(run_hashes) - 1)] == hashes
            right = left.copy()
            # Most probes find nothing: only the others need the end of their span.
            right[present] = np.searchsorted(run_hashes, hashes[present], side="right")
            spans.append((run_ids, left, right))
            total += right - left
    found: dict[int, list[int]] = {}
    for position in np.flatnonzero((total > 0) & (total <= limit)).tolist():
        owners: list[int] = []
        for run_ids, left, right in spans:
            owners += run_ids[left[position] : right[position]].tolist()
        found[int(hashes[position])] = owners
    return found


def _merged(
    run: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Two runs as one; at equal hashes `new`'s entries (the higher ids) go after."""
    if not len(run[0]):
        return new
    at = np.searchsorted(run[0], new[0], side="right")
    return np.insert(run[0], at, new[0]), np.insert(run[1], at, new[1])
