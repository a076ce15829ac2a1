"""The common shape of a site adapter: parse, let the site clean, extract.

A site adapter subclasses `SiteAdapter` and overrides `prepare`, which sees the
parsed item and removes what is the site's own furniture, noting the date and
authors the markup gives. Everything else (chrome by tag and class, shared
furniture lines, text, sanitised markup, images) is done here once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from lxml import etree

from ...models import Article, Item
from ...urls import canonical_url, host_of
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
    own_names: tuple[str, ...] = ()
    """What the site calls itself in a byline: never an author."""
    furniture: re.Pattern[str] | None = None
    """Whole lines that are the site's furniture (a ``names`` group: the authors it names)."""
    cut_from: re.Pattern[str] | None = None
    """A line from which the rest is the site's (related links, a podcast's sign-off)."""
    chrome: re.Pattern[str] | None = None
    """Class or id words of the site's own chrome elements."""
    signature: re.Pattern[str] | None = None
    """The last lines, when they sign the article (a ``names`` group: who)."""
    title_suffix: re.Pattern[str] | None = None
    """What the site appends to every title (" – 法国国际广播电台 - RFI")."""
    page_body: tuple[str, ...] = ()
    """XPath expressions of the article body on the site's own pages, tried in turn
    (layouts change); the elements the first one finds make the body."""
    page_lead: tuple[str, ...] = ()
    """XPath expressions of the lead paragraph when the page keeps it outside the body."""
    page_drop: tuple[str, ...] = ()
    """XPath expressions, relative to the body, of what in it is not the article."""
    page_authors: tuple[str, ...] = ()
    """XPath expressions of the author names on the page, when its metadata lacks them."""

    def adapt(
        self, item: Item, source: str, fetched: datetime, *, with_html: bool = True
    ) -> Article:
        """The article in `item`; its sanitised markup only `with_html`.

        Nothing that a run stores or sends reads the markup (the digest is made
        from the text), and making it was a tenth of preparing a feed: the
        pipeline asks for none, `monitor parse` shows it.
        """
        source_html = item.html
        if "获取更多" in source_html:  # the regex costs as much as parsing; most items lack it
            source_html = FEEDX_FOOTER.split(source_html, maxsplit=1)[0]
        root = markup.parse_fragment(source_html)
        page = Page()
        self.prepare(root, page)
        if page.published is None and not page.authors:
            named, published = leading_byline(root)
            page.authors = [a for a in named if a not in self.own_names]
            page.published = self.local_time(published) if published else None
        self.drop_site_chrome(root)
        if self.hosts:
            self.drop_related_lists(root)
        markup.drop_chrome(root)
        title = title_text(item.title)
        if self.title_suffix is not None:
            title = self.title_suffix.sub("", title)
        findings = boilerplate.clean(root, title, self.cut_from, self.furniture)
        found_images = markup.images(root)
        page.authors.extend(name for found in findings.site_furniture for name in _named(found))
        # Taken now: `paragraphs` marks line breaks in the tree.
        html = markup.sanitize(markup.to_html(markup.unproxied(root))) if with_html else None
        if findings.lines is None:
            lines = markup.paragraphs(root)
        else:
            lines = markup.kept_lines(findings.lines)
        if not all(map(str.isprintable, lines)):  # half the time of `visible` on the text
            lines = [visible(line) for line in lines]
        if self.furniture is not None or self.cut_from is not None or self.signature is not None:
            lines = self.furniture_lines_dropped(lines, page)
        lines, truncated = boilerplate.cut_short(lines)
        text = "\n".join(lines)
        original = (
            page.original_source or findings.original_source or boilerplate.original_from_text(text)
        )
        authors: Sequence[str] = page.authors or findings.authors or item.authors
        published = plausible_date(page.published or item.published, fetched)
        return Article(
            title=short_title(visible(title or (lines[0] if lines else ""))),
            url=self.article_url(item.url) if item.url else "",
            published=published or fetched,
            authors=tuple(dict.fromkeys(visible(author) for author in authors)),
            text=text,
            html=html,
            images=found_images,
            source=self.outlet or item.source or source,
            original_source=original if original != self.outlet else None,
            truncated=truncated,
            dated=published is not None,
        )

    def prepare(self, root: markup.Element, page: Page) -> None:
        """Remove the site's own furniture from `root`, noting date and authors in `page`.

        What the class attributes describe is removed after this: `chrome` by
        `drop_site_chrome`, `furniture` and `cut_from` with the lines every site
        has (`boilerplate.clean`), `signature` from the text's last lines alone
        (`furniture_lines_dropped`), since only there is it certain to be last.
        """

    def drop_site_chrome(self, root: markup.Element) -> None:
        """Remove the elements whose class or id `chrome` matches."""
        if self.chrome is None:
            return
        for element in list(root.iter()):
            names = f"{element.get('class', '')} {element.get('id', '')}"
            if element is not root and names != " " and self.chrome.search(names):
                markup.remove(element)

    def drop_related_lists(self, root: markup.Element) -> None:
        """Remove the lists of links to the site's other articles ("related" lists
        between or after the paragraphs: BBC, RFA): every entry of such a list is
        nothing but links to the site's own hosts."""
        for listing in list(root.iter("ul", "ol")):
            entries = listing.findall("li")
            if entries and all(self._links_home(entry) for entry in entries):
                markup.remove(listing)

    def _links_home(self, entry: markup.Element) -> bool:
        links = entry.findall(".//a")
        return (
            bool(links)
            and all(host_of(link.get("href", "")).endswith(self.hosts) for link in links)
            and markup.text_of(entry) == " ".join(markup.text_of(link) for link in links)
        )

    def furniture_lines_dropped(self, lines: list[str], page: Page) -> list[str]:
        """`lines` without what `furniture`, `cut_from` and `signature` describe.

        The rules `boilerplate.clean` applies to the markup's blocks, applied
        to the text's lines: a block can hold several, separated by ``<br>``.
        """
        kept: list[str] = []
        for line in lines:
            if self.cut_from is not None and self.cut_from.match(line):
                break
            if self.furniture is not None and (found := self.furniture.match(line)):
                page.authors.extend(_named(found))
            else:
                kept.append(line)
        if self.signature is not None:
            for _ in range(2):
                if not kept or not (found := self.signature.match(kept[-1])):
                    break
                page.authors.extend(_named(found))
                kept.pop()
        return kept

    def article_url(self, url: str) -> str:
        """The link to the article: the item's own, cleaned (`canonical_url`)."""
        return canonical_url(url)

    def page_body_html(self, document: markup.Element) -> str | None:
        """The article body of one of the site's pages, as markup; None when
        `page_body` finds nothing there (then the page is read like any other)."""
        for expression in self.page_body:
            found = elements(expression, document)
            if not found:
                continue
            leads = [e for lead in self.page_lead for e in elements(lead, document)]
            body = etree.Element("div")
            for element in [*leads, *found]:
                if any(ancestor in found for ancestor in element.iterancestors()):
                    continue  # inside another element found, which brings it along
                copy = copy_element(element)
                for unwanted in self.page_drop:
                    for part in elements(unwanted, copy):
                        markup.remove(part)
                body.append(copy)
            return markup.to_html(body)
        return None

    def trusts(self, canonical: str, url: str) -> bool:
        """Whether the page at `url` may name `canonical` as its address: one on its
        own host, or on one of the site's (a feed configured with this adapter)."""
        host = host_of(canonical)
        return host.removeprefix("www.") == host_of(url).removeprefix("www.") or (
            bool(self.hosts) and any(host == h or host.endswith("." + h) for h in self.hosts)
        )

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


def plausible_date(published: datetime | None, fetched: datetime) -> datetime | None:
    """The item's date; None when it is missing, a placeholder, or in the future."""
    if published is None:
        return None
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published < EARLIEST or published > fetched + timedelta(days=1):
        return None
    return published


@lru_cache(maxsize=256)
def _xpath(expression: str) -> etree.XPath:
    return etree.XPath(expression)


def has_class(name: str) -> str:
    """An XPath test for an element with the class `name` among its classes."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def elements(expression: str, node: markup.Element) -> list[markup.Element]:
    """The elements the XPath `expression` finds from `node`."""
    found = _xpath(expression)(node)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def copy_element(element: markup.Element) -> markup.Element:
    """A detached copy of `element`, without the text that follows it."""
    copy = deepcopy(element)
    copy.tail = None
    return copy


def split_names(text: str) -> list[str]:
    """Author names from a byline: "A, B and C", "甲、乙", "A 和 B"."""
    parts = re.split(r"\s*(?:,|，|、|;|；|/|／|\band\b|和|与)\s*", " ".join(text.split()))
    return [p.strip() for p in parts if p.strip()]


def parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _named(found: re.Match[str]) -> list[str]:
    names = found.groupdict().get("names")
    return split_names(names) if names else []


def leading_byline(root: markup.Element) -> tuple[list[str], datetime | None]:
    """The mirrors' leading ``<div><i>AUTHOR<br>DATE</i></div>``: remove it, return both.

    feedx's mirrors write it for DW, NYT 中文, VOA and Reuters, the author part
    often empty, the date in ISO 8601 or as an email date ("Sun, 19 Jul 2020
    18:18:30 GMT"); the whole item is often wrapped in one more ``<div>``.
    """
    parent = root
    while (
        len(parent) == 1
        and parent[0].tag == "div"
        and not (parent.text or "").strip()
        and not (parent[0].tail or "").strip()
    ):
        parent = parent[0]
    first = parent[0] if len(parent) else None
    if first is None or first.tag != "div" or (parent.text or "").strip():
        return [], None
    italic = first.find("i")
    if italic is None:
        return [], None
    br = italic.find("br")
    # Without an author there may be no <br>: "<div><i>Sun, 19 Jul 2020 … GMT</i></div>".
    stamp, byline = (
        (br.tail or "", italic.text or "") if br is not None else (italic.text or "", "")
    )
    published = parse_iso(stamp) or parse_email_date(stamp)
    if published is None:
        return [], None
    markup.remove(first)
    # feedx writes "null" where the site gave no author.
    names = [name for name in split_names(byline.replace("null", " ")) if name]
    return list(dict.fromkeys(names)), published


def parse_email_date(text: str) -> datetime | None:
    """An RFC 2822 date ("Sun, 19 Jul 2020 18:18:30 GMT"), as RSS writes them."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
