"""The common shape of a site adapter: parse, let the site clean, extract.

A site adapter subclasses `SiteAdapter` and overrides `prepare`, which sees the
parsed item and removes what is the site's own furniture, noting the date and
authors the markup gives. Everything else (chrome by tag and class, shared
furniture lines, text, sanitised markup, images) is done here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ...models import Article, Item
from ...urls import canonical_url
from . import boilerplate, markup

# feedx, whose mirrors many feeds come from, appends "<hr/>获取更多RSS：<a …>" to
# every item; everything from there on is its advertisement.
FEEDX_FOOTER = re.compile(r"(?:<hr\s*/?>|<br\s*/?>|<div[^>]*>|\s)*获取更多\s*RSS", re.IGNORECASE)


@dataclass
class Page:
    """What `prepare` learnt from the markup."""

    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    original_source: str | None = None


class SiteAdapter:
    name = "generic"
    hosts: tuple[str, ...] = ()
    outlet: str | None = None
    """The outlet's name as `source`; None keeps the feed's name."""
    timezone = "UTC"
    """Where the site's pages write times without an offset."""

    def adapt(
        self, item: Item, source: str, fetched: datetime, *, with_html: bool = True
    ) -> Article:
        """The article in `item`; its sanitised markup only `with_html`.

        Nothing that a run stores or sends reads the markup (the digest is made
        from the text), and making it was a tenth of preparing a feed: the
        pipeline asks for none, `monitor parse` shows it.
        """
        html = item.html
        if "获取更多" in html:  # the regex costs as much as parsing; most items lack it
            html = FEEDX_FOOTER.split(html, maxsplit=1)[0]
        root = markup.parse_fragment(html)
        page = Page()
        self.prepare(root, page)
        markup.drop_chrome(root)
        found_images = markup.images(root)
        findings = boilerplate.clean(root, item.title)
        if findings.lines is None:
            lines = markup.paragraphs(root)
        else:
            lines = markup.kept_lines(findings.lines)
        if not all(map(str.isprintable, lines)):  # half the time of `visible` on the text
            lines = [visible(line) for line in lines]
        text = "\n".join(lines)
        original = (
            page.original_source or findings.original_source or boilerplate.original_from_text(text)
        )
        authors = page.authors or findings.authors or item.authors
        return Article(
            title=short_title(visible(title_text(item.title) or (lines[0] if lines else ""))),
            url=canonical_url(item.url) if item.url else "",
            published=plausible_date(page.published or item.published, fetched),
            authors=tuple(dict.fromkeys(visible(author) for author in authors)),
            text=text,
            html=markup.sanitize(markup.to_html(root)) if with_html else None,
            images=found_images,
            source=self.outlet or source,
            original_source=original if original != self.outlet else None,
        )

    def prepare(self, root: markup.Element, page: Page) -> None:
        """Remove the site's own furniture from `root`, noting date and authors in `page`."""

    def local_time(self, value: datetime) -> datetime:
        """`value` as an aware time: a naive one is in the site's `timezone`."""
        if value.tzinfo is None:
            return value.replace(tzinfo=ZoneInfo(self.timezone))
        return value


MAX_TITLE = 300
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
"""Before news feeds existed: a date this old is a placeholder (often 1970-01-01)."""


# Characters no reader should get from a feed: C0 controls but tab and newline,
# DEL and the C1 controls, and the bidirectional embeddings, overrides and
# isolates, with which a title can show its words in another order than they
# are read (U+202E, "right-to-left override"). Zero-width joiners stay: some
# scripts and emoji need them.
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A title is markup when it has an end tag or a character reference, as feedparser
# decides for RSS (`_looks_like_html`); an Atom title of type html is such markup.
LOOKS_LIKE_MARKUP = re.compile(r"</\w+>|&#?\w+;")


def visible(text: str) -> str:
    """`text` without the characters of `INVISIBLE`."""
    return INVISIBLE.sub("", text) if INVISIBLE.search(text) else text


def title_text(title: str) -> str:
    """A title as text: markup read once (tags dropped, references resolved), so that
    a title of type html is neither shown as tags nor escaped twice."""
    if not LOOKS_LIKE_MARKUP.search(title):
        return title
    return markup.raw_text_of(markup.parse_fragment(title))


def short_title(title: str) -> str:
    """One line, at most `MAX_TITLE` characters (some feeds put the article in the title)."""
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def plausible_date(published: datetime | None, fetched: datetime) -> datetime:
    """The item's date, unless it is missing, a placeholder, or in the future."""
    if published is None:
        return fetched
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published < EARLIEST or published > fetched + timedelta(days=1):
        return fetched
    return published


def split_names(text: str) -> list[str]:
    """Author names from a byline: "A, B and C", "甲、乙", "A 和 B"."""
    parts = re.split(r"\s*(?:,|，|、|;|；|\band\b|和|与)\s*", " ".join(text.split()))
    return [p.strip() for p in parts if p.strip()]


def parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def leading_byline(root: markup.Element) -> tuple[list[str], datetime | None]:
    """The mirrors' leading ``<div><i>AUTHOR<br>ISO-DATE</i></div>``: remove it, return both.

    Used by DW and, in its 2021 layout, NYT 中文; the author part may be empty.
    """
    first = root[0] if len(root) else None
    if first is None or first.tag != "div" or (root.text or "").strip():
        return [], None
    italic = first.find("i")
    br = italic.find("br") if italic is not None else None
    if italic is None or br is None:
        return [], None
    published = parse_iso(br.tail or "")
    if published is None:
        return [], None
    markup.remove(first)
    return split_names(italic.text or ""), published
