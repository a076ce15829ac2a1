"""The worker processes start with the run when many feeds will send content,
and not at all when every feed answers 304."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import load_config
from monitor.pipeline import POOL_MIN_FEEDS, LazyPool
from monitor.storage import Storage


@pytest.fixture
def warmed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    warm = LazyPool.warm

    def recorded(self: LazyPool) -> None:
        calls.append(self.workers)
        warm(self)

    monkeypatch.setattr(LazyPool, "warm", recorded)
    return calls


def test_workers_start_early_on_a_first_run_only(
    tmp_path: Path, feed_server: FeedServer, warmed: list[int]
) -> None:
    body = build()["cri.xml"].encode()
    feeds = []
    for n in range(POOL_MIN_FEEDS):
        feed_server.routes[f"/f{n}.xml"] = Response(body, etag=f'"v{n}"')
        feeds.append((f"f{n}", feed_server.url(f"/f{n}.xml")))
    config = write_config(tmp_path, feeds)
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert warmed == [load_config(config).fetch.workers]
    with Storage(tmp_path / "monitor.db") as storage:
        assert storage.feeds_with_validators(feeds) == POOL_MIN_FEEDS
        moved = [(feeds[0][0], feeds[0][1] + "?moved"), *feeds[1:]]
        assert storage.feeds_with_validators(moved) == POOL_MIN_FEEDS - 1  # a new URL
    assert main(["run", "--no-digest", "--config", str(config)]) == 0  # every feed 304
    assert len(warmed) == 1
