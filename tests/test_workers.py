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

from monitor.service.workers import _pipe

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux")

PREAMBLE = """
import json, os, signal, sys, threading, time
os.environ["OPENBLAS_NUM_THREADS"] = "1"  # as `monitor` sets it: no BLAS thread pool
from datetime import UTC, datetime
from monitor.service.pipeline import _prepare
from monitor.service.workers import LazyPool
import asyncio

FEED = open(sys.argv[1], "rb").read()
JOB = ("rfi", FEED, (), None, None, datetime(2026, 11, 22, tzinfo=UTC), frozenset())

def table_built():  # in a forked worker, this module is the run's own
    from monitor.dedup import features
    return features._table.cache_info().currsize

def in_worker(pool, fn, *args):
    return asyncio.run(pool.run(fn, *args))

def raised(pool, fn, *args):  # what running `fn` in a worker raised, as "Type: text"
    try:
        in_worker(pool, fn, *args)
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return "nothing"

def report(pool, **extra):
    worker = in_worker(pool, os.getppid) if pool.started else None
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
        handler = in_worker(pool, signal.getsignal, signal.SIGINT)
        built = in_worker(pool, table_built)
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
        handler = in_worker(pool, signal.getsignal, signal.SIGINT)
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


def test_a_worker_hands_back_a_whole_feed_without_waiting_for_the_reader() -> None:
    """A prepared feed is about 150 kB; in a default 64 kB pipe its writer would
    wait for the loop to read."""
    import multiprocessing

    reader, writer = _pipe(multiprocessing.get_context("fork"))
    result = bytes(range(256)) * 1200  # 300 kB, as a 100-item feed's result
    written = threading.Thread(target=writer.send_bytes, args=(result,), daemon=True)
    written.start()
    written.join(timeout=10)
    assert not written.is_alive(), "the writer waited for a reader"
    assert reader.recv_bytes() == result
    reader.close()
    writer.close()


def test_jobs_and_results_larger_than_a_pipe_come_and_go_in_order(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        import zlib
        pool = LazyPool(2)
        pool.start()
        async def many():
            jobs = [os.urandom(n) for n in (10, 3_000_000, 400_000, 5, 2_500_000, 70_000)]
            done = await asyncio.gather(*(pool.run(zlib.crc32, job) for job in jobs))
            return done == [zlib.crc32(job) for job in jobs]
        async def large():
            return await asyncio.gather(*(pool.run(os.urandom, n) for n in (400_000, 5, 2_000_000)))
        sizes = [len(r) for r in asyncio.run(asyncio.wait_for(large(), 60))]
        report(pool, sizes=sizes, same=asyncio.run(asyncio.wait_for(many(), 60)))
        """,
    )
    assert result["forked_here"] is True
    assert result["sizes"] == [400_000, 5, 2_000_000]
    assert result["same"] is True
    assert result["guids"] == expected_guids()


def test_a_worker_that_dies_fails_its_job_and_the_run_parses_alone(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        pool = LazyPool(2)
        pool.start()
        report(pool, died=raised(pool, os._exit, 3))
        """,
    )
    assert result["died"] == "BrokenPool: a worker process ended (exit code 3): EOFError"
    assert result["usable"] is False  # `_prepare` parsed the feed here instead
    assert "worker processes failed" in str(result["stderr"])
    assert result["guids"] == expected_guids()


def test_an_exception_in_a_job_reaches_its_caller_and_the_workers_go_on(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        """
        pool = LazyPool(2)
        pool.start()
        report(pool, raised=raised(pool, int, "not a number"))
        """,
    )
    assert result["raised"] == "ValueError: invalid literal for int() with base 10: 'not a number'"
    assert result["usable"] is True
    assert result["guids"] == expected_guids()
