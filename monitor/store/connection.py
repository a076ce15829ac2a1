"""Which backend a storage target names, and a connection to it."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from .backend import Database
from .postgres import PostgresDatabase
from .sqlite import SQLiteDatabase, writable

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


def database_exists(target: str | Path) -> bool:
    """Whether `target` names a database made already: a SQLite file that exists (a
    PostgreSQL server's database is made by its owner, and is taken to be there).
    A folder in its place counts, so that opening it says what is wrong."""
    return is_postgres(target) or sqlite_path(target).exists()


def connect(
    target: str | Path, *, busy_timeout: float = 30.0, create: bool = True, read_only: bool = False
) -> Database:
    """A connection to `target`; without `create`, a SQLite file must exist already
    (a PostgreSQL database always must); `read_only` opens a SQLite file for reading."""
    if is_postgres(target):
        return PostgresDatabase(str(target), connect_timeout=busy_timeout)
    path = sqlite_path(target)
    return SQLiteDatabase(path, busy_timeout=busy_timeout, create=create, read_only=read_only)


def read_only_here(target: str | Path) -> bool:
    """Whether `target` is a SQLite file this user may read but not write."""
    if is_postgres(target):
        return False
    path = sqlite_path(target)
    return path.is_file() and os.access(path, os.R_OK) and not writable(path)
