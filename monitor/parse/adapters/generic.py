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
# Elements only a whole page has around its article. An article's own markup
# may have a <header> (its headline block) or a <main>: the 51 real items of
# the development months that went to trafilatura for a pasted <header>, for
# Blogger's "read more" anchors or for images linked to their full size, came
# back with nothing found, and took its import (about 0.3 s) into each worker.
PAGE_TAGS = ("nav", "aside", "footer", "menu")
# A plain run of paragraphs is an article body: trafilatura (2-4 ms an item) would
# only confirm it. So it runs on a fragment with page elements, or with link
# lists: at least this many links, in at least this share of its blocks. Counting
# every <div> as page markup sent the plain bodies of blogs and newspapers (a
# tenth of the real items) through it, and it changed none of them.
MIN_LINKS = 5
MIN_PAGE_SHARE = 0.2


class GenericAdapter(SiteAdapter):
    name = "generic"
    hosts: tuple[str, ...] = ()

    def prepare(self, root: markup.Element, page: Page) -> None:
        blocks = markup.leaf_blocks(root)
        if len(blocks) < MIN_BLOCKS_FOR_EXTRACTION or not _looks_like_a_page(root, blocks):
            return
        extracted = main_content(etree.tostring(root, method="html", encoding="unicode"))
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
    if next(root.iter("body", "html", *PAGE_TAGS), None) is not None:
        return True
    # A link has an address and words: an anchor without an address marks a place,
    # an image linked to its full size is a picture.
    links = [a for a in root.iter("a") if a.get("href") and _has_words(a)]
    if len(links) < MIN_LINKS:
        return False
    holding_links = {link.getparent() for link in links}
    page_like = sum(1 for b in blocks if b.tag in ("li", "td") or b in holding_links)
    return page_like >= MIN_PAGE_SHARE * len(blocks)


def _has_words(element: markup.Element) -> bool:
    return any(not chunk.isspace() for chunk in element.itertext())


def main_content(html: str) -> str | None:
    """The main content of a page as trafilatura finds it, as markup (None: nothing)."""
    import trafilatura  # noqa: PLC0415 - heavy, needed only for pages

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
