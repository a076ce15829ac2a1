"""Worker processes: forked from a run with one thread, from the fork server otherwise.

Each case runs in a fresh interpreter, so that the threads it has are the ones
the case starts (pytest's own process may hold server threads).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from fixtures.make_samples import build

from monitor.workers import wide_pipes

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux")

PREAMBLE = """
import json, os, signal, sys, threading, time
os.environ["OPENBLAS_NUM_THREADS"] = "1"  # as `monitor` sets it: no BLAS thread pool
from datetime import UTC, datetime
from monitor.pipeline import _prepare
from monitor.workers import LazyPool
import asyncio

FEED = open(sys.argv[1], "rb").read()
JOB = ("rfi", FEED, (), None, None, datetime(2026, 11, 22, tzinfo=UTC), frozenset())

def table_built():  # in a forked worker, this module is the run's own
    from monitor import features
    return features._table.cache_info().currsize

def report(pool, **extra):
    worker = pool.pool.submit(os.getppid).result() if pool.pool else None
    prepared = asyncio.run(_prepare(pool, JOB))
    print(json.dumps({
        "forked_here": worker == os.getpid(),
        "usable": pool.usable,
        "guids": [item.guid for item in prepared.items],
        **extra,
    }))
    pool.shutdown()
"""


def run(tmp_path: Path, body: str) -> dict[str, object]:
    feed = tmp_path / "rfi.xml"
    feed.write_text(build()["rfi.xml"], encoding="utf-8")
    code = PREAMBLE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code, str(feed)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    result["stderr"] = done.stderr
    return result


def expected_guids() -> list[str]:
    from monitor.parse import parse_feed

    return [item.guid for item in parse_feed(build()["rfi.xml"].encode(), "rfi").items]


def test_a_process_with_one_thread_forks_its_workers(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        signal.signal(signal.SIGINT, lambda *_: None)  # as asyncio.run's handler
        pool = LazyPool(2)
        pool.start()
        handler = pool.pool.submit(signal.getsignal, signal.SIGINT).result()
        built = pool.pool.submit(table_built).result()
        report(pool, ignores_ctrl_c=handler == signal.SIG_IGN, built=built)
        """,
    )
    assert result["forked_here"] is True
    assert result["guids"] == expected_guids()
    # Ctrl-C is for the run to act on, not its workers (nor the run's handler).
    assert result["ignores_ctrl_c"] is True
    # It built the features' character table before its first feed (the run has not).
    assert result["built"] == 1


def test_a_process_with_other_threads_uses_the_fork_server(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        pool = LazyPool(2)
        pool.start()
        handler = pool.pool.submit(signal.getsignal, signal.SIGINT).result()
        report(pool, ignores_ctrl_c=handler == signal.SIG_IGN)
        stop.set()
        """,
    )
    assert result["forked_here"] is False
    assert result["ignores_ctrl_c"] is True
    assert result["usable"] is True
    assert result["guids"] == expected_guids()


def test_workers_that_cannot_be_forked_leave_the_parsing_to_the_process(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        def refused():
            raise BlockingIOError(11, "Resource temporarily unavailable")
        os.fork = refused
        pool = LazyPool(2)
        pool.start()
        report(pool)
        """,
    )
    assert result["usable"] is False
    assert "worker processes cannot start ([Errno 11] Resource temporarily unavailable)" in str(
        result["stderr"]
    )
    assert result["guids"] == expected_guids()


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_worker_hands_back_a_whole_feed_without_waiting_for_the_reader(method: str) -> None:
    """A prepared feed is about 150 kB; in a default 64 kB pipe its writer would
    wait for the run's result thread to read."""
    queue = wide_pipes(method).SimpleQueue()
    result = bytes(range(256)) * 1200  # 300 kB, as a 100-item feed's result
    written = threading.Thread(target=queue.put, args=(result,), daemon=True)
    written.start()
    written.join(timeout=10)
    assert not written.is_alive(), "the writer waited for a reader"
    assert queue.get() == result
    queue.close()


def test_a_pool_returns_results_larger_than_a_default_pipe(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        pool = LazyPool(2)
        pool.start()
        sizes = [len(f.result()) for f in [pool.pool.submit(os.urandom, 400_000) for _ in range(6)]]
        report(pool, sizes=sizes)
        """,
    )
    assert result["forked_here"] is True
    assert result["sizes"] == [400_000] * 6
    assert result["guids"] == expected_guids()
