"""An article's own web page, read into the same `Article` its feed item gives.

Many outlets' feeds carry a teaser (a title and a sentence); the article is on
its page. A page is a whole document: its metadata is in ``<link
rel="canonical">``, Open Graph and ``article:`` meta tags and JSON-LD
``NewsArticle`` blocks, its body somewhere among navigation, ads and link
lists. The site's adapter names where its body is (`SiteAdapter.page_body`);
for other sites, or when the site's markup changed, the JSON-LD
``articleBody`` or trafilatura's main-content extraction stand in. The body is
then cleaned by the same adapter as a feed item, so furniture rules hold for
both. `completed` joins the teaser and the page into one `Article`: the page
gives the text, the feed keeps what it states itself.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lxml import etree

from ..models import Article, Item
from ..urls import canonical_url, resolved_link
from .adapters import Adapter
from .adapters.base import elements, parse_iso, split_names
from .adapters.generic import main_content
from .adapters.markup import Element, text_of

TEASER_CHARS = 200
"""A feed item whose text is shorter than this, or that its feed cut short
(`Article.truncated`), is a teaser: `full_text = "auto"` fetches its page."""
ARTICLE_TYPES = frozenset(
    {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle",
     "OpinionNewsArticle", "BlogPosting", "LiveBlogPosting", "Report"}
)  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class PageFacts:
    """What a page says about its article, before the adapter cleans the body."""

    canonical: str | None
    title: str
    published: datetime | None
    authors: tuple[str, ...]
    images: tuple[str, ...]
    body_html: str
    """The article body's markup: the site's element, else extracted."""


def is_teaser(article: Article) -> bool:
    return len(article.text) < TEASER_CHARS or article.truncated


def decoded(content: bytes, content_type: str | None = None) -> str:
    """A page's text: in the charset its header or ``<meta>`` declares, else UTF-8,
    else what charset-normalizer finds (GBK and Big5 pages that declare nothing)."""
    declared = _HEADER_CHARSET.search(content_type or "") or _META_CHARSET.search(content[:4096])
    if declared:
        name = declared.group(1)
        name = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        # Pages labelled GB2312 or GBK use GB18030's characters as browsers read them.
        name = "gb18030" if name.lower() in ("gb2312", "gbk", "x-gbk") else name
        try:
            return content.decode(name, errors="replace")
        except LookupError:
            pass
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(content[:200_000]).best()
        return content.decode(best.encoding if best else "utf-8", errors="replace")


def read_page(page_html: str, url: str, adapter: Adapter) -> PageFacts:
    """The metadata and body of the page at `url` (after redirects)."""
    document = _document(page_html)
    ld = list(_json_ld_articles(document))
    canonical = _canonical(document, url)
    title = (
        _ld_text(ld, "headline")
        or _meta(document, "og:title")
        or " ".join((document.findtext(".//title") or "").split())
    )
    published = (
        parse_iso(_meta(document, "article:published_time") or "")
        or parse_iso(_ld_text(ld, "datePublished") or "")
        or _time_element(document)
    )
    if published is not None:
        published = adapter.local_time(published)  # a time without offset is the site's
    authors = (
        _ld_authors(ld)
        or _meta_authors(document)
        or tuple(
            dict.fromkeys(
                name
                for expression in adapter.page_authors
                for element in elements(expression, document)
                for name in split_names(text_of(element))
            )
        )
    )
    authors = tuple(name for name in authors if name not in adapter.own_names)
    image = _meta(document, "og:image")
    images = (resolved_link(image, url),) if image else ()
    body = adapter.page_body_html(document)
    if body is None:
        article_body = _ld_text(ld, "articleBody")
        if article_body:
            body = "".join(
                f"<p>{html_lib.escape(line.strip())}</p>"
                for line in article_body.splitlines()
                if line.strip()
            )
        else:
            body = main_content(page_html) or ""
    return PageFacts(canonical, title, published, authors, images, body)


def page_article(
    page_html: str, url: str, adapter: Adapter, source: str, fetched: datetime
) -> Article:
    """The page at `url` as an `Article`, cleaned by `adapter` as a feed item would be."""
    facts = read_page(page_html, url, adapter)
    item = Item(
        guid=url,
        url=facts.canonical if facts.canonical and adapter.trusts(facts.canonical, url) else url,
        title=facts.title,
        published=facts.published,
        authors=facts.authors,
        html=facts.body_html,
    )
    article = adapter.adapt(item, source, fetched)
    images = tuple(dict.fromkeys((*facts.images, *article.images)))
    return replace(article, images=images)


def completed(teaser: Article, page: Article) -> Article:
    """One article from a feed's teaser and its page.

    The page gives the text, and the canonical address; the feed keeps what it
    states itself (its title, and its date and authors when it gives them).
    A page whose text is no longer than the teaser is not the article (a
    consent wall, a login page): the teaser is kept.
    """
    if len(page.text) <= len(teaser.text):
        return teaser
    return replace(
        teaser,
        title=teaser.title or page.title,
        url=page.url or teaser.url,
        # A teaser without a date got the time it was fetched (`plausible_date`).
        published=page.published if page.dated and not teaser.dated else teaser.published,
        dated=teaser.dated or page.dated,
        authors=teaser.authors or page.authors,
        text=page.text,
        html=page.html if teaser.html is not None else None,
        images=tuple(dict.fromkeys((*teaser.images, *page.images))),
        original_source=teaser.original_source or page.original_source,
        truncated=page.truncated,
    )


def _document(page_html: str) -> Element:
    parser = etree.HTMLParser(remove_comments=True)
    try:
        document = etree.fromstring(page_html, parser)
    except (etree.ParserError, ValueError):
        document = None
    return document if document is not None else etree.Element("html")


def _meta(document: Element, name: str) -> str | None:
    for meta in document.iter("meta"):
        if name in (meta.get("property"), meta.get("name"), meta.get("itemprop")):
            content = (meta.get("content") or "").strip()
            if content:
                return content
    return None


def _canonical(document: Element, url: str) -> str | None:
    for link in document.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            return canonical_url(resolved_link(link.get("href", ""), url))
    og = _meta(document, "og:url")
    return canonical_url(resolved_link(og, url)) if og else None


def _time_element(document: Element) -> datetime | None:
    for time in document.iter("time"):
        found = parse_iso(time.get("datetime") or "")
        if found is not None:
            return found
    return None


def _meta_authors(document: Element) -> tuple[str, ...]:
    names = []
    for key in ("author", "article:author", "byl"):
        value = _meta(document, key)
        if value and not value.startswith(("http://", "https://")):
            names.append(re.sub(r"^(?:By|作者[:：])\s*", "", value).strip())
    return tuple(dict.fromkeys(name for name in names if name))


def _json_ld_articles(document: Element) -> Iterator[dict[str, Any]]:
    """The JSON-LD objects of an article type, also inside lists and ``@graph``."""
    for script in document.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            value = stack.pop()
            if isinstance(value, list):
                stack.extend(reversed(value))
            elif isinstance(value, dict):
                kind = value.get("@type")
                kinds = kind if isinstance(kind, list) else [kind]
                if any(k in ARTICLE_TYPES for k in kinds if isinstance(k, str)):
                    yield value
                if isinstance(value.get("@graph"), list):
                    stack.extend(reversed(value["@graph"]))


def _ld_text(objects: list[dict[str, Any]], key: str) -> str | None:
    for value in objects:
        found = value.get(key)
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


def _ld_authors(objects: list[dict[str, Any]]) -> tuple[str, ...]:
    names: list[str] = []
    for value in objects:
        authors = value.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if isinstance(author, dict) and author.get("@type") != "Organization":
                name = author.get("name")
                if isinstance(name, str) and name.strip():
                    names.append(name.strip())
            elif isinstance(author, str) and author.strip():
                names.append(author.strip())
    return tuple(dict.fromkeys(names))


__all__ = [
    "PageFacts",
    "TEASER_CHARS",
    "completed",
    "decoded",
    "is_teaser",
    "page_article",
    "read_page",
]
