"""Layout variants the sites have used, built from the seeds' own markup."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from monitor.models import Article, Item
from monitor.parse.adapters import GENERIC, adapter_for, generic

FETCHED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
BODY = "<p>第一段正文，讲述事件的经过和各方的反应，内容足够长。</p><p>第二段正文。</p>"


def adapt(url: str, html: str, title: str = "标题") -> tuple[str, Article]:
    adapter = adapter_for(url)
    item = Item(guid="g", url=url, title=title, published=None, authors=(), html=html)
    return adapter.name, adapter.adapt(item, "feed", FETCHED)


def test_dw_author_before_the_date() -> None:
    html = "<div><i>李四、王五<br>2021-05-01T08:00:00.000Z</i></div>" + BODY
    _, article = adapt("https://www.dw.com/zh/x/a-1", html)
    assert article.authors == ("李四", "王五")
    assert article.published == datetime(2021, 5, 1, 8, 0, tzinfo=UTC)
    assert article.text.startswith("第一段正文")


def test_dw_article_links_point_at_readable_pages() -> None:
    html = '<p>见<a href="https://api.dw.com/api/detail/article/57806095" rel="ArticleRef">报道</a>。</p>'
    _, article = adapt("https://www.dw.com/zh/x/a-1", html)
    assert 'href="https://www.dw.com/zh/a-57806095"' in article.html


def test_nytimes_2021_byline_layout() -> None:
    html = "<div><i>KEITH BRADSHER<br>2021-03-01T04:30:00+08:00</i></div>" + BODY
    _, article = adapt("https://cn.nytimes.com/business/20210301/x/", html)
    assert article.authors == ("KEITH BRADSHER",)
    assert article.published.isoformat() == "2021-03-01T04:30:00+08:00"


def test_nytimes_bare_small_caption_and_time_without_pudate() -> None:
    html = (
        '<address>AARON KROLIK</address><time datetime="2026-04-24 02:33:04">2026年4月24日</time>'
        '<section><p><img src="https://images.weserv.nl/?url=static01.nyt.com/a.jpg"><small>图片说明文字</small></p>'
        + BODY
        + "</section><footer><p>翻譯：紐約時報中文網</p></footer>"
    )
    _, article = adapt("https://cn.nytimes.com/world/20260424/x/", html)
    assert "图片说明" not in article.text and "紐約時報" not in article.text
    assert article.published.isoformat() == "2026-04-24T02:33:04+08:00"
    assert article.images == ("https://static01.nyt.com/a.jpg",)


def test_feedx_footer_is_cut() -> None:
    html = BODY + '<hr/>获取更多RSS：<a href="https://feedx.net">https://feedx.net</a>'
    for url in ("https://www.rfi.fr/cn/x", "https://example.org/x"):
        _, article = adapt(url, html)
        assert "RSS" not in article.text and "feedx" not in article.html
        assert article.text.endswith("第二段正文。")


def test_rfi_quote_icons_and_promo_blocks() -> None:
    html = (
        "<div>15/09/2023 - 15:46</div>"
        + BODY
        + '<blockquote><svg viewBox="0 0 1 1"><path d="M0"/></svg>“引语。”</blockquote>'
        + "<div data-selfpromo-newsletter>订阅通讯</div>"
    )
    _, article = adapt("https://www.rfi.fr/cn/x", html)
    assert article.text.split("\n")[-1] == "“引语。”"
    assert "订阅" not in article.text
    assert article.published.isoformat() == "2023-09-15T15:46:00+02:00"


def test_generic_adapter_on_a_whole_page_keeps_the_article() -> None:
    paragraphs = "".join(
        f"<p>这是文章的第{i}段，报道了事件的最新进展以及各方的不同看法和分析。</p>"
        for i in range(8)
    )
    page = (
        "<html><head><title>t</title></head><body>"
        '<div class="menu"><ul>'
        + "".join(f"<li><a href='/{i}'>栏目{i}</a></li>" for i in range(20))
        + "</ul></div>"
        f"<article><h1>标题</h1>{paragraphs}</article>"
        '<div class="links"><ul>'
        + "".join(f"<li><a href='/r{i}'>其他新闻标题{i}</a></li>" for i in range(15))
        + "</ul></div>"
        "</body></html>"
    )
    item = Item(
        guid="g", url="https://example.org/a", title="标题", published=None, authors=(), html=page
    )
    article = GENERIC.adapt(item, "feed", FETCHED)
    assert article.text.split("\n") == [
        f"这是文章的第{i}段，报道了事件的最新进展以及各方的不同看法和分析。" for i in range(8)
    ]


def test_the_generic_adapter_leaves_plain_bodies_to_themselves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A blog's or newspaper's body: nested <div>s of paragraphs, a link or two. Only
    # a fragment with page elements or link lists is worth trafilatura's time.
    extracted: list[str] = []
    monkeypatch.setattr(generic, "main_content", lambda html: extracted.append(html))
    body = "".join(
        f"<div><div><p>第{i}段，报道了事件的最新进展以及各方的看法。</p></div></div>"
        for i in range(10)
    )
    plain = body + '<div><a href="https://example.org/x">原文链接</a></div>'
    item = Item(
        guid="g", url="https://example.org/a", title="t", published=None, authors=(), html=plain
    )
    article = GENERIC.adapt(item, "feed", FETCHED)
    assert extracted == [] and len(article.text.split("\n")) == 11
    # Blogger's: a "read more" anchor, images linked to their full size, a pasted
    # <header> with the headline. None of them makes a page.
    anchors = "".join(f'<a name="more{i}"></a>' for i in range(6))
    pictures = "".join(f'<a href="/full/{i}.jpg"><img src="/{i}.jpg"></a>' for i in range(6))
    header = '<header class="entry-header"><h1>标题</h1></header>'
    for blog in (anchors + body, pictures + body, header + body):
        GENERIC.adapt(replace(item, html=blog), "feed", FETCHED)
    assert extracted == []
    links = "".join(f"<li><a href='/r{i}'>其他新闻{i}</a></li>" for i in range(6))
    for page in (f"<nav><a href='/'>首页</a></nav>{body}", f"{body}<ul>{links}</ul>"):
        GENERIC.adapt(replace(item, html=page), "feed", FETCHED)
    assert len(extracted) == 2


def test_cna_profile_pop_up_is_not_part_of_its_sentence() -> None:
    """CNA's profile of a name (a pop-up) sits inside the sentence naming it."""
    html = (
        "<div class='paragraph'><div class='dictionary'><span>（中央社記者劉建邦台北16日電）"
        "據指出，死者為藝人</span><span class='news-dic-inline' data-id='000871'>"
        "<span>黃鴻升</span><span class='dic-icon'></span></span>"
        "<div class='dictionary-box' data-box='000871'>"
        "<p class='dictionary-title'>黃鴻升（小鬼）小檔案</p><div class='news-dic-text'>"
        "<p><strong>生日：</strong>1983年11月28日</p><ul><li>電影：陣頭、角頭</li></ul></div>"
        "<div class='news-dic-all seeArticlemore'>看更多</div>"
        "<div class='news-dic-all closeBox'>關閉</div></div><span>（小鬼）。</span></div>"
        "<p>北市警消上午11時許獲報，北投區附近有救護案，詳細死因仍待調查釐清。</p></div>"
    )
    name, article = adapt("https://www.cna.com.tw/news/firstnews/202009165005.aspx", html)
    assert name == "cna"
    assert article.text.splitlines()[0] == (
        "（中央社記者劉建邦台北16日電）據指出，死者為藝人黃鴻升（小鬼）。"
    )
    assert "小檔案" not in article.text and "1983" not in article.text


def test_rti_reporter_section_number_and_cut_short_text() -> None:
    """RTI's feed: the day's item number after the headline, the reporter between
    the lead and the body, and the text cut short with a "more" link."""
    html = (
        "文化部長李永得今天接受央廣專訪，談到藝FUN券抽籤結果。#央廣記者江昭倫報導#"
        "文化部長李永得24日接受專訪，暢談上任兩個月來的施政......"
        '<a target="_blank" href="https://www.rti.org.tw/news/view/id/2074676">more</a>'
    )
    name, article = adapt(
        "https://www.rti.org.tw/news/view/id/2074676", html, "[生活] 李永得專訪 - 200724-17"
    )
    assert name == "rti"
    assert article.title == "[生活] 李永得專訪"
    assert article.authors == ("江昭倫",)
    assert article.text.split("\n") == [
        "文化部長李永得今天接受央廣專訪，談到藝FUN券抽籤結果。",
        "文化部長李永得24日接受專訪，暢談上任兩個月來的施政",
    ]
    assert article.truncated and article.source == "RTI 中央廣播電臺"
    _, cue = adapt("https://www.rti.org.tw/news/view/id/1", "導言。#請聽以下專題報導#正文。")
    assert cue.authors == () and cue.text.split("\n") == ["導言。", "正文。"]


@pytest.mark.parametrize(
    "last",
    [
        "<p>聲明中並說：「港區國安法也直接影響到我國人民及企業。」（譯者：張佑之）1090804</p>",
        "<p>此次大火尚未造成任何傷亡。（實習編譯：林岳鋒/核稿：楊昭彥）1090803</p>",
        "<p>相關資訊可上以色列政府網站查詢。（編輯：謝佳珍）1091117</p>",
        "<p>相關資訊可上以色列政府網站查詢。<br>（編輯：謝佳珍）1091117</p>",
        "<p>新華社通稿文末並加註。（編輯；繆宗翰）1091130</p>",
        "<p>一切靜待採檢結果。1090805</p>",
    ],
)
def test_cna_credits_and_date_code_after_the_last_sentence_are_not_text(last: str) -> None:
    name, article = adapt("https://www.cna.com.tw/news/aopl/202008040001.aspx", BODY + last)
    assert name == "cna"
    assert article.text.endswith(("。」", "。"))
    assert not any(word in article.text for word in ("譯者", "核稿", "編輯", "109"))


def test_cna_keeps_a_year_that_ends_its_sentence() -> None:
    html = BODY + "<p>台積電去年營收達1070000億元，預計成長至1100000</p>"
    _, article = adapt("https://www.cna.com.tw/news/afe/202008040001.aspx", html)
    assert article.text.endswith("預計成長至1100000")
