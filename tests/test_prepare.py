"""Preparing a feed in a worker: one bad item never loses the others."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fixtures.make_samples import build

from monitor.config import TopicConfig
from monitor.dedup import Features
from monitor.digest import match_topics
from monitor.parse import adapter_for, parse_feed
from monitor.parse.adapters.base import SiteAdapter
from monitor.service.preparation import prepare_feed

FETCHED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
FEED = build()["rfi.xml"].encode()  # two items


def prepare() -> tuple[list[str], list[str]]:
    prepared = prepare_feed("rfi", FEED, (), None, None, FETCHED, {})
    return [item.guid for item in prepared.items], prepared.problems


def test_each_item_gets_the_features_of_its_own_text() -> None:
    prepared = prepare_feed("rfi", FEED, (), None, None, FETCHED, {})
    assert len(prepared.items) == 2
    for item in prepared.items:
        alone = Features.of(item.article.text or item.article.title)
        assert (item.features.simhash, item.features.sentences) == (alone.simhash, alone.sentences)


def test_a_worker_makes_no_markup_which_the_adapter_makes_when_asked() -> None:
    """Nothing a run stores reads an article's markup; `monitor parse` shows it."""
    prepared = prepare_feed("rfi", FEED, (), None, None, FETCHED, {})
    assert [item.article.html for item in prepared.items] == [None, None]
    (item, *_) = parse_feed(FEED, "rfi").items
    article = adapter_for(item.url).adapt(item, "rfi", FETCHED)
    assert article.html is not None and "<p>" in article.html
    assert article.text == prepared.items[0].article.text


def test_an_item_the_adapter_fails_on_is_reported_and_the_rest_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    guids, _ = prepare()
    adapt = SiteAdapter.adapt

    def failing(self: SiteAdapter, item: object, *args: object, **kwargs: bool) -> object:
        if getattr(item, "guid", None) == guids[0]:
            raise ValueError("broken markup")
        return adapt(self, item, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SiteAdapter, "adapt", failing)
    kept, problems = prepare()
    assert kept == guids[1:]
    assert problems == [f"feed 'rfi': item {guids[0]!r}: cannot adapt: broken markup"]


def test_a_text_the_features_fail_on_is_reported_and_the_rest_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    guids, _ = prepare()
    prepared = prepare_feed("rfi", FEED, (), None, None, FETCHED, {})
    bad = prepared.items[1].article.text
    of_many = Features.of_many

    def failing(texts: list[str], width: int = 3, titles: Sequence[str] = ()) -> list[Features]:
        if bad in texts:
            raise MemoryError("no room")
        return of_many(texts, width, titles)

    monkeypatch.setattr(Features, "of_many", failing)
    kept, problems = prepare()
    assert kept == guids[:1]
    assert problems == [f"feed 'rfi': item {guids[1]!r}: cannot adapt: no room"]


def test_items_are_matched_to_topics_in_the_worker() -> None:
    topics = (
        TopicConfig("朝鲜半岛", ("朝鲜", "韩国")),
        TopicConfig("无关", ("足球",)),
        TopicConfig("默认", ("不会出现的词",)),
    )
    prepared = prepare_feed("rfi", FEED, (), None, None, FETCHED, {}, topics, ("默认",))
    for item in prepared.items:
        expected = match_topics(item.article.title, item.article.text, topics, ("默认",))
        assert item.topics == expected
        assert "默认" in item.topics and "无关" not in item.topics
    assert any("朝鲜半岛" in item.topics for item in prepared.items)


@pytest.mark.parametrize(
    ("where", "nul"),
    [
        ("    <title>", "&#0;"),
        ('<guid isPermaLink="false">', "&#0;"),
        ("    <link>", "&#0;"),
        ("<content:encoded><![CDATA[", "\x00"),
        ("<content:encoded><![CDATA[", "&#0;"),
        ("feed name", "\x00"),
    ],
)
def test_a_nul_anywhere_in_a_feed_reaches_no_stored_field(where: str, nul: str) -> None:
    feed, name = build()["rfi.xml"], "rfi"
    if where == "feed name":
        name = f"r{nul}fi"
    else:
        assert feed.count(where) == 2
        feed = feed.replace(where, where + nul)
    prepared = prepare_feed(name, feed.encode(), (), None, None, FETCHED, {})
    assert len(prepared.items) == 2
    for item in prepared.items:
        fields = [item.guid, *vars(item.article).values(), *item.article.authors]
        assert not [f for f in fields if isinstance(f, str) and "\x00" in f]


ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>t</title><entry><title>x</title><id>urn:x:1</id>"
    b'<link href="https://a.example/1"/><summary>s</summary></entry></feed>'
)
IMPORTS = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from monitor.service.preparation import prepare_feed
for name in sys.argv[1:]:
    content = Path(name).read_bytes()
    items = prepare_feed(name, content, (), None, None, datetime.now(UTC), {}).items
    print(len(items), "feedparser" in sys.modules)
"""


def test_feedparser_is_imported_only_for_a_document_that_needs_it(tmp_path: Path) -> None:
    """Plain RSS never needs it: importing it cost 9.5 ms on the way to a run's
    first fetch, before the workers that inherit it were forked."""
    (tmp_path / "plain.xml").write_bytes(FEED)
    (tmp_path / "atom.xml").write_bytes(ATOM)
    paths = [str(tmp_path / "plain.xml"), str(tmp_path / "atom.xml")]
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS, *paths], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["2 False", "1 True"]
