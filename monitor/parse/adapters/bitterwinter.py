"""寒冬 Bitter Winter (bitterwinter.org), Chinese edition.

Articles open with a standfirst in ``<h2>`` (the article's own) and the author
line "作者：馬西莫·英特羅維吉（Massimo Introvigne）" or "寒冬記者 魯安": the
author, not the text. Figures carry WordPress captions.
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class BitterWinterAdapter(SiteAdapter):
    name = "bitterwinter"
    hosts = ("bitterwinter.org",)
    outlet = "寒冬"
    chrome = re.compile(r"wp-caption-text")
    furniture = re.compile(r"^(?:作者[:：]\s*|寒冬(?:特約)?(?:記者|记者)\s*)(?P<names>\S.{1,59})$")
