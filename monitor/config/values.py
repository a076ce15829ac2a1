"""Checks of single config values, shared by the loader and the commands that edit feeds."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

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
    if url != url.strip():
        return "not a URL: space before or after it"
    if "://" not in url and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
        return None
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError as e:  # "Invalid IPv6 URL", "Port out of range 0-65535"
        return f"not a URL: {e}"
    if parts.scheme in ("http", "https"):
        if not hostname:
            return "not a URL: no host"
        if port == 0:
            return "not a URL: port 0"
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


def local_path(url: str, base_dir: Path) -> Path | None:
    """The file or folder a feed URL points at, or None for a network URL."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return None
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    path = Path(os.path.expanduser(url))
    return path if path.is_absolute() else base_dir / path


def outside_roots(path: Path, roots: Sequence[Path]) -> bool:
    """Whether `path`, its links followed, lies outside every one of `roots`.

    A local feed is read with the rights of whoever runs `monitor` and its
    items are mailed to the digest's readers: where the config's author, the
    daemon's user and the readers are different people, a feed at
    ``~/.ssh/`` or ``/etc/`` would mail private files. So local feeds are
    read only under the config's own folder (where `monitor init` puts the
    samples) and the folders ``[fetch] local_folders`` names.
    """
    real = path.resolve()
    return not any(real.is_relative_to(root.resolve()) for root in roots)


def feed_location_problem(url: str, base_dir: Path, folders: Sequence[Path]) -> str | None:
    """Why `url` may not be a feed of the config in `base_dir`, or None if it may."""
    problem = url_problem(url)
    if problem:
        return problem
    path = local_path(url, base_dir)
    if path is not None and outside_roots(path, [base_dir, *folders]):
        return (
            f"{path} is outside the config's folder {base_dir}; "
            "to read local feeds there, list the folder in [fetch] local_folders"
        )
    return None


PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def proxy_problem(url: str) -> str | None:
    """Why `url` cannot be a proxy, or None if it can."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        return f"not a proxy URL: {e}"
    if parts.scheme not in PROXY_SCHEMES:
        return f'a proxy is {", ".join(s + "://" for s in PROXY_SCHEMES)}HOST:PORT, or "direct"'
    if not parts.hostname or port is None:
        return "name the proxy's host and port, as in socks5://127.0.0.1:1080"
    return None
