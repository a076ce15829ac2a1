"""Retention: `[storage] keep_days` and `monitor prune` on a real database (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Backend, FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.store import Storage


def samples(feed_server: FeedServer) -> list[tuple[str, str]]:
    feeds = []
    for name, content in sorted(build().items()):
        feed_server.routes[f"/{name}"] = Response(content.encode())
        feeds.append((name.removesuffix(".xml"), feed_server.url(f"/{name}")))
    return feeds


def age(config: Path, *, days: int, still_listed: bool) -> None:
    """Make every story `days` old; unless `still_listed`, the feeds no longer list them."""
    with Storage(load_config(config).storage.target) as storage, storage.transaction():
        storage._db.execute(
            f"UPDATE stories SET created_at = '{2026 - days // 365 - 1}-01-01T00:00:00+00:00'"
        )
        feeds = [int(row[0]) for row in storage._db.execute("SELECT id FROM feeds").fetchall()]
        for feed in feeds:
            guids = storage._db.execute("SELECT guid FROM items WHERE feed_id = ?", (feed,))
            listed = [row[0] for row in guids.fetchall()] if still_listed else []
            storage._db.execute(
                "UPDATE feeds SET last_guids = ? WHERE id = ?", (json.dumps(listed), feed)
            )


def counts(config: Path) -> tuple[int, int, int]:
    with Storage(load_config(config).storage.target) as storage:
        return tuple(  # type: ignore[return-value]
            int(storage._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("stories", "items", "item_index")
        )


def test_prune_removes_old_stories_every_digest_has_had(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, samples(feed_server), storage=backend.storage)
    assert main(["run", "--config", str(config)]) == 0  # stored and sent to the outbox
    stories, items, _ = counts(config)
    assert stories > 0 and items > stories
    age(config, days=800, still_listed=False)
    capsys.readouterr()
    assert main(["prune", "--dry-run", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"would remove {stories} stories ({items} items) older than 365 days")
    assert counts(config)[:2] == (stories, items)
    assert main(["prune", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith(f"removed {stories} stories ({items} items)")
    assert counts(config) == (0, 0, 0)
    assert main(["export", "--config", str(config)]) == 0
    assert capsys.readouterr().out == ""


def test_prune_keeps_stories_a_digest_may_still_send_and_items_their_feed_still_lists(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, samples(feed_server))
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    stories, items, _ = counts(config)
    age(config, days=800, still_listed=True)
    with Storage(load_config(config).storage.target) as storage, storage.transaction():
        # A more complete version of one came today: pending again, for a digest to send.
        storage._db.execute(
            "UPDATE stories SET updated_at = ? WHERE id = (SELECT MIN(id) FROM stories)",
            (datetime.now(UTC).isoformat(),),
        )
    capsys.readouterr()
    assert main(["prune", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"kept 1 not yet sent by every digest and {stories - 1:,} still listed" in out
    assert counts(config)[:2] == (stories, items)
    age(config, days=800, still_listed=False)
    assert main(["prune", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith(f"removed {stories - 1} stories")
    assert counts(config)[0] == 1
    assert main(["digest", "--config", str(config)]) == 0  # the one left is sent
    age(config, days=800, still_listed=False)
    assert main(["prune", "--config", str(config)]) == 0
    assert counts(config) == (0, 0, 0)


def limited_digest(tmp_path: Path, feed_server: FeedServer, storage: str) -> Path:
    """The samples' config with a digest of one topic only."""
    topics = '[[topics]]\nname = "俄朝关系"\nkeywords = ["普京", "俄朝"]\n'
    return write_config(
        tmp_path,
        samples(feed_server),
        extra='topics = ["俄朝关系"]',
        topics=topics,
        storage=storage,
    )


def test_status_counts_as_pending_only_what_a_limited_digest_sends(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = limited_digest(tmp_path, feed_server, 'path = "monitor.db"')
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(config)]) == 0
    (pending,) = [d["pending_stories"] for d in json.loads(capsys.readouterr().out)["digests"]]
    assert 0 < pending < counts(config)[0]
    assert main(["digest", "--config", str(config)]) == 0
    assert f"{pending} stories" in capsys.readouterr().err
    assert main(["status", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["digests"][0]["pending_stories"] == 0


def test_stories_a_digest_never_sends_do_not_stay_for_ever(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A digest limited to a topic never has the other stories, nor a recipient
    added later the stories before: past the dedup window, nobody will have them."""
    config = limited_digest(tmp_path, feed_server, backend.storage)
    assert main(["run", "--config", str(config)]) == 0
    stories, _, _ = counts(config)
    with Storage(load_config(config).storage.target) as storage:
        had = storage._db.execute("SELECT COUNT(DISTINCT story_id) FROM deliveries").fetchone()[0]
    assert 0 < had < stories  # the others are not the digest's
    text = config.read_text(encoding="utf-8")
    more = '["reader@example.org", "new@example.org"]'
    config.write_text(text.replace('["reader@example.org"]', more), encoding="utf-8")
    age(config, days=800, still_listed=False)
    capsys.readouterr()
    assert main(["prune", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith(f"removed {stories} stories")
    assert counts(config) == (0, 0, 0)


def test_keep_days_may_not_undercut_the_dedup_window(tmp_path: Path) -> None:
    config = write_config(tmp_path, [], storage='path = "monitor.db"\nkeep_days = 1')
    with pytest.raises(
        ConfigError, match=r"storage\.keep_days.*shorter than \[dedup\] window_days"
    ):
        load_config(config)


def test_keep_days_zero_keeps_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [], storage='path = "monitor.db"\nkeep_days = 0')
    assert main(["prune", "--config", str(config)]) == 0
    assert "nothing is removed" in capsys.readouterr().out
