"""The fallback adapter: any site, cleaned by structure alone."""

from __future__ import annotations

import re
from datetime import datetime

from ..models import Article, Item
from ..urls import canonical_url
from . import markup

# "本文内容转载自其他媒体", "转载自新华社" and the like: the page says it is a repost.
REPOST_PATTERN = re.compile(r"(?:本文)?(?:内容)?转载自[：:]?\s*([^\s，。,.:：；;]{2,20})")


class GenericAdapter:
    name = "generic"
    hosts: tuple[str, ...] = ()

    def adapt(self, item: Item, source: str, fetched: datetime) -> Article:
        root = markup.parse_fragment(item.html)
        found_images = markup.images(root)
        markup.drop_chrome(root)
        text = "\n".join(markup.paragraphs(root))
        repost = REPOST_PATTERN.search(text)
        return Article(
            title=item.title or _first_line(text),
            url=canonical_url(item.url) if item.url else "",
            published=item.published or fetched,
            authors=item.authors,
            text=text,
            html=markup.sanitize(markup.to_html(root)),
            images=found_images,
            source=source,
            original_source=repost.group(1) if repost else None,
        )


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0][:200]
