from __future__ import annotations

import email
import email.policy
import json
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dedup_corpus import seed_texts

from monitor.config import Config, TopicConfig, load_config
from monitor.dedup import Features
from monitor.digest import build_digest, compose, render_html
from monitor.digest import related as related_module
from monitor.digest.related import (
    Headline,
    Rarity,
    RelatedHeads,
    lead_bigrams,
    related,
    title_bigrams,
)
from monitor.digest.render import list_id, render_text
from monitor.digest.summary import ELLIPSIS, sentences, summarize, width
from monitor.digest.topics import Score, best_topic, topic_scores
from monitor.errors import ConfigError
from monitor.figures import figures_text, headline_figures, headlines_differ
from monitor.models import Digest, StoredItem, Story

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already the 23rd in Shanghai
GOLDEN = ROOT / "tests" / "adapters" / "golden"


def config() -> Config:
    return load_config(ROOT / "config.example.toml")


def stored(
    item_id: int,
    story: int,
    title: str,
    text: str,
    source: str = "DW 中文",
    published: datetime = datetime(2023, 3, 18, 12, 0, tzinfo=UTC),
    feed: str = "DW 中文",
) -> StoredItem:
    return StoredItem(
        id=item_id,
        feed=feed,
        guid=str(item_id),
        url=f"https://example.org/{item_id}",
        title=title,
        published=published,
        source=source,
        original_source=None,
        text=text,
        story=story,
        topics=(),
    )


def build(stories: list[Story], cfg: Config | None = None) -> Digest:
    cfg = cfg or config()
    digest = build_digest(stories, cfg, cfg.digest, NOW)
    assert digest is not None
    return digest


def headlines_of_two_days(first: tuple[str, str], second: tuple[str, str]) -> int:
    """How many headlines the digest makes of two (title, text) stories of two
    outlets a day apart: 1 when it groups them."""
    day = datetime(2020, 8, 26, 9, 0, tzinfo=UTC)
    stories = [
        Story(n, (stored(n, n, title, text, source=source, published=day + timedelta(days=n - 1)),))
        for n, (title, text), source in ((1, first, "DW 中文"), (2, second, "RFI 中文"))
    ]
    return sum(len(section.entries) for section in build(stories).sections)


def test_sentences_split_on_chinese_ends_and_closing_quotes() -> None:
    text = "他说：“我们强调合作。”随后离开！真的吗？是的.\nNext line here"
    assert sentences(text) == [
        "他说：“我们强调合作。”",
        "随后离开！",
        "真的吗？",
        "是的.",
        "Next line here",
    ]


def test_summary_takes_whole_lead_sentences_within_the_cap() -> None:
    text = "第一句话。第二句话比较长一些。第三句。第四句。"
    assert summarize(text, 120) == "第一句话。第二句话比较长一些。第三句。"
    assert summarize(text, 12) == "第一句话。"


def test_summary_drops_a_leading_outlet_tag() -> None:
    assert (
        summarize("（德国之声中文网）韩国官员周六表示。其他。", 120) == "韩国官员周六表示。其他。"
    )


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("路透华盛顿8月11日 - 美国总统周二表示，关系已经改变。", "美国总统周二表示"),
        ("作者 马蓉路透北京8月11日 - 中国外交部周二表示。", "中国外交部周二表示"),
        ("路透新加坡/北京11月17日 - 周三公布的数据显示。", "周三公布的数据显示"),
        ("【大纪元2020年08月12日讯】（大纪元记者古清儿报导）美中关系恶化。", "美中关系恶化"),
        ("（德国之声中文网）\n德国之声：您如何评价这一事件？", "德国之声：您如何评价"),
        ("香港——作为第三号领导人物的长女，她在香港打造网络。", "作为第三号领导人物"),
        ("2020年8月12日，本网获悉：著名人权律师遭强迫失踪3年多。", "著名人权律师"),
        ("2020年 7月 17日\n调查发现，许多中国学生不敢来英国留学。", "调查发现"),
        ("总统美智库演说：打造民主灯塔\n总统蔡英文今天在美国智库演说。", "总统蔡英文今天"),
        ("微信吉祥物（视频截图）\n特朗普总统周四晚发布两项行政命令。", "特朗普总统周四晚"),
    ],
)
def test_summary_opens_with_the_news_not_a_dateline_byline_or_heading(text: str, lead: str) -> None:
    assert summarize(text, 120).startswith(lead)


def test_summary_keeps_headings_when_they_are_all_the_text_has() -> None:
    assert summarize("习近平同赞比亚总统通电话\n李克强同老挝总理举行视频会晤", 120) == (
        "习近平同赞比亚总统通电话李克强同老挝总理举行视频会晤"
    )


def test_an_english_summary_holds_whole_sentences_and_twice_the_letters() -> None:
    text = (
        "IT WAS EVEN worse than expected. Mr. Smith of the U.S. Treasury said output fell by "
        "20% in the quarter, the steepest fall on record. “It is grim.” Officials hope for a "
        "rebound in the autumn, when schools reopen and offices fill again."
    )
    summary = summarize(text, 120)
    assert summary == (
        "IT WAS EVEN worse than expected. Mr. Smith of the U.S. Treasury said output fell by "
        "20% in the quarter, the steepest fall on record. “It is grim.”"
    )
    assert width(summary) <= 120 < len(summary)
    cut = summarize("word " * 100, 120)
    assert cut.endswith("word" + ELLIPSIS) and width(cut) <= 120


def test_a_chinese_sentence_cut_inside_a_number_loses_the_number_not_the_sentence() -> None:
    text = "美国 国务院周二表示，" + "美国将继续与盟友密切合作应对地区安全挑战并加强协调" * 4
    text += "截至2020年底已有多国加入。"
    for cap in range(100, 123):  # from 124 on, the whole sentence fits
        summary = summarize(text, cap)
        assert cap - 6 <= width(summary) <= cap and summary.endswith(ELLIPSIS), (cap, summary)
        number = re.search(r"(\d+)…$", summary)
        assert number is None or number.group(1) == "2020", summary  # whole, or none of it


def test_summary_cuts_an_overlong_first_sentence_with_an_ellipsis() -> None:
    summary = summarize("很" * 300 + "长。", 120)
    assert len(summary) == 120 and summary.endswith(ELLIPSIS)


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_summaries_are_lead_sentences_without_furniture(prefix: str) -> None:
    text = seed_texts()[prefix]
    summary = summarize(text, 120)
    assert 20 <= width(summary) <= 120
    assert summary[-1] in "。！？”…"
    assert "德国之声中文网" not in summary and "人阅读" not in summary


def test_best_topic_is_the_highest_score_and_exclusions_rule_out() -> None:
    topics = (
        TopicConfig("朝鲜半岛", ("朝鲜", "韩国")),
        TopicConfig("俄朝关系", ("普京", "俄罗斯"), exclude=("体育",)),
        TopicConfig("半导体", (), patterns=(__import__("re").compile(r"芯片|半导体"),)),
    )
    order = [t.name for t in topics]
    scores = topic_scores("普京访问平壤", "朝鲜、韩国与俄罗斯签署协议，普京表示。", topics)
    assert best_topic(scores, order) == "俄朝关系"  # named in the headline
    scores = topic_scores("协议签署", "朝鲜、韩国与俄罗斯签署协议，普京表示。", topics)
    assert best_topic(scores, order) == "朝鲜半岛"  # two keywords each: the first configured
    assert "俄朝关系" not in topic_scores("普京看体育比赛", "", topics)
    assert best_topic(topic_scores("日本限制半导体出口", "", topics), order) == "半导体"
    assert topic_scores("无关", "无关", topics, defaults=("朝鲜半岛",)) == {"朝鲜半岛": Score(0, 1)}


def test_topics_match_traditional_text_and_not_the_dateline() -> None:
    topics = (
        TopicConfig("香港", ("香港", "国安法")),
        TopicConfig("台湾", ("台北", "台湾")),
        TopicConfig("选举", (), patterns=(__import__("re").compile(r"选举|大选"),)),
    )
    order = [t.name for t in topics]
    scores = topic_scores("港區國安法箝制新聞自由", "黃之鋒投書紐時。", topics)
    assert best_topic(scores, order) == "香港"
    floods = "（中央社記者張雄風台北10日電）長江現洪水，北京陷暴雨。"
    assert topic_scores("長江現洪水", floods, topics) == {}
    assert topic_scores("中國股市收跌", "路透香港8月12日 - 中国股市周三收跌。", topics) == {}
    assert "台湾" in topic_scores("颱風來襲", "（中央社台北10日電）台灣東部海域地震。", topics)
    assert "选举" in topic_scores("美國大選結果", "", topics)  # patterns too


def test_a_topic_named_once_further_down_is_a_mention_in_passing() -> None:
    topics = (
        TopicConfig("日本", ("日本", "东京")),
        TopicConfig("选举", (), patterns=(__import__("re").compile(r"选举|大选"),)),
    )
    lead = "白俄罗斯总统选举后爆发抗议，警方拘留数千人。欧盟表示将考虑制裁。"
    later = "\n".join(f"第{n}段，抗议者在明斯克街头聚集，要求重新计票。" for n in range(4))
    listed = lead + "\n" + later + "\n美国、日本和英国呼吁各方保持克制。"
    assert "日本" not in topic_scores("白俄罗斯抗议持续", listed, topics)
    assert "选举" in topic_scores("白俄罗斯抗议持续", listed, topics)  # in the lead
    twice = listed + "\n日本外务省另召见白俄罗斯大使。"
    assert topic_scores("白俄罗斯抗议持续", twice, topics)["日本"] == Score(0, 1)
    in_lead = "日本外务省表示关切。" + listed
    assert "日本" in topic_scores("白俄罗斯抗议持续", in_lead, topics)
    assert "日本" in topic_scores("日本表态", listed, topics)  # in the headline
    every = (replace(topics[0], min_mentions=1),)
    assert "日本" in topic_scores("白俄罗斯抗议持续", listed, every)
    vote = (replace(topics[1], min_mentions=1),)
    assert "选举" not in topic_scores("抗议", later + "\n另有选举。", topics[1:])
    assert "选举" in topic_scores("抗议", later + "\n另有选举。", vote)
    # One place that two keywords name is one mention; a pattern in the lead as written.
    law = (TopicConfig("香港", ("国安法", "港区国安法")),)
    assert topic_scores("抗议", later + "\n另提及港区国安法。", law) == {}
    assert "香港" in topic_scores("抗议", later + "\n港区国安法与国安法。", law)
    taiwan = (TopicConfig("台湾", (), patterns=(__import__("re").compile("臺灣"),)),)
    assert "台湾" in topic_scores("抗议", "臺灣外交部表示關切。" + later, taiwan)


def test_sections_follow_topic_order_and_other_comes_last() -> None:
    stories = [
        Story(1, (stored(1, 1, "无主题", "没有关键词的文章。"),)),
        Story(2, (stored(2, 2, "朝鲜新闻", "平壤发布消息。"),)),
        Story(3, (stored(3, 3, "普京访朝", "普京与金正恩会面。"),)),
        Story(
            4,
            (
                stored(4, 4, "韩国新闻", "首尔消息。", published=datetime(2023, 3, 17, tzinfo=UTC)),
                stored(5, 4, "韩国新闻", "首尔消息。", source="趣看热点"),
            ),
        ),
    ]
    digest = build(stories)
    assert [s.name for s in digest.sections] == ["俄朝关系", "朝鲜半岛", "其他"]
    # More outlets first, then the most recent.
    assert [e.title for e in digest.sections[1].entries] == ["韩国新闻", "朝鲜新闻"]
    assert [i.source for i in digest.sections[1].entries[0].also] == ["趣看热点"]
    assert digest.subject == "每日摘要 2026-11-23 · 4 条新闻 · 2 个主题"
    assert digest.sections[0].entries[0].published.hour == 20  # 12:00 UTC in Shanghai
    assert sorted(digest.story_ids) == [1, 2, 3, 4]


def seed_story(prefix: str, story: int) -> Story:
    golden = json.loads((GOLDEN / f"{prefix}.json").read_text(encoding="utf-8"))
    published = datetime.fromisoformat(golden["published"])
    if prefix == "002":  # the aggregator page has no date; 国际在线 published it on the 18th
        published = datetime(2023, 3, 18, 9, 12, tzinfo=UTC)
    item = stored(story, story, golden["title"], seed_texts()[prefix], golden["source"], published)
    return Story(story, (item,))


def test_related_coverage_of_one_event_is_grouped_and_a_year_apart_is_not() -> None:
    stories = [seed_story(p, n) for n, p in enumerate(["000", "001", "002", "003", "004"], 1)]
    digest = build(stories)
    entries = [e for s in digest.sections for e in s.entries]
    grouped = {e.title: [r.title for r in e.related] for e in entries}
    assert len(entries) == 4
    heads_with_related = {title: rel for title, rel in grouped.items() if rel}
    assert len(heads_with_related) == 1
    ((head, rel),) = heads_with_related.items()
    assert {head, *rel} == {"对抗朝鲜：韩日追求军情合作 “正常化”", "韩日全面恢复军事情报共享"}
    sections = {s.name: [e.title for e in s.entries] for s in digest.sections}
    assert sections == {
        "俄朝关系": [
            "面对俄朝条约，韩国日本的恐慌和忧虑",
            "朝俄蜜月 美日韩：有军事协议将祭制裁 - 要闻解说",
        ],
        "美日韩同盟": ["美日韩戴维营峰会声明或将首提一方遭攻击后，三方联合磋商内容"],
        "朝鲜半岛": ["对抗朝鲜：韩日追求军情合作 “正常化”"],
    }
    # Four headlines and one related entry: the email shows five stories.
    assert digest.subject.endswith("5 条新闻 · 3 个主题")
    assert len(digest.story_ids) == 5 and digest.left_out == ()


def test_a_digest_limited_to_topics_leaves_out_the_rest() -> None:
    cfg = config()
    only = replace(cfg.digest, name="russia", topics=("俄朝关系",))
    stories = [seed_story(p, n) for n, p in enumerate(["000", "001", "004"], 1)]
    digest = build_digest(stories, cfg, only, NOW)
    assert digest is not None
    assert [s.name for s in digest.sections] == ["俄朝关系"]
    assert sorted(digest.story_ids) == [2, 3]
    assert build_digest(stories[:1], cfg, only, NOW) is None


def hostile() -> Story:
    title = "Breaking\r\nBcc: victim@example.org <script>alert(1)</script>"
    return Story(1, (stored(1, 1, title, "正文<b>粗体</b>。朝鲜。"),))


def test_feed_text_cannot_inject_headers_or_markup() -> None:
    cfg = config()
    cfg = replace(cfg, digests=(replace(cfg.digest, subject="{date} {stories}\r\nBcc: x@y"),))
    digest = build([hostile()], cfg)
    message, html = compose(cfg, cfg.digest, digest, ["reader@example.org"])
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["Subject"])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html


def test_email_is_multipart_alternative_with_headers_and_inlined_css() -> None:
    cfg = config()
    digest = build([hostile()], cfg)
    message, html = compose(cfg, cfg.digest, digest, ["a@example.org", "b@example.org"])
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    for header in ("Date", "Message-ID", "MIME-Version", "List-Id", "From", "To", "Subject"):
        assert message[header], header
    assert message["To"] == "a@example.org, b@example.org"
    raw = message.as_bytes()
    assert b"Subject: =?utf-8?" in raw and b"From: monitor =?utf-8?" in raw
    assert 'lang="zh-Hans"' in html
    assert '<h3 style="' in html  # CSS inlined for clients that drop <style>
    assert "prefers-color-scheme: dark" in html
    assert "http" not in html.split("<body")[0]  # nothing to fetch to read it
    assert render_text(cfg, cfg.digest, digest).startswith("每日摘要 2026-11-23")


@pytest.mark.parametrize("name", ["daily", "russia desk", "团队 a/b", "研究", "a.b"])
def test_the_list_id_is_one_mail_filters_can_read_whatever_the_digest_is_named(
    name: str,
) -> None:
    cfg = config()
    digest = replace(build([hostile()], cfg), name=name)
    message, _ = compose(cfg, replace(cfg.digest, name=name), digest, ["a@example.org"])
    raw = message.as_bytes().split(b"\n\n", 1)[0].decode("ascii")
    (header,) = [line for line in raw.splitlines() if line.startswith("List-Id: ")]
    found = re.fullmatch(
        r"List-Id: (monitor [A-Za-z0-9 _-]+ )?<([a-z0-9-]+)\.digest\.monitor\.example\.org>", header
    )
    assert found, header
    assert (found.group(2) == name) == (name == "daily")
    others = {list_id(other, "example.org") for other in ("团队 a/b", "团队 a-b", "研究", "研究院")}
    assert len(others) == 4


def test_templates_can_be_overridden_one_file_at_a_time(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("custom: {{ digest.story_count }} stories\n")
    cfg = config()
    custom = replace(cfg.digest, templates=tmp_path)
    digest = build([hostile()], cfg)
    assert render_text(cfg, custom, digest) == "custom: 1 stories\n"
    assert "<!DOCTYPE html>" in render_html(cfg, custom, digest)


def test_a_broken_template_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("{% for x in %}\n")
    cfg = config()
    custom = replace(cfg.digest, templates=tmp_path)
    with pytest.raises(ConfigError, match=r"digest\.txt\.j2:1: digest template error"):
        render_text(cfg, custom, build([hostile()], cfg))


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("{{ digest.subject + 1 }}", 'TypeError: can only concatenate str (not "int") to str'),
        ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
        ("{{ digest.nosuch }}", "'monitor.models.Digest object' has no attribute 'nosuch'"),
        ("{{ nosuch }}", "'nosuch' is undefined"),
    ],
)
def test_a_template_that_fails_as_it_runs_is_named_by_its_line(
    tmp_path: Path, expression: str, error: str
) -> None:
    (tmp_path / "digest.txt.j2").write_text(f"第一行\n{expression}\n", encoding="utf-8")
    cfg = config()
    custom = replace(cfg.digest, templates=tmp_path)
    with pytest.raises(ConfigError) as failed:
        render_text(cfg, custom, build([hostile()], cfg))
    assert str(failed.value) == f"{tmp_path / 'digest.txt.j2'}:2: digest template error: {error}"


@pytest.mark.parametrize("with_rarity", [False, True], ids=["plain", "rarity"])
@pytest.mark.parametrize("common", [4, related_module.COMMON])
def test_related_heads_group_as_comparing_every_head_in_turn_does(
    common: int, with_rarity: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`RelatedHeads` skips heads that cannot be related; it must never skip one
    that is, nor change which head a story joins (the first, in order). With a
    low `COMMON`, most stories leave their commonest bigrams out of the count."""
    monkeypatch.setattr(related_module, "COMMON", common)
    generator = random.Random(7)
    texts = list(seed_texts().values())
    pieces = [s for text in texts for s in sentences(text)]
    leads = []
    for _ in range(600):
        # Leads made of seed sentences: many share a few bigrams, some enough.
        lead = "".join(generator.sample(pieces, generator.randint(1, 2)))
        start = generator.randint(0, max(0, len(lead) - 40))
        leads.append(lead[start : start + generator.randint(8, 60)])
    base = datetime(2026, 11, 1, tzinfo=UTC)
    stories = [
        (
            base + timedelta(hours=generator.randint(0, 24 * 10)),
            lead_bigrams(lead, ""),
            title_bigrams(lead[: generator.randint(6, 20)]),
        )
        for lead in leads
    ]
    rarity = Rarity.of(b for _, b, _ in stories) if with_rarity else None
    assert (rarity is not None) == with_rarity

    heads = RelatedHeads(rarity)
    found = []
    for published, bigrams, title in stories:
        position = heads.find(published, bigrams, title)
        if position is None:
            heads.add(published, bigrams, title)
        found.append(position)

    expected: list[int | None] = []
    seen: list[tuple[datetime, frozenset[str], Headline]] = []
    for published, bigrams, title in stories:
        match = next(
            (
                n
                for n, (p, b, t) in enumerate(seen)
                if related(p, b, published, bigrams, rarity, t, title)
            ),
            None,
        )
        if match is None:
            seen.append((published, bigrams, title))
        expected.append(match)
    assert found == expected
    # Enough grouped (and not grouped) for the comparison to mean something; the
    # rarity rule groups fewer.
    assert (10 if with_rarity else 30) < sum(1 for p in found if p is not None) < 570


def test_related_entries_beyond_max_related_are_named_by_outlet_and_left_out() -> None:
    cfg = config()
    capped = replace(cfg, digests=(replace(cfg.digest, max_related=1),))
    lead = "韩国国防部23日宣布全面恢复韩日军事情报保护协定，双方将共享朝鲜导弹情报。"
    outlets = ["DW 中文", "RFI 中文", "国际在线", "RFI 中文"]
    stories = [
        Story(n, (stored(n, n, f"韩日全面恢复军事情报共享{'之' * n}", lead * 3, source=o),))
        for n, o in enumerate(outlets, 1)
    ]
    digest = build(stories, capped)
    ((entry,),) = [s.entries for s in digest.sections]
    assert len(entry.related) == 1
    assert (
        sorted(entry.more_related)
        == sorted(o for o in outlets if o not in (entry.source, entry.related[0].source))
        or len(entry.more_related) == 2
    )
    assert len(digest.story_ids) == 2 and len(digest.left_out) == 2
    assert set(digest.story_ids) | set(digest.left_out) == {1, 2, 3, 4}
    assert digest.subject.split(" · ")[1] == "2 条新闻"
    text = render_text(capped, capped.digest, digest)
    assert "另有 2 篇相关报道未列出：" in text
    assert "另有 2 篇相关报道未列出：" in render_html(capped, capped.digest, digest)


def test_headlines_beyond_max_stories_are_counted_in_their_section_and_left_out() -> None:
    cfg = config()
    capped = replace(cfg, digests=(replace(cfg.digest, max_stories=2),))
    stories = [
        Story(n, (stored(n, n, f"标题{n}", f"第{n}篇的正文不同{n}。"),)) for n in range(1, 6)
    ]
    digest = build(stories, capped)
    assert len(digest.story_ids) == 2 and sorted(digest.story_ids + digest.left_out) == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert sum(section.not_shown for section in digest.sections) == 3
    assert "本栏另有 3 条新闻未列出" in render_text(capped, capped.digest, digest)
    assert digest.subject.split(" · ")[1] == "2 条新闻"


def test_the_headline_is_the_most_complete_version_of_the_story() -> None:
    early = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)
    flash = stored(1, 1, "快讯：韩日恢复情报共享", "韩国宣布恢复协定。", published=early)
    full = replace(
        stored(2, 1, "韩日全面恢复军事情报共享", "韩国宣布恢复协定。" + "双方将共享情报。" * 20),
        url=flash.url,
        published=early + timedelta(hours=2),
    )
    copy = replace(
        stored(3, 1, "转载：韩日恢复情报共享", full.text + "。", source="趣看热点"),
        original_source="DW 中文",
        published=early - timedelta(hours=1),
    )
    story = Story(1, (copy, flash, full))
    assert story.canonical is copy and story.headline is full
    ((entry,),) = [s.entries for s in build([story]).sections]
    assert entry.title == "韩日全面恢复军事情报共享" and entry.source == "DW 中文"
    assert entry.summary.startswith("韩国宣布恢复协定。")
    assert [item.source for item in entry.also] == ["趣看热点"]  # its own outlet is not "also"


def test_a_flooding_feed_gets_its_share_of_the_digest_not_all_of_it() -> None:
    cfg = config()
    capped = replace(cfg, digests=(replace(cfg.digest, max_stories=10),))
    newest = datetime(2023, 3, 18, 12, 0, tzinfo=UTC)
    flood = [
        Story(n, (stored(n, n, f"刷屏{n}", f"第{n}条刷屏内容各不相同{n}。", feed="flood",
                         published=newest - timedelta(minutes=n)),))
        for n in range(1, 51)
    ]  # fmt: skip
    others = [
        Story(n, (stored(n, n, f"要闻{n}", f"第{n}条要闻的正文{n}。", feed=f"feed{n % 3}",
                         published=newest - timedelta(days=1, minutes=n)),))
        for n in range(100, 106)
    ]  # fmt: skip
    digest = build(flood + others, capped)
    shown = set(digest.story_ids)
    assert {story.id for story in others} <= shown  # older, but every other feed is in
    assert len(shown) == 10 and len(digest.left_out) == 46


def test_headlines_beyond_max_summaries_are_listed_without_a_summary() -> None:
    cfg = config()
    listed = replace(cfg, digests=(replace(cfg.digest, max_summaries=2),))
    stories = [
        Story(n, (stored(n, n, f"标题{n}", f"第{n}篇的正文不同{n}。"),)) for n in range(1, 6)
    ]
    entries = [entry for section in build(stories, listed).sections for entry in section.entries]
    assert [bool(entry.summary) for entry in entries] == [True, True, False, False, False]


def test_a_section_whose_headlines_were_all_over_the_limit_still_says_how_many() -> None:
    cfg = config()
    capped = replace(cfg, digests=(replace(cfg.digest, max_stories=1, max_related=0),))
    stories = [seed_story(p, n) for n, p in enumerate(["000", "001", "002", "003", "004"], 1)]
    digest = build(stories, capped)
    names = [section.name for section in digest.sections]
    assert names == ["俄朝关系", "美日韩同盟", "朝鲜半岛"]
    assert sum(len(section.entries) for section in digest.sections) == 1
    assert [section.not_shown for section in digest.sections if not section.entries] == [2, 1]
    text = render_text(capped, capped.digest, digest)
    assert "本栏另有 2 条新闻未列出" in text and "本栏另有 1 条新闻未列出" in text
    assert len(digest.left_out) == 4  # three headlines and one related entry
    assert digest.subject.endswith("1 条新闻 · 3 个主题")


def test_a_summary_never_starts_with_an_email_date_line() -> None:
    from monitor.models import Item
    from monitor.parse.adapters import adapter_for

    html = (
        "<div><p>Sun, 19 Jul 2020 18:18:30 GMT</p><p>美国总统特朗普质疑11月的大选对手拜登的精神敏锐性。</p>"
        "<p>第二段。</p></div>"
    )
    url = "https://example.org/a"
    article = adapter_for(url).adapt(Item(url, url, "标题", None, (), html), "f", NOW)
    assert summarize(article.text, 120).startswith("美国总统特朗普")


def test_stories_dedup_found_related_are_grouped_whatever_their_headlines() -> None:
    """A follow-up and the report it repeats (`StoredItem.related_to`) share no
    headline words here, and would be two headlines by their leads alone."""
    report = stored(1, 10, "韩国宣布恢复军情协定", "韩国国防部周六表示将全面执行协定。")
    follow_up = replace(
        stored(2, 20, "东京首场防务会议下月举行", "日方证实收到韩方通知。", source="RFI 中文"),
        related_to=10,
    )
    other = stored(3, 30, "菲律宾抗议水炮事件", "菲律宾海岸警卫队周日说。", source="BBC")
    stories = [Story(10, (report,)), Story(20, (follow_up,)), Story(30, (other,))]
    entries = [e for s in build(stories).sections for e in s.entries]
    assert len(entries) == 2
    (head,) = [e for e in entries if e.related]
    assert {head.title, *(r.title for r in head.related)} == {report.title, follow_up.title}
    without = build([Story(10, (report,)), Story(20, (replace(follow_up, related_to=None),))])
    assert sum(len(s.entries) for s in without.sections) == 2


FIXING = (
    "中国外汇交易中心{day}日公布，人民币对美元汇率中间价报{rate}，较前一交易日{move}{points}个基点。"
    "交易员表示，美元指数隔夜走弱，市场预计人民币短期内将维持双向波动。"
    "当日在岸人民币开盘报{open}，午盘报{noon}。"
)


def fixing(item_id: int, day: int, rate: str, move: str, points: int, figures: bool) -> Story:
    """A day's report of the yuan's central parity: a template the next day repeats
    (its headline without the figures, which would tell the days apart too)."""
    text = FIXING.format(day=day, rate=rate, move=move, points=points, open=rate, noon=rate)
    item = stored(
        item_id, item_id, f"人民币中间价{move}", text,
        published=datetime(2020, 8, day, 1, 30, tzinfo=UTC),
    )  # fmt: skip
    if figures:
        item = replace(item, figures=figures_text(Features.of(text).figures))
    return Story(item_id, (item,))


@pytest.mark.parametrize("figures", [True, False])
def test_two_days_of_a_template_series_are_not_related_coverage(figures: bool) -> None:
    """The leads of two days' reports name the same rare things; the figures stored
    with each tell that they are two reports (without them, they would be grouped)."""
    stories = [
        fixing(1, 12, "6.9448", "上调", 37, figures),
        fixing(2, 13, "6.9292", "上调", 156, figures),
    ]
    entries = [e for s in build(stories).sections for e in s.entries]
    assert len(entries) == (2 if figures else 1)


def test_reports_of_one_event_whose_figures_agree_stay_related_coverage() -> None:
    """Two outlets' reports of the same fixing: the same figures, grouped."""
    first = fixing(1, 12, "6.9448", "上调", 37, figures=True)
    text = (
        "人民币对美元汇率中间价12日报6.9448，较前一交易日上调37个基点，创近三个月新高。"
        "分析人士认为，人民币汇率短期内将维持双向波动，央行无意推动单边升值。"
    )
    other = stored(
        2, 2, "人民币中间价上调37个基点 报6.9448", text, source="RFI 中文",
        published=datetime(2020, 8, 12, 3, 0, tzinfo=UTC),
    )  # fmt: skip
    other = replace(other, figures=figures_text(Features.of(text).figures))
    entries = [e for s in build([first, Story(2, (other,))]).sections for e in s.entries]
    assert len(entries) == 1 and len(entries[0].related) == 1


EDITORIAL = "以下是一篇反映美国政府政策立场的社论。"


def a_busy_day(generator: random.Random, count: int = 60) -> list[Story]:
    """`count` stories of a day, each of its own event: enough stories for the
    rarity of words to count (`related.MIN_STORIES_FOR_RARITY`)."""
    pool = [c for text in seed_texts().values() for c in text if "\u4e00" <= c <= "\u9fff"]
    day = []
    for n in range(100, 100 + count):
        title = "".join(generator.choices(pool, k=14))
        text = "".join(generator.choices(pool, k=60)) + "。"
        day.append(Story(n, (stored(n, n, title, text, source="BBC", feed="BBC"),)))
    return day


@pytest.mark.parametrize("labelled", [True, False])
def test_two_columns_of_one_series_are_not_related_coverage(labelled: bool) -> None:
    """Two editorials of one series share its label (``…社论：``) and its opening
    sentence, both rare among the day's stories; what follows the label shares
    nothing, so they are two headlines. Without the colon, the label is read as
    part of the headline, and the two are grouped: the label is what tells."""
    mark = "：" if labelled else " "
    first = stored(
        1, 1, f"美国政府政策立场社论{mark}纪念美越建交二十五周年",
        EDITORIAL + "今年是美国与越南建立外交关系二十五周年，两国关系日益密切。", source="美国之音",
    )  # fmt: skip
    second = stored(
        2, 2, f"美国政府政策立场社论{mark}美国的繁荣非洲倡议",
        EDITORIAL + "繁荣非洲倡议旨在促进美国与非洲国家之间的贸易和投资。", source="美国之音",
    )  # fmt: skip
    stories = [Story(1, (first,)), Story(2, (second,)), *a_busy_day(random.Random(3))]
    entries = [e for s in build(stories).sections for e in s.entries]
    editorials = [e for e in entries if "社论" in e.title]
    assert len(editorials) == (2 if labelled else 1)


def test_two_reports_of_one_event_under_one_label_stay_related_coverage() -> None:
    """A label both headlines start with is left out of what they share; what follows
    it still names the one event."""
    first = stored(
        1, 1, "路透社：白宫封杀抖音海外版或使其在美国应用商店下架",
        "白宫一份备忘录显示，美国政府封杀抖音海外版的行政令或迫使苹果和谷歌应用商店将其下架。",
    )  # fmt: skip
    second = stored(
        2, 2, "路透社：美国为封杀抖音海外版或禁止应用商店与其合作",
        "据路透社看到的白宫备忘录，美国政府封杀抖音海外版可能禁止应用商店与其合作。", source="RFI 中文",
    )  # fmt: skip
    stories = [Story(1, (first,)), Story(2, (second,)), *a_busy_day(random.Random(4))]
    entries = [e for s in build(stories).sections for e in s.entries]
    (head,) = [e for e in entries if "抖音" in e.title]
    assert len(head.related) == 1


@pytest.mark.parametrize("same_count", [False, True])
def test_two_days_of_a_count_whose_headlines_differ_are_not_related_coverage(
    same_count: bool,
) -> None:
    """Two days' case counts whose texts give their figures in sentences of other
    shapes: the headlines' clause of one shape with other numbers tells them
    apart. With the same number in both headlines, they are grouped."""
    text = "香港卫生防护中心下午公布，本地确诊个案中有多宗源头不明，当局呼吁市民减少聚集。"
    shown = headlines_of_two_days(
        ("香港新增24例确诊", text + "其中九宗为输入个案。"),
        (
            f"香港新增{24 if same_count else 21}例确诊 放宽部分防疫措施",
            text + "政府宣布放宽部分防疫措施。",
        ),
    )
    assert shown == (1 if same_count else 2)


def test_headline_figures_are_read_by_clause_and_a_number_alone_is_no_clause() -> None:
    assert headline_figures("台東近海地震規模4.8 最大震度4級") == {
        "台東近海地震規模#": "48",
        "最大震度#級": "4",
    }
    # An article's number after the headline, a date alone: nothing to compare.
    assert headline_figures("別急著換現金！ 蘇揆鼓勵循環使用三倍券 - 200730-12") == {}
    # One date written two ways is one figure.
    assert not headlines_differ(
        headline_figures("警方重新解读7.21事件"), headline_figures("警方重新解读721事件")
    )


@pytest.mark.parametrize("episode", [1, 2])
def test_two_episodes_of_a_serial_are_two_headlines(episode: int) -> None:
    """A serial's episodes open with the same introduction, under one headline but
    for the episode's number: each is a headline of its own. The same episode
    twice (two outlets) is grouped."""
    intro = "中国数字时代连载长篇纪实作品，讲述一名新疆青年在再教育营中的经历与此后的逃亡之路。"
    shown = headlines_of_two_days(
        ("【CDT连载】巴奴的救赎(01)", intro + "第一章写他被带走的那个夜晚。"),
        (f"【CDT连载】巴奴的救赎（0{episode}）", intro + "这一章写营中的日常与点名。"),
    )
    assert shown == (1 if episode == 1 else 2)


def test_a_number_in_brackets_closing_a_headline_is_its_episode() -> None:
    """Two episodes of a serial differ by the number closing their headlines; a year
    in brackets, or an article's number after a dash, is no episode."""
    first, second = (
        headline_figures("【CDT连载】巴奴的救赎(01)"),
        headline_figures("巴奴的救赎（02）"),
    )
    assert first == {"CDT连载 巴奴的救赎(#)": "1"}
    assert headlines_differ(headline_figures("巴奴的救赎(01)"), second)
    assert not headlines_differ(headline_figures("巴奴的救赎【2】"), second)
    assert headline_figures("东京奥运会(2021)") == {}
    assert headline_figures("蘇揆鼓勵循環使用三倍券 - 200730-12") == {}
