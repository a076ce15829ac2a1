"""自由亚洲电台 (rfa.org/mandarin).

Every report ends with its credits: "自由亚洲电台记者 夏小华 台北报导 责编 许书婷
申铧 网编 瑞哲", "（记者：韩洁 责编：申铧 网编：洪伟）". The reporter is the
author; editors and web editors are not.
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class RFAAdapter(SiteAdapter):
    name = "rfa"
    hosts = ("rfa.org",)
    outlet = "自由亚洲电台"
    furniture = re.compile(
        r"^(?=.{0,80}$)[（(]?(?:自由亚洲电台)?(?:特约)?(?:记者|撰稿人?|评论员)[:：]?\s*"
        r"(?P<names>[^\s责]{2,12}?)"
        r"\s*(?:\S{0,8}(?:报导|报道))?\s*[，,]?\s*(?:责编|编辑).*[）)]?$"
        r"|^(?=.{0,60}$)[（(]?(?:责编|网编)[:：]?\s*\S.*[）)]?$"
    )
