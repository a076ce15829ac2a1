"""One thread for every database call of an asyncio program.

A database call can wait: for a SQLite writer's lock, for PostgreSQL's dedup
lock while another daemon stores a feed, for a slow disk. Made on the event
loop, that wait would stall every fetch in flight until their timeouts cut
them off. Made here, the loop goes on fetching while the calls run one after
another, in the order they were asked for, on the one connection a `Storage`
holds. A call whose caller was cancelled still runs to its end, so a
transaction is never left half done.

Calls made with `batched` may share a transaction: those that arrive while
the thread is busy run together, each in a savepoint of one transaction, so
that they share one commit. When the thread keeps up, each runs alone, as
soon as it is asked for.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Calls sharing one transaction at most: a bound on how much one failed commit
# sends back to be fetched again.
MAX_BATCH = 16


class Batchable(Protocol):
    def batch(self) -> AbstractContextManager[None]: ...


class DatabaseThread:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="database")
        self._waiting: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._draining = False
        self._drainer: asyncio.Task[None] | None = None
        """Held so the running drain is not garbage-collected (the loop keeps only a weak one)."""

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def batched(
        self, storage: Batchable, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn` in a transaction it may share with other batched calls of `storage`.

        `fn` must make its writes in `storage.transaction()`s: inside a batch each
        is a savepoint, so a call that fails undoes its own writes and no other's.
        """
        return await self.submit(storage, fn, *args, **kwargs)

    def submit(
        self, storage: Batchable, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> asyncio.Future[T]:
        """`batched`, queued now: calls run in the order they were submitted."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((functools.partial(fn, *args, **kwargs), future))
        if not self._draining:
            self._draining = True
            self._drainer = asyncio.get_running_loop().create_task(self._drain(storage))
        return future

    async def _drain(self, storage: Batchable) -> None:
        """Run what waits, a batch at a time, until nothing does. A batch is what
        arrived while the one before it ran: no call waits for others to join it
        (the database would sit idle meanwhile, and the feeds behind it too)."""
        batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                outcomes = await self(_run_batch, storage, [call for call, _ in batch])
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    _settle(future, ok, value)
                batch = []
        except BaseException as e:  # cancelled with the loop: no caller may hang
            for _, future in [*batch, *self._waiting]:
                _settle(future, False, e)
            self._waiting = []
            if not isinstance(e, Exception):
                raise
        finally:
            self._draining = False

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Hand a call's outcome to its caller, if the caller still waits."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    elif isinstance(value, asyncio.CancelledError):
        future.cancel()
    elif isinstance(value, StopIteration):  # a future cannot carry one
        error = RuntimeError(f"a database call raised StopIteration: {value}")
        error.__cause__ = value
        future.set_exception(error)
    else:
        future.set_exception(value)


def _run_batch(storage: Batchable, calls: list[Callable[[], Any]]) -> list[tuple[bool, Any]]:
    """Each call's result or exception; all of them errors when the commit failed."""
    if len(calls) == 1:
        try:
            return [(True, calls[0]())]
        except Exception as e:
            return [(False, e)]
    outcomes: list[tuple[bool, Any]] = []
    try:
        with storage.batch():
            for call in calls:
                try:
                    outcomes.append((True, call()))
                except Exception as e:
                    outcomes.append((False, e))
    except Exception as e:
        return [(False, e)] * len(calls)
    return outcomes
