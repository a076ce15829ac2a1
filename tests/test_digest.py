from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.digest import build_digest
from monitor.errors import ConfigError
from monitor.models import StoredItem, Story
from monitor.render import compose, render_html, render_text
from monitor.summary import ELLIPSIS, sentences, summarize

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already the 23rd in Shanghai


def config() -> Config:
    return load_config(ROOT / "config.example.toml")


def stored(
    item_id: int,
    story: int,
    title: str,
    text: str,
    topics: tuple[str, ...] = (),
    source: str = "DW 中文",
    day: int = 18,
) -> StoredItem:
    return StoredItem(
        id=item_id,
        feed=source,
        guid=str(item_id),
        url=f"https://example.org/{item_id}",
        title=title,
        published=datetime(2023, 3, day, 12, 0, tzinfo=UTC),
        source=source,
        original_source=None,
        text=text,
        story=story,
        topics=topics,
    )


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
    text = "第一句话。" * 1 + "第二句话比较长一些。" + "第三句。" + "第四句。"
    assert summarize(text, 120) == "第一句话。第二句话比较长一些。第三句。"
    assert summarize(text, 12) == "第一句话。"


def test_summary_cuts_an_overlong_first_sentence_with_an_ellipsis() -> None:
    text = "很" * 300 + "长。"
    summary = summarize(text, 120)
    assert len(summary) == 120 and summary.endswith(ELLIPSIS)


def test_sections_follow_topic_order_and_other_comes_last() -> None:
    stories = [
        Story(1, (stored(1, 1, "无主题", "没有关键词的文章。"),)),
        Story(2, (stored(2, 2, "朝鲜新闻", "朝鲜。", ("朝鲜半岛",)),)),
        Story(3, (stored(3, 3, "普京访朝", "普京。", ("俄朝关系", "朝鲜半岛")),)),
        Story(
            4,
            (
                stored(4, 4, "韩国新闻", "韩国。", ("朝鲜半岛",), day=17),
                stored(5, 4, "韩国新闻", "韩国。", ("朝鲜半岛",), source="趣看热点", day=19),
            ),
        ),
    ]
    digest = build_digest(stories, config(), NOW)
    assert [s.name for s in digest.sections] == ["俄朝关系", "朝鲜半岛", "其他"]
    assert [e.title for e in digest.sections[1].entries] == ["韩国新闻", "朝鲜新闻"]
    assert [i.source for i in digest.sections[1].entries[0].also] == ["趣看热点"]
    assert digest.subject == "每日摘要 2026-11-23 · 4 条新闻 · 2 个主题"
    assert digest.sections[0].entries[0].published.utcoffset() is not None
    assert digest.sections[0].entries[0].published.hour == 20  # 12:00 UTC in Shanghai


def hostile_digest() -> Story:
    title = "Breaking\r\nBcc: victim@example.org <script>alert(1)</script>"
    return Story(1, (stored(1, 1, title, "正文<b>粗体</b>。", ("朝鲜半岛",)),))


def test_feed_text_cannot_inject_headers_or_markup() -> None:
    cfg = replace(config(), digest=replace(config().digest, subject="{date} {stories}\r\nBcc: x@y"))
    digest = build_digest([hostile_digest()], cfg, NOW)
    message, html = compose(cfg, digest)
    raw = message.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["Subject"])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html


def test_email_is_multipart_alternative_with_headers() -> None:
    digest = build_digest([hostile_digest()], config(), NOW)
    message, _ = compose(config(), digest)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    for header in ("Date", "Message-ID", "MIME-Version", "List-Id", "From", "To", "Subject"):
        assert message[header], header
    assert 'lang="zh-Hans"' in render_html(config(), digest)
    assert render_text(config(), digest).startswith("每日摘要 2026-11-23")


def test_templates_can_be_overridden_one_file_at_a_time(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("custom: {{ digest.story_count }} stories\n")
    cfg = replace(config(), digest=replace(config().digest, templates=tmp_path))
    digest = build_digest([hostile_digest()], cfg, NOW)
    assert render_text(cfg, digest) == "custom: 1 stories\n"
    assert "<!DOCTYPE html>" in render_html(cfg, digest)


def test_a_broken_template_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("{% for x in %}\n")
    cfg = replace(config(), digest=replace(config().digest, templates=tmp_path))
    with pytest.raises(ConfigError, match=r"digest\.txt\.j2:1: digest template error"):
        render_text(cfg, build_digest([hostile_digest()], cfg, NOW))
