"""File a message in the outbox folder: an ``.eml`` and an ``.html`` preview, each
written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from ..errors import DeliveryError


def write_outbox(outbox: Path, message: EmailMessage, html: str, now: datetime) -> Path:
    """Write ``digest-<time>.eml`` and its ``.html`` preview; return the .eml path."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    try:
        outbox.mkdir(mode=0o700, parents=True, exist_ok=True)  # its files are 0600 (mkstemp)
        eml = outbox / f"digest-{stamp}.eml"
        counter = 1
        while eml.exists():
            counter += 1
            eml = outbox / f"digest-{stamp}-{counter}.eml"
        _write_atomic(eml.with_suffix(".html"), html.encode("utf-8"))
        _write_atomic(eml, message.as_bytes())
    except OSError as e:
        places = (outbox, *outbox.parents)
        blocker = next((p for p in places if p.exists() and not p.is_dir()), None)
        why = f"{blocker} is a file, not a folder" if blocker else (e.strerror or str(e))
        raise DeliveryError(f"outbox {outbox}: cannot write: {why}") from e
    return eml


def _write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
