"""Which backend a storage target names, and a connection to it."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .backend import Database
from .postgres import PostgresDatabase
from .sqlite import SQLiteDatabase

POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres(target: str | Path) -> bool:
    return isinstance(target, str) and target.split(":", 1)[0] in POSTGRES_SCHEMES


def sqlite_path(target: str | Path) -> Path:
    """The file behind ``sqlite:///relative`` / ``sqlite:////absolute``, or a plain path."""
    if isinstance(target, Path):
        return target
    if target.startswith("sqlite:///"):
        return Path(target.removeprefix("sqlite:///"))
    if target.startswith("sqlite:"):
        raise ConfigError(f"{target}: write a SQLite database as sqlite:///path/to/monitor.db")
    return Path(target)


def connect(target: str | Path, *, busy_timeout: float = 30.0, create: bool = True) -> Database:
    """A connection to `target`; without `create`, a SQLite file must exist already
    (a PostgreSQL database always must)."""
    if is_postgres(target):
        return PostgresDatabase(str(target), connect_timeout=busy_timeout)
    return SQLiteDatabase(sqlite_path(target), busy_timeout=busy_timeout, create=create)
