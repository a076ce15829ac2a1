"""Story identity on the kinds of pairs real news brings (benchmarks/labels).

Each kind is built from a seed article the way real items of that kind were
seen: a wire copy with a dateline and an attribution line and its tail cut; a
flash and the full report; a follow-up that repeats the first report's
background under its own news; a round-up that quotes a brief among other
stories. Then a run whose feeds answer in another order makes the same stories.
"""

from __future__ import annotations

import html
import json
import random
from itertools import permutations
from pathlib import Path

import numpy as np
import pytest
from conftest import FeedServer, Response, write_config
from dedup_corpus import seed_texts

from monitor.cli import main
from monitor.dedup import Candidate, Features, Shingles, learned
from monitor.dedup.features import arabic
from monitor.dedup.rules import (
    HEADLINES_CHECKED_BELOW,
    MIN_CONTAINMENT,
    MIN_COPY_HEADLINE_SHARE,
    MIN_LONGER_LEAD,
    best_match,
    decide,
    headline_share,
    overlap,
)
from monitor.store import WindowItem

FOLLOW_UP_LEAD = (
    "韩国国防部周一宣布，韩日两国已正式签署换文，军事情报保护协定即日起完全恢复效力，"
    "日本防卫省随后证实已收到韩方通知。\n"
    "韩国国防部发言人在记者会上表示，两国将于下月在东京举行首次防务工作会议，"
    "讨论实时共享朝鲜导弹预警数据的具体安排。\n"
    "日本内阁官房长官对此表示欢迎，称这是两国安全合作正常化的重要一步。\n"
)
FOLLOW_UP_END = (
    "分析人士指出，协定恢复后，美日韩三方的导弹预警数据共享机制有望在年底前投入运作，"
    "但韩国国内反对党仍批评政府在历史问题上让步过多。"
)
OTHER_STORY = (
    "菲律宾海岸警卫队周日说，一艘中国海警船在仁爱礁附近向菲律宾补给船发射水炮，"
    "造成船员受伤，菲方已就此提出外交抗议。\n"
    "澳大利亚与新西兰外长当天发表联合声明，呼吁各方保持克制，遵守国际法。\n"
)


def features(text: str) -> Features:
    return Features.of(text)


def joins(new: str, stored: str) -> bool:
    f = features(stored)
    candidate = Candidate(1, 10, f.simhash, f.normalized_length, f.figures, f.shingles)
    return best_match(features(new), [candidate], max_distance=3) is not None


@pytest.fixture(scope="module")
def article() -> str:
    return seed_texts()["000"]


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p.strip()]


def test_a_wire_copy_with_a_dateline_an_attribution_and_a_cut_tail_joins(article: str) -> None:
    parts = paragraphs(article)
    copy = "（法新社首尔讯）\n据德国之声报道，" + "\n".join(parts[: len(parts) * 3 // 4])
    assert joins(copy, article) and joins(article, copy)


def test_a_flash_and_its_full_report_are_one_story(article: str) -> None:
    flash = "\n".join(paragraphs(article)[:3])
    assert joins(flash, article) and joins(article, flash)


def test_a_follow_up_over_the_first_reports_background_is_a_story_of_its_own(
    article: str,
) -> None:
    """The first report is all contained in the follow-up; its news is on top, and
    more than a fifth of it (a follow-up adding less, only a new first paragraph
    over the whole earlier report, is still taken for an update of it)."""
    follow_up = FOLLOW_UP_LEAD + article + "\n" + FOLLOW_UP_END
    assert features(article).normalized_length < features(follow_up).normalized_length
    assert not joins(follow_up, article) and not joins(article, follow_up)
    # Related, which the digest shows together.
    stored = features(article)
    candidate = Candidate(1, 10, stored.simhash, stored.normalized_length, stored.figures,
                          stored.shingles)  # fmt: skip
    copy, related = decide(features(follow_up), [candidate], max_distance=3)
    assert copy is None and related is not None and related.story_id == 10
    assert related.reason.startswith("containment 1.00, lead")


def test_a_round_up_does_not_swallow_the_brief_it_quotes(article: str) -> None:
    brief = "\n".join(paragraphs(article)[:3])
    round_up = OTHER_STORY + "另外，" + brief + "\n" + OTHER_STORY.replace("周日", "周一")
    assert not joins(round_up, brief) and not joins(brief, round_up)


HEADLINE = "对抗朝鲜：韩日追求军情合作 “正常化”"
OWN_NEWS = (
    "韩国在野党共同民主党当天发表声明，批评政府在强征劳工问题上一味让步，"
    "要求国会就恢复协定举行听证会。\n"
    "共同民主党党首表示，政府未经国会同意便恢复协定，是对国民意愿的漠视，"
    "该党将发起弹劾外交部长的动议。\n"
)


def write_up(article: str, first: int) -> str:
    """The first paragraphs of `article`, then news of its own."""
    return "\n".join(paragraphs(article)[:first]) + "\n" + OWN_NEWS


@pytest.mark.parametrize(
    ("first", "headline", "copy"),
    [
        (4, "韩日追求军情合作“正常化”", True),  # a fourth its own: the same headline says copy
        (4, "韩国在野党要求就恢复军情协定举行国会听证", False),  # its own headline: its own story
        (8, "韩国在野党要求就恢复军情协定举行国会听证", True),  # re-titled, but mostly the same
    ],
)
def test_where_containment_is_not_enough_the_headlines_decide(
    article: str, first: int, headline: str, copy: bool
) -> None:
    """A text that repeats a report's lead and most of its body, and adds news of
    its own at the end, is a copy or a write-up of another side of the event
    (real pairs: the same briefing written up by two outlets, a reaction under
    the report's background). Below `HEADLINES_CHECKED_BELOW` contained, a copy
    keeps most of the headline; above it, editors' new headlines do not matter."""
    stored = Features.of(article, title=HEADLINE)
    candidate = Candidate(1, 10, stored.simhash, stored.normalized_length, stored.figures,
                          stored.shingles, stored.title)  # fmt: skip
    new = Features.of(write_up(article, first), title=headline)
    contained = overlap(new.shingles, stored.shingles)[0]
    assert MIN_CONTAINMENT < contained < HEADLINES_CHECKED_BELOW or first == 8
    match, related = decide(new, [candidate], max_distance=3)
    if copy:
        assert match is not None and match.story_id == 10 and related is None
    else:
        assert match is None and related is not None and related.story_id == 10
        assert related.reason.endswith(", headlines 0.03")


@pytest.mark.parametrize(
    ("headline", "copy"),
    [
        ("韩日军情协定完全恢复 两国下月举行首次防务会议", True),  # its source's headline, cut
        ("对抗朝鲜：韩日追求军情合作 “正常化”", False),  # the earlier report's own
    ],
)
def test_a_condensed_copy_under_its_sources_headline_joins(
    article: str, headline: str, copy: bool
) -> None:
    """A text all contained in a longer one whose lead it lacks is a follow-up's
    earlier report, or a condensed copy that dropped the lead (real pairs: a
    desk's short version of a wire report, an excerpt of an exclusive). At
    `HEADLINES_CHECKED_BELOW` and more, the headlines tell them apart: a copy
    keeps most of its source's."""
    longer = Features.of(FOLLOW_UP_LEAD + article + "\n" + FOLLOW_UP_END,
                         title="韩日军情协定完全恢复效力 两国下月在东京举行首次防务会议")  # fmt: skip
    candidate = Candidate(1, 10, longer.simhash, longer.normalized_length, longer.figures,
                          longer.shingles, longer.title)  # fmt: skip
    new = Features.of(article, title=headline)
    contained, _, lead = overlap(new.shingles, longer.shingles)
    assert contained >= HEADLINES_CHECKED_BELOW and lead < MIN_LONGER_LEAD
    share = headline_share(new.title, longer.title)
    assert share is not None and (share >= MIN_COPY_HEADLINE_SHARE) == copy
    match, related = decide(new, [candidate], max_distance=3)
    if copy:
        assert match is not None and match.story_id == 10 and related is None
        assert match.reason.endswith(f", headlines {share:.2f}")
    else:
        assert match is None and related is not None and related.story_id == 10


def test_headlines_are_compared_on_stored_items_too(
    article: str, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stored report's headline is read back to compare: the write-up under
    its own headline is a story of its own, related; the copy under the report's
    joins it. Feeds without titles on their items compare texts alone."""
    titles = {"report": HEADLINE, "copy": "韩日追求军情合作“正常化”",
              "write-up": "韩国在野党要求就恢复军情协定举行国会听证"}  # fmt: skip
    feeds = {"report": article, "copy": write_up(article, 4), "write-up": write_up(article, 4)}
    feeds["write-up"] = feeds["write-up"].replace("当天", "周日")  # not a verbatim copy
    hours = {"report": 8, "copy": 9, "write-up": 10}
    config = run_feeds(feed_server, tmp_path, feeds, titles, hours)
    assert_related_apart(config, capsys, ("report", "copy"), "write-up")


def rss(items: list[tuple[str, str]], titles: dict[str, str] | None = None, hour: int = 8) -> bytes:
    """A feed of (link, text) items, titled by their links unless `titles` says,
    published at `hour` o'clock."""
    entries = "".join(
        f"<item><title>{html.escape((titles or {}).get(link, link))}</title>"
        f"<link>https://news.example.com/{link}</link>"
        f"<guid>{link}</guid><pubDate>Mon, 06 Mar 2023 {hour:02d}:00:00 GMT</pubDate>"
        f"<description>{html.escape(text)}</description></item>"
        for link, text in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{entries}</channel></rss>'.encode()


def run_feeds(
    feed_server: FeedServer, folder: Path, feeds: dict[str, str],
    titles: dict[str, str] | None = None, hours: dict[str, int] | None = None,
) -> Path:  # fmt: skip
    """Each text a feed of its own on the test server, in this order, run once; the
    config's path. All published at 8 o'clock, unless `hours` says."""
    for name, text in feeds.items():
        feed_server.routes[f"/{name}"] = Response(
            rss([(name, text)], titles, (hours or {}).get(name, 8)),
            headers={"Content-Type": "application/rss+xml"},
        )
    config = write_config(folder, [(name, feed_server.url(f"/{name}")) for name in feeds])
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    return config


def assert_related_apart(
    config: Path, capsys: pytest.CaptureFixture[str], together: tuple[str, str], apart: str
) -> None:
    """The stored items are two stories: `together`, and `apart` related to theirs."""
    url = "https://news.example.com/"
    assert stories(config, capsys) == {
        frozenset(url + name for name in together),
        frozenset({url + apart}),
    }
    records = {str(r["url"]): r for r in export(config, capsys)}
    assert records[url + apart]["related_to"] == records[url + together[0]]["story"]


def export(config: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["export", "--config", str(config), "--format", "jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def stories(config: Path, capsys: pytest.CaptureFixture[str]) -> set[frozenset[str]]:
    grouped: dict[object, set[str]] = {}
    for record in export(config, capsys):
        grouped.setdefault(record["story"], set()).add(str(record["url"]))
    return {frozenset(urls) for urls in grouped.values()}


@pytest.mark.parametrize(
    ("listed", "slow"),
    [(order, slow) for order in permutations(("report", "flash", "round-up"))
     for slow in (order[0], order[-1])],
)  # fmt: skip
def test_stories_do_not_depend_on_the_feeds_order_or_which_answers_first(
    listed: tuple[str, ...], slow: str, article: str, tmp_path: Path,
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Three outlets: a report, its flash an hour later, and a round-up opening with
    the flash an hour after that. The flash is a copy of both; stored as the feeds
    came, it joined whichever was stored before it (the round-up when its feed was
    listed or answered first). A run settles its stories in publication order, so
    the flash joins the report, whatever the config's order and whichever feed is
    slow to answer."""
    flash = "\n".join(paragraphs(article)[:4])
    texts = {"report": article, "flash": flash, "round-up": flash + "\n" + seed_texts()["003"]}
    hours = {"report": 8, "flash": 9, "round-up": 10}
    for name in listed:
        feed_server.routes[f"/{name}"] = Response(
            rss([(name, texts[name])], hour=hours[name]),
            headers={"Content-Type": "application/rss+xml"},
            delay=0.5 if name == slow else 0.0,
        )
    config = write_config(tmp_path, [(name, feed_server.url(f"/{name}")) for name in listed])
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    assert_related_apart(config, capsys, ("report", "flash"), "round-up")


@pytest.mark.parametrize("listed", list(permutations(("report", "flash", "round-up"))))
def test_an_edit_is_settled_with_the_run_whatever_the_feeds_order(
    listed: tuple[str, ...], article: str, tmp_path: Path,
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The flash, stored alone by the run before (the last item stored), comes back
    edited beside the report it copies and a round-up that opens with it. The edit
    is decided anew; stored before the report, it joined nothing, and the report
    and the round-up then joined it. Settled with the run's new items, the flash
    joins the report and the round-up is related to them, in any order: the edit,
    stored in its old item's place, is one of the run's items though SQLite gives
    it that item's id again."""
    flash = "\n".join(paragraphs(article)[:4])
    first = "\n".join(paragraphs(article)[:3]) + "\n这是一段较早版本的补充说明，稍后被编辑删去。"
    texts = {"report": article, "flash": flash, "round-up": flash + "\n" + seed_texts()["003"]}
    hours = {"report": 8, "flash": 9, "round-up": 10}

    def serve(name: str, items: list[tuple[str, str]]) -> None:
        feed_server.routes[f"/{name}"] = Response(
            rss(items, hour=hours[name]), headers={"Content-Type": "application/rss+xml"}
        )

    for name in listed:
        serve(name, [("flash", first)] if name == "flash" else [])
    config = write_config(tmp_path, [(name, feed_server.url(f"/{name}")) for name in listed])
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    for name in listed:
        serve(name, [(name, texts[name])])
    capsys.readouterr()
    assert main(["run", "--config", str(config), "--no-digest"]) == 0
    assert "1 item edited" in capsys.readouterr().err
    assert_related_apart(config, capsys, ("report", "flash"), "round-up")


def test_a_flash_as_close_to_two_stored_stories_joins_the_same_in_any_order(
    article: str, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run stores a wire copy and a round-up that opens with the report's first
    paragraphs (two stories); the next brings the report, its flash (all of it in
    both stored stories) and another article. Which of the two equally good
    stories the flash joins was the one stored first, so the first run's order of
    feeds decided it; now the texts decide it, in all six orders."""
    parts = paragraphs(article)
    other, third = paragraphs(seed_texts()["003"]), paragraphs(seed_texts()["001"])
    first = {"a": "（法新社首尔讯）\n" + "\n".join(parts[: len(parts) * 3 // 4]),
             "c": "\n".join(parts[:4] + other)}  # fmt: skip
    second = {"a": "\n".join(parts), "b": "\n".join(parts[:4]),
              "c": "\n".join(third[:3] + parts[:2])}  # fmt: skip
    hours = {("a", 1): 9, ("c", 1): 11, ("a", 2): 10, ("b", 2): 11, ("c", 2): 7}
    found = set()
    for number, listed in enumerate(permutations("abc")):
        folder = tmp_path / str(number)
        folder.mkdir()

        def serve(feed: str, run: int, texts: dict[str, str], number: int = number) -> None:
            items = [(f"{feed}{run}-{number}", texts[feed])] if feed in texts else []
            if run == 2 and feed in first:  # the first run's item is listed still
                items.append((f"{feed}1-{number}", first[feed]))
            feed_server.routes[f"/{number}/{feed}"] = Response(
                rss(items, hour=hours.get((feed, run), 8)),
                headers={"Content-Type": "application/rss+xml"},
            )

        for feed in listed:
            serve(feed, 1, first)
        config = write_config(folder, [(f, feed_server.url(f"/{number}/{f}")) for f in listed])
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
        for feed in listed:
            serve(feed, 2, second)
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
        found.add(
            frozenset(
                frozenset(url.rsplit("/", 1)[1].split("-")[0] for url in story)
                for story in stories(config, capsys)
            )
        )
    assert len(found) == 1, found


def test_items_that_went_by_an_edited_version_are_settled_with_the_edit(
    article: str, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A first run stores a round-up and the flash it opens with. The next brings
    the report (published first), the flash edited into a wire copy, and another
    outlet's copy. Stored before the edit, the report joined the flash's story
    (the round-up's); stored after, the edit's. The report went by a version the
    run replaced: it is decided again with the edit, in publication order, and
    the stories are the same in all six orders."""
    parts = paragraphs(article)
    other = paragraphs(seed_texts()["003"])
    flash, report = "\n".join(parts[:4]), "\n".join(parts)
    roundup = "\n".join(parts[:4] + other)
    copy = "（法新社首尔讯）\n" + "\n".join(parts[: len(parts) * 3 // 4])
    first = {"f0": [("f0-a", roundup, 9)], "f1": [("f1-a", flash, 6)], "f2": []}
    second = {"f0": [("f0-b", report, 6), ("f0-a", roundup, 9)], "f1": [("f1-a", copy, 11)],
              "f2": [("f2-b", copy, 9)]}  # fmt: skip
    found = set()
    for number, listed in enumerate(permutations(("f0", "f1", "f2"))):
        folder = tmp_path / str(number)
        folder.mkdir()

        def serve(items: dict[str, list[tuple[str, str, int]]], number: int = number) -> None:
            for feed, entries in items.items():
                body = b"".join(rss([(link, text)], hour=hour) for link, text, hour in entries)
                feed_server.routes[f"/{number}/{feed}"] = Response(
                    _one_channel(body), headers={"Content-Type": "application/rss+xml"}
                )

        serve(first)
        config = write_config(folder, [(f, feed_server.url(f"/{number}/{f}")) for f in listed])
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
        serve(second)
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
        found.add(
            frozenset(frozenset(u.rsplit("/", 1)[1] for u in s) for s in stories(config, capsys))
        )
    assert len(found) == 1, found


def _one_channel(feeds: bytes) -> bytes:
    """The items of several one-channel feeds (`rss`) in one channel."""
    items = b"".join(part.split(b"</channel>")[0] for part in feeds.split(b"<title>t</title>")[1:])
    return (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + items
        + (b"</channel></rss>")
    )


@pytest.mark.parametrize("kind", ["copy", "background"])
def test_settling_decides_again_only_items_the_rules_could_join(
    kind: str, article: str, tmp_path: Path, feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The config lists first an outlet's item published two hours after the other
    outlet's, and the two share clauses. A copy is decided again at the end of the
    run (it had not seen the earlier report); another story that repeats a
    paragraph of the report as background is not: the rules keep the two apart in
    either order, so publication order cannot change its story."""
    from monitor.service.redecision import decide_batch

    decided_again: list[int] = []

    def spy(config: object, storage: object, batch: list[WindowItem], *args: object) -> int:
        decided_again.extend(item.item_id for item in batch)
        return decide_batch(config, storage, batch, *args)  # type: ignore[arg-type]

    monkeypatch.setattr("monitor.service.settle.decide_batch", spy)
    parts = paragraphs(article)
    later = {
        "copy": "（法新社首尔讯）\n" + "\n".join(parts[: len(parts) * 3 // 4]),
        "background": seed_texts()["003"] + "\n" + parts[2],
    }[kind]
    config = run_feeds(
        feed_server,
        tmp_path,
        {"later": later, "earlier": article},
        hours={"earlier": 8, "later": 10},
    )
    url = "https://news.example.com/"
    if kind == "copy":
        assert stories(config, capsys) == {frozenset({url + "earlier", url + "later"})}
        assert len(decided_again) == 2
    else:
        assert stories(config, capsys) == {frozenset({url + "earlier"}), frozenset({url + "later"})}
        assert all(record["related_to"] is None for record in export(config, capsys))
        assert decided_again == []


def test_worker_processes_prepare_what_a_run_settles_with_its_stories_unchanged(
    article: str, tmp_path: Path, feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """With worker processes (a run of eight feeds or more), the items decided again
    at the end of the run get their features, shingles included, from the workers,
    while the database thread decides those before them. The stories are those
    of the run's own process: the flash joins the report, the round-up is related."""
    flash = "\n".join(paragraphs(article)[:4])
    texts = {"round-up": flash + "\n" + seed_texts()["003"], "flash": flash, "report": article}
    hours = {"report": 8, "flash": 9, "round-up": 10}
    rng = random.Random(7)
    for number in range(6):  # other outlets' news of the day
        texts[f"other-{number}"] = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(300))
    carried = []
    knowing = Features.knowing

    def spy(self: Features, shingles: Shingles) -> Features:
        carried.append(self.title)
        return knowing(self, shingles)

    monkeypatch.setattr(Features, "knowing", spy)
    for name, text in texts.items():
        feed_server.routes[f"/{name}"] = Response(
            rss([(name, text)], hour=hours.get(name, 8)),
            headers={"Content-Type": "application/rss+xml"},
        )
    found = []
    for workers in (2, 1):
        folder = tmp_path / str(workers)
        folder.mkdir()
        config = write_config(folder, [(name, feed_server.url(f"/{name}")) for name in texts])
        setting = f"timeout = 5\nworkers = {workers}"
        config.write_text(config.read_text().replace("timeout = 5", setting))
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
        if workers == 2:
            assert sorted(carried) == ["flash", "report", "round-up"]
        found.append(stories(config, capsys))
        url = "https://news.example.com/"
        assert {s for s in found[-1] if "other" not in min(s)} == {
            frozenset({url + "report", url + "flash"}),
            frozenset({url + "round-up"}),
        }
        records = {str(r["url"]): r for r in export(config, capsys)}
        assert records[url + "round-up"]["related_to"] == records[url + "report"]["story"]
    assert found[0] == found[1]
    assert len(carried) == 3  # none with one process: shingles are computed when compared


def test_features_made_elsewhere_carry_their_shingles(article: str) -> None:
    """`compared_many` computes shingles with the features; pickled across to another
    process, the two travel side by side and are put together again."""
    import pickle

    from monitor.dedup.features import compared_many

    texts = [article, "\n".join(paragraphs(article)[:3])]
    made = pickle.loads(pickle.dumps(compared_many(texts, ["a", "b"])))
    for (features, shingles), text in zip(made, texts, strict=True):
        assert "shingles" not in features.__dict__  # not pickled with the features
        assert features.knowing(shingles).shingles is shingles
        expected = Features.of(text).shingles
        assert np.array_equal(shingles.every, expected.every)
        assert np.array_equal(shingles.lead, expected.lead)


def test_moving_items_relearns_their_feeds_boilerplate(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A feed's boilerplate is what recurs in three of its stories (and a fifth of its
    items): once two of the three are one story, it is learnt again, from the
    stories as they are now; another feed's is kept."""
    from monitor.config import load_config
    from monitor.store import Storage

    episodes = [(f"episode-{n}", PODCAST_OPENING + text + PODCAST_CLOSING)
                for n, text in enumerate(EPISODES[:3])]  # fmt: skip
    for name in ("podcast", "other"):
        feed_server.routes[f"/{name}"] = Response(  # the other's its own, backwards
            rss(
                [
                    (f"{name}-{link}", text if name == "podcast" else text[::-1])
                    for link, text in episodes
                ]
            ),  # fmt: skip
            headers={"Content-Type": "application/rss+xml"},
        )
    path = write_config(
        tmp_path, [(name, feed_server.url(f"/{name}")) for name in ("podcast", "other")]
    )
    assert main(["run", "--config", str(path), "--no-digest", "--quiet"]) == 0
    with Storage(load_config(path).storage.target) as storage:
        places = storage.stories_of(range(1, 100))
        items = storage.items_by_id(sorted(places))
        feeds = sorted({item.feed_id for item in items})
        learnt = {feed: storage.boilerplate(feed) for feed in feeds}
        assert all(learnt.values())
        first, second = [item.item_id for item in items if item.feed_id == feeds[0]][:2]
        with storage.dedup_transaction():
            storage.move_items([(second, places[first][0], "same text", None, None)])
            assert storage.boilerplate(feeds[0]) == frozenset()
            assert storage.boilerplate(feeds[1]) is learnt[feeds[1]]  # not learnt again


def test_a_verbatim_copy_listed_first_does_not_begin_the_story(
    article: str, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two outlets carry one text word for word; the config lists first the one
    that published it an hour later. A verbatim copy is found by its text's hash,
    not looked up, and still the earlier publication begins the story."""
    config = run_feeds(
        feed_server,
        tmp_path,
        {"later": article, "earlier": article},
        hours={"earlier": 8, "later": 9},
    )
    records = {str(r["url"]).rsplit("/", 1)[1]: r for r in export(config, capsys)}
    assert records["earlier"]["story"] == records["later"]["story"]
    assert records["earlier"]["match"] is None and records["later"]["match"] == "same text"


def test_a_run_whose_settling_fails_keeps_the_stories_it_stored(
    article: str, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Settling moves items in one transaction: when it fails half way, the run says
    so in one line and the stories stay as the feeds were stored, none lost."""
    from monitor.errors import StorageError
    from monitor.service.redecision import decide_batch
    from monitor.service.settle import Settled

    flash = "\n".join(paragraphs(article)[:4])
    feeds = {"round-up": flash + "\n" + seed_texts()["003"], "flash": flash, "report": article}
    hours = {"report": 8, "flash": 9, "round-up": 10}

    def failing(*args: object, **kwargs: object) -> int:
        decide_batch(*args, **kwargs)  # type: ignore[arg-type]
        raise StorageError("database: disk I/O error")

    async def unsettled(*args: object) -> Settled:
        return Settled(0, 0)

    monkeypatch.setattr("monitor.service.pipeline.settle_run", unsettled)
    (tmp_path / "as-stored").mkdir()
    as_stored = stories(run_feeds(feed_server, tmp_path / "as-stored", feeds, hours=hours), capsys)
    monkeypatch.undo()
    monkeypatch.setattr("monitor.service.settle.decide_batch", failing)
    config = write_config(tmp_path, [(name, feed_server.url(f"/{name}")) for name in feeds])
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) != 0
    assert capsys.readouterr().err.splitlines()[-1].endswith("database: disk I/O error")
    assert stories(config, capsys) == as_stored
    # As the feeds were stored: the round-up took the flash (settled, the report has it).
    url = "https://news.example.com/"
    assert frozenset({url + "flash", url + "round-up"}) in as_stored


def test_settling_a_run_never_moves_an_earlier_runs_item(
    article: str, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The round-up came in an earlier run; the report and its flash, published
    before it, come in the next, from two outlets. The run settles its own items,
    the same in either config order; the round-up, decided before, keeps its
    story and the reason it has it."""
    flash = "\n".join(paragraphs(article)[:4])
    texts = {"report": article, "flash": flash, "round-up": flash + "\n" + seed_texts()["003"]}
    hours = {"report": 8, "flash": 9, "round-up": 10}
    for name, text in texts.items():
        feed_server.routes[f"/{name}"] = Response(
            rss([(name, text)], hour=hours[name]),
            headers={"Content-Type": "application/rss+xml"},
        )
    url = "https://news.example.com/"
    found = []
    for listed in (("report", "flash"), ("flash", "report")):
        folder = tmp_path / listed[0]
        folder.mkdir()
        config = write_config(folder, [("round-up", feed_server.url("/round-up"))])
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
        (before,) = export(config, capsys)
        write_config(folder, [(name, feed_server.url(f"/{name}")) for name in listed])
        assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
        after = {str(r["url"]): r for r in export(config, capsys)}[url + "round-up"]
        assert (after["story"], after["match"]) == (before["story"], before["match"])
        found.append(stories(config, capsys))
    assert found[0] == found[1]


@pytest.mark.parametrize(
    "listed", [("report", "flash", "round-up"), ("round-up", "flash", "report"),
               ("flash", "round-up", "report")],
)  # fmt: skip
def test_a_feeds_items_make_the_same_stories_in_any_order(
    listed: tuple[str, ...], article: str, tmp_path: Path, feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """One feed's report, its flash an hour later and a round-up opening with the
    flash an hour after that. Decided in the order listed, the newest first, the
    round-up took the flash and the report was left alone (it matched the flash,
    not the story's first item); they are decided oldest first, as published."""
    flash = "\n".join(paragraphs(article)[:4])
    texts = {"report": article, "flash": flash, "round-up": flash + "\n" + seed_texts()["003"]}
    hours = {"report": 8, "flash": 9, "round-up": 10}
    # The desk's other news of the day, so that the three are not most of the feed
    # (what recurs in a fifth of a feed's items is its boilerplate).
    rng = random.Random(5)
    for number in range(20):
        texts[f"other-{number}"] = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(300))
        hours[f"other-{number}"] = 7
    names = [*listed, *(name for name in texts if name.startswith("other-"))]
    entries = "".join(
        f"<item><title>{name}</title><link>https://news.example.com/{name}</link>"
        f"<guid>{name}</guid><pubDate>Mon, 06 Mar 2023 {hours[name]:02d}:00:00 GMT</pubDate>"
        f"<description>{html.escape(texts[name])}</description></item>"
        for name in names
    )
    feed_server.routes["/desk"] = Response(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{entries}'
        "</channel></rss>".encode(),
        headers={"Content-Type": "application/rss+xml"},
    )
    config = write_config(tmp_path, [("desk", feed_server.url("/desk"))])
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    url = "https://news.example.com/"
    assert {s for s in stories(config, capsys) if "other" not in min(s)} == {
        frozenset({url + "report", url + "flash"}),
        frozenset({url + "round-up"}),
    }


@pytest.mark.parametrize("first", ["excerpt", "report"])
def test_an_excerpt_a_tenth_of_its_report_joins_it_in_either_order(
    first: str, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A desk's excerpt (the report's first two paragraphs) shares under a tenth of
    the long report's clauses: the report stored second must still find it."""
    report = seed_texts()["001"]
    excerpt = "\n".join(paragraphs(report)[:2])
    assert Features.of(excerpt).sentence_chars < 0.1 * Features.of(report).sentence_chars
    feeds = {"excerpt": excerpt, "report": report}
    if first == "report":
        feeds = dict(reversed(feeds.items()))
    config = run_feeds(feed_server, tmp_path, feeds)
    url = "https://news.example.com/"
    assert stories(config, capsys) == {frozenset({url + "excerpt", url + "report"})}


def test_a_story_grows_by_copies_of_its_first_item_not_by_chains(
    article: str, tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The round-up opens with the flash, which joined the report: it is a copy of
    neither the report nor, mostly, the flash, and stays a story of its own."""
    flash = "\n".join(paragraphs(article)[:4])
    feeds = {"report": article, "flash": flash, "round-up": flash + "\n" + seed_texts()["003"]}
    hours = {"report": 8, "flash": 9, "round-up": 10}
    config = run_feeds(feed_server, tmp_path, feeds, hours=hours)
    url = "https://news.example.com/"
    assert stories(config, capsys) == {
        frozenset({url + "report", url + "flash"}),
        frozenset({url + "round-up"}),
    }
    # It is related to the story it joined through the flash: shown with it.
    (exported,) = [r for r in export(config, capsys) if r["url"] == url + "round-up"]
    (report,) = [r for r in export(config, capsys) if r["url"] == url + "report"]
    assert exported["related_to"] == report["story"]
    capsys.readouterr()
    assert main(["story", "--config", str(config), url + "round-up"]) == 0
    shown = capsys.readouterr().out
    assert f"related to story {report['story']} (containment 1.00, lead" in shown
    assert "not of its first): shown with it" in shown


QUAKE = (
    "中央气象局表示，花莲县近海今天上午发生芮氏规模{magnitude}级地震，震源深度{depth}公里，"
    "全台各地均有感，台北市最大震度三级，目前没有传出人员伤亡或建筑物损坏的消息。\n"
    "气象局地震测报中心主任说，这起地震属于板块碰撞造成的浅层地震，"
    "未来三天内仍可能发生规模较小的余震，提醒民众注意居家安全，并检查瓦斯管线。\n"
    "铁路局表示，地震发生后东部干线列车一度减速慢行，经巡查确认路线安全后已恢复正常行驶。\n"
)


def test_an_earthquake_and_its_aftershock_written_in_words_are_two_stories() -> None:
    quake = QUAKE.format(magnitude="六点四", depth="十五")
    aftershock = QUAKE.format(magnitude="五点八", depth="十二")
    assert not joins(aftershock, quake)
    # The same report with its figures in digits is a copy.
    assert joins(QUAKE.format(magnitude="6.4", depth="15"), quake)


@pytest.mark.parametrize(
    ("words", "digits"),
    [("六十二", "62"), ("十一", "11"), ("一百零五", "105"), ("三千五百万", "35000000"),
     ("两", "2"), ("二〇二〇", "2020"), ("六点四", "64"), ("点", "点")],
)  # fmt: skip
def test_chinese_numerals_read_as_the_digits_a_copy_writes(words: str, digits: str) -> None:
    assert arabic(words) == digits


PODCAST_OPENING = (
    "欢迎收听本台每日国际新闻播客节目，本节目每个工作日早上七点准时更新，"
    "请在苹果播客和各大音频平台搜索本台名称订阅收听，并分享给您身边关心国际局势的朋友。\n"
)
PODCAST_CLOSING = "\n本节目内容仅代表嘉宾个人观点，不代表本台立场，转载请注明出处，感谢您的收听。"
EPISODES = (
    "本期我们邀请两位学者，讨论日本和韩国恢复军事情报共享协定的意义。",
    "本期话题是菲律宾与中国在南海仁爱礁的对峙，以及美国政府的最新表态。",
    "本期节目介绍朝鲜领导人访问俄罗斯远东地区的行程安排和各方评论。",
    "本期我们回顾美日韩戴维营峰会一周年以来三国安全合作的进展与挑战。",
)


def test_a_feeds_own_boilerplate_does_not_merge_its_episodes(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each episode is mostly the feed's opening and closing lines, which dedup learns
    as that feed's boilerplate and leaves out of what it compares."""
    episodes = [(f"episode-{n}", PODCAST_OPENING + text + PODCAST_CLOSING)
                for n, text in enumerate(EPISODES)]  # fmt: skip
    first, second = features(episodes[0][1]), features(episodes[1][1])
    candidate = Candidate(1, 10, first.simhash, first.normalized_length, first.figures,
                          first.shingles)  # fmt: skip
    assert best_match(second, [candidate], max_distance=3) is not None  # on their text alone
    feed_server.routes["/podcast"] = Response(
        rss(episodes[:3]), headers={"Content-Type": "application/rss+xml"}
    )
    config = write_config(tmp_path, [("podcast", feed_server.url("/podcast"))])
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    feed_server.routes["/podcast"] = Response(
        rss(episodes), headers={"Content-Type": "application/rss+xml"}
    )
    assert main(["run", "--config", str(config), "--no-digest", "--quiet"]) == 0
    assert len(stories(config, capsys)) == 4  # the first fetch's three, and the next one


def test_boilerplate_is_what_recurs_across_a_fifth_of_the_items_and_three_stories() -> None:
    def packed(*clauses: int) -> bytes:
        return b"".join(c.to_bytes(8, "little", signed=True) for c in clauses)

    # Three versions of one article are one story: their text is no boilerplate.
    assert learned([(1, packed(7, 8)), (1, packed(7, 8)), (1, packed(7, 9))]) == frozenset()
    # A sign-off in three stories' items is, and what only two stories share is not.
    three = [(1, packed(5, 10)), (2, packed(5, 11)), (3, packed(5, 12, 13)), (4, packed(13))]
    assert learned(three) == {5}
    # Background a feed repeats in three stories among twenty is not: not a fifth.
    many = [(n, packed(100 + n, *([42] if n < 3 else []))) for n in range(20)]
    assert learned(many) == frozenset()
    assert learned([]) == learned([(1, b""), (2, b""), (3, b"")]) == frozenset()
