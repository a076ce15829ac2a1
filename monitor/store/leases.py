"""Leases, which keep two processes from doing one job, and who this process is.

A lease names its holder as "HOST pid PID". A holder on this host whose
process no longer exists (killed, crashed) is stale: its lease is taken over at
once instead of after it expires, so a restart after ``kill -9`` goes on
immediately.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, datetime, timedelta

from .base import StorageBase
from .encoding import iso

HOST = socket.gethostname()
HOLDER = f"{HOST} pid {os.getpid()}"
DAEMON_LEASE = "daemon"
_HOLDER = re.compile(r"^(?P<host>.+) pid (?P<pid>\d+)$")


def is_stale(holder: str) -> bool:
    """True when `holder` was a process on this host that is gone."""
    found = _HOLDER.match(holder)
    if not found or found.group("host") != HOST:
        return False
    pid = int(found.group("pid"))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LeaseStore(StorageBase):
    """Named leases with a holder and an expiry, taken and renewed in one transaction."""

    def acquire_lease(self, name: str, holder: str, seconds: float, now: datetime) -> str | None:
        """Take (or renew) the lease `name` for `seconds`.

        None if another live holder has it; else who held it before ("" if nobody).
        """
        with self.transaction(f"lease:{name}"):
            row = self._db.execute(
                "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if (
                row is not None
                and row["holder"] != holder
                and row["expires_at"] > iso(now)
                and not is_stale(row["holder"])
            ):
                return None
            self._db.execute(
                """INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
                   ON CONFLICT (name) DO UPDATE
                   SET holder = excluded.holder, expires_at = excluded.expires_at""",
                (name, holder, iso(now + timedelta(seconds=seconds))),
            )
            return row["holder"] if row is not None else ""

    def lease_holder(self, name: str, now: datetime) -> str | None:
        row = self._db.execute(
            "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
        ).fetchone()
        return row["holder"] if row is not None and row["expires_at"] > iso(now) else None

    def live_leases(self, prefix: str, now: datetime) -> list[str]:
        """Holders of unexpired leases whose names start with `prefix`."""
        with self._errors("read leases"):
            rows = self._db.execute(
                "SELECT name, holder, expires_at FROM leases WHERE expires_at > ?", (iso(now),)
            ).fetchall()
        return [row["holder"] for row in rows if row["name"].startswith(prefix)]

    def release_lease(self, name: str, holder: str) -> None:
        with self._errors("release lease"):
            self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


def daemon_holder(storage: LeaseStore) -> str | None:
    """A daemon running on this database, if any (for `monitor run` to refuse).

    Here rather than with the daemon, so that `monitor run` does not import the
    scheduler to ask.
    """
    for holder in storage.live_leases(DAEMON_LEASE, datetime.now(UTC)):
        if holder != HOLDER and not is_stale(holder):
            return holder
    return None
