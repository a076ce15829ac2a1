"""RTI 中央廣播電臺 (rti.org.tw).

Its feed gives each article's first few hundred characters and ends them with
"......more", a link to the page (`boilerplate.TRUNCATED`: the page is
fetched for the rest). Headlines start with a section ("[政治]", "[國際]")
and some end with the day's number of the item (" - 200729-4"); the reporter
is named inside the text, between the lead and the body
("#央廣記者江昭倫報導#", "#請聽記者王韋婷的報導#"), or the text says "#請聽以下專題報導#".
The page holds the article in ``div.news-detail-box > article``.
"""

from __future__ import annotations

import re

from . import markup
from .base import Page, SiteAdapter, has_class, split_names

REPORTER = re.compile(
    r"#\s*(?:請聽|请听)?(?:央廣|央广)?(?:記者|记者)?\s*(?P<names>[^#\s]{2,12}?)?\s*的?"
    r"(?:專題|专题)?(?:採訪|采访)?(?:報導|报导|報道|报道)\s*#"
)
# "#請聽以下專題報導#": the radio's cue, naming no one.
NOBODY = frozenset({"以下", "央廣", "央广"})


class RTIAdapter(SiteAdapter):
    name = "rti"
    hosts = ("rti.org.tw",)
    outlet = "RTI 中央廣播電臺"
    timezone = "Asia/Taipei"
    title_suffix = re.compile(r"\s+-\s+\d{6}-\d+\s*$")
    # The page: headline, date and source list, then the article, in one box.
    page_body = (f"//div[{has_class('news-detail-box')}]/article",)

    def prepare(self, root: markup.Element, page: Page) -> None:
        for element in root.iter():
            for attribute in ("text", "tail"):
                value = getattr(element, attribute)
                if value and "#" in value and (found := REPORTER.search(value)):
                    named = found.group("names")
                    if named and named not in NOBODY:
                        page.authors.extend(split_names(named))
                    # The byline stands between two paragraphs: keep them two.
                    setattr(element, attribute, REPORTER.sub("\n", value))
