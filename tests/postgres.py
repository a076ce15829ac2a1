"""A throwaway PostgreSQL cluster on 127.0.0.1 for the tests.

``MONITOR_TEST_POSTGRES`` may name a server to use instead (a URL of a
database the tests may create databases from). Otherwise the cluster is made
with the server programs of the Debian ``postgresql`` package, as the
``postgres`` user when the tests run as root (the server refuses root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ENV = "MONITOR_TEST_POSTGRES"


def _programs() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "the tests need a PostgreSQL server: apt-get install postgresql "
        f"(or set {ENV} to a server's URL)"
    )


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def cluster() -> Iterator[str]:
    """A running server for the block; yields the URL of its ``postgres`` database."""
    if os.environ.get(ENV):
        yield os.environ[ENV]
        return
    programs = _programs()
    user = "postgres" if os.geteuid() == 0 else None
    # Not under pytest's folders: those are private to the user running the tests.
    with tempfile.TemporaryDirectory(prefix="monitor-postgres-") as name:
        folder = Path(name)
        data, sockets, log = folder / "data", folder / "run", folder / "server.log"
        sockets.mkdir()
        if user:
            account = pwd.getpwnam(user)
            for path in (folder, sockets):
                os.chown(path, account.pw_uid, account.pw_gid)
        _run(
            [programs / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8", "--no-sync"],
            user,
        )  # fmt: skip
        port = _free_port()
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sockets} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
            "-c max_connections=200"
        )
        _run([programs / "pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start"], user)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [programs / "pg_ctl", "-D", data, "-m", "immediate", "stop"], user=user,
                capture_output=True,
            )  # fmt: skip


def _run(command: list[Path | str], user: str | None) -> None:
    done = subprocess.run(command, user=user, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr or done.stdout}")


@contextmanager
def database(server: str) -> Iterator[str]:
    """A new, empty database on `server` for the block; yields its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
