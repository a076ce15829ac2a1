"""HTML helpers shared by the adapters: parse, strip chrome, extract text, sanitise."""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from lxml import etree

from ...urls import unwrap_image_proxy

# Elements that never hold an article's own words.
NON_CONTENT_TAGS = (
    "script", "style", "noscript", "iframe", "form", "button", "nav", "aside",
    "footer", "header", "svg", "template", "select", "input", "object", "embed",
)  # fmt: skip
# class/id words that mark page chrome on most sites (ads, share bars, related lists).
CHROME_PATTERN = re.compile(
    r"(?:^|[\s_-])(?:ad|ads|advert\w*|banner|related|recommend\w*|share|sharing|social|"
    r"comment\w*|promo\w*|newsletter|sidebar|breadcrumbs?|popular|subscribe)(?:$|[\s_-])",
    re.IGNORECASE,
)
# Elements that describe the article (byline, date, captions) rather than tell it.
METADATA_TAGS = ("address", "time", "figcaption", "cite")
_DROPPED_TAGS = frozenset((*NON_CONTENT_TAGS, *METADATA_TAGS))
# RFI's newsletter and app blocks carry a ``data-selfpromo…`` attribute.
_SELF_PROMOTION = re.compile("(?:^| )data-selfpromo").search
# A line that is only a date or time stamp, in the forms feeds use.
DATE_LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
    r"|^\d{1,2}/\d{1,2}/\d{4}(?:\s*-?\s*\d{1,2}:\d{2})?$"
    r"|^\d{4}年\d{1,2}月\d{1,2}日(?:\s*\d{1,2}:\d{2})?$"
    r"|^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(?::\d{2})?"
    r" (?:GMT|UTC|[+-]\d{4})$"
)
BLOCK_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "section",
    "article", "figure", "figcaption", "table", "tr", "td", "th", "pre", "address", "dl", "dt",
    "dd", "hr", "main", "header", "footer",
})  # fmt: skip
SAFE_TAGS = {
    "p", "br", "a", "strong", "b", "em", "i", "u", "ul", "ol", "li", "blockquote",
    "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "img", "small", "sub", "sup",
}  # fmt: skip
SAFE_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}


# Characters XML (and so lxml) cannot hold: C0 controls but tab and line breaks,
# lone surrogates, and the two noncharacters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# Plain element-tree elements, not `lxml.html`'s: that module picks each element's
# Python class in Python, every time an element is touched (a fifth of adapting).
Element = etree._Element
_PARSER = etree.HTMLParser()
_WHOLE_PAGE = re.compile(r"^\s*<(?:html|!doctype)", re.IGNORECASE)


def parse_fragment(html: str) -> Element:
    """Parse an item's HTML (or plain text) into one ``<div>`` holding it.

    A whole page keeps its body. Text before the first element is kept unless
    it is only whitespace.
    """
    html = _NOT_XML.sub("", html)
    wrapper = etree.Element("div")
    if not html.strip():
        return wrapper
    page = html if _WHOLE_PAGE.match(html) else f"<html><body>{html}</body></html>"
    try:
        document = etree.fromstring(page, _PARSER)
    except (etree.ParserError, ValueError):
        document = None
    if document is None:  # nothing lxml can read as markup
        wrapper.text = html
        return wrapper
    body = document.find("body")
    if body is None:
        body = document
    if body.text and body.text.strip():
        wrapper.text = body.text
    wrapper.extend(body)
    return wrapper


def is_tracking_pixel(element: Element) -> bool:
    """A 0×0 or 1×1 image, or a hidden one: it counts readers, it shows nothing."""
    if element.tag != "img":
        return False
    sizes = {element.get("width", "").strip(), element.get("height", "").strip()}
    style = element.get("style", "").replace(" ", "").lower()
    return bool(sizes & {"0", "1", "0px", "1px"}) or "display:none" in style


def drop_chrome(root: Element) -> None:
    """Remove non-content elements and those whose class or id names page chrome."""
    for element in list(root.iter()):
        tag = element.tag
        if not isinstance(tag, str):
            remove(element)
            continue
        if element is root:
            continue
        if tag in _DROPPED_TAGS:
            remove(element)
            continue
        names = element.keys()  # most elements have no attributes: no marker to read
        if (
            (tag == "small" and is_caption(element))
            or (tag == "img" and is_tracking_pixel(element))
            or (
                names
                and (
                    CHROME_PATTERN.search(f"{element.get('class', '')} {element.get('id', '')}")
                    or _SELF_PROMOTION(" ".join(map(str, names)))
                )
            )
        ):
            remove(element)


def is_caption(element: Element) -> bool:
    """An image caption: mirrors write ``<small style="color: #999;">`` or a bare
    ``<small>`` right after the image."""
    if element.tag != "small":
        return False
    previous = element.getprevious()
    return "#999" in element.get("style", "") or (previous is not None and previous.tag == "img")


def text_of(element: Element) -> str:
    return " ".join(raw_text_of(element).split())


def raw_text_of(element: Element) -> str:
    # libxml2's text output: all descendant text, no comments (an XPath string()
    # gives the same, at three times the cost).
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def is_flat(root: Element, blocks: list[Element]) -> bool:
    """Whether `root` is only its leaf `blocks`, side by side, with no <br> in them and
    nothing but whitespace between them: then its paragraphs are the blocks' lines
    (those with no line break inside), and need no walk of the tree."""
    return (
        len(blocks) == len(root)
        and all(block.getparent() is root for block in blocks)
        and (not root.text or root.text.isspace())
        and next(root.iter("br"), None) is None
        and all(not block.tail or block.tail.isspace() for block in blocks)
    )


def leaf_blocks(root: Element) -> list[Element]:
    """Block elements holding no other block, in document order: the page's "lines".

    One pass: each block marks its ancestors as holding one, stopping at the
    first already marked (scanning every block's descendants was quadratic).
    """
    # Filtered here: lxml matching each element against 29 tag names cost twice as much.
    blocks = [e for e in root.iter() if e.tag in BLOCK_TAGS and e is not root]
    holding: set[Element] = set()
    for element in blocks:
        parent = element.getparent()
        while parent is not None and parent is not root and parent not in holding:
            holding.add(parent)
            parent = parent.getparent()
    return [element for element in blocks if element not in holding]


def remove(element: Element) -> None:
    """Remove `element` and its content, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def paragraphs(root: Element) -> list[str]:
    """The element's text split into paragraphs at block elements, <br> and newlines.

    Marks the boundaries in the tree itself, a line break around each block's
    content and after each <br>, and reads the text in one pass of libxml2's:
    a walk of the tree in Python cost a fifth of adapting an item. So `root`
    is changed: take its markup before.
    """
    for element in root.iter():
        tag = element.tag
        if tag in BLOCK_TAGS:
            element.text = "\n" + element.text if element.text else "\n"
        elif tag != "br":
            continue
        if element is not root:
            element.tail = "\n" + element.tail if element.tail else "\n"
    return kept_lines(" ".join(line.split()) for line in raw_text_of(root).split("\n"))


def kept_lines(lines: Iterable[str]) -> list[str]:
    """The paragraphs among whitespace-normalised `lines`: not empty, not a bare date."""
    return [line for line in lines if line and not DATE_LINE.match(line)]


def images(root: Element) -> tuple[str, ...]:
    found = [
        unwrap_image_proxy(src)
        for img in root.iter("img")
        if (src := img.get("src")) and not is_tracking_pixel(img)
    ]
    return tuple(dict.fromkeys(u for u in found if u.startswith(("http://", "https://"))))


def unproxied(root: Element) -> Element:
    """`root` with its images' proxy addresses (images.weserv.nl …) replaced by the
    images' own, as `images` lists them."""
    for img in root.iter("img"):
        src = img.get("src")
        if src:
            img.set("src", unwrap_image_proxy(src))
    return root


def sanitize(html: str) -> str:
    """Markup safe to put in an email: no scripts, styles, handlers or odd URL schemes."""
    return _CLEANER.clean(html)


# Built once: `nh3.clean` converted these settings for every item (half its time).
_CLEANER = nh3.Cleaner(
    tags=SAFE_TAGS,
    attributes=SAFE_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def to_html(root: Element) -> str:
    """The markup inside `root`, its text escaped: one serialisation of the whole
    tree, its own tags cut off (a serialisation per child cost three times as much)."""
    whole = etree.tostring(root, method="html", encoding="unicode", with_tail=False)
    return whole[whole.index(">") + 1 : whole.rindex("<")] if whole.endswith(">") else ""
