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

HOST = socket.gethostname()
HOLDER = f"{HOST} pid {os.getpid()}"
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
