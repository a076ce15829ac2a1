"""Exports of a stage imported when first used (PEP 562), for stages whose parts
need costly libraries the others do not.

`monitor run` imports the service stage but not its daemon (APScheduler, 36
ms), and its worker processes take the topics of the digest stage without its
renderer (jinja2 and css-inline, 60 ms, before the first fetch). The stage's
``__init__`` still lists every export in `__all__` and, for type checkers, as
imports under ``TYPE_CHECKING``; a test holds the three lists to one another.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, modules: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for `package`: each name of `modules` (module → names)
    is imported from its module the first time it is asked for, then kept."""
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
