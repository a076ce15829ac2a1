"""The fallback adapter for every site without one of its own.

A feed item's HTML is usually the article alone; when it is a whole page (or
a long fragment with navigation and link lists), trafilatura, a maintained
main-content extractor, picks the article out first. Its output is then
cleaned like any other page. When trafilatura finds nothing (very short
items, plain text), the item is cleaned as it is.
"""

from __future__ import annotations

from lxml import etree

from . import markup
from .base import Page, SiteAdapter

# Below this many block elements a fragment is an article body already:
# trafilatura's main-content scoring needs a page to compare against.
MIN_BLOCKS_FOR_EXTRACTION = 8
# Markup that makes a fragment look like a whole page rather than an article body.
PAGE_TAGS = frozenset(
    {"div", "ul", "ol", "table", "section", "article", "main", "nav", "header", "aside"}
)
# A plain run of paragraphs is an article body: trafilatura (2-4 ms an item) would
# only confirm it. So it runs when at least this share of blocks is page markup
# or link lists.
MIN_PAGE_SHARE = 0.2


class GenericAdapter(SiteAdapter):
    name = "generic"
    hosts: tuple[str, ...] = ()

    def prepare(self, root: markup.Element, page: Page) -> None:
        blocks = markup.leaf_blocks(root)
        if len(blocks) < MIN_BLOCKS_FOR_EXTRACTION or not _looks_like_a_page(root, blocks):
            return
        extracted = _extract(etree.tostring(root, method="html", encoding="unicode"))
        if extracted is None:
            return
        kept = markup.parse_fragment(extracted)
        if len(markup.text_of(kept)) < 0.2 * len(markup.text_of(root)):
            return  # it kept too little to be the article; trust the feed
        for child in list(root):
            root.remove(child)
        root.text = kept.text
        for child in list(kept):
            root.append(child)


def _looks_like_a_page(root: markup.Element, blocks: list[markup.Element]) -> bool:
    # Element-tree iteration filtered by tag runs in C; `find` parses its path each call.
    if next(root.iter("body", "html"), None) is not None:
        return True
    holding_links = {link.getparent() for link in root.iter("a")}
    page_like = sum(1 for b in blocks if b.tag in ("li", "td") or b in holding_links)
    structure = sum(1 for element in root.iter() if element.tag in PAGE_TAGS)
    return (page_like + structure) >= MIN_PAGE_SHARE * len(blocks)


def _extract(html: str) -> str | None:
    import trafilatura  # noqa: PLC0415 - heavy, needed only for long generic items

    result = trafilatura.extract(
        html,
        output_format="html",
        include_comments=False,
        include_tables=True,
        include_images=True,
        include_links=True,
        favor_precision=True,
    )
    return str(result) if result else None
