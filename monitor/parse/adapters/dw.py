"""DW 中文 (dw.com/zh).

The mirrored item opens with ``<div><i>AUTHOR<br>2023-03-18T15:50:17.862Z</i></div>``
(the author part often empty), may carry a picture gallery introduced by
``<h3>相关图集：…</h3>`` and a series of ``<div><img><b>caption title</b>：text</div>``,
and ends with ``<p><em>© 2023年德国之声版权声明：…</em></p>``. Links to other
articles point at DW's API (``api.dw.com/api/detail/article/ID``) and are
rewritten to the article pages readers can open. The lead
"（德国之声中文网）" is the article's own first words and stays in the text.
"""

from __future__ import annotations

import re

from . import markup
from .base import Page, SiteAdapter, has_class

API_LINK = re.compile(r"^https?://api\.dw\.com/api/detail/article/(\d+)")
# A "?" of the headline left raw in the slug ("/zh/后院起火? 巴基斯坦也要禁TikTok/a-55240000"):
# read as the start of a query, the address would be another, which does not exist.
SLUG_QUESTION = re.compile(r"\?(?=[^=&#]*/a-\d+(?:$|[?#]))")
GALLERY_HEADING = re.compile(r"^相关图集")


class DWAdapter(SiteAdapter):
    name = "dw"
    hosts = ("dw.com",)
    outlet = "DW 中文"
    own_names = ("德国之声中文网", "德国之声", "德國之聲中文網", "德國之聲")
    # The copyright notice (simplified or traditional, "©" with or without an
    # emoji selector), the disclaimers under commentaries and press reviews.
    furniture = re.compile(
        r"^(?:©\ufe0f?\s*)?\d{4}\s*年?\s*(?:德国之声版权声明|德國之聲版權聲明).*"
        r"|^(?:德国之声|德國之聲)致力于为您提供客观中立的新闻报[道导].*"
        r"|^(?:德國之聲)致力於為您提供客觀中立的新聞報導.*"
        r"|^摘编自其他媒体的内容，不代表德国之声的立场或观点$"
        r"|^摘編自其他媒體的內容，不代表德國之聲的立場或觀點$"
    )
    # The author's sign-off closing a report: "乐然（综合报道）", "文山", "William Yang".
    signature = re.compile(
        r"^(?P<names>[\w·.\- ]{2,20}?(?:[、/,，][\w·.\- ]{2,20}?)*)\s*"
        r"(?:[（(][^）)]{1,24}[）)])?$"
    )

    # The article page: since 2023 the body is ``div.rich-text`` inside ``<article>``
    # (ads as ``span.rich-text-ad``, dropped as chrome); before, ``div.longText``.
    # The lead (``p.teaser-text``, ``p.intro``) is a summary the feed never carries.
    page_body = (f"//div[{has_class('rich-text')}]", f"//div[{has_class('longText')}]")
    page_authors = (f"//div[{has_class('author-details')}]//span[{has_class('author')}]",)
    title_suffix = re.compile(r"\s*[–|-]\s*DW\s*[–|-]\s*\d{2}\.\d{2}\.\d{4}\s*$")

    def article_url(self, url: str) -> str:
        return super().article_url(SLUG_QUESTION.sub("%3F", url))

    def prepare(self, root: markup.Element, page: Page) -> None:
        # The leading byline is read by `SiteAdapter.adapt`, `own_names` left out.
        for heading in list(root.iter("h2", "h3", "h4")):
            if GALLERY_HEADING.match(markup.text_of(heading)):
                _drop_gallery(heading)
        for link in root.iter("a"):
            if api := API_LINK.match(link.get("href", "")):
                link.set("href", f"https://www.dw.com/zh/a-{api.group(1)}")


def _drop_gallery(heading: markup.Element) -> None:
    """The heading and the picture cards after it (a ``div`` with an image each)."""
    sibling = heading.getnext()
    markup.remove(heading)
    while sibling is not None and sibling.tag == "div" and sibling.find(".//img") is not None:
        following = sibling.getnext()
        markup.remove(sibling)
        sibling = following
