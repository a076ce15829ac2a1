"""The `monitor` command line: arguments in, one command run, errors as one line.

Heavy modules (httpx, feedparser, lxml, jinja2) are imported inside the
commands, so ``monitor --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ..errors import MonitorError
from .arguments import build_parser

log = logging.getLogger("monitor")


def run() -> NoReturn:
    """The `monitor` command: `main`, then out of the process at once.

    Python's own exit would collect and free every object the command made
    (after a run: the dedup index, thousands of items), 40–60 ms of a run's
    two seconds. By then `main` has closed the database and stopped the
    workers; only the output remains to be flushed. (mypy ends the same way.)
    """
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe: whoever read it is gone
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    # NumPy's vector operations here are small, and a run's worker processes use
    # every core already: a BLAS thread pool would only compete with them, and
    # its threads would keep a run from forking its workers (`service.workers.LazyPool`).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(debug=args.debug, json_lines=getattr(args, "log_format", "text") == "json")
    if not getattr(args, "command", None):
        getattr(args, "help_of", parser).print_help()
        return 2
    try:
        return int(args.command(args))
    except MonitorError as e:
        if args.debug:
            log.exception("error")
        print(f"monitor: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # Whoever read the output stopped (``monitor export | head -1``): not an error.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("monitor: interrupted; what was stored is kept", file=sys.stderr)
        return 130


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the structured fields a log line carries."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False)


def _setup_logging(*, debug: bool, json_lines: bool = False) -> None:
    """Log lines go to the current stderr, prefixed so they stand out in cron mail."""
    for handler in list(log.handlers):
        log.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("monitor: %(message)s")
    )
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False
    # The scheduler's own errors in the same format, not as bare lines in the
    # middle of JSON ones; its warnings (a tick skipped while the last one waits
    # on the database) only with --debug.
    scheduler = logging.getLogger("apscheduler")
    for old in list(scheduler.handlers):
        scheduler.removeHandler(old)
    scheduler.addHandler(handler)
    scheduler.setLevel(logging.DEBUG if debug else logging.ERROR)
    scheduler.propagate = False


if __name__ == "__main__":
    sys.exit(main())
