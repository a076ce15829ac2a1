"""美国之音 (voachinese.com).

feedx's mirror opens with ``<div><i>Sun, 19 Jul 2020 18:18:30 GMT</i></div>``
(an email date; read by `base.leading_byline`). The talk show 时事大家谈 ends
every episode with the same notes: a disclaimer, a rule of "=", the YouTube
playlist and the broadcast times.
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class VOAAdapter(SiteAdapter):
    name = "voa"
    hosts = ("voachinese.com", "voanews.com")
    outlet = "美国之音"
    own_names = ("美国之音",)
    furniture = re.compile(
        r"^(?:=+|嘉宾和观众听众发表的都是个人观点.*|《时事大家谈》YouTube播放列表.*|"
        r"时事大家谈(?:节目)?每星期.*播出.*|时事大家谈本集全部内容请看[:：].*|(?:美国之音)?记者[:：]?\s*(?P<names>\S{2,12})\s*"
        r"(?:\S{2,8}报道)?)$"
    )
