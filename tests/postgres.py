"""A throwaway PostgreSQL cluster on 127.0.0.1 for the tests.

``MONITOR_TEST_POSTGRES`` may name a server to use instead (a URL of a
database the tests may create databases from). Otherwise the cluster is made
with the server programs of the Debian ``postgresql`` package or, on a
machine without them (or with ``MONITOR_TEST_POSTGRES_BUNDLED`` set), those
the ``pgserver`` wheel bundles: it ships PostgreSQL's own initdb, pg_ctl
and postgres in a manylinux wheel from PyPI (Linux x86_64, Python 3.9-3.12),
so the tests drive it exactly as the system's, and ``pip install`` is all a
fresh machine needs. The server refuses root: as root, the cluster runs as
the ``postgres`` user, or ``nobody`` where there is none.
"""

from __future__ import annotations

import glob
import importlib.util
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
BUNDLED = "MONITOR_TEST_POSTGRES_BUNDLED"


def _programs() -> Path:
    if not os.environ.get(BUNDLED):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
        if found:
            return Path(found[-1]).parent
        initdb = shutil.which("initdb")
        if initdb:
            return Path(initdb).resolve().parent
    bundled = _bundled()
    if bundled is not None:
        return bundled
    raise RuntimeError(
        "the tests need a PostgreSQL server: pip install pgserver, or apt-get install "
        f"postgresql (or set {ENV} to a server's URL)"
    )


def _bundled() -> Path | None:
    """The programs of the ``pgserver`` wheel, if it is installed (found, not imported:
    importing it sets up a server of its own)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    programs = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"
    return programs if (programs / "initdb").is_file() else None


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "nobody"
    return "postgres"


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
    user = _server_user()
    # Not under pytest's folders: those are private to the user running the tests.
    with tempfile.TemporaryDirectory(prefix="monitor-postgres-") as name:
        folder = Path(name)
        if user and programs == _bundled():
            # Where the wheel lies (a virtual environment in root's home) the
            # server's user may not reach: a copy beside its data, with the
            # libraries the programs find at ``$ORIGIN/../../../pgserver.libs``.
            wheel = programs.parents[2]
            copy = folder / "wheel"
            shutil.copytree(wheel / "pgserver" / "pginstall", copy / "pgserver" / "pginstall")
            shutil.copytree(wheel / "pgserver.libs", copy / "pgserver.libs")
            programs = copy / "pgserver" / "pginstall" / "bin"
            for path in [copy, *copy.rglob("*")]:
                if path.is_dir():
                    path.chmod(0o755)
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
