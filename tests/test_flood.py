"""A flood feed: at most ``[fetch] max_items`` new items a fetch, the newest, read as a stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config
from lxml import etree

from monitor.cli import main
from monitor.models import Item
from monitor.parse import Newest
from monitor.parse import rss as rss_module

START = datetime(2026, 11, 1, tzinfo=UTC)


def item(guid: str, hours: float | None) -> Item:
    published = START + timedelta(hours=hours) if hours is not None else None
    return Item(
        guid=guid, url=f"https://e.org/{guid}", title=guid, published=published, authors=(), html=""
    )


def test_the_newest_new_items_are_kept_in_the_feeds_order() -> None:
    taken = Newest(3, {"stored": None})
    for offered in [
        item("a", 1), item("stored", 9), item("b", 5), item("undated", None),
        item("c", 5), item("b", 7), item("d", 0), item("e", 6),
    ]:  # fmt: skip
        taken.offer(offered)
    # b, e and the first of the two at 5 (b) ... c ties with b, b came first
    assert [i.guid for i in taken.items()] == ["b", "c", "e"]
    assert sorted(taken.over) == ["a", "d", "undated"]
    assert (taken.known, taken.repeats) == (["stored"], 1)
    taken.reset()
    assert taken.items() == [] and taken.over == [] and taken.known == []
    unlimited = Newest(None)
    for n in range(5):
        unlimited.offer(item(str(n), -n))
    assert [i.guid for i in unlimited.items()] == ["0", "1", "2", "3", "4"]


def flood(count: int) -> bytes:
    items = "".join(
        f"<item><title>标题{n}</title><link>https://flood.example/{n}</link>"
        f"<pubDate>{(START + timedelta(minutes=n)).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>"
        f"<description>第{n}条</description></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'.encode()


def test_items_are_let_go_as_they_are_read() -> None:
    """The tree holds what the parser read ahead (one buffer of input), never the
    document (no timing, no memory figure: `benchmarks/flood.py` measures those)."""
    held: list[int] = []
    original = rss_module._entry

    def counting(element: etree._Element) -> rss_module.Entry | None:
        held.append(sum(1 for child in element.getparent() if child.tag == "item"))
        return original(element)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rss_module, "_entry", counting)
        entries: list[rss_module.Entry] = []
        rss_module.stream_rss(flood(5000), None, entries.append)
    assert len(entries) == 5000 and max(held) < 500


def test_a_flood_feed_gives_its_newest_and_the_rest_is_not_fetched_again(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/flood.xml"] = Response(flood(5000))
    config = write_config(tmp_path, [("flood", feed_server.url("/flood.xml"))])
    text = config.read_text(encoding="utf-8").replace("timeout = 5", "timeout = 5\nmax_items = 100")
    config.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert (
        "monitor: feed 'flood': 4,900 items over [fetch] max_items (100) skipped, the oldest; "
        "they are not fetched again" in err
    )
    assert "100 new items" in err
    assert main(["export", "--config", str(config)]) == 0
    urls = {json.loads(line)["url"] for line in capsys.readouterr().out.splitlines()}
    assert urls == {f"https://flood.example/{n}" for n in range(4900, 5000)}
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert "0 new items" in err and "max_items" not in err
