"""Lines that are page furniture, not article: shared by every adapter.

Full-text mirrors and aggregators flatten pages into one block per line, so
chrome arrives as text: an ad's close button, a read counter, editor credits,
"related" lists with view counts, copyright and ICP licence footers. Each rule
here matches a whole line (a leaf block element); a line that merely mentions
such words is never touched. Everything after a "related items" heading
(猜你喜欢, 精彩推荐 …) is dropped, since aggregators put nothing of the
article there.

While cleaning, the rules also collect what those lines say about the item:
bylines ("总台记者丨魏东旭") and the outlet a repost came from ("国际在线14271人阅读",
"本文转载自新华社").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import markup

_SEP = r"\s*[丨|｜:：]\s*"
CREDIT = re.compile(
    rf"^(?:责任编辑|编辑|签审|审核|审校|校对|监制|制片人|出品人|统筹|策划){_SEP}\S.*$"
)
# At most a few names: an interview's "记者：…" question is not a byline.
BYLINE = re.compile(rf"^(?:总台|本台|本网|特约)?(?:记者|作者|撰文|文){_SEP}(?P<names>\S.{{0,40}})$")
READ_COUNTER = re.compile(r"^(?P<outlet>\S{2,12}?)\s*\d[\d,]*\s*人(?:阅读|浏览)$")
REPOST = re.compile(
    r"(?:本文|文章)?(?:内容)?(?:转载|转自|来源)(?:于|自)?[:：]?\s*(?P<outlet>[^\s，。,.;；:：]{2,20})"
)
FURNITURE = re.compile(
    r"^(?:关闭广告|广告|展开全文|点击展开全文|返回顶部|打开APP|分享到[:：]?.*|"
    r"本站所有信息收集于互联网.*|版权与免责声明.*|免责声明[:：].*|"
    r"Copyright\s*©.*|©\s*\d{4}.*版权.*|版权所有.*|©\ufe0f?\s*\S.{0,50}|"
    r"(?:图片|圖片|照片)(?:来源|來源|版权|版權)\s*[:：]?\s*\S.{0,40}|"
    r"摘编自其他媒体|To view this video please enable JavaScript.*|"
    r"Array|The post .{1,300} (?:first appeared|appeared first) on .{1,60}\.)$",
    re.IGNORECASE,
)
# An aggregator's "related" entry: a source, its view count.
RELATED_ENTRY = re.compile(r"^\S{1,20}\s+浏览\s*\d[\d,]*$")
# Licence numbers sit anywhere in a footer line. Apart from FURNITURE, where a
# leading ".*" made every article line cost a scan per pattern.
LICENCE_NUMBER = re.compile(r"ICP备\d+号|公网安备\d+号", re.IGNORECASE)
TAIL_HEADINGS = re.compile(
    r"^(?:猜你喜欢|精彩推荐|相关阅读|相关新闻|热门推荐|推荐阅读|为你推荐|延伸阅读|"
    r"延伸閱讀|相關閱讀|相關新聞|推薦閱讀)[:：]?$"
    r"|^获取更多\s*RSS"  # the footer feedx appends to every item it mirrors
)
# How a feed says it cut a text short, at its very end: "……more" (RTI), a
# WordPress excerpt's "[…]", "阅读全文", "Continue reading →". An ellipsis
# alone is not enough: a quotation can end in one.
TRUNCATED = re.compile(
    r"\s*(?:(?:\.{2,}|…+|⋯+)\s*(?:more|read more|更多|全文)"
    r"|\[\s*(?:…|\.{3}|&hellip;)\s*\]"
    r"|(?:(?:\.{2,}|…+)\s*)?[<＜《【\[(（]?\s*"
    r"(?:read more|continue reading|阅读全文|閱讀全文|查看全文|繼續閱讀|继续阅读)"
    r"\s*[>＞》】\])）]?(?:\s*[»›→>]+)?"
    r")\s*$",
    re.IGNORECASE,
)
UNNAMED_SOURCES = {"其他媒体", "网络", "互联网"}
RULES = (TAIL_HEADINGS, READ_COUNTER, BYLINE, FURNITURE, RELATED_ENTRY, CREDIT)
"""Every rule that drops a whole line (`LICENCE_NUMBER` finds a part of one)."""
# The rules that begin with a fixed word, as one match: it tells most article
# lines from furniture, where asking each rule in turn cost five.
_SCREEN = re.compile(
    "|".join(
        re.sub(r"\(\?P<\w+>", "(?:", rule.pattern)
        for rule in (TAIL_HEADINGS, BYLINE, FURNITURE, CREDIT)
    ),
    re.IGNORECASE,
)


def might_be_furniture(line: str) -> bool:
    """Whether any rule may drop `line`: true for every line one drops, and for few others.

    The read counter and the related entry begin with any word; the words they
    need, 阅读 or 浏览, screen them (in the one match, their branches scanned
    every line and were half its cost), as 备 screens the licence numbers.
    """
    return _SCREEN.match(line) is not None or "浏览" in line or "阅读" in line or "备" in line


@dataclass
class Findings:
    """What the furniture said about the item."""

    authors: list[str] = field(default_factory=list)
    site_furniture: list[re.Match[str]] = field(default_factory=list)
    """The lines the site's own `furniture` rule dropped, as it matched them."""
    original_source: str | None = None
    lines: list[str] | None = None
    """The kept blocks' lines, when they are the whole text (`markup.is_flat`): its
    paragraphs, bare dates and empty lines aside."""


def clean(
    root: markup.Element,
    title: str = "",
    cut_from: re.Pattern[str] | None = None,
    furniture: re.Pattern[str] | None = None,
) -> Findings:
    """Drop furniture lines from `root` in place; return what they revealed.

    A site's own rules come first (`SiteAdapter.cut_from` and `furniture`),
    on the same lines: reading each block's text once for both sets of rules,
    rather than in a pass of its own, took a tenth off adapting an item.
    """
    found = Findings()
    title = " ".join(title.split())
    blocks = markup.leaf_blocks(root)
    # Each kept line, while no line holds a line break (the paragraphs split there).
    kept: list[str] | None = [] if markup.is_flat(root, blocks) else None
    seen_article = False
    for index, block in enumerate(blocks):
        raw = markup.raw_text_of(block)
        line = " ".join(raw.split())
        if kept is not None and "\n" in raw:
            kept = None
        if cut_from is not None and cut_from.match(line):
            for rest in blocks[index:]:
                markup.remove(rest)
            break
        if furniture is not None and (site := furniture.match(line)):
            found.site_furniture.append(site)
            markup.remove(block)
            continue
        maybe = might_be_furniture(line)
        if maybe and TAIL_HEADINGS.match(line):
            for rest in blocks[index:]:
                markup.remove(rest)
            break
        if not line:
            continue
        if not seen_article and title and line == title:
            markup.remove(block)  # the page repeats its headline above the article
            continue
        drop = True
        if not maybe:
            drop = False
            seen_article = seen_article or len(line) > 20
        elif counter := READ_COUNTER.match(line):
            found.original_source = found.original_source or counter.group("outlet")
        elif byline := BYLINE.match(line):
            found.authors.extend(_names(byline.group("names")))
        elif (
            FURNITURE.match(line)
            or RELATED_ENTRY.match(line)
            or CREDIT.match(line)
            or ("备" in line and LICENCE_NUMBER.search(line))
        ):
            repost = REPOST.search(line)
            if repost and not found.original_source:
                found.original_source = repost.group("outlet")
        else:
            drop = False
            seen_article = seen_article or len(line) > 20
        if drop:
            markup.remove(block)
        elif kept is not None:
            kept.append(line)
    found.lines = kept
    return found


def _names(text: str) -> list[str]:
    return [n for n in re.split(r"[\s,，、/]+", text) if n]


def original_from_text(text: str) -> str | None:
    """The outlet named by "转载自 …" in the article text itself, if any."""
    if "转载" not in text:  # searching the whole text for REPOST is the slow part
        return None
    repost = REPOST.search(text)
    if repost and "转载" in repost.group(0):
        return repost.group("outlet")
    return None


def cut_short(lines: list[str]) -> tuple[list[str], bool]:
    """`lines` without the mark a feed ends a text it cut short with (`TRUNCATED`),
    and whether there was one."""
    # Only a line's end can hold the mark: not searched from every character of it.
    if not lines or not (found := TRUNCATED.search(lines[-1], max(0, len(lines[-1]) - 40))):
        return lines, False
    rest = lines[-1][: found.start()].rstrip()
    return [*lines[:-1], rest] if rest else lines[:-1], True
