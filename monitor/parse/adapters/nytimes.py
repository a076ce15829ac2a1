"""纽约时报中文网 (cn.nytimes.com).

Since 2024 the mirrored item starts with ``<address>AUTHOR, AUTHOR</address>``
and ``<time datetime="2024-06-21 12:12:12">`` (Beijing time, no offset); in
2021 the byline was ``<div><i>AUTHOR<br>date</i></div>`` as on DW. The body is
in ``<section>``; the ``<footer>`` holds reporter bios, the translation credit
and "点击查看本文英文版", none of it the article. Captions are ``<figcaption>``
or ``<small>`` inside the paragraph that holds the image.
"""

from __future__ import annotations

import re
from datetime import datetime

from . import markup
from .base import Page, SiteAdapter, has_class, leading_byline, parse_iso, split_names


class NYTimesAdapter(SiteAdapter):
    name = "nytimes"
    hosts = ("cn.nytimes.com", "cn.nytstyle.com")
    outlet = "纽约时报中文网"
    timezone = "Asia/Shanghai"
    # In 2020 the credits were paragraphs: the translator, the link to the English
    # original, subscription notes around the morning briefing.
    furniture = re.compile(
        r"^(?:翻译[:：].*|翻譯[:：].*|点击查看本文英文版。?|點擊查看本文英文版。?|"
        r"[（(]?欢迎点击此处订阅.*|感谢阅读今天的简报.*|"
        r"(?:本文|此文)?(?:最初)?发表于.*《纽约时报》.{0,30}|本文最初发表于\d{4}年\d{1,2}月\d{1,2}日。?|"
        r".{2,60}(?:对本文有(?:研究|报道|采访)?贡献|为本文提供了?(?:研究|报道)(?:协助|贡献)?)。?)$"
    )
    # Reporters' bios close an article: "黄瑞黎(Sui-Lee Wee)是《纽约时报》北京分社记者。…",
    # "Frank Bruni自从1995年开始为时报工作，…".
    signature = re.compile(
        r"^(?=.*(?:时报|分社))(?=.*(?:记者|社长|专栏|撰稿|编辑|工作|报道))"
        r"[^，。,]{2,40}?(?:是|自|曾|于|此前|在|为|報道|报道|担任).*$"
    )

    # The article page: ``section.article-body`` of ``div.article-paragraph``s, with
    # ads (``div.big_ad``) and the related-links column (``div.article-body-aside``)
    # inside it; the byline (``address``, ``time``) is in the header, above it.
    page_body = (f"//section[{has_class('article-body')}]",)
    page_drop = (f".//div[{has_class('big_ad')}]", f".//div[{has_class('article-body-aside')}]")
    page_authors = (f"//div[{has_class('byline')}]//address",)

    def prepare(self, root: markup.Element, page: Page) -> None:
        authors, published = leading_byline(root)
        for address in root.iter("address"):
            authors = authors or split_names(markup.text_of(address))
        for time in root.iter("time"):
            published = published or _time(time)
        page.authors = authors
        page.published = self.local_time(published) if published else None
        for footer in list(root.iter("footer")):
            markup.remove(footer)


def _time(element: markup.Element) -> datetime | None:
    return parse_iso(element.get("datetime", "")) or parse_iso(element.get("pudate", ""))
