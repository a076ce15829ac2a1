"""The worker processes that prepare feeds (`preparation.prepare_feed`).

A run forks them from its own process while it has one thread, so that they
inherit the code it imported; a process with other threads (the daemon) gets
them from a fork server. The process that started them drives them from its
event loop: a job goes down a worker's own pipe, its result comes back up
another, read when the loop finds it there. `concurrent.futures`' process
pool did the same with two threads of its own, which took the interpreter
lock for every job and every result (for 200 feeds, the run took 0.13 CPU-s
more and 5% longer), and a prepared feed waited half-written in its 64 kB
pipe for the thread that reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

# `multiprocessing` and `pickle` (6 ms) are imported with the first worker: a run
# where every feed answers 304 starts none.
if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess

log = logging.getLogger("monitor")


class BrokenPool(Exception):
    """The worker processes cannot start, or one of them died: feeds are then
    prepared in the run's own process."""


# Below this many feeds, starting worker processes costs more than it saves.
POOL_MIN_FEEDS = 8

PIPE_BYTES = 1 << 20
"""The size asked for each pipe (Linux's largest by default). A 50-item feed is
~130 kB on its way to a worker and ~150 kB back; the default pipe holds 64 kB."""


@dataclass
class _Worker:
    process: BaseProcess
    jobs: Connection
    """Written here, read by the worker."""
    results: Connection
    """Written by the worker, read here."""
    capacity: int
    """What its job pipe holds: a job that fits beside those in it is sent at once."""
    sent: deque[tuple[asyncio.Future[Any], int]] = field(default_factory=deque)
    """The jobs it has, oldest first, with their sizes: answered in that order."""


class LazyPool:
    """Worker processes, started when the first feed needs parsing (not on a run
    where every feed answers 304), or with the run when many feeds certainly
    will (`start`). The daemon keeps one for its lifetime.

    A worker holds at most two jobs (the one it works on, the next), so that it
    never waits for the event loop between them; the rest wait here, and go to
    whichever worker answers first.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.usable = workers > 1
        self._started: list[_Worker] = []
        self._waiting: deque[tuple[asyncio.Future[Any], bytes]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broken: str | None = None
        """Why the workers stopped, when one died: none are started again."""

    @property
    def started(self) -> bool:
        return bool(self._started)

    def start(self) -> None:
        """Start the workers now, rather than when the first feed is to be parsed.

        In a process with no other thread (a run, before its database thread),
        the workers are forked from it, already holding every module they need;
        otherwise the fork server starts, importing those (0.2 s) while this
        process goes on.
        """
        if self._started or not self.usable:
            return
        import multiprocessing

        try:
            if _single_threaded():
                self._start(multiprocessing.get_context("fork"), forked=True)
                log.debug("%d worker processes forked from this run", self.workers)
            else:
                context = multiprocessing.get_context("forkserver")
                # Imported once in the fork server, not again in every worker; the
                # workers run `preparation.prepare_feed` and need nothing else.
                context.set_forkserver_preload(["monitor.service.preparation"])
                self._start(context, forked=False)
                log.debug("%d worker processes from the fork server", self.workers)
        except OSError as e:
            log.warning("worker processes cannot start (%s); parsing in one process", e)
            self.usable = False
            self._stop()

    def _start(self, context: BaseContext, *, forked: bool) -> None:
        import_module("monitor.service.preparation")  # with all it imports, inherited when forked
        # Frozen, the objects forked workers inherit are left out of their
        # collections, which would otherwise write to (and so copy) every page
        # holding one.
        gc.freeze()
        try:
            for _ in range(self.workers):
                jobs_in, jobs = _pipe(context)
                results, results_out = _pipe(context)
                # A forked worker holds every descriptor this process has: the ends
                # that are not its own are closed there, or a worker would keep
                # another's pipe open after this process closed it.
                others = [c for w in self._started for c in (w.jobs, w.results)]
                process = context.Process(  # type: ignore[attr-defined]
                    target=_serve,
                    args=(jobs_in, results_out, [*others, jobs, results] if forked else []),
                    daemon=True,
                )
                process.start()
                jobs_in.close()
                results_out.close()
                self._started.append(_Worker(process, jobs, results, _capacity(jobs)))
        finally:
            gc.unfreeze()

    async def run(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        """`fn(*args)` in a worker (`fn` importable by its name there).

        Raises `BrokenPool` when the workers cannot start or one died.
        """
        if self._broken or not self.usable:
            raise BrokenPool(self._broken or "the worker processes are not running")
        self.start()
        if not self._started:
            raise BrokenPool("the worker processes could not start")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._listen(loop)
        future: asyncio.Future[Any] = loop.create_future()
        import pickle

        self._waiting.append((future, pickle.dumps((fn, args), pickle.HIGHEST_PROTOCOL)))
        self._send()
        return await future

    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        self._unlisten()
        self._loop = loop
        for worker in self._started:
            loop.add_reader(worker.results.fileno(), self._receive, worker)

    def _unlisten(self) -> None:
        """Stop reading results on the loop that did (closed by now, or not)."""
        if self._loop is not None and not self._loop.is_closed():
            for worker in self._started:
                self._loop.remove_reader(worker.results.fileno())
        self._loop = None

    def _send(self) -> None:
        while self._waiting:
            future, job = self._waiting[0]
            if future.done():  # its caller was cancelled while it waited
                self._waiting.popleft()
                continue
            worker = min(self._started, key=lambda w: len(w.sent))
            queued = sum(size for _, size in worker.sent)
            if worker.sent and (len(worker.sent) > 1 or queued + len(job) > worker.capacity):
                return  # every worker has its next job, or this one would not fit
            self._waiting.popleft()
            worker.sent.append((future, len(job)))
            try:
                # Never waits long: the job fits in the pipe, or the worker is idle,
                # reading it as it goes in.
                worker.jobs.send_bytes(job)
            except OSError as e:
                self._break(f"a worker process cannot be reached ({e})")
                return

    def _receive(self, worker: _Worker) -> None:
        import pickle

        try:
            ok, value = pickle.loads(worker.results.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError) as e:
            worker.process.join(1)
            code = worker.process.exitcode
            self._break(f"a worker process ended (exit code {code}): {type(e).__name__}")
            return
        future, _ = worker.sent.popleft()
        if not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._send()

    def _break(self, reason: str) -> None:
        """Fail every job the workers have or were to get, and stop them."""
        self._broken = reason
        error = BrokenPool(reason)
        for worker in self._started:
            for future, _ in worker.sent:
                if not future.done():
                    future.set_exception(error)
            worker.sent.clear()
        for future, _ in self._waiting:
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()
        self._stop(wait=False)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the workers: each ends the job in hand (`wait`: and this waits for
        that). Jobs not yet sent are cancelled; so are all, with `cancel_futures`."""
        for future, _ in self._waiting:
            future.cancel()
        self._waiting.clear()
        if cancel_futures:
            for worker in self._started:
                for future, _ in worker.sent:
                    future.cancel()
        self._stop(wait=wait)

    def _stop(self, wait: bool = True) -> None:
        self._unlisten()
        started, self._started = self._started, []
        for worker in started:
            # Closed, its job pipe ends the worker's loop; its result pipe, any
            # result it was writing (it then ends too).
            worker.jobs.close()
            worker.results.close()
        for worker in started:
            if wait:
                worker.process.join(60)
            if worker.process.is_alive():
                worker.process.terminate()
                if wait:
                    worker.process.join(5)


def _serve(jobs: Connection, results: Connection, inherited: list[Connection]) -> None:
    """A worker's life: jobs in, results out, until the job pipe closes."""
    for connection in inherited:
        connection.close()
    import pickle

    from .preparation import in_worker

    in_worker()
    while True:
        try:
            fn, args = pickle.loads(jobs.recv_bytes())
        except EOFError:
            return
        try:
            outcome: tuple[bool, Any] = (True, fn(*args))
        except Exception as e:
            outcome = (False, e)
        try:
            message = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # an exception that cannot be pickled: its text then
            message = pickle.dumps((False, RuntimeError(f"{type(e).__name__}: {outcome[1]}")))
        try:
            results.send_bytes(message)
        except OSError:  # the process that started it stopped listening
            return


def _pipe(context: BaseContext) -> tuple[Connection, Connection]:
    """A one-way pipe (reading end, writing end) of `PIPE_BYTES`, where allowed."""
    reader, writer = context.Pipe(duplex=False)
    widen(writer.fileno())
    return reader, writer


def widen(pipe: int, size: int = PIPE_BYTES) -> None:
    """Make the pipe hold `size` bytes, where the system lets it (Linux)."""
    try:
        import fcntl
    except ImportError:  # no pipes of a settable size, nor a fork to use them
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):  # above the system's limit: the default stays
            fcntl.fcntl(pipe, set_size, size)


def _capacity(connection: Connection) -> int:
    try:
        import fcntl

        return int(fcntl.fcntl(connection.fileno(), fcntl.F_GETPIPE_SZ))
    except (ImportError, AttributeError, OSError):
        return 1 << 16


def _single_threaded() -> bool:
    """Whether this process has no other thread, Python's or a library's (a BLAS
    thread pool: `cli.main` asks NumPy's for none)."""
    if sys.platform != "linux":
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False
