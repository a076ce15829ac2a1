"""中国数字时代 (chinadigitaltimes.net).

A WordPress feed: items end with the "Better Feed" plugin's lines ("© 作者 for
中国数字时代, get_post_time('Y'). |Permalink |No comment |Add to del.icio.us",
"Feed enhanced by Better Feed from Ozh") and often a "相关阅读：" list of
links. The series' editor's notes ("以下为中国数字时代编辑摘自…") are the
article's own and stay.
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class CDTAdapter(SiteAdapter):
    name = "cdt"
    hosts = ("chinadigitaltimes.net",)
    outlet = "中国数字时代"
    timezone = "America/Los_Angeles"
    own_names = ("中国数字时代",)
    cut_from = re.compile(r"^(?:相关阅读|延伸阅读)[:：]?$")
    furniture = re.compile(
        r"^(?:Feed enhanced by Better Feed from Ozh|"
        r"©\s*(?P<names>.+?)\s+for 中国数字时代,.*|"
        r"(?:CDT\s*)?(?:编辑|编者)[:：]\s*\S{1,12})$"
    )
