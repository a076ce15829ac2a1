"""Site adapters: one module per site, chosen by host, a generic one for the rest.

An adapter turns a feed `Item` into a clean `Article`: the article's own text
and markup without the site's chrome, so that dedup, topics and summaries see
the same words whichever outlet carried them. To add a site, write a module
here with a class that has a `name`, a `hosts` tuple and an `adapt` method,
and list it in `ADAPTERS`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..models import Article, Item
from .generic import GenericAdapter


class Adapter(Protocol):
    name: str
    hosts: tuple[str, ...]

    def adapt(self, item: Item, source: str, fetched: datetime) -> Article: ...


GENERIC = GenericAdapter()
ADAPTERS: tuple[Adapter, ...] = (GENERIC,)
_BY_NAME = {adapter.name: adapter for adapter in ADAPTERS}


def adapter_named(name: str) -> Adapter:
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise ConfigError(f"no adapter named {name!r} (known: {known})") from None


def adapter_for(url: str) -> Adapter:
    """The adapter whose hosts match `url`'s host or a parent domain of it."""
    host = (urlsplit(url).hostname or "").lower()
    for adapter in ADAPTERS:
        for suffix in adapter.hosts:
            if host == suffix or host.endswith("." + suffix):
                return adapter
    return GENERIC


__all__ = ["ADAPTERS", "Adapter", "GENERIC", "adapter_for", "adapter_named"]
