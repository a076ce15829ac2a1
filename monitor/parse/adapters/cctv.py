"""新闻联播 transcripts (cn.govopendata.com/xinwenlianbo).

One item a day: the running order as a list of links, then each report under
its own heading. The fixed section headings (国内联播快讯, 国际联播快讯) and
recurring report titles belong to the programme and stay. An item that is only
a link ("查看详细内容") has no text.
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class CCTVAdapter(SiteAdapter):
    name = "cctv"
    hosts = ("govopendata.com",)
    outlet = "新闻联播"
    timezone = "Asia/Shanghai"
    furniture = re.compile(r"^查看详细内容$")
