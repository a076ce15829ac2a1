"""国际在线 / CRI (cri.cn), and the aggregators that repost it.

CRI articles end with credit lines (总台记者丨…, 编辑丨…, 签审丨…). Aggregator
pages such as the one in seed 002 carry the same article as plain text between
an ad's "关闭广告", a read counter naming the original outlet ("国际在线14271人阅读"),
a disclaimer, a "猜你喜欢 / 精彩推荐" list with "浏览 N" counters and
copyright and ICP footers. All of that is furniture the shared rules in
`boilerplate` remove; the counter's outlet becomes `original_source`.
"""

from __future__ import annotations

from .base import SiteAdapter


class CRIAdapter(SiteAdapter):
    name = "cri"
    hosts = ("cri.cn", "crionline.cn")
    outlet = "国际在线"


class AggregatorAdapter(SiteAdapter):
    """Reposting sites: the feed's name is the source, the page names the original."""

    name = "aggregator"
    hosts = ("qukanredian.com",)
