"""Deliver a composed digest: to an SMTP server, or to the outbox folder.

Delivery reports success only once the server accepted the message for every
recipient (or the outbox files are completely written); the caller marks
stories delivered only then, so a failure means the next run tries again.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from .config import Config, DigestConfig, SmtpConfig
from .errors import DeliveryError


@dataclass(frozen=True)
class Delivery:
    transport: str
    accepted: list[str]
    refused: dict[str, str] = field(default_factory=dict)

    def refused_message(self) -> str:
        reasons = "; ".join(f"{r}: {why}" for r, why in sorted(self.refused.items()))
        return f"{self.transport}: refused {reasons} (they get it with the next digest)"


def deliver(
    config: Config,
    digest: DigestConfig,
    message: EmailMessage,
    html: str,
    recipients: list[str],
    now: datetime,
) -> Delivery:
    """Send or file `message`; say where it went and who it was accepted for."""
    if config.smtp is not None:
        refused = send_smtp(config.smtp, message, recipients)
        transport = f"smtp://{config.smtp.host}:{config.smtp.port}"
        accepted = [r for r in recipients if r not in refused]
        return Delivery(transport, accepted, refused)
    return Delivery(str(write_outbox(digest.outbox, message, html, now)), list(recipients))


def tls_context(smtp: SmtpConfig) -> ssl.SSLContext:
    """Certificates are always verified; `ca_file` adds a private CA to trust."""
    where = f"smtp.ca_file {smtp.ca_file}"
    try:
        return ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
    except (OSError, ssl.SSLError) as e:
        raise DeliveryError(f"{where}: cannot load: {e}") from e


def send_smtp(smtp: SmtpConfig, message: EmailMessage, recipients: list[str]) -> dict[str, str]:
    """Send; return the recipients the server refused (and why), if it took the others."""
    where = f"SMTP server {smtp.host}:{smtp.port}"
    try:
        client: smtplib.SMTP
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=tls_context(smtp)
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            client.ehlo()
            if smtp.security == "starttls":
                client.starttls(context=tls_context(smtp))
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password() or "")
            refused = client.send_message(message, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as e:
        raise DeliveryError(f"{where}: login refused ({e.smtp_code})") from e
    except smtplib.SMTPRecipientsRefused as e:
        raise DeliveryError(f"{where}: refused every recipient") from e
    except smtplib.SMTPResponseException as e:
        reason = (
            e.smtp_error.decode(errors="replace")
            if isinstance(e.smtp_error, bytes)
            else e.smtp_error
        )
        raise DeliveryError(f"{where}: {e.smtp_code} {reason}") from e
    except smtplib.SMTPNotSupportedError as e:
        raise DeliveryError(f"{where}: {e} (check smtp.security)") from e
    except (TimeoutError, smtplib.SMTPException, OSError) as e:
        reason = str(e) or type(e).__name__
        raise DeliveryError(f"{where}: {reason}") from e
    return {recipient: f"{code} {_text(reason)}" for recipient, (code, reason) in refused.items()}


def _text(reason: bytes | str) -> str:
    return reason.decode(errors="replace") if isinstance(reason, bytes) else reason


def write_outbox(outbox: Path, message: EmailMessage, html: str, now: datetime) -> Path:
    """Write ``digest-<time>.eml`` and its ``.html`` preview; return the .eml path."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        eml = outbox / f"digest-{stamp}.eml"
        counter = 1
        while eml.exists():
            counter += 1
            eml = outbox / f"digest-{stamp}-{counter}.eml"
        _write_atomic(eml.with_suffix(".html"), html.encode("utf-8"))
        _write_atomic(eml, message.as_bytes())
    except OSError as e:
        raise DeliveryError(f"outbox {outbox}: cannot write: {e.strerror or e}") from e
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
