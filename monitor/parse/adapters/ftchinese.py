"""FT中文网 (cn.ft.com, ftchinese.com).

Items open with the standfirst in ``.story-lead`` (the article's own) and a
picture; translated pieces end with the translator, "译者/何黎".
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class FTChineseAdapter(SiteAdapter):
    name = "ftchinese"
    hosts = ("ft.com", "ftchinese.com")
    outlet = "FT中文网"
    timezone = "Asia/Shanghai"
    furniture = re.compile(r"^(?:译者|編譯|编译|责任编辑)\s*[/／:：]\s*\S{1,12}$")
