"""`monitor redecide`: a window's stories decided again by today's rules, the
digests' records kept true."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Backend, FeedServer, Response, write_config
from dedup_corpus import seed_texts
from test_story_rules import (
    FOLLOW_UP_END,
    FOLLOW_UP_LEAD,
    HEADLINE,
    paragraphs,
    rss,
    write_up,
)

from monitor.cli import main
from monitor.errors import ConfigError

URL = "https://news.example.com/"


def stored(backend: Backend, tmp_path: Path, feed_server: FeedServer) -> Path:
    """A report, its flash an hour later and a follow-up an hour after that, each
    from its own feed, stored."""
    article = seed_texts()["000"]
    feeds = {
        "report": article,
        "flash": "\n".join(paragraphs(article)[:4]),
        "follow-up": FOLLOW_UP_LEAD + article + "\n" + FOLLOW_UP_END,
        "other": seed_texts()["003"],
    }
    hours = {"report": 8, "flash": 9, "follow-up": 10, "other": 7}
    return run_feeds(backend, tmp_path, feed_server, feeds, hours)


def serve(feed_server: FeedServer, name: str, text: str, hour: int, title: str = "") -> None:
    feed_server.routes[f"/{name}"] = Response(
        rss([(name, text)], {name: title} if title else None, hour=hour),
        headers={"Content-Type": "application/rss+xml"},
    )


def run_feeds(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    texts: dict[str, str],
    hours: dict[str, int],
) -> Path:
    """Each text a feed of its own, published at its hour, stored in one run."""
    for name, text in texts.items():
        serve(feed_server, name, text, hours[name])
    config = write_config(
        tmp_path, [(name, feed_server.url(f"/{name}")) for name in texts], storage=backend.storage
    )
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    return config


def stories(backend: Backend) -> dict[str, tuple[int, str | None]]:
    with backend.open() as storage:
        rows = storage._db.execute("SELECT url, story_id, match_reason FROM items").fetchall()
    return {url.removeprefix(URL): (int(story), reason) for url, story, reason in rows}


def merge_as_older_rules_did(backend: Backend, item: str, into: str) -> None:
    """Put `item` in `into`'s story, as the rules before the lead evidence would have."""
    with backend.open() as storage, storage.transaction():
        (story,) = storage._db.execute(
            "SELECT story_id FROM items WHERE url = ?", (URL + into,)
        ).fetchone()
        (own,) = storage._db.execute(
            "SELECT story_id FROM items WHERE url = ?", (URL + item,)
        ).fetchone()
        storage._db.execute(
            "UPDATE items SET story_id = ?, match_reason = 'containment 0.93' WHERE url = ?",
            (story, URL + item),
        )
        storage._db.execute("DELETE FROM stories WHERE id = ?", (own,))
        storage._update_canonical([story])


def pending_titles(backend: Backend) -> set[str]:
    with backend.open() as storage:
        pending = storage.pending_stories("daily", "reader@example.org")
        return {story.items[0].title for story in pending}


def test_redecide_undoes_a_merge_the_rules_now_refuse_and_sends_only_the_new_story(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stored(backend, tmp_path, feed_server)
    today = stories(backend)
    assert today["flash"][0] == today["report"][0]  # a copy: one story
    assert today["follow-up"][0] != today["report"][0]  # its own news on top
    merge_as_older_rules_did(backend, "follow-up", into="report")
    assert main(["digest", "--config", str(config)]) == 0
    assert pending_titles(backend) == set()
    before = stories(backend)

    capsys.readouterr()
    assert main(["redecide", "--config", str(config), "--since", "2"]) == 0
    said = capsys.readouterr().out
    assert (
        "decided again 4 items of the last 2 days: 1 moved to another story, 1 story begun" in said
    )
    after = stories(backend)
    # The report's story keeps its id (a digest had it) and its copy; the follow-up
    # has a story of its own, pending, and nothing already sent is pending again.
    assert after["report"] == before["report"] and after["flash"] == before["flash"]
    assert after["other"] == before["other"]
    assert after["follow-up"][0] not in {s for s, _ in before.values()}
    assert after["follow-up"][1] is None
    with backend.open() as storage:
        (related,) = storage._db.execute(
            "SELECT related_to FROM items WHERE url = ?", (URL + "follow-up",)
        ).fetchone()
    assert related == after["report"][0]  # shown with the report it repeats
    assert pending_titles(backend) == {"follow-up"}
    # Decided again with nothing changed, nothing moves.
    assert main(["redecide", "--config", str(config), "--since", "2"]) == 0
    assert "0 moved to another story, 0 stories begun" in capsys.readouterr().out
    assert stories(backend) == after


def test_redecide_compares_the_stored_headlines(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """A write-up under its own headline, merged by rules that read texts alone, is
    taken out again: the headlines are read back with the texts."""
    article = seed_texts()["000"]
    titles = {"report": HEADLINE, "write-up": "韩国在野党要求就恢复军情协定举行国会听证"}
    for name, text in {"report": article, "write-up": write_up(article, 4)}.items():
        feed_server.routes[f"/{name}"] = Response(
            rss([(name, text)], titles), headers={"Content-Type": "application/rss+xml"}
        )
    config = write_config(
        tmp_path, [(name, feed_server.url(f"/{name}")) for name in titles], storage=backend.storage
    )
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    assert stories(backend)["write-up"][0] != stories(backend)["report"][0]
    merge_as_older_rules_did(backend, "write-up", into="report")
    assert main(["redecide", "--config", str(config), "--since", "1"]) == 0
    after = stories(backend)
    assert after["write-up"][0] != after["report"][0]


def test_redecide_joins_a_copy_the_rules_had_missed(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    config = stored(backend, tmp_path, feed_server)
    today = stories(backend)
    with backend.open() as storage, storage.transaction():
        # The report alone in a story of its own, as if its flash had not been found.
        (story,) = storage._db.execute(
            "INSERT INTO stories (created_at) VALUES ('2026-12-06T00:00:00+00:00') RETURNING id"
        ).fetchone()
        storage._db.execute("UPDATE items SET story_id = ? WHERE url = ?", (story, URL + "report"))
        storage._update_canonical([story, today["report"][0]])
    assert main(["redecide", "--config", str(config), "--since", "1"]) == 0
    after = stories(backend)
    assert after["flash"][0] == after["report"][0] == story
    assert after["flash"][1] == today["flash"][1]  # the rule and score that join it


def test_redecide_leaves_an_item_split_by_hand_on_its_own(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    config = stored(backend, tmp_path, feed_server)
    assert main(["split", "--config", str(config), URL + "flash"]) == 0
    split = stories(backend)
    assert main(["redecide", "--config", str(config), "--since", "1"]) == 0
    assert stories(backend) == split
    assert split["flash"][0] != split["report"][0] and split["flash"][1] is None


def report_and_flash(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, flash_first: bool
) -> Path:
    """A report and its flash, each from its own feed, published an hour apart, the
    flash first or last; stored in one run: one story."""
    article = seed_texts()["000"]
    texts = {"report": article, "flash": "\n".join(paragraphs(article)[:4])}
    hours = {"report": 9, "flash": 8} if flash_first else {"report": 8, "flash": 9}
    config = run_feeds(backend, tmp_path, feed_server, texts, hours)
    live = stories(backend)
    assert live["flash"][0] == live["report"][0]
    return config


@pytest.mark.parametrize("flash_first", [False, True])
@pytest.mark.parametrize("split", ["report", "flash"])
def test_redecide_joins_nothing_to_an_item_split_by_hand(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, split: str, flash_first: bool
) -> None:
    """Whichever of the two was split out, and whichever began the story: decided
    again, the other is compared with it and is a copy of it, but the hand's
    choice stands and the two stay apart, in the stories the split left."""
    config = report_and_flash(backend, tmp_path, feed_server, flash_first)
    assert main(["split", "--config", str(config), URL + split]) == 0
    apart = stories(backend)
    assert main(["redecide", "--config", str(config), "--since", "1"]) == 0
    after = stories(backend)
    assert after["flash"][0] != after["report"][0], (apart, after)
    assert {name: story for name, (story, _) in after.items()} == {
        name: story for name, (story, _) in apart.items()
    }


def test_an_edit_decided_anew_does_not_join_an_item_split_from_it(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The flash is split out of the report's story; the report is then corrected
    (the same GUID), alone in its story and sent by no digest, so decided anew:
    it is a copy of the flash, but stays apart from it."""
    config = report_and_flash(backend, tmp_path, feed_server, flash_first=True)
    assert main(["split", "--config", str(config), URL + "flash"]) == 0
    corrected = seed_texts()["000"].replace("周六", "周五")
    feed_server.routes["/report"] = Response(
        rss([("report", corrected)], hour=9), headers={"Content-Type": "application/rss+xml"}
    )
    assert main(["run", "--config", str(config), "--no-digest"]) == 0
    after = stories(backend)
    assert len(after) == 2 and after["flash"][0] != after["report"][0], after
    with backend.open() as storage:
        (text,) = storage._db.execute(
            "SELECT text FROM items WHERE url = ?", (URL + "report",)
        ).fetchone()
    assert "周五" in text


def test_redecide_takes_the_window_in_publication_order(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """The flash came in one run, the report it was cut from (published an hour
    before it) in the next: each run decided what it had. Decided again, the
    window is taken in publication order, as one run settles its items: the
    report begins the story and the flash joins it."""
    article = seed_texts()["000"]
    texts = {"report": article, "flash": "\n".join(paragraphs(article)[:4])}
    for hour, (name, text) in enumerate(texts.items(), start=8):
        feed_server.routes[f"/{name}"] = Response(
            rss([(name, text)], hour=hour), headers={"Content-Type": "application/rss+xml"}
        )
    for name in ("flash", "report"):
        config = write_config(
            tmp_path, [(name, feed_server.url(f"/{name}"))], storage=backend.storage
        )
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    live = stories(backend)
    assert live["flash"][1] is None  # it began a story: nothing was stored before it
    assert main(["redecide", "--config", str(config), "--since", "1"]) == 0
    after = stories(backend)
    assert after["report"][0] == after["flash"][0]
    assert after["report"][1] is None and after["flash"][1] is not None


def report_then_flash(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, *, digest_between: bool = False
) -> Path:
    """A report (9 o'clock) stored in one run, its flash (8 o'clock) in the next, where
    it joins the report's story; with `digest_between`, a digest had the report,
    an hour before the flash came."""
    article = seed_texts()["000"]
    serve(feed_server, "report", article, 9)
    serve(feed_server, "flash", "\n".join(paragraphs(article)[:4]), 8)
    for names in (["report"], ["report", "flash"]):
        config = write_config(
            tmp_path, [(name, feed_server.url(f"/{name}")) for name in names],
            storage=backend.storage,
        )  # fmt: skip
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
        if digest_between and names == ["report"]:
            assert main(["digest", "--config", str(config)]) == 0
            with backend.open() as storage, storage.transaction():  # an hour before now
                then = datetime.now(UTC) - timedelta(hours=1)
                storage._db.execute("UPDATE items SET fetched_at = ?", (then.isoformat(),))
                storage._db.execute("UPDATE digests SET created_at = ?", (then.isoformat(),))
    live = stories(backend)
    assert live["flash"][0] == live["report"][0] and live["report"][1] is None
    return config


def test_redecide_sends_no_story_again_that_it_only_renumbered(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report came in one run and began the story; its flash, published an hour
    before it, came in the next and joined it; a digest had the story. Decided
    again in publication order, the flash begins a story and the report joins
    it: the same story, which keeps its id and is not pending again."""
    config = report_then_flash(backend, tmp_path, feed_server)
    live = stories(backend)
    assert main(["digest", "--config", str(config)]) == 0
    assert pending_titles(backend) == set()
    capsys.readouterr()
    assert main(["redecide", "--config", str(config), "--since", "1"]) == 0
    said = capsys.readouterr().out
    after = stories(backend)
    assert after["flash"][0] == after["report"][0] == live["report"][0], (live, after)
    assert after["flash"][1] is None and after["report"][1] is not None
    assert pending_titles(backend) == set(), said
    assert "0 moved" in said and "0 stories begun" in said, said


@pytest.mark.parametrize("split", ["flash", "report"])
def test_a_split_sends_what_no_digest_had_as_its_headline(
    backend: Backend, tmp_path: Path, feed_server: FeedServer, split: str
) -> None:
    """A digest had the report; its flash, published before it, came after the
    digest and heads the story now. Split out, the flash is sent (no digest showed
    it); the report, split out, is not (a digest showed it as the headline)."""
    config = report_then_flash(backend, tmp_path, feed_server, digest_between=True)
    assert pending_titles(backend) == set()
    assert main(["split", "--config", str(config), URL + split]) == 0
    assert pending_titles(backend) == ({"flash"} if split == "flash" else set())


def test_a_split_headline_is_not_sent_again_for_another_members_update(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """A digest had the report with its flash; the flash then got a new headline,
    which makes the story pending again. The report split out is nothing new: only
    the updated story is sent."""
    article = seed_texts()["000"]
    flash = "\n".join(paragraphs(article)[:4])
    serve(feed_server, "report", article, 8)
    serve(feed_server, "flash", flash, 9)
    config = write_config(
        tmp_path, [(name, feed_server.url(f"/{name}")) for name in ("report", "flash")],
        storage=backend.storage,
    )  # fmt: skip
    assert main(["run", "--config", str(config), "--quiet"]) == 0
    serve(feed_server, "flash", flash, 9, title="flash updated")
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    assert pending_titles(backend) == {"report"}  # the story, under its headline
    assert main(["split", "--config", str(config), URL + "report"]) == 0
    assert pending_titles(backend) == {"flash updated"}


def test_copies_of_a_split_item_stay_together_when_decided_again(
    backend: Backend, tmp_path: Path, feed_server: FeedServer
) -> None:
    """A report and two copies of its flash, one story a digest had; the report is
    split out, and fetched before the window decided again: both copies are
    copies of it, kept apart from it, and together, with nothing sent again."""
    article = seed_texts()["000"]
    flash = "\n".join(paragraphs(article)[:4])
    texts = {"report": article, "flash-a": flash, "flash-b": flash}
    config = run_feeds(
        backend, tmp_path, feed_server, texts, {"report": 8, "flash-a": 9, "flash-b": 10}
    )
    assert len({story for story, _ in stories(backend).values()}) == 1
    assert main(["digest", "--config", str(config)]) == 0
    assert main(["split", "--config", str(config), URL + "report"]) == 0
    with backend.open() as storage, storage.transaction():
        before = (datetime.now(UTC) - timedelta(days=1, hours=6)).isoformat()
        storage._db.execute(
            "UPDATE items SET fetched_at = ? WHERE url = ?", (before, URL + "report")
        )
    apart = stories(backend)
    assert apart["flash-a"][0] == apart["flash-b"][0] != apart["report"][0]
    assert pending_titles(backend) == set()
    assert main(["redecide", "--config", str(config), "--since", "1"]) == 0
    after = stories(backend)
    assert after["flash-a"][0] == after["flash-b"][0] != after["report"][0], (apart, after)
    assert pending_titles(backend) == set()


def undated_rss(link: str, text: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{link}</title><link>{URL}{link}</link><guid>{link}</guid>"
        f"<description>{html.escape(text)}</description></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("slow", ["report", "flash"])
def test_redecide_right_after_a_run_of_undated_items_moves_nothing(
    backend: Backend,
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    slow: str,
) -> None:
    """Two feeds without dates, one answering a second later: the run settles their
    items as of its start, by GUID, and so does `redecide` after it."""
    article = seed_texts()["000"]
    texts = {"report": ("zzz", article), "flash": ("aaa", "\n".join(paragraphs(article)[:4]))}
    for name, (guid, text) in texts.items():
        feed_server.routes[f"/{name}"] = Response(
            undated_rss(guid, text), headers={"Content-Type": "application/rss+xml"},
            delay=1.2 if name == slow else 0.0,
        )  # fmt: skip
    config = write_config(
        tmp_path, [(name, feed_server.url(f"/{name}")) for name in texts], storage=backend.storage
    )
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    live = stories(backend)
    assert live["zzz"][0] == live["aaa"][0]
    capsys.readouterr()
    assert main(["redecide", "--config", str(config), "--since", "1"]) == 0
    assert stories(backend) == live, capsys.readouterr().out


@pytest.mark.parametrize("days", ["0", "-1", "nan", "inf", "100000000"])
def test_redecide_needs_a_number_of_days_the_calendar_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    config = write_config(tmp_path, [])
    assert main(["redecide", "--config", str(config), "--since", days]) == ConfigError.exit_code
    shown = f"{float(days):g}"
    assert capsys.readouterr().err == (
        f"monitor: error: --since {shown}: give a number of days above 0 and at most 36,500\n"
    )


def test_prune_needs_a_number_of_days_the_calendar_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [])
    args = ["prune", "--config", str(config), "--keep-days", "99999999"]
    assert main(args) == ConfigError.exit_code
    assert capsys.readouterr().err == (
        "monitor: error: --keep-days 99999999: give at most 36,500 days\n"
    )
