"""RFI 中文 (rfi.fr/cn).

The mirrored item opens with ``<div>01/08/2023 - 14:00</div>`` (Paris time),
then the lead image and a bold lead paragraph, which is the article's own. It
ends with ``data-selfpromo`` newsletter and app blocks, a share bar
(``<div>分享 :</div>`` and links) and, on signed pieces, an author line
``<span>作者：</span><a>艾米</a>``: the author is kept, the line is not text.
"""

from __future__ import annotations

import re
from datetime import datetime

from . import markup
from .base import Page, SiteAdapter, has_class, split_names

DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\s*-?\s*(\d{1,2}):(\d{2})$")
SHARE = re.compile(r"^分享\s*[:：]?$")
AUTHOR = re.compile(r"^作者\s*[:：]\s*(.*)$")


_DOUBLED = re.compile(r"^https?://((?:www\.)?rfi\.fr)//+")


class RFIAdapter(SiteAdapter):
    name = "rfi"
    hosts = ("rfi.fr", "rfi.my")
    outlet = "RFI 中文"
    timezone = "Europe/Paris"
    title_suffix = re.compile(r"\s*[–-]\s*法国国际广播电台\s*-\s*RFI\s*$|\s*-\s*RFI\s*$")
    # Picture credits under the lead image: "© 2020 AFP", "© Reuters / Tyrone Siu";
    # "Array", which the mirror wrote where a page's data was missing.
    furniture = re.compile(r"^(?:©\s*.{1,60}|Array)$")
    # The article page: the bold lead ``p.t-content__chapo`` (the article's own, as
    # the feed carries it), then ``div.t-content__body`` with interstitial ads,
    # newsletter and app promotions among the paragraphs.
    page_body = (f"//div[{has_class('t-content__body')}]",)
    page_lead = (f"//p[{has_class('t-content__chapo')}]",)
    page_drop = (
        f".//*[{has_class('m-interstitial')}]",
        f".//*[{has_class('o-self-promo')}]",
        f".//*[{has_class('t-copyright')}]",
    )
    page_authors = (f"//a[{has_class('m-from-author__name')}]",)

    def article_url(self, url: str) -> str:
        """Its feeds have linked ``http://www.rfi.fr//cn/…`` (plain HTTP, the path's
        slash doubled): the same page as ``https://www.rfi.fr/cn/…``, which a
        reader's link should be, and another capture's link is."""
        return super().article_url(_DOUBLED.sub(r"https://\1/", url))

    def prepare(self, root: markup.Element, page: Page) -> None:
        for block in markup.leaf_blocks(root):
            line = markup.text_of(block)
            if page.published is None and (date := DATE.match(line)):
                day, month, year, hour, minute = (int(g) for g in date.groups())
                page.published = self.local_time(datetime(year, month, day, hour, minute))
                markup.remove(block)
            elif SHARE.match(line):
                share_bar = block.getparent()
                markup.remove(
                    share_bar if share_bar is not None and share_bar is not root else block
                )
            elif author := AUTHOR.match(line):
                page.authors.extend(split_names(author.group(1)))
                markup.remove(block)
