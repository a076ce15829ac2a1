"""Checks of single config values, shared by the loader and the commands that edit feeds."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from ..errors import ConfigError


def postgres_url(url: str, error: Callable[[str], ConfigError]) -> str:
    """Check a ``postgresql://`` URL; its password belongs in the environment."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise error(f"{url!r}: expected postgresql://user@host/database or sqlite:///path")
    if parts.password is not None:
        raise error(
            "do not put the password in the config file; set PGPASSWORD in the "
            "environment (or use ~/.pgpass)"
        )
    if not parts.path.strip("/"):
        raise error(f"{url!r}: name the database, as in postgresql://user@host/monitor")
    return url


def type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def looks_like_address(address: str) -> bool:
    return bool(re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+", address))


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a feed location, or None if it can.

    A value without a scheme is a local path (a file, relative to the config).
    """
    if any(c in url for c in "\r\n\t\0"):
        return "not a URL: contains control characters"
    if "://" not in url and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
        return None
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as e:  # "Invalid IPv6 URL"
        return f"not a URL: {e}"
    if parts.scheme in ("http", "https"):
        if not hostname:
            return "not a URL: no host"
        return None
    if parts.scheme == "file":
        return None
    if len(parts.scheme) == 1:  # a Windows drive letter
        return None
    if not parts.scheme or "://" not in url:
        return "not a URL"
    return f"unsupported URL scheme {parts.scheme!r} (use http, https, file or a path)"


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine: ``localhost`` or a loopback address."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
