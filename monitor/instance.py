"""Who this process is, for the leases that keep two processes from doing one job.

A lease names its holder as "HOST pid PID". A holder on this host whose
process no longer exists (killed, crashed) is stale: its lease is taken over at
once instead of after it expires, so a restart after ``kill -9`` goes on
immediately.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .storage import Storage

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


def daemon_holder(storage: Storage) -> str | None:
    """A daemon running on this database, if any (for `monitor run` to refuse).

    Here rather than with the daemon, so that `monitor run` does not import the
    scheduler to ask.
    """
    for holder in storage.live_leases(DAEMON_LEASE, datetime.now(UTC)):
        if holder != HOLDER and not is_stale(holder):
            return holder
    return None
