"""The dedup index, held in memory: fingerprint blocks and sentence hashes.

Each stored item has four fingerprint blocks and about two dozen sentence
hashes. As rows of B-trees keyed by them they were most of the cost of
storing a feed, and a growing one: each feed's keys land on random pages, so
a commit rewrote more of the index the bigger it was (10 ms a feed for the
first 200 feeds, 18 ms for feeds 800 to 1,000). The database now keeps one
row per item (`item_index`: its fingerprint and its sentence hashes as a
blob, appended in id order), and each process that decides stories keeps the
keys sorted in memory: about 16 bytes a sentence (a clause: `features`) and 96
an item (38 MB for 50,000 real items of 42 clauses, a fortnight of 200 busy
feeds). The blocks are
cut for the configured ``max_distance`` as the rows are read, so changing it
needs no rebuilding.

Keys are kept in two sorted runs, as in a log-structured merge tree: new keys
are merged into a small run (a copy of it, not of everything), which is merged
into the main run once it is big enough. Within one key, item ids ascend, as
the database's indexes returned them: the order decides ties between
candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import isqrt
from typing import TYPE_CHECKING

import numpy as np

from .fingerprint import distinct
from .rules import block_ranges, hamming

if TYPE_CHECKING:
    from .features import Features

# A sentence found in more stored items than this is boilerplate ("白宫拒绝置评。"),
# not evidence; looking it up would only cost time.
MAX_ITEMS_PER_SENTENCE = 50
SMALL_RUN = 1 << 13
Run = tuple[np.ndarray, ...]
"""Keys, then item ids, then any other columns, all sorted by key then id."""


def pack(hashes: Iterable[int]) -> bytes:
    """An item's sentence hashes as the blob the database stores."""
    return np.fromiter(hashes, dtype="<i8").tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<i8")


class SortedRuns:
    """(key, item id, …) entries, found by key."""

    def __init__(self, columns: int) -> None:
        self._runs = [_empty(columns), _empty(columns)]
        """The main run and the small one."""

    def __len__(self) -> int:
        return sum(len(run[0]) for run in self._runs)

    def add(self, new: Run) -> None:
        """Add entries (unsorted) whose item ids are above every id already added."""
        if not len(new[0]):
            return
        small = _merged(self._runs[1], _sorted(new))
        # A small run of about sqrt(main × feed) entries balances copying it for every
        # feed against copying the main run each time it is merged in.
        if len(small[0]) >= max(SMALL_RUN, isqrt(len(self._runs[0][0]) << 10)):
            self._runs = [_merged(self._runs[0], small), _empty(len(new))]
        else:
            self._runs[1] = small

    def drop_below(self, item_id: int) -> None:
        """Forget the entries of items with ids below `item_id`."""
        self._runs = [tuple(column[run[1] >= item_id] for column in run) for run in self._runs]

    def drop_from(self, item_id: int) -> None:
        """Forget the entries of items with ids from `item_id` up."""
        self._runs = [tuple(column[run[1] < item_id] for column in run) for run in self._runs]


class DedupIndex:
    """The fingerprint blocks and sentence hashes of a set of items."""

    def __init__(self, block_count: int) -> None:
        self.block_count = block_count
        self.blocks = SortedRuns(3)
        """Block key (see `block_keys`), item id, fingerprint."""
        self.sentences = SortedRuns(2)
        """Sentence hash, item id."""

    def add(self, rows: Iterable[tuple[int, int, bytes]]) -> None:
        """Add items' (id, fingerprint as a signed integer, packed sentence hashes);
        ids above every id already added."""
        ids: list[int] = []
        prints: list[int] = []
        blobs: list[bytes] = []
        for item_id, simhash, blob in rows:
            ids.append(item_id)
            prints.append(simhash)
            blobs.append(blob)
        if not ids:
            return
        owners = np.asarray(ids, dtype=np.int64)
        fingerprints = np.asarray(prints, dtype=np.int64)
        keys = block_keys(fingerprints, self.block_count)
        self.blocks.add(
            (
                keys.ravel(),
                np.repeat(owners, self.block_count),
                np.repeat(fingerprints, self.block_count),
            )
        )
        counts = [len(blob) // 8 for blob in blobs]
        self.sentences.add((unpack(b"".join(blobs)), np.repeat(owners, counts)))

    def drop_below(self, item_id: int) -> None:
        self.blocks.drop_below(item_id)
        self.sentences.drop_below(item_id)

    def drop_from(self, item_id: int) -> None:
        self.blocks.drop_from(item_id)
        self.sentences.drop_from(item_id)

    def hits(
        self, batch: Sequence[Features], max_distance: int
    ) -> list[tuple[dict[int, int], dict[int, int]]]:
        """For each of `batch`: the items within `max_distance` bits (id → fingerprint)
        and those sharing sentences (id → characters shared)."""
        prints = np.fromiter((f.simhash for f in batch), dtype=np.uint64, count=len(batch))
        keys = block_keys(prints.view(np.int64), self.block_count)
        in_blocks = lookup([self.blocks], distinct(keys))
        near: list[dict[int, int]] = [{} for _ in batch]
        for index, features in enumerate(batch):
            for key in keys[index].tolist():
                for item_id, stored in zip(*in_blocks.get(key, ((), ())), strict=True):
                    simhash = stored + (1 << 64) if stored < 0 else stored  # stored signed
                    if hamming(features.simhash, simhash) <= max_distance:
                        near[index][item_id] = simhash
        return list(zip(near, self._overlaps(batch), strict=True))

    def _overlaps(self, batch: Sequence[Features]) -> list[dict[int, int]]:
        """For each of `batch`, the stored items sharing its sentences: id → the
        characters shared, the items in the order the batch's sentences first
        meet them (which ranks ties, `rules.confirmable`).

        Summed over arrays of every (item of the batch, stored item, sentence)
        met: items decided again when a run settles meet hundreds each (their
        copies, and the copies' copies), and adding them up one at a time was
        most of looking them up.
        """
        hashes, owners, lengths = sentence_table(batch)
        keys = np.sort(distinct(hashes))
        key_of, item_of = entries([self.sentences], keys, MAX_ITEMS_PER_SENTENCE)
        overlaps: list[dict[int, int]] = [{} for _ in batch]
        if not len(item_of):
            return overlaps
        # Each sentence of the batch, with the stored entries of its key.
        counts = np.bincount(key_of, minlength=len(keys))
        starts = np.cumsum(counts) - counts
        key = np.searchsorted(keys, hashes)
        met = np.flatnonzero(counts[key])
        times = counts[key[met]]
        entry = ranges(starts[key[met]], times)
        owner = np.repeat(owners[met], times)
        item = item_of[entry]
        length = np.repeat(lengths[met], times)
        # One sum per (batch item, stored item); a stable sort keeps the first
        # meeting of each pair at the head of its run.
        pair = owner << 40 | item
        order = np.argsort(pair, kind="stable")
        ordered = pair[order]
        heads = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        totals = np.add.reduceat(length[order], heads)
        first = order[heads]
        met_order = np.argsort(first)
        for at, total in zip(first[met_order].tolist(), totals[met_order].tolist(), strict=True):
            overlaps[int(owner[at])][int(item[at])] = total
        return overlaps


def block_keys(fingerprints: np.ndarray, count: int) -> np.ndarray:
    """Each fingerprint's `count` pigeonhole blocks (`rules.blocks`) as one key each,
    the block's number above its bits (a single block is the whole fingerprint)."""
    unsigned = fingerprints.astype(np.int64).view(np.uint64)
    if count == 1:
        return unsigned.view(np.int64).reshape(-1, 1)
    keys = [
        (np.uint64(number) << np.uint64(32)) | ((unsigned >> np.uint64(shift)) & np.uint64(mask))
        for number, (shift, mask) in enumerate(block_ranges(count))
    ]
    return np.stack(keys, axis=1).view(np.int64)


def sentence_table(batch: Sequence[Features]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every sentence of `batch`, in order: its hash, its item's position in `batch`,
    its length."""
    counts = [len(features.sentence_hashes) // 8 for features in batch]
    hashes = unpack(b"".join(features.sentence_hashes for features in batch))
    lengths = np.frombuffer(b"".join(f.sentence_lengths for f in batch), dtype="<i4")
    return hashes, np.repeat(np.arange(len(batch)), counts), lengths.astype(np.int64)


def shared_with_earlier(keys: np.ndarray, owners: np.ndarray) -> dict[int, dict[int, list[int]]]:
    """Which owners share keys with earlier ones: later owner → earlier owner →
    positions of the later owner's keys that the earlier one also has (in key order).

    `owners` ascend along `keys`, and an owner's keys are distinct. Sorting
    finds the few shared keys at once; a dictionary of every key was most of
    deciding a feed's stories.
    """
    if not len(keys):
        return {}
    order = np.argsort(keys, kind="stable")  # equal keys stay in owner order
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    sizes = np.diff(np.append(starts, len(ordered)))
    shared = sizes > 1
    owner_of = owners.tolist()
    found: dict[int, dict[int, list[int]]] = {}
    for start, size in zip(starts[shared].tolist(), sizes[shared].tolist(), strict=True):
        positions = order[start : start + size].tolist()
        for n, later in enumerate(positions):
            for earlier in positions[:n]:
                found.setdefault(owner_of[later], {}).setdefault(owner_of[earlier], []).append(
                    later
                )
    return found


def lookup(
    runs: Sequence[SortedRuns], keys: np.ndarray, limit: int | None = None
) -> dict[int, list[list[int]]]:
    """For each of `keys` (distinct) found in any of `runs`: its entries' columns
    after the key ([ids, …]), older items first; only for keys found in at most
    `limit` entries."""
    keys = np.sort(np.asarray(keys, dtype=np.int64))  # sorted probes: fewer cache misses
    spans, total = _spans(runs, keys)
    wanted = total > 0 if limit is None else (total > 0) & (total <= limit)
    found: dict[int, list[list[int]]] = {}
    for position in np.flatnonzero(wanted).tolist():
        columns: list[list[int]] = []
        for run, left, right in spans:
            a, b = left[position], right[position]
            if a < b:
                if not columns:
                    columns = [[] for _ in run[1:]]
                for column, values in zip(columns, run[1:], strict=True):
                    column += values[a:b].tolist()
        found[int(keys[position])] = columns
    return found


def _spans(
    runs: Sequence[SortedRuns], keys: np.ndarray
) -> tuple[list[tuple[Run, np.ndarray, np.ndarray]], np.ndarray]:
    """Where each of `keys` (sorted) lies in each run of `runs`, older runs first:
    the run, the first entry of each key and the one after its last; and how many
    entries each key has in all."""
    spans = []
    total = np.zeros(len(keys), dtype=np.int64)
    for sorted_runs in runs:
        for run in sorted_runs._runs:  # the main run holds the older items
            if not len(run[0]):
                continue
            left = np.searchsorted(run[0], keys)
            present = run[0][np.minimum(left, len(run[0]) - 1)] == keys
            right = left.copy()
            # Most probes find nothing: only the others need the end of their span.
            right[present] = np.searchsorted(run[0], keys[present], side="right")
            spans.append((run, left, right))
            total += right - left
    return spans, total


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The positions starts[i], …, starts[i] + sizes[i] - 1, for each i in turn."""
    ends = np.cumsum(sizes)
    return np.repeat(starts - (ends - sizes), sizes) + np.arange(ends[-1] if len(ends) else 0)


def entries(
    runs: Sequence[SortedRuns], keys: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The entries of `keys` (sorted, distinct) found in `runs`, for each key found
    in at most `limit` of them: the key's position in `keys` and the item id of
    each entry, grouped by key in the order of `keys`, older items first (as
    `lookup` lists them)."""
    spans, total = _spans(runs, keys)
    wanted = (total > 0) & (total <= limit)
    key_of, item_of = [], []
    for run, left, right in spans:
        sizes = right - left
        at = np.flatnonzero(wanted & (sizes > 0))
        key_of.append(np.repeat(at, sizes[at]))
        item_of.append(run[1][ranges(left[at], sizes[at])])
    if not key_of:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keys_found, items = np.concatenate(key_of), np.concatenate(item_of)
    order = np.argsort(keys_found, kind="stable")  # runs in order within a key
    return keys_found[order], items[order]


def _sorted(run: Run) -> Run:
    """`run` sorted by key, then id.

    A quicksort by key, then ids put in order only among equal keys: a stable
    sort of a whole window's keys (the first look-up of a process) took three
    times as long, and most keys are distinct.
    """
    order = np.argsort(run[0])
    columns = [column[order] for column in run]
    keys, ids = columns[0], columns[1]
    tied = np.zeros(len(keys), dtype=bool)
    equal = keys[1:] == keys[:-1]
    tied[1:] |= equal
    tied[:-1] |= equal
    if tied.any():
        at = np.flatnonzero(tied)
        within = at[np.lexsort((ids[at], keys[at]))]
        for column in columns:  # fresh arrays: reordered in place
            column[at] = column[within]
    return tuple(columns)


def _empty(columns: int) -> Run:
    return tuple(np.zeros(0, dtype=np.int64) for _ in range(columns))


def _merged(run: Run, new: Run) -> Run:
    """Two runs as one; at equal keys `new`'s entries (the higher ids) go after.

    Where each entry goes is worked out once for every column (`np.insert`, a
    column at a time, sorted the positions again for each).
    """
    if not len(run[0]):
        return new
    size = len(run[0]) + len(new[0])
    # `new` is sorted: its i-th entry goes after the i entries of `new` before it.
    at = np.searchsorted(run[0], new[0], side="right") + np.arange(len(new[0]))
    kept = np.ones(size, dtype=bool)
    kept[at] = False
    merged = []
    for old, added in zip(run, new, strict=True):
        column = np.empty(size, dtype=old.dtype)
        column[at] = added
        column[kept] = old
        merged.append(column)
    return tuple(merged)
