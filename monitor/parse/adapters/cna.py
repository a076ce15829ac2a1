"""中央社 CNA (cna.com.tw).

Pages put the lead picture's caption in ``.picinfo``, embed videos and
Infogram charts in ``.media``, and after the article a newsletter form
(``.SubscriptionInner``: "訂閱《早安世界》電子報", "感謝您的訂閱！") and a
"延伸閱讀" list (``.moreArticle``). A name in the text may open a profile
(``.dictionary-box``: "黃鴻升（小鬼）小檔案", birthday, works, "看更多",
"關閉"), a pop-up that sits in the middle of its sentence in the markup: 117
of the 6,578 CNA items of July-November 2020 have one. The last paragraph
ends with the editor and a date code, "（編輯：張均懋）1090803": a credit,
not the article's words.
"""

from __future__ import annotations

import re

from . import markup
from .base import Page, SiteAdapter

EDITOR = re.compile(r"\s*[（(]編輯[:：][^）)]*[）)]\s*\d*\s*$")


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

    def prepare(self, root: markup.Element, page: Page) -> None:
        for paragraph in root.iter("p"):
            if paragraph.text and "編輯" in paragraph.text and len(paragraph) == 0:
                paragraph.text = EDITOR.sub("", paragraph.text)
