"""大纪元 (epochtimes.com).

Articles open with "【大纪元2020年09月29日讯】（大纪元记者…报导）", the article's
own dateline, which stays. They end with credits ("责任编辑：高静", "文字整理：…；
责任编辑：…"), and programme items with where to watch them (网络收看方式,
大纪元新闻网, 脸书直播, YouTube直播) and a donation appeal (【支持】…,
donate.epochtimes.com).
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class EpochTimesAdapter(SiteAdapter):
    name = "epochtimes"
    hosts = ("epochtimes.com", "epochtimes.com.tw")
    outlet = "大纪元"
    furniture = re.compile(
        r"^(?:网络收看方式[:：]?|【支持】.*|https?://donate\.epochtimes\.com\S*|"
        r"大纪元(?:新闻网|脸书直播|YouTube直播)[:：].*|新唐人大纪元《.*》制作组|"
        r"(?:文字整理|责任编辑|责编)[:：].*|新唐人(?:电视台)?[:：]?\s*https?://\S+|"
        r"(?:新唐人|大纪元)(?:网站|官网)?[:：]?\s*https?://\S+|.{0,12}直播[:：]\s*\S+\.\S+|"
        r"(?:推特|脸书|臉書)专页[:：]\s*\S+|欢迎订阅YouTube频道[:：]\s*\S+|"
        r"【大陆新闻解毒】节目每周.*)$"
    )
