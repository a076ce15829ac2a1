"""A database its user may only read: commands that read work, the others say why not.

Permissions mean nothing to root, and CI runs as root: the commands run in a
forked process that becomes ``nobody`` first (when the tests run as root),
with everything they need already imported, since the interpreter's own
files may not be readable by that user.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import FeedServer, Response, write_config
from fixtures.make_samples import build

from monitor.cli import main

NOBODY = 65534

# Python 3.12+ warns of any fork while threads run: here the feed server's. The
# child only runs a monitor command whose modules are imported already; it takes
# no lock the server's thread may hold (that thread logs nothing, and shares no
# connection with it).
pytestmark = pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"
)


def as_another_user(run: Callable[[], int]) -> tuple[int, str, str]:
    """`run()`'s exit code, output and errors, in a forked process as `nobody` when root."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 70
            try:
                sys.stdout = os.fdopen(os.dup(out.fileno()), "w")
                sys.stderr = os.fdopen(os.dup(err.fileno()), "w")
                if os.geteuid() == 0:
                    os.setgroups([])
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                code = run()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read(), err.read()


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every user may enter (pytest's own are its user's only)."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-read-only-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


def test_a_database_this_user_may_only_read(
    shared_folder: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.routes["/rfi.xml"] = Response(build()["rfi.xml"].encode())
    data = shared_folder / "data"
    config = write_config(
        shared_folder,
        [("rfi", feed_server.url("/rfi.xml"))],
        storage='path = "data/monitor.db"',
    )
    config.chmod(0o644)
    # Written by its owner; everything the commands below import is imported now.
    assert main(["run", "--no-digest", "--config", str(config)]) == 0
    assert main(["status", "--config", str(config)]) == 0
    assert main(["export", "--config", str(config)]) == 0
    capsys.readouterr()
    database = data / "monitor.db"
    assert not database.with_name("monitor.db-wal").exists()  # checkpointed on closing
    database.chmod(0o444)
    data.chmod(0o555)

    code, out, err = as_another_user(lambda: main(["run", "--no-digest", "--config", str(config)]))
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"monitor: error: database {database}: ")
    assert "read-only: this user cannot write the file or its folder" in err

    code, out, err = as_another_user(lambda: main(["status", "--json", "--config", str(config)]))
    assert (code, err) == (0, "")
    (feed,) = json.loads(out)["feeds"]
    assert (feed["name"], feed["items"], feed["state"]) == ("rfi", 2, "ok")

    code, out, err = as_another_user(lambda: main(["export", "--config", str(config)]))
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 2
    assert sorted(p.name for p in data.iterdir()) == ["monitor.db"]  # nothing written
