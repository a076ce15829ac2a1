"""DW 中文 (dw.com/zh).

The mirrored item opens with ``<div><i>AUTHOR<br>2023-03-18T15:50:17.862Z</i></div>``
(the author part often empty), may carry a picture gallery introduced by
``<h3>相关图集：…</h3>`` and a series of ``<div><img><b>caption title</b>：text</div>``,
and ends with ``<p><em>© 2023年德国之声版权声明：…</em></p>``. Links to other
articles point at DW's API (``api.dw.com/api/detail/article/ID``) and are
rewritten to the article pages readers can open. The lead
"（德国之声中文网）" is the article's own first words and stays in the text.
"""

from __future__ import annotations

import re

from . import markup
from .base import Page, SiteAdapter, leading_byline

API_LINK = re.compile(r"^https?://api\.dw\.com/api/detail/article/(\d+)")
COPYRIGHT = re.compile(r"^©?\s*\d{4}\s*年?\s*德国之声版权声明")
GALLERY_HEADING = re.compile(r"^相关图集")


class DWAdapter(SiteAdapter):
    name = "dw"
    hosts = ("dw.com",)
    outlet = "DW 中文"

    def prepare(self, root: markup.Element, page: Page) -> None:
        page.authors, page.published = leading_byline(root)
        for heading in list(root.iter("h2", "h3", "h4")):
            if GALLERY_HEADING.match(markup.text_of(heading)):
                _drop_gallery(heading)
        for block in markup.leaf_blocks(root):
            if COPYRIGHT.match(markup.text_of(block)):
                markup.remove(block)
        for link in root.iter("a"):
            if api := API_LINK.match(link.get("href", "")):
                link.set("href", f"https://www.dw.com/zh/a-{api.group(1)}")


def _drop_gallery(heading: markup.Element) -> None:
    """The heading and the picture cards after it (a ``div`` with an image each)."""
    sibling = heading.getnext()
    markup.remove(heading)
    while sibling is not None and sibling.tag == "div" and sibling.find(".//img") is not None:
        following = sibling.getnext()
        markup.remove(sibling)
        sibling = following
