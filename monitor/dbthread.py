"""One thread for every database call of an asyncio program.

A database call can wait: for a SQLite writer's lock, for PostgreSQL's dedup
lock while another daemon stores a feed, for a slow disk. Made on the event
loop, that wait would stall every fetch in flight until their timeouts cut
them off. Made here, the loop goes on fetching while the calls run one after
another, in the order they were asked for, on the one connection a `Storage`
holds. A call whose caller was cancelled still runs to its end, so a
transaction is never left half done.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseThread:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="database")

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
