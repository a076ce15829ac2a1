"""纽约时报中文网 (cn.nytimes.com).

Since 2024 the mirrored item starts with ``<address>AUTHOR, AUTHOR</address>``
and ``<time datetime="2024-06-21 12:12:12">`` (Beijing time, no offset); in
2021 the byline was ``<div><i>AUTHOR<br>date</i></div>`` as on DW. The body is
in ``<section>``; the ``<footer>`` holds reporter bios, the translation credit
and "点击查看本文英文版", none of it the article. Captions are ``<figcaption>``
or ``<small>`` inside the paragraph that holds the image.
"""

from __future__ import annotations

from datetime import datetime

from . import markup
from .base import Page, SiteAdapter, leading_byline, parse_iso, split_names


class NYTimesAdapter(SiteAdapter):
    name = "nytimes"
    hosts = ("cn.nytimes.com", "cn.nytstyle.com")
    outlet = "纽约时报中文网"
    timezone = "Asia/Shanghai"

    def prepare(self, root: markup.Element, page: Page) -> None:
        authors, published = leading_byline(root)
        for address in root.iter("address"):
            authors = authors or split_names(markup.text_of(address))
        for time in root.iter("time"):
            published = published or _time(time)
        page.authors = authors
        page.published = self.local_time(published) if published else None
        for footer in list(root.iter("footer")):
            markup.remove(footer)


def _time(element: markup.Element) -> datetime | None:
    return parse_iso(element.get("datetime", "")) or parse_iso(element.get("pudate", ""))
