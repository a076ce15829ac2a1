"""Items that share a link: a podcast or column feed that links every item to its
own page keeps every item; a link from another feed, or a GUID changed under the
same headline, is the page stored already."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Backend, FeedServer, Response, write_config

from monitor.cli import main
from monitor.service.known import KnownItems

EPISODES = {
    1: "第一集讨论台湾海峡的军事紧张局势，以及美国国会审议中的对台军售法案。",
    2: "第二集采访日本防卫省前官员，谈日本修改和平宪法的可能性与东亚安全格局。",
    3: "第三集聚焦朝鲜半岛，韩国总统提出新的对话倡议，平壤方面尚未作出回应。",
    4: "第四集回顾东盟外长会议，南海行为准则谈判再度延期，各方立场分歧明显。",
}


def rss(*items: tuple[str, str, str, str]) -> bytes:
    """A feed of (guid, link, title, text) items."""
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<guid isPermaLink='false'>{guid}</guid>"
        f"<pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate>"
        f"<description><![CDATA[<p>{text * 3}</p>]]></description></item>"
        for guid, link, title, text in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        f"{body}</channel></rss>"
    ).encode()


def episode(
    n: int, *, guid: str = "ep", show: str = "https://radio.example/show"
) -> tuple[str, str, str, str]:
    return (f"{guid}-{n}", show, f"东亚安全播客 第{n}集", EPISODES[n])


def run(config: Path) -> None:
    assert main(["run", "--no-digest", "--config", str(config)]) == 0


def stored(backend: Backend) -> list[tuple[str, str, int]]:
    """(feed, headline, story) of every stored item."""
    with backend.open() as storage:
        return sorted(
            (item["feed"], item["title"], item["story"]) for item in storage.export_items()
        )


def test_every_item_of_a_feed_that_links_them_to_one_page_is_kept(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    config = write_config(
        tmp_path,
        [("podcast", feed_server.url("/podcast.xml")), ("mirror", feed_server.url("/mirror.xml"))],
        storage=backend.storage,
    )
    feed_server.routes["/podcast.xml"] = Response(rss(episode(1), episode(2), episode(3)))
    feed_server.routes["/mirror.xml"] = Response(rss())
    run(config)
    items = stored(backend)
    assert [title for _, title, _ in items] == [f"东亚安全播客 第{n}集" for n in (1, 2, 3)]
    assert len({story for _, _, story in items}) == 3

    # The feed renews its GUIDs: the same items under the same page, not stored again.
    feed_server.routes["/podcast.xml"] = Response(
        rss(*(episode(n, guid="renewed") for n in (1, 2, 3)))
    )
    run(config)
    assert stored(backend) == items

    # Another feed carries an episode stored (a repeat), and one the podcast's
    # feed has not (its link names several items: kept).
    feed_server.routes["/mirror.xml"] = Response(rss(episode(2, guid="m"), episode(4, guid="m")))
    run(config)
    after = stored(backend)
    assert [(feed, title) for feed, title, _ in after] == [
        ("mirror", "东亚安全播客 第4集"),
        *[(feed, title) for feed, title, _ in items],
    ]


def test_an_article_link_from_another_feed_is_the_article_whatever_its_headline(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    link = "https://news.example/2026/11/20/missile.html"
    config = write_config(
        tmp_path,
        [("outlet", feed_server.url("/outlet.xml")), ("reposts", feed_server.url("/reposts.xml"))],
        storage=backend.storage,
    )
    feed_server.routes["/outlet.xml"] = Response(rss(("a1", link, "朝鲜试射导弹", EPISODES[3])))
    feed_server.routes["/reposts.xml"] = Response(rss())
    run(config)
    feed_server.routes["/reposts.xml"] = Response(
        rss(("r1", link, "【转载】朝鲜再次试射弹道导弹", EPISODES[3]))
    )
    run(config)
    assert [(feed, title) for feed, title, _ in stored(backend)] == [("outlet", "朝鲜试射导弹")]
    exported = json.dumps([title for _, title, _ in stored(backend)], ensure_ascii=False)
    assert "转载" not in exported


def test_a_new_guid_under_a_stored_link_is_the_stored_page_only_by_its_headline() -> None:
    """An outlet that puts a new report under a flash's link, with a GUID and a
    headline of its own: both are items, and the dedup rules decide their stories;
    a GUID renewed under the same headline (in any script) and text is the stored
    item, under a new text an item of its own."""
    link = "https://cna.example/1.aspx"
    known = KnownItems(7, {"flash": None}, {link: [(7, "黃之鋒又遭拘捕", "t1")]})
    assert known.stored("flash", link, "a headline edited", "t9")
    assert known.stored("flash-2", link, "黄之锋 又遭拘捕", "t1")
    assert known.stored("flash-2", link, "黄之锋 又遭拘捕")  # text not known yet
    assert not known.stored("flash-2", link, "黄之锋 又遭拘捕", "t2")
    assert not known.stored("report", link, "黃之鋒古思堯因非法集結罪被捕", "t1")
    assert not known.stored("new", "", "黃之鋒又遭拘捕", "t1")

    # From another feed, the one article under that link is the stored one, whatever
    # its text or headline there...
    other = KnownItems(8, {}, {link: [(7, "黃之鋒又遭拘捕", "t1")]})
    assert other.stored("r", link, "黃之鋒又遭拘捕", "t5")
    assert other.stored("r", link, "another headline", "t5")
    # ...but a link its feed gave several items names none of them.
    known.add("report", link, "黃之鋒古思堯因非法集結罪被捕", "t3")
    assert known.stored("report-2", link, "黃之鋒古思堯因非法集結罪被捕", "t3")
    shared = KnownItems(8, {}, {link: [(7, "黃之鋒又遭拘捕", "t1"), (7, "黃之鋒古思堯被捕", "t3")]})
    assert not shared.stored("r", link, "another headline", "t5")
    assert shared.stored("r", link, "黃之鋒古思堯被捕", "t5")


def test_a_column_titling_every_item_alike_on_one_page_keeps_each(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The same headline and link under new GUIDs: new texts are new items, the same
    text (a GUID renewed) is the stored one."""
    page = "https://radio.example/briefing"
    config = write_config(tmp_path, [("column", feed_server.url("/column.xml"))])
    feed_server.routes["/column.xml"] = Response(rss(("d1", page, "每日简报", EPISODES[1])))
    run(config)
    feed_server.routes["/column.xml"] = Response(
        rss(("d2", page, "每日简报", EPISODES[2]), ("d1-renewed", page, "每日简报", EPISODES[1]))
    )
    run(config)
    items = stored(Backend("sqlite", tmp_path / "monitor.db"))
    assert len(items) == 2 and len({story for _, _, story in items}) == 2


def test_story_and_split_ask_which_item_where_several_share_the_link(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [("podcast", feed_server.url("/podcast.xml"))])
    feed_server.routes["/podcast.xml"] = Response(rss(episode(1), episode(2)))
    run(config)
    show = "https://radio.example/show"
    capsys.readouterr()
    assert main(["story", "--config", str(config), show]) != 0
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "2 stored items share this link" in error
    assert "ep-1 (东亚安全播客 第1集)" in error and "--guid" in error
    assert main(["story", "--config", str(config), show, "--guid", "ep-2", "--json"]) == 0
    (member,) = json.loads(capsys.readouterr().out)["members"]
    assert member["title"] == "东亚安全播客 第2集"
    assert main(["split", "--config", str(config), show, "--guid", "ep-3"]) != 0
    assert "no stored item has the link" in capsys.readouterr().err
    assert main(["split", "--config", str(config), show, "--guid", "ep-2"]) == 0
    assert "nothing to split" in capsys.readouterr().err


SHOW_PAGE = (
    "<html><head><title>东亚安全播客</title></head><body><article>"
    "<h1>东亚安全播客</h1>"
    + "".join(f"<p>{text}</p>" for text in EPISODES.values())
    + "<p>每周一更新，欢迎在各大播客平台订阅收听，也欢迎来信与我们分享您的看法。</p>"
    "</article></body></html>"
)


def test_a_teaser_whose_link_its_feed_shares_is_not_completed_from_that_page(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The page several of a feed's items link to is none of theirs: completing
    each teaser from it would give them all its text, and one story."""
    show = feed_server.url("/show")
    feed_server.routes["/show"] = Response(
        SHOW_PAGE.encode(), headers={"Content-Type": "text/html; charset=utf-8"}
    )
    teasers = [(f"ep-{n}", show, f"东亚安全播客 第{n}集", EPISODES[n][:20]) for n in (1, 2, 3)]
    feed_server.routes["/podcast.xml"] = Response(rss(*teasers))
    config = write_config(tmp_path, [("podcast", feed_server.url("/podcast.xml"))])
    run(config)
    assert feed_server.hits("/show") == 0
    items = stored(Backend("sqlite", tmp_path / "monitor.db"))
    assert len(items) == 3 and len({story for _, _, story in items}) == 3
    # The next episode comes alone: the link is the page the feed's stored items share.
    fourth = ("ep-4", show, "东亚安全播客 第4集", EPISODES[4][:20])
    feed_server.routes["/podcast.xml"] = Response(rss(fourth, *teasers))
    run(config)
    assert feed_server.hits("/show") == 0
    items = stored(Backend("sqlite", tmp_path / "monitor.db"))
    assert len(items) == 4 and len({story for _, _, story in items}) == 4
