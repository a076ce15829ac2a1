"""路透中文网 (cn.reuters.com).

feedx's mirror opens with ``<div><i><br>2020-07-18T00:15:53</i></div>``
(read by `base.leading_byline`). Articles end with the translators and
editors ("编译 高思佳；审校 母红"), an end mark "(完)" and the line "我们的标准：
汤森路透“信任原则”"; flashes with a byline line "路透北京9月7日 - …" are
the article itself and stay.
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class ReutersAdapter(SiteAdapter):
    name = "reuters"
    hosts = ("reuters.com",)
    outlet = "路透中文网"
    timezone = "Asia/Shanghai"
    own_names = ("路透", "路透社")
    furniture = re.compile(
        r"^(?:我们的标准[:：].*信任原则.*|[（(]完[）)]|"
        r"(?:编译|编辑|撰稿|编译/撰稿)\s*(?P<names>[^；;]+?)\s*[；;]\s*(?:审校|编辑)\s*\S.*|"
        r"(?:审校|责任编辑)\s*\S{1,10}|tmsnrt\.rs/\S+)$"
    )
