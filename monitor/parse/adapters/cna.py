"""中央社 CNA (cna.com.tw).

Pages put the lead picture's caption in ``.picinfo``, embed videos and
Infogram charts in ``.media``, and after the article a newsletter form
(``.SubscriptionInner``: "訂閱《早安世界》電子報", "感謝您的訂閱！") and a
"延伸閱讀" list (``.moreArticle``). A name in the text may open a profile
(``.dictionary-box``: "黃鴻升（小鬼）小檔案", birthday, works, "看更多",
"關閉"), a pop-up that sits in the middle of its sentence in the markup: 117
of the 6,578 CNA items of July-November 2020 have one. The last paragraph
ends with the credits and a date code (the Minguo year, month and day):
"（編輯：張均懋）1090803", "（譯者：鄭詩韻/核稿：盧映孜）1090803", "（實習編譯：林岳鋒/
核稿：楊昭彥）1090803", or the code alone after the last sentence: the
desk's, not the article's words. Left in, a copy another outlet made of the
article differed from it there.
"""

from __future__ import annotations

import re

from .base import Page, SiteAdapter

CREDITS = re.compile(
    r"\s*[（(][^（()）:：；]{0,8}(?:編輯|編緝|編譯|譯者|核稿|校對)[:：；][^）)]*[）)]\s*\d{0,8}\s*$"
    r"|(?<=[。！？」』”])\s*1\d{2}[01]\d[0-3]\d\s*$"
)


class CNAAdapter(SiteAdapter):
    name = "cna"
    hosts = ("cna.com.tw",)
    outlet = "中央社"
    timezone = "Asia/Taipei"
    chrome = re.compile(
        r"moreArticle|Subscri|picinfo|\bmedia\b|infogram|dictionary-box", re.IGNORECASE
    )
    cut_from = re.compile(r"^延伸閱讀$")
    furniture = re.compile(
        r"^(?:訂閱《.*》電子報.*|感謝您的訂閱！|訂閱|請輸入正確的電子信箱格式|看更多|關閉)$"
    )

    def furniture_lines_dropped(self, lines: list[str], page: Page) -> list[str]:
        """The lines, the credits and date code after the last sentence left out."""
        kept = super().furniture_lines_dropped(lines, page)
        if kept:
            last = CREDITS.sub("", kept[-1])
            if last:
                kept[-1] = last
            else:
                kept.pop()
        return kept
