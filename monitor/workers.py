"""The worker processes that prepare feeds (`prepare.prepare_feed`).

A run forks them from its own process while it has one thread, so that they
inherit the code it imported; a process with other threads (the daemon) gets
them from a fork server. Either way, a prepared feed comes back through a
pipe wide enough to take it whole (`_WidePipes`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import forkserver
from multiprocessing.context import BaseContext
from multiprocessing.queues import SimpleQueue
from typing import Any

log = logging.getLogger("monitor")

# Below this many feeds, starting worker processes costs more than it saves.
POOL_MIN_FEEDS = 8

RESULT_PIPE_BYTES = 1 << 20
"""The size asked for the pipe results come back through (Linux's largest by
default; a 50-item feed's result is ~150 kB, its default pipe 64 kB)."""


class LazyPool(Executor):
    """Worker processes, started when the first feed needs parsing (not on a run
    where every feed answers 304), or with the run when many feeds certainly
    will (`start`). The daemon keeps one for its lifetime."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.usable = workers > 1
        self.pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the workers now, rather than when the first feed is to be parsed.

        In a process with no other thread (a run, before its database thread),
        the workers are forked from it, already holding every module they need;
        otherwise the fork server starts, importing those (0.2 s) while this
        process goes on.
        """
        if self.pool is not None or not self.usable:
            return
        try:
            if _single_threaded():
                self.pool = _forked_pool(self.workers)
                log.debug("%d worker processes forked from this run", self.workers)
            else:
                self.pool = self._new_pool()
                forkserver.ensure_running()
                log.debug("%d worker processes to come from the fork server", self.workers)
        except OSError as e:
            log.warning("worker processes cannot start (%s); parsing in one process", e)
            self.usable = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self.pool is None:
            self.pool = self._new_pool()
        return self.pool.submit(fn, *args, **kwargs)

    def _new_pool(self) -> ProcessPoolExecutor:
        context = wide_pipes("forkserver")
        # Imported once in the fork server, not again in every worker; the
        # workers run `prepare.prepare_feed` and need nothing else.
        context.set_forkserver_preload(["monitor.prepare"])
        from .prepare import in_worker

        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=in_worker)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def wide_pipes(method: str) -> BaseContext:
    """The `method` ("fork" or "forkserver") start context, its simple queues (a
    process pool's result queue) on a pipe of `RESULT_PIPE_BYTES`.

    In a default 64 kB pipe, a worker writing a prepared feed waited half-way
    for the run's result thread to read, and that thread for the interpreter
    lock, which the run's event loop and database thread hold most of the
    time: the workers sat idle, a feed's result in hand.
    """
    base = type(multiprocessing.get_context(method))

    def simple_queue(context: BaseContext) -> SimpleQueue[Any]:
        queue: SimpleQueue[Any] = base.SimpleQueue(context)
        widen(queue._writer.fileno())  # type: ignore[attr-defined]
        return queue

    wide: BaseContext = type(f"Wide{base.__name__}", (base,), {"SimpleQueue": simple_queue})()
    return wide


def widen(pipe: int, size: int = RESULT_PIPE_BYTES) -> None:
    """Make the pipe hold `size` bytes, where the system lets it (Linux)."""
    try:
        import fcntl
    except ImportError:  # no pipes of a settable size, nor a fork to use them
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):  # above the system's limit: the default stays
            fcntl.fcntl(pipe, set_size, size)


def _single_threaded() -> bool:
    """Whether this process has no other thread, Python's or a library's (a BLAS
    thread pool: `cli.main` asks NumPy's for none)."""
    if sys.platform != "linux":
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _forked_pool(workers: int) -> ProcessPoolExecutor:
    """Workers forked from this process right now: none of the fork server's start-up
    and imports (0.17 s of CPU), and they are ready as soon as the first feed is.

    Only safe while this process has one thread: a lock held by another thread
    at the fork would stay locked in the workers for ever.
    """
    from .prepare import in_worker  # with all it imports, inherited by the workers

    # Frozen, the objects the workers inherit are left out of their collections,
    # which would otherwise write to (and so copy) every page holding one.
    gc.freeze()
    pool = ProcessPoolExecutor(workers, mp_context=wide_pipes("fork"), initializer=in_worker)
    try:
        # The first task forks every worker, before this process starts a thread.
        pool.submit(int)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        gc.unfreeze()
    return pool
