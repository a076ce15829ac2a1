"""An item the feed edits in place, under the same GUID and link: a flash
expanded into the full report, a headline rewritten, a figure corrected.

The stored version is replaced by the new one (in its story, once a digest
had it, else decided anew like a teaser's full text); only the items
whose entry changed are adapted again; a change of markup alone replaces
nothing; a story a digest had comes again, marked updated, when the edit
changed its headline or grew its text by a fifth, and not for a corrected word.
A new version that is no copy of the stored one is another article under the
old GUID: it is stored beside it, and neither is lost.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Backend, FeedServer, MailServer, Response, smtp_table, write_config
from dedup_corpus import seed_texts
from test_known_guids import count_adapted

from monitor.cli import main
from monitor.config import load_config
from monitor.store import Storage

LINK = "https://news.example/{}.html"


def paragraphs() -> list[str]:
    return [p for p in seed_texts()["000"].split("\n") if p.strip()]


def rss(entries: dict[str, tuple[str, str]], newer: frozenset[str] = frozenset()) -> bytes:
    """A feed of key → (headline, markup) items, each under its own GUID and link,
    published on 20 November, or the 21st for those `newer`."""
    items = "".join(
        f"<item><title>{title}</title><link>{LINK.format(key)}</link><guid>{LINK.format(key)}"
        f"</guid><pubDate>{21 if key in newer else 20} Nov 2026 08:00:00 +0000</pubDate>"
        f"<description><![CDATA[{markup}]]></description></item>"
        for key, (title, markup) in entries.items()
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        f"{items}</channel></rss>"
    ).encode()


FLASH = ("快讯：韩日恢复军情协定", "".join(f"<p>{p}</p>" for p in paragraphs()[:3]))
REPORT = ("对抗朝鲜：韩日追求军情合作“正常化”", "".join(f"<p>{p}</p>" for p in paragraphs()))
OTHER = (
    "菲律宾就仁爱礁事件提出抗议",
    "".join(f"<p>{p}</p>" for p in seed_texts()["003"].split("\n") if p),
)


class Feed:
    """The feed on the test server, a new ETag for every version, and a config
    that follows it."""

    def __init__(
        self, feed_server: FeedServer, folder: Path, backend: Backend, smtp: str = ""
    ) -> None:
        self.server = feed_server
        self.version = 0
        self.config = write_config(
            folder, [("news", feed_server.url("/feed.xml"))], smtp=smtp, storage=backend.storage
        )

    def serve(
        self, entries: dict[str, tuple[str, str]], newer: frozenset[str] = frozenset()
    ) -> None:
        self.version += 1
        self.server.routes["/feed.xml"] = Response(rss(entries, newer), etag=f'"v{self.version}"')


@pytest.fixture
def feed(backend: Backend, tmp_path: Path, feed_server: FeedServer) -> Feed:
    return Feed(feed_server, tmp_path, backend)


def items(storage: Storage) -> dict[str, dict[str, object]]:
    return {str(item["guid"]): item for item in storage.export_items()}


def run(config: Path, capsys: pytest.CaptureFixture[str], *, digest: bool = False) -> str:
    capsys.readouterr()
    assert main(["run", "--config", str(config), *([] if digest else ["--no-digest"])]) == 0
    return capsys.readouterr().err


def test_an_item_edited_in_place_is_stored_as_its_new_version(
    feed: Feed, backend: Backend, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = feed.config
    feed.serve({"a": FLASH, "b": OTHER})
    run(config, capsys)
    with backend.open() as storage:
        before = items(storage)
    adapted = count_adapted(monkeypatch)
    feed.serve({"a": REPORT, "b": OTHER})  # the flash expanded, under its GUID
    said = run(config, capsys)
    assert "0 new items · 1 item edited ·" in said, said
    assert adapted == [LINK.format("a")]  # the unchanged item is not adapted again
    with backend.open() as storage:
        after = items(storage)
        (text,) = storage._db.execute(
            "SELECT text FROM items WHERE guid = ?", (LINK.format("a"),)
        ).fetchone()
    assert len(after) == 2
    assert after[LINK.format("a")]["title"] == REPORT[0]
    assert text.startswith(paragraphs()[0]) and paragraphs()[-1] in text
    # No digest had its story, which held it alone: decided anew, on its new text.
    assert after[LINK.format("a")]["story"] != after[LINK.format("b")]["story"]
    assert after[LINK.format("b")] == before[LINK.format("b")]
    # Fetched again unchanged, nothing is adapted, nothing replaced.
    adapted.clear()
    feed.serve({"a": REPORT, "b": OTHER})
    assert "0 new items · 0 reposts" in run(config, capsys)
    assert adapted == []


def test_a_change_of_markup_alone_replaces_nothing(
    feed: Feed, backend: Backend, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = feed.config
    feed.serve({"a": REPORT})
    run(config, capsys)
    with backend.open() as storage:
        before = storage._db.execute("SELECT id, text_hash FROM items").fetchall()
    adapted = count_adapted(monkeypatch)
    restyled = (REPORT[0], f'<div class="body" data-v="2">{REPORT[1]}</div>')
    feed.serve({"a": restyled})
    said = run(config, capsys)
    assert "0 new items · 0 reposts" in said and "edited" not in said
    assert adapted == [LINK.format("a")]  # read again, found the same
    with backend.open() as storage:
        assert storage._db.execute("SELECT id, text_hash FROM items").fetchall() == before
    adapted.clear()
    feed.serve({"a": restyled})
    run(config, capsys)
    assert adapted == []  # its new markup recorded


def test_an_edited_story_a_digest_had_comes_again_only_for_news(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, smtp_server: MailServer,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A new headline, or a text a fifth longer, is news: the story comes again,
    marked updated and shown by the new version. A corrected word is not: the new
    version replaces the stored one quietly."""
    feed = Feed(feed_server, tmp_path, backend, smtp=smtp_table(smtp_server.port))
    config = feed.config
    feed.serve({"a": FLASH})
    run(config, capsys, digest=True)
    corrected = (FLASH[0], FLASH[1].replace("周六", "周五"))
    feed.serve({"a": corrected})
    assert "1 item edited" in run(config, capsys, digest=True)
    assert len(smtp_server.messages) == 1  # nothing new to send
    feed.serve({"a": REPORT})
    assert "1 item edited" in run(config, capsys, digest=True)
    assert len(smtp_server.messages) == 2
    first, second = (
        message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for message in smtp_server.messages
    )
    assert FLASH[0] in first and "〔更新〕" not in first
    assert f"〔更新〕{REPORT[0]}" in second and FLASH[0] not in second
    with backend.open() as storage:
        assert len(list(storage.export_items())) == 1


@pytest.mark.parametrize("edit", ["expanded", "replaced"])
def test_an_edit_stays_in_a_story_of_others_only_while_it_is_a_copy_of_them(
    edit: str, backend: Backend, tmp_path: Path, feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Another outlet carries the flash; the first outlet then expands it (the
    same story still) or puts another article under its old GUID: that is
    stored beside the flash, a story of its own, and the flash stays with its
    copy (`dedup.same_article`)."""
    feed = Feed(feed_server, tmp_path, backend)
    config = two_outlets(feed, feed_server, tmp_path, backend)
    feed.serve({"a": FLASH})
    run(config, capsys)
    before = stories_by_feed(backend)
    assert before["news"] == before["copies"]
    feed.serve({"a": REPORT if edit == "expanded" else OTHER})
    said = run(config, capsys)
    with backend.open() as storage:
        after = [(str(i["feed"]), i["title"], i["story"]) for i in storage.export_items()]
    if edit == "expanded":
        assert "1 item edited" in said and "0 new items" in said
        assert {feed for feed, _, _ in after} == {"news", "copies"} and len(after) == 2
        assert len({story for _, _, story in after}) == 1
    else:
        assert "1 new item" in said and "edited" not in said
        stories = {(feed, title): story for feed, title, story in after}
        assert stories == {
            ("copies", FLASH[0]): before["copies"],
            ("news", FLASH[0]): before["copies"],
            ("news", OTHER[0]): stories[("news", OTHER[0])],
        }
        assert stories[("news", OTHER[0])] != before["copies"]


def two_outlets(
    feed: Feed, feed_server: FeedServer, tmp_path: Path, backend: Backend, extra: str = ""
) -> Path:
    """The feed, and a second outlet carrying its flash: a config of both."""
    feed_server.routes["/copy.xml"] = Response(
        rss({"copy": FLASH}).replace(b"news.example", b"copies.example")
    )
    return write_config(
        tmp_path,
        [("news", feed_server.url("/feed.xml")), ("copies", feed_server.url("/copy.xml"))],
        storage=backend.storage,
        extra=extra,
    )


def stories_by_feed(backend: Backend) -> dict[str, object]:
    with backend.open() as storage:
        return {str(i["feed"]): i["story"] for i in storage.export_items()}


def test_an_edit_keeps_a_split_made_by_hand(
    feed: Feed, backend: Backend, feed_server: FeedServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = two_outlets(feed, feed_server, tmp_path, backend)
    feed.serve({"a": FLASH})
    run(config, capsys)
    assert main(["split", "--config", str(config), LINK.format("a")]) == 0
    split = stories_by_feed(backend)
    assert split["news"] != split["copies"]
    feed.serve({"a": REPORT})
    assert "1 item edited" in run(config, capsys)
    assert stories_by_feed(backend) == split
    with backend.open() as storage:
        (split_at,) = storage._db.execute(
            "SELECT split_at FROM items WHERE guid = ?", (LINK.format("a"),)
        ).fetchone()
    assert split_at is not None


def test_an_edit_stays_in_a_story_whose_others_are_too_old_to_compare(
    feed: Feed, backend: Backend, feed_server: FeedServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The copies of a story fetched before `[dedup] window_days` cannot be compared
    with: the edit is not taken out of their story for finding none."""
    config = two_outlets(feed, feed_server, tmp_path, backend)
    feed.serve({"a": FLASH})
    run(config, capsys)
    before = stories_by_feed(backend)
    assert before["news"] == before["copies"]
    with backend.open() as storage, storage.transaction():
        storage._db.execute(
            "UPDATE items SET fetched_at = '2020-01-01T00:00:00+00:00' WHERE guid = ?",
            (LINK.format("copy").replace("news.example", "copies.example"),),
        )
    feed.serve({"a": (FLASH[0], FLASH[1].replace("周六", "周五"))})
    assert "1 item edited" in run(config, capsys)
    assert stories_by_feed(backend) == before


def test_an_edit_left_over_max_items_is_taken_by_a_later_fetch(
    feed: Feed, backend: Backend, feed_server: FeedServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = feed.config
    config.write_text(config.read_text().replace("timeout = 5", "timeout = 5\nmax_items = 1"))
    feed.serve({"a": FLASH})
    run(config, capsys)
    feed.serve({"a": REPORT, "b": OTHER}, newer=frozenset({"b"}))
    said = run(config, capsys)
    assert "1 new item" in said and "edited" not in said  # the newer item took the one place
    feed.serve({"a": REPORT, "b": OTHER}, newer=frozenset({"b"}))
    assert "1 item edited" in run(config, capsys)
    with backend.open() as storage:
        assert items(storage)[LINK.format("a")]["title"] == REPORT[0]


def test_a_follow_up_stays_related_to_the_story_of_an_edited_report(
    feed: Feed, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report's story, unseen, is decided anew on its edit: the follow-up that
    was related to it is related to its new story."""
    from test_story_rules import FOLLOW_UP_END, FOLLOW_UP_LEAD

    article = seed_texts()["000"]
    text = FOLLOW_UP_LEAD + article + "\n" + FOLLOW_UP_END
    follow_up = ("韩日防务会议下月举行", "".join(f"<p>{p}</p>" for p in text.split("\n") if p))
    feed.serve({"a": REPORT, "f": follow_up})
    run(feed.config, capsys)
    with backend.open() as storage:
        before = items(storage)
    assert before[LINK.format("f")]["related_to"] == before[LINK.format("a")]["story"]
    feed.serve({"a": (REPORT[0] + "（更新）", REPORT[1]), "f": follow_up})
    assert "1 item edited" in run(feed.config, capsys)
    with backend.open() as storage:
        after = items(storage)
    assert after[LINK.format("f")]["related_to"] == after[LINK.format("a")]["story"]


def test_a_guid_with_a_nul_is_found_stored_and_edited_as_stored() -> None:
    """A damaged feed's GUID is stored without its NUL (`service.preparation`): it is
    looked up that way, so it is neither taken again unchanged nor missed edited."""
    from dataclasses import replace

    from monitor.models import Item
    from monitor.parse import Newest
    from monitor.parse.newest import signature

    item = Item("a\x00b", "https://e.org/a", "t", None, (), "<p>x</p>")
    stored = {"ab": signature(item)}
    unchanged, edited = Newest(None, stored), Newest(None, stored)
    unchanged.offer(item)
    edited.offer(replace(item, html="<p>y</p>"))
    assert (unchanged.known, unchanged.items()) == (["ab"], [])
    assert edited.edited == {"ab"} and len(edited.items()) == 1


def test_another_article_under_an_old_guid_is_stored_beside_it_and_once(
    backend: Backend, tmp_path: Path, feed_server: FeedServer,
    smtp_server: MailServer, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """An outlet that reuses a link for another article loses neither: the stored
    one keeps its story and its place in the digest that had it, the new one is
    a new story the next digest shows; neither is stored again when the feed
    gives either of them under that GUID later."""
    feed = Feed(feed_server, tmp_path, backend, smtp=smtp_table(smtp_server.port))
    feed.serve({"a": REPORT})
    run(feed.config, capsys, digest=True)
    with backend.open() as storage:
        (first,) = storage.export_items()
    feed.serve({"a": OTHER})
    said = run(feed.config, capsys, digest=True)
    assert "1 new item" in said and "edited" not in said, said
    with backend.open() as storage:
        stored = {str(i["title"]): i for i in storage.export_items()}
        guids = dict(storage._db.execute("SELECT title, guid FROM items").fetchall())
    assert set(stored) == {REPORT[0], OTHER[0]}
    assert stored[REPORT[0]]["story"] == first["story"]
    assert stored[OTHER[0]]["story"] != first["story"]
    assert guids[OTHER[0]] == LINK.format("a") != guids[REPORT[0]]
    assert len(smtp_server.messages) == 2
    second = smtp_server.messages[1].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert OTHER[0] in second and REPORT[0] not in second
    for entries in ({"a": OTHER}, {"a": REPORT}, {"a": OTHER}):
        feed.serve(entries)
        said = run(feed.config, capsys, digest=True)
        assert "0 new items" in said and "edited" not in said, (entries, said)
    with backend.open() as storage:
        assert len(list(storage.export_items())) == 2
    assert len(smtp_server.messages) == 2


def test_a_corrected_figure_is_an_edit_of_the_same_article(
    feed: Feed, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """A template series is kept apart by its figures; a page whose figure the
    outlet corrects is the same article, replaced by its new version."""
    feed.serve({"a": REPORT})
    run(feed.config, capsys)
    assert "12年来首次峰会" in REPORT[1]
    corrected = (REPORT[0], REPORT[1].replace("3月初", "4月初").replace("12年来", "13年来"))
    feed.serve({"a": corrected})
    assert "0 new items · 1 item edited" in run(feed.config, capsys)
    with backend.open() as storage:
        (item,) = storage.export_items()
        (text,) = storage._db.execute("SELECT text FROM items").fetchone()
    assert "13年来" in text


def document(*entries: tuple[str, tuple[str, str], int]) -> bytes:
    """A feed of (key, (headline, markup), day of November) items: keys may repeat."""
    items = "".join(
        f"<item><title>{title}</title><link>{LINK.format(key)}</link><guid>{LINK.format(key)}"
        f"</guid><pubDate>{day} Nov 2026 08:00:00 +0000</pubDate>"
        f"<description><![CDATA[{markup}]]></description></item>"
        for key, (title, markup), day in entries
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        f"{items}</channel></rss>"
    ).encode()


def test_a_guid_given_twice_in_one_document_is_stored_as_its_versions(
    feed: Feed, backend: Backend, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Versions of one page listed together (a flash and its expansion) make one
    item, the newest; articles a feed gives one GUID make an item each. A
    second fetch of the same document stores nothing."""
    newest_first = document(
        ("a", REPORT, 21), ("b", OTHER, 22), ("a", FLASH, 20), ("b", REPORT, 20)
    )
    for fetch in range(2):
        feed.server.routes["/feed.xml"] = Response(newest_first, etag=f'"{fetch}"')
        said = run(feed.config, capsys)
        if fetch == 0:
            assert "3 new items · 1 item edited" in said, said
        else:
            assert "0 new items" in said and "edited" not in said, said
    with backend.open() as storage:
        stored = sorted((str(i["title"]), str(i["url"])) for i in storage.export_items())
    assert stored == sorted(
        [(REPORT[0], LINK.format("a")), (REPORT[0], LINK.format("b")), (OTHER[0], LINK.format("b"))]
    )


@pytest.mark.parametrize("order", ["flash first", "report first"])
def test_versions_of_one_time_are_taken_shorter_first_in_any_order(
    order: str, feed: Feed, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """Versions under one GUID and one date give no order of their own: the
    shorter is taken first, so the expansion holds the GUID whichever the feed
    lists first."""
    versions = [("a", FLASH, 20), ("a", REPORT, 20)]
    if order == "report first":
        versions.reverse()
    feed.server.routes["/feed.xml"] = Response(document(*versions))
    assert "1 new item · 1 item edited" in run(feed.config, capsys)
    with backend.open() as storage:
        assert [i["title"] for i in storage.export_items()] == [REPORT[0]]


def undated(*entries: tuple[str, tuple[str, str]]) -> bytes:
    """A feed of (key, (headline, markup)) items without dates: keys may repeat."""
    items = "".join(
        f"<item><title>{title}</title><link>{LINK.format(key)}</link><guid>{LINK.format(key)}"
        f"</guid><description><![CDATA[{markup}]]></description></item>"
        for key, (title, markup) in entries
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        f"{items}</channel></rss>"
    ).encode()


@pytest.mark.parametrize("listing", ["report first", "flash first", "undated"])
def test_versions_in_one_document_are_known_on_later_fetches(
    listing: str, feed: Feed, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each version a document gives of a GUID is remembered by its own signature:
    fetched again, in either order, none is taken for an edit of the one stored
    (undated, each would look newer than it)."""
    versions = [("a", REPORT, 20), ("a", FLASH, 20)]
    if listing == "flash first":
        versions.reverse()
    for fetch in range(3):
        if listing == "undated":
            body = undated(*[(key, entry) for key, entry, _ in versions])
        else:
            body = document(*(versions if fetch % 2 == 0 else versions[::-1]))
        feed.server.routes["/feed.xml"] = Response(body, etag=f'"{fetch}"')
        said = run(feed.config, capsys)
        if fetch:
            assert "0 new items" in said and "edited" not in said, (fetch, said)
    with backend.open() as storage:
        assert [i["title"] for i in storage.export_items()] == [REPORT[0]]


def test_versions_set_aside_under_one_guid_each_keep_a_guid_of_their_own(
    feed: Feed, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """One GUID carries a report, another article, the report corrected, the report
    again (stored already: nothing is stored) and a third article: each is set
    aside under a GUID of its own, and every fetch is stored."""
    corrected = (REPORT[0], REPORT[1].replace("3月初", "4月初").replace("12年来", "13年来"))
    third = ("第三篇", "".join(f"<p>{p}</p>" for p in seed_texts()["004"].split("\n") if p))
    for day, version in zip(range(20, 25), [REPORT, OTHER, corrected, REPORT, third], strict=True):
        feed.server.routes["/feed.xml"] = Response(document(("a", version, day)), etag=f'"{day}"')
        said = run(feed.config, capsys)
        assert "0 feeds failed" in said, (day, said)
    with backend.open() as storage:
        guids = [row[0] for row in storage._db.execute("SELECT guid FROM items ORDER BY id")]
        titles = sorted(str(i["title"]) for i in storage.export_items())
    assert titles == sorted([OTHER[0], REPORT[0], corrected[0], third[0]])
    assert len(set(guids)) == 4 and guids.count(LINK.format("a")) == 1


@pytest.mark.parametrize("newest_first", [True, False])
def test_a_headline_rewritten_beside_its_first_version_in_one_document_is_taken(
    feed: Feed, capsys: pytest.CaptureFixture[str], newest_first: bool
) -> None:
    """One document lists the GUID twice, the same text under a newer headline the
    day after: the newer headline is the article's, in either order, and a
    later fetch of the same document changes nothing."""
    updated = (REPORT[0] + "（更新）", REPORT[1])
    versions = [("a", updated, 21), ("a", REPORT, 20)]
    if not newest_first:
        versions.reverse()
    assert fetched(feed, capsys, document(*versions), document(*versions)) == [updated[0]]


def test_two_headlines_of_one_text_given_at_one_time_keep_the_first(
    feed: Feed, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing tells which of two headlines given at one time is the newer: the
    first the feed lists stays, and a later fetch changes nothing."""
    updated = (REPORT[0] + "（更新）", REPORT[1])
    both = document(("a", REPORT, 20), ("a", updated, 20))
    assert fetched(feed, capsys, both, both) == [REPORT[0]]


@pytest.mark.parametrize("flash_first", [False, True])
def test_undated_versions_back_after_a_gap_keep_the_stored_expansion(
    feed: Feed, capsys: pytest.CaptureFixture[str], flash_first: bool
) -> None:
    """An undated feed lists a flash and its expansion under one GUID, drops them,
    then lists both again: the flash carries only the time it was fetched, which
    makes it no newer than the stored expansion, and it replaces nothing."""
    versions = [("a", FLASH), ("a", REPORT)]
    if not flash_first:
        versions.reverse()
    both = undated(*versions, ("b", OTHER))
    stored = fetched(feed, capsys, undated(*versions), undated(("b", OTHER)), both, both)
    assert stored == sorted([REPORT[0], OTHER[0]])


def fetched(feed: Feed, capsys: pytest.CaptureFixture[str], *documents: bytes) -> list[str]:
    """Each document served in turn and fetched: the stored headlines, sorted."""
    for number, body in enumerate(documents):
        feed.server.routes["/feed.xml"] = Response(body, etag=f'"d{number}"')
        said = run(feed.config, capsys)
        assert "0 feeds failed" in said, (number, said)
    with Storage.open(load_config(feed.config)) as storage:
        return sorted(str(item["title"]) for item in storage.export_items())


def test_an_edit_listed_after_its_stored_version_and_over_max_items_is_taken_later(
    feed: Feed, capsys: pytest.CaptureFixture[str]
) -> None:
    """The document lists the stored flash, then its expansion, which the limit
    leaves over: a later fetch takes the expansion, as it would listed first."""
    config = feed.config
    config.write_text(config.read_text().replace("timeout = 5", "timeout = 5\nmax_items = 1"))
    both = document(("a", FLASH, 20), ("a", REPORT, 21), ("b", OTHER, 22))
    stored = fetched(feed, capsys, document(("a", FLASH, 20)), both, both, both)
    assert stored == sorted([REPORT[0], OTHER[0]])


@pytest.mark.parametrize("days", [(22, 21), (None, None)])
def test_another_article_dated_before_the_stored_one_under_its_guid_is_stored(
    feed: Feed, capsys: pytest.CaptureFixture[str], days: tuple[int | None, int | None]
) -> None:
    """Another article under a stored GUID is stored beside it, though dated before
    it (and undated too): only an older version of the same article is no edit."""
    if days[0] is None:
        first, later = undated(("a", REPORT)), undated(("a", REPORT), ("a", OTHER))
    else:
        first = document(("a", REPORT, days[0]))
        later = document(("a", REPORT, days[0]), ("a", OTHER, days[1]))
    assert fetched(feed, capsys, first, later, later) == sorted([REPORT[0], OTHER[0]])


@pytest.mark.parametrize("flash_first", [False, True])
def test_a_flash_listed_beside_its_stored_expansion_at_one_time_replaces_nothing(
    feed: Feed, capsys: pytest.CaptureFixture[str], flash_first: bool
) -> None:
    """A later fetch lists the stored report and its flash under one GUID, at one
    time, in either order: the flash is the older version, as it is when both
    come in one fetch."""
    versions = [("a", REPORT, 20), ("a", FLASH, 20)]
    both = document(*(reversed(versions) if flash_first else versions))
    assert fetched(feed, capsys, document(("a", REPORT, 20)), both, both) == [REPORT[0]]


def test_a_guid_back_after_a_fetch_without_it_is_taken_as_its_edit(
    feed: Feed, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """A feed of the newest few drops a flash, then lists it again expanded (an
    updated article comes back to the top): the expansion replaces the flash."""
    feed.serve({"a": FLASH, "b": OTHER})
    run(feed.config, capsys)
    feed.serve({"b": OTHER})
    assert "0 new items" in run(feed.config, capsys)
    feed.serve({"a": REPORT, "b": OTHER})
    said = run(feed.config, capsys)
    assert "0 new items · 1 item edited ·" in said, said
    with backend.open() as storage:
        assert sorted(str(i["title"]) for i in storage.export_items()) == sorted(
            [REPORT[0], OTHER[0]]
        )
    feed.serve({"b": OTHER})
    run(feed.config, capsys)
    feed.serve({"a": REPORT, "b": OTHER})  # back again, unchanged
    said = run(feed.config, capsys)
    assert "0 new items · 0 reposts" in said and "edited" not in said, said
    # Back restyled: the same article, and its new markup is what it is known by.
    query = "SELECT id, signature FROM items WHERE guid = ?"
    with backend.open() as storage:
        before = storage._db.execute(query, (LINK.format("a"),)).fetchone()
    feed.serve({"b": OTHER})
    run(feed.config, capsys)
    feed.serve({"a": (REPORT[0], f"<div>{REPORT[1]}</div>"), "b": OTHER})
    said = run(feed.config, capsys)
    assert "0 new items · 0 reposts" in said and "edited" not in said, said
    with backend.open() as storage:
        after = storage._db.execute(query, (LINK.format("a"),)).fetchone()
    assert after[0] == before[0] and after[1] != before[1]


def test_a_guid_back_unchanged_is_its_stored_item_whatever_the_adapter_now_reads(
    feed: Feed, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the feed says of a returning item decides, not what the adapters make of
    it now: an adapter improved since would otherwise store every returning item
    again. An item stored before signatures were kept is a repeat, as before."""
    feed.serve({"a": REPORT, "b": OTHER})
    run(feed.config, capsys)
    with backend.open() as storage, storage.transaction():
        # As an older adapter would have read it: another headline and text.
        storage._db.execute(
            "UPDATE items SET title = 'read otherwise', text_hash = 'x' WHERE guid = ?",
            (LINK.format("a"),),
        )
        storage._db.execute("UPDATE items SET signature = NULL WHERE guid = ?", (LINK.format("b"),))
    feed.serve({"c": FLASH})
    run(feed.config, capsys)
    feed.serve({"a": REPORT, "b": (OTHER[0] + "（更新）", OTHER[1])})
    said = run(feed.config, capsys)
    assert "0 new items · 0 reposts" in said and "edited" not in said, said
    with backend.open() as storage:
        titles = sorted(str(i["title"]) for i in storage.export_items())
    assert titles == sorted(["read otherwise", OTHER[0], FLASH[0]])


@pytest.mark.parametrize("listed_since", [True, False])
def test_an_item_stored_before_signatures_learns_its_own_when_listed(
    feed: Feed, backend: Backend, capsys: pytest.CaptureFixture[str], listed_since: bool
) -> None:
    """A database from before signatures were kept (schema 16): the first fetch
    that lists an item records what its feed says of it, so that the item back
    after a gap, edited, is taken as its edit. Not listed since, it has no
    signature to tell an edit by, and stays a repeat."""
    feed.serve({"a": FLASH, "b": OTHER})
    run(feed.config, capsys)
    with backend.open() as storage, storage.transaction():
        storage._db.execute("UPDATE items SET signature = NULL")
        guids = [LINK.format("a"), LINK.format("b")]
        storage._db.execute("UPDATE feeds SET last_guids = ?", (json.dumps(guids),))
    if listed_since:
        feed.serve({"a": FLASH, "b": OTHER})
        assert "0 new items · 0 reposts" in run(feed.config, capsys)
    with backend.open() as storage:
        known = storage._db.execute("SELECT COUNT(*) FROM items WHERE signature IS NOT NULL")
        assert known.fetchone()[0] == (2 if listed_since else 0)
    feed.serve({"b": OTHER})
    run(feed.config, capsys)
    feed.serve({"a": REPORT, "b": OTHER})
    said = run(feed.config, capsys)
    assert ("1 item edited" in said) is listed_since, said
    with backend.open() as storage:
        titles = sorted(str(i["title"]) for i in storage.export_items())
    assert titles == sorted([REPORT[0] if listed_since else FLASH[0], OTHER[0]])


def test_an_edit_at_a_feeds_new_address_is_taken(
    feed: Feed, backend: Backend, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The feed's address changes in the config, and the first fetch from the new
    one gives an edited item: the edit is known by what the feed said of the
    item when it was stored, as the last fetch's list is another address's."""
    feed.serve({"a": FLASH, "b": OTHER})
    run(feed.config, capsys)
    feed_server.routes["/new.xml"] = Response(rss({"a": REPORT, "b": OTHER}))
    feed.config.write_text(feed.config.read_text().replace("/feed.xml", "/new.xml"))
    said = run(feed.config, capsys)
    assert "0 new items · 1 item edited" in said, said
    assert "edited" not in run(feed.config, capsys)
    with backend.open() as storage:
        assert items(storage)[LINK.format("a")]["title"] == REPORT[0]


def test_another_article_under_a_guid_back_after_a_gap_is_stored_beside_it(
    feed: Feed, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = fetched(
        feed, capsys, document(("a", REPORT, 20)), document(("b", FLASH, 21)),
        document(("a", OTHER, 22), ("b", FLASH, 21)),
    )  # fmt: skip
    assert stored == sorted([REPORT[0], OTHER[0], FLASH[0]])


def test_one_article_under_two_guids_corrected_is_stored_once_in_its_correction(
    feed: Feed, capsys: pytest.CaptureFixture[str]
) -> None:
    """A feed lists one article under two GUIDs (a section feed and its own), then
    corrects it under both: the second GUID's correction is the stored article's
    edit, not an item of its own beside a stale copy."""
    corrected = (REPORT[0] + "（更正）", REPORT[1].replace("3月初", "4月初"))

    def twice(entry: tuple[str, str]) -> bytes:
        items = "".join(
            f"<item><title>{entry[0]}</title><link>{LINK.format('a')}</link><guid>{guid}</guid>"
            f"<pubDate>20 Nov 2026 08:00:00 +0000</pubDate>"
            f"<description><![CDATA[{entry[1]}]]></description></item>"
            for guid in ("section-17", "article-a")
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t"
            f"</title>{items}</channel></rss>"
        ).encode()

    assert fetched(feed, capsys, twice(REPORT), twice(corrected)) == [corrected[0]]


def test_an_edit_back_after_a_gap_and_over_max_items_is_taken_later(
    feed: Feed, capsys: pytest.CaptureFixture[str]
) -> None:
    """The flash comes back expanded after a fetch without it, beside a newer item
    that the limit takes first: a later fetch takes the expansion."""
    config = feed.config
    config.write_text(config.read_text().replace("timeout = 5", "timeout = 5\nmax_items = 1"))
    third = ("第三篇", "".join(f"<p>{p}</p>" for p in seed_texts()["004"].split("\n") if p))
    later = document(("a", REPORT, 20), ("c", third, 22))
    stored = fetched(
        feed, capsys, document(("a", FLASH, 20)), document(("b", OTHER, 21)), later, later
    )
    assert stored == sorted([REPORT[0], OTHER[0], third[0]])


def test_an_edit_back_after_a_gap_beside_its_stored_version_over_max_items_is_taken_later(
    feed: Feed, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both versions come back under the GUID, and the limit leaves both over: the
    expansion, not the stored flash, decides that a later fetch takes them."""
    config = feed.config
    config.write_text(config.read_text().replace("timeout = 5", "timeout = 5\nmax_items = 1"))
    third = ("第三篇", "".join(f"<p>{p}</p>" for p in seed_texts()["004"].split("\n") if p))
    later = document(("a", FLASH, 20), ("a", REPORT, 21), ("c", third, 22))
    stored = fetched(
        feed, capsys, document(("a", FLASH, 20)), document(("b", OTHER, 21)), later, later, later
    )
    assert stored == sorted([REPORT[0], OTHER[0], third[0]])
