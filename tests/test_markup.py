"""`markup.leaf_blocks` against its definition, on random nested markup."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.parse.adapters import boilerplate as B
from monitor.parse.adapters import markup

TAGS = ["div", "p", "span", "li", "ul", "a", "section", "b", "table", "tr", "td", "h2", "em"]


def reference_leaf_blocks(root: object) -> list[object]:
    """The definition: block elements (not the root) with no block element inside."""
    return [
        element
        for element in root.iter()  # type: ignore[attr-defined]
        if element is not root
        and isinstance(element.tag, str)
        and element.tag in markup.BLOCK_TAGS
        and not any(
            isinstance(d.tag, str) and d.tag in markup.BLOCK_TAGS for d in element.iterdescendants()
        )
    ]


markup_trees = st.recursive(
    st.sampled_from(["字", "text", "", "<br>", "<!-- note -->"]),
    lambda inner: st.tuples(st.sampled_from(TAGS), st.lists(inner, max_size=4)).map(
        lambda pair: f"<{pair[0]}>{''.join(pair[1])}</{pair[0]}>"
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(markup_trees, max_size=5))
def test_leaf_blocks_are_the_blocks_holding_no_block(parts: list[str]) -> None:
    root = markup.parse_fragment("".join(parts))
    assert markup.leaf_blocks(root) == reference_leaf_blocks(root)


def test_a_long_page_is_split_into_its_lines() -> None:
    rows = "".join(
        "<div class=row><ul>" + "<li><a href=/x>链接</a></li>" * 20 + "</ul><p>段落</p></div>"
        for _ in range(100)
    )
    root = markup.parse_fragment(f"<div>{rows}</div>")
    blocks = markup.leaf_blocks(root)
    assert [b.tag for b in blocks[:21]] == ["li"] * 20 + ["p"]
    assert blocks == reference_leaf_blocks(root)


@pytest.mark.parametrize(
    ("fragment", "inner"),
    [
        ("", ""),
        ("<p>一</p>尾", "<p>一</p>尾"),
        ("首<b>粗</b>", "首<b>粗</b>"),
        # Text that reads like markup stays text, also before the first element.
        ("写 &lt;b&gt; 不加粗<p>x &amp; y</p>", "写 &lt;b&gt; 不加粗<p>x &amp; y</p>"),
        # Leading whitespace goes; a whole page keeps its body, or its head if it has none.
        ("  \n<p>一</p>", "<p>一</p>"),
        (
            "<!DOCTYPE html><html><head><title>题</title></head><body><p>文</p></body></html>",
            "<p>文</p>",
        ),
        ("<html><head><title>题</title></head></html>", "<head><title>题</title></head>"),
        ("<p>一</p></div></div><p>二</p>", "<p>一</p><p>二</p>"),
    ],
)
def test_the_markup_inside_the_wrapper_keeps_text_as_text(fragment: str, inner: str) -> None:
    assert markup.to_html(markup.parse_fragment(fragment)) == inner
    assert "<b>" not in markup.sanitize(markup.to_html(markup.parse_fragment("写 &lt;b&gt;")))


def test_removing_an_element_keeps_the_text_after_it() -> None:
    root = markup.parse_fragment("前<span>去</span>后<p>一<b>去</b>二</p>")
    for element in list(root.iter("span", "b")):
        markup.remove(element)
    assert markup.to_html(root) == "前后<p>一二</p>"
    assert markup.text_of(root) == "前后一二"


FURNITURE_BITS = st.sampled_from(
    ["猜你喜欢", "获取更多 RSS", "国际在线", "14271", "人阅读", "总台", "记者", "丨", "：", "魏东旭",
     "广告", "分享到", "浏览", " ", "Copyright ©", "© 2024", "版权", "版权所有", "责任编辑",
     "ICP备", "123", "号", "正文", "copyright ©", "To view this video please enable JavaScript"]
)  # fmt: skip


@settings(max_examples=500)
@given(st.lists(FURNITURE_BITS | st.text(max_size=5), max_size=6).map("".join))
def test_every_furniture_line_passes_the_screen(line: str) -> None:
    if any(rule.match(line) for rule in B.RULES) or B.LICENCE_NUMBER.search(line):
        assert B.might_be_furniture(line)


@pytest.mark.parametrize(
    "line",
    ["猜你喜欢", "获取更多RSS：https://feedx.net", "国际在线14271人阅读", "总台记者丨魏东旭",
     "责任编辑：张三", "广告", "分享到：", "Copyright © 2024 example", "新浪网 浏览 1,024"],
)  # fmt: skip
def test_known_furniture_lines_pass_the_screen(line: str) -> None:
    assert any(rule.match(line) for rule in B.RULES)
    assert B.might_be_furniture(line)


def test_sanitised_links_say_not_to_follow_them_and_comments_go() -> None:
    assert (
        markup.sanitize('<p>a<!-- note --><a href="https://x.example/1">l</a></p>')
        == '<p>a<a href="https://x.example/1" rel="noopener noreferrer nofollow">l</a></p>'
    )


flat_blocks = st.lists(
    st.tuples(
        st.sampled_from(["p", "p", "h2", "li", "div", "td", "hr"]),
        st.lists(
            st.sampled_from(
                [
                    "文字内容，一句话。",
                    "a\nb",
                    " x ",
                    "<b>粗</b>",
                    "<!--c-->",
                    "<br>",
                    "2024-01-02",
                    "责任编辑：张三",
                    "猜你喜欢",
                    "标题",
                    "<span>s<i>i</i></span>",
                    "\u3000",
                    "<?pi?>",
                ]
            ),  # fmt: skip
            max_size=4,
        ),
        st.sampled_from(["", "", " ", "\n", "tail", "<!--c-->"]),
    ),
    max_size=8,
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["", " ", "\n  ", "lead"]), flat_blocks)
def test_the_lines_kept_by_cleaning_are_the_paragraphs_when_they_are_all_the_text(
    lead: str, blocks: list[tuple[str, list[str], str]]
) -> None:
    html = lead + "".join(f"<{tag}>{''.join(inner)}</{tag}>{tail}" for tag, inner, tail in blocks)
    root = markup.parse_fragment(html)
    found = B.clean(root, "标题")
    walked = markup.paragraphs(root)  # of what cleaning left
    if found.lines is not None:
        assert markup.kept_lines(found.lines) == walked


def test_cleaning_keeps_lines_only_for_blocks_side_by_side_without_breaks() -> None:
    def lines(html: str) -> list[str] | None:
        return B.clean(markup.parse_fragment(html), "标题").lines

    assert lines(" <p>标题</p><p>第一段。</p>\n<h2>小标题</h2><p>责任编辑：张三</p>") == [
        "第一段。",
        "小标题",
    ]
    assert lines("<p>第一段。</p><p>第二<b>段</b>。<!-- c --></p>") == ["第一段。", "第二段。"]
    for walked in (
        "<p>第一段\n第二段</p>",  # a line break inside a block splits it
        "<p>第一段<br>第二段</p>",
        "<p>第一段</p>夹在中间<p>第二段</p>",  # text between blocks is a line of its own
        "开头<p>第一段</p>",
        "<div><p>第一段</p></div><p>第二段</p>",  # not side by side
        "<p>第一段</p><b>粗</b><p>第二段</p>",
        "<p>第一段</p><!-- c --><p>第二段</p>",
    ):
        assert lines(walked) is None, walked


def walked_paragraphs(root: markup.Element) -> list[str]:
    """`markup.paragraphs` as a plain walk of the tree, leaving it as it is."""
    pieces: list[str] = []

    def walk(element: markup.Element) -> None:
        block = element.tag in markup.BLOCK_TAGS
        if block or element.tag == "br":
            pieces.append("\n")
        if element.text:
            pieces.append(element.text)
        for child in element:
            if isinstance(child.tag, str):
                walk(child)
            if child.tail:
                pieces.append(child.tail)
        if block:
            pieces.append("\n")

    walk(root)
    return markup.kept_lines(" ".join(line.split()) for line in "".join(pieces).split("\n"))


FRAGMENT_TEXT = st.text(alphabet=st.sampled_from("文字 ab\n\t。2020-01-01&<"), max_size=12)


@st.composite
def fragments(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["text", "element", "br", "comment"]))
        if kind == "text" or depth > 3:
            parts.append(html.escape(draw(FRAGMENT_TEXT)))
        elif kind == "br":
            parts.append("<br>")
        elif kind == "comment":
            parts.append("<!-- 注释 -->")
        else:
            tag = draw(
                st.sampled_from(["p", "div", "span", "a", "b", "li", "ul", "h2", "td", "em"])
            )
            parts.append(f"<{tag}>{draw(fragments(depth + 1))}</{tag}>")
    return "".join(parts)


@settings(max_examples=400)
@given(fragments())
def test_paragraphs_read_in_one_pass_equal_a_walk_of_the_tree(fragment: str) -> None:
    assert markup.paragraphs(markup.parse_fragment(fragment)) == walked_paragraphs(
        markup.parse_fragment(fragment)
    )


@pytest.mark.parametrize(
    ("last", "kept"),
    [
        (
            "目前狀況均正常。媒體引述軍事迷資訊報導，共機繼昨晚......more",
            "目前狀況均正常。媒體引述軍事迷資訊報導，共機繼昨晚",
        ),
        ("The talks would resume next week […]", "The talks would resume next week"),
        ("The talks would resume next week [...]", "The talks would resume next week"),
        ("会谈将于下周恢复……阅读全文", "会谈将于下周恢复"),
        ("Read more »", None),
        ("The talks would resume. Continue reading →", "The talks would resume."),
        ("分为前半场和后半场。<查看全文>", "分为前半场和后半场。"),
    ],
)
def test_a_text_the_feed_cut_short_loses_its_mark_and_says_so(last: str, kept: str | None) -> None:
    lines, truncated = B.cut_short(["第一段。", last])
    assert truncated
    assert lines == (["第一段。", kept] if kept else ["第一段。"])


@pytest.mark.parametrize(
    "last",
    ["他说：“我们会继续努力……”", "会谈将于下周恢复。", "读者可以在网站上阅读全文的英文版。", ""],
)
def test_an_ellipsis_or_a_mention_of_reading_is_no_mark(last: str) -> None:
    lines = ["第一段。", last] if last else []
    assert B.cut_short(lines) == (lines, False)
