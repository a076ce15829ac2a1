"""Site adapters: one module per site, chosen by host, a generic one for the rest.

An adapter turns a feed `Item` into a clean `Article`: the article's own text
and markup without the site's chrome, so that dedup, topics and summaries see
the same words whichever outlet carried them. To add a site, write a module
here with a `SiteAdapter` subclass (its `name`, `hosts`, `outlet` and a
`prepare` method that removes the site's furniture), list it in `ADAPTERS`,
and add a golden test for it in ``tests/adapters/``.
"""

from __future__ import annotations

from functools import lru_cache

from ...errors import ConfigError
from ...urls import host_of
from .base import SiteAdapter
from .bbc import BBCAdapter
from .bitterwinter import BitterWinterAdapter
from .cctv import CCTVAdapter
from .cdt import CDTAdapter
from .cna import CNAAdapter
from .cri import AggregatorAdapter, CRIAdapter
from .dw import DWAdapter
from .economist import EconomistAdapter
from .epochtimes import EpochTimesAdapter
from .ftchinese import FTChineseAdapter
from .generic import GenericAdapter
from .nytimes import NYTimesAdapter
from .reuters import ReutersAdapter
from .rfa import RFAAdapter
from .rfi import RFIAdapter
from .rti import RTIAdapter
from .voa import VOAAdapter

Adapter = SiteAdapter

GENERIC = GenericAdapter()
# One entry per site; adding a site means adding its module and listing it here.
ADAPTERS: tuple[Adapter, ...] = (
    DWAdapter(),
    NYTimesAdapter(),
    RFIAdapter(),
    CRIAdapter(),
    AggregatorAdapter(),
    CNAAdapter(),
    ReutersAdapter(),
    VOAAdapter(),
    BBCAdapter(),
    EpochTimesAdapter(),
    RFAAdapter(),
    CDTAdapter(),
    EconomistAdapter(),
    BitterWinterAdapter(),
    CCTVAdapter(),
    FTChineseAdapter(),
    RTIAdapter(),
    GENERIC,
)
_BY_NAME = {adapter.name: adapter for adapter in ADAPTERS}


def adapter_named(name: str) -> Adapter:
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise ConfigError(f"no adapter named {name!r} (known: {known})") from None


def adapter_for(url: str) -> Adapter:
    """The adapter whose hosts match `url`'s host or a parent domain of it."""
    return _adapter_for_host(host_of(url))


@lru_cache(maxsize=4096)
def _adapter_for_host(host: str) -> Adapter:
    for adapter in ADAPTERS:
        for suffix in adapter.hosts:
            if host == suffix or host.endswith("." + suffix):
                return adapter
    return GENERIC


__all__ = ["ADAPTERS", "Adapter", "GENERIC", "adapter_for", "adapter_named"]
