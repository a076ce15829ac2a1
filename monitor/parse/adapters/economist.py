"""The Economist (economist.com), in English.

Items open with an ``<aside>`` holding the date. Articles end with
subscription notes ("For full access to print, digital and audio editions
… subscribe here", "Editor’s note: Some of our covid-19 coverage is free …",
"For more coverage of …, register for …"), podcast episodes with "Listen on:
Apple Podcasts | Spotify …", and some with "Dig deeper:" and a list of links.
"""

from __future__ import annotations

import re

from .base import SiteAdapter


class EconomistAdapter(SiteAdapter):
    name = "economist"
    hosts = ("economist.com",)
    outlet = "The Economist"
    cut_from = re.compile(r"^(?:Dig deeper|Read more|Listen on)\s*:", re.IGNORECASE)
    furniture = re.compile(
        r"^(?:(?:For full access|Please subscribe|Subscribe to The Economist).*subscribe.*|"
        r"Editor’s note: .*(?:free|newsletter|coronavirus hub|covid-19 hub).*|"
        r"For (?:the latest|more coverage|more on) .*"
        r"(?:newsletter|register|sign up|hub|results page).*|"
        r"(?:This article appeared in the .* section of the print edition.*))$",
        re.IGNORECASE,
    )
