"""Canonical links of real article URLs (the archive's DW, RFI, NYT 中文 and CNA items,
July–November 2020): cleaned, never rewritten into another address."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import pytest

from monitor.models import Item
from monitor.parse.adapters import adapter_for
from monitor.urls import canonical_url, link_target

DW_QUESTION = (
    "https://www.dw.com/zh/%E5%8F%98%E9%9D%A9%E4%B8%AD%E7%9A%84%E7%94%B7%E4%BA%BA:%E2%80%9C"
    "%E8%80%81%E7%99%BD%E7%94%B7%E2%80%9D%E6%8A%91%E6%88%96%E2%80%9C%E9%83%BD%E5%B8%82%E6%BD"
    "%AE%E7%94%B7%E2%80%9D?/a-55602009"
)
DW_RAW = "https://www.dw.com/zh/中领事馆涉窃密?  FBI通知德州大学配合调查/a-54372565"
RFI = (
    "http://www.rfi.fr//cn/%E4%B8%AD%E5%9B%BD/20200916-%E8%A2%AB%E7%89%B9%E6%9C%97%E6%99%AE"
    "%E5%89%8A%E5%BC%B1%E7%9A%84%E4%B8%96%E8%B4%B8"
)
NYT = "https://cn.nytimes.com/morning-brief/20201109/biden-china-us-relationship/"
CNA = "https://www.cna.com.tw/news/firstnews/202009170139.aspx"


def article_url(url: str) -> str:
    item = Item(url, url, "标题", None, (), "<p>正文。</p>")
    return adapter_for(url).adapt(item, "feed", datetime(2021, 1, 1, tzinfo=UTC)).url


@pytest.mark.parametrize("url", [DW_QUESTION, DW_RAW])
def test_a_question_mark_in_a_dw_slug_stays_in_the_path(url: str) -> None:
    cleaned = article_url(url)
    parts = urlsplit(cleaned)
    assert parts.query == ""  # a query would be another page: DW has none at that address
    assert parts.path.endswith("/a-" + url.rsplit("/a-", 1)[1])
    assert unquote(parts.path) == unquote(urlsplit(url.replace("?", "%3F")).path)
    assert link_target(cleaned) == cleaned


def test_rfis_doubled_slash_over_plain_http_is_its_https_address() -> None:
    assert article_url(RFI) == "https://www.rfi.fr/cn/" + RFI.split("//cn/", 1)[1]


@pytest.mark.parametrize("url", [NYT, CNA])
def test_clean_article_urls_are_kept_as_the_item_gave_them(url: str) -> None:
    assert article_url(url) == url
    assert link_target(article_url(url)) == url


@pytest.mark.parametrize("url", [NYT, CNA])
def test_tracking_parameters_go_and_nothing_else_changes(url: str) -> None:
    tracked = f"{url}?utm_source=feedly&utm_medium=rss&fbclid=x"
    assert article_url(tracked) == url
    kept = f"{url}?page=2&q=中 国/x&flag"
    assert canonical_url(kept) == f"{url}?page=2&q=%E4%B8%AD%20%E5%9B%BD/x&flag"
