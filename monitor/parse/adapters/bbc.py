"""BBC 中文 (bbc.com/zhongwen).

Items are the page's story body: figures with credited captions, "使用浏览器播
视频/view video in browser" links under videos, photo credit lines ("图片版权
Getty Images"), and lists of links to other BBC stories between paragraphs
(the "related" lists, which `SiteAdapter.drop_related_lists` removes). Many items of the
archive hold only their title: they have no text.
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class BBCAdapter(SiteAdapter):
    name = "bbc"
    hosts = ("bbc.com", "bbc.co.uk")
    outlet = "BBC 中文"
    furniture = re.compile(
        r"^(?:使用浏览器播视频/view video in browser|图片(?:版权|来源)\s*\S.{0,40}|"
        r"视频(?:版权|来源).{0,40}|\S{0,6}记者\s*(?P<names>\S{2,10})\s*(?:发自|报道)\S{0,10})$"
    )
