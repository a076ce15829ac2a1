"""An item the feed edits in place, under the same GUID and link: a flash
expanded into the full report, a headline rewritten, a figure corrected.

The stored version is replaced by the new one (in its story, once a digest
had it, else decided anew like a teaser's full text); only the items
whose entry changed are adapted again; a change of markup alone replaces
nothing; a story a digest had comes again, marked updated, when the edit
changed its headline or grew its text by a fifth, and not for a corrected word.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Backend, FeedServer, MailServer, Response, smtp_table, write_config
from dedup_corpus import seed_texts
from test_known_guids import count_adapted

from monitor.cli import main
from monitor.store import Storage

LINK = "https://news.example/{}.html"


def paragraphs() -> list[str]:
    return [p for p in seed_texts()["000"].split("\n") if p.strip()]


def rss(entries: dict[str, tuple[str, str]]) -> bytes:
    """A feed of key → (headline, markup) items, each under its own GUID and link."""
    items = "".join(
        f"<item><title>{title}</title><link>{LINK.format(key)}</link>"
        f"<guid>{LINK.format(key)}</guid><pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate>"
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

    def serve(self, entries: dict[str, tuple[str, str]]) -> None:
        self.version += 1
        self.server.routes["/feed.xml"] = Response(rss(entries), etag=f'"v{self.version}"')


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
    same story still) or puts another article under its old GUID (a story of its
    own: the copy is not left under an unrelated headline)."""
    feed = Feed(feed_server, tmp_path, backend)
    feed_server.routes["/copy.xml"] = Response(
        rss({"copy": FLASH}).replace(b"news.example", b"copies.example")
    )
    config = write_config(
        tmp_path,
        [("news", feed_server.url("/feed.xml")), ("copies", feed_server.url("/copy.xml"))],
        storage=backend.storage,
    )
    feed.serve({"a": FLASH})
    run(config, capsys)
    with backend.open() as storage:
        before = {str(i["feed"]): i["story"] for i in storage.export_items()}
    assert before["news"] == before["copies"]
    feed.serve({"a": REPORT if edit == "expanded" else OTHER})
    assert "1 item edited" in run(config, capsys)
    with backend.open() as storage:
        after = {str(i["feed"]): i["story"] for i in storage.export_items()}
    assert after["copies"] == before["copies"]
    assert (after["news"] == after["copies"]) == (edit == "expanded")
