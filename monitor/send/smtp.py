"""Send a message through an SMTP server: starttls, ssl or plain, with a login if configured."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from ..config import SmtpConfig
from ..errors import DeliveryError, DeliveryUncertain


class _Watched(smtplib.SMTP):
    """An SMTP client that knows when the message itself began to go out."""

    message_sent = False

    def data(self, msg: Any) -> Any:
        self.message_sent = True
        return super().data(msg)


class _WatchedSSL(smtplib.SMTP_SSL):
    message_sent = False

    def data(self, msg: Any) -> Any:
        self.message_sent = True
        return super().data(msg)


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
    client: _Watched | _WatchedSSL | None = None
    try:
        if smtp.security == "ssl":
            client = _WatchedSSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=tls_context(smtp)
            )
        else:
            client = _Watched(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            client.ehlo()
            if smtp.security == "starttls":
                client.starttls(context=tls_context(smtp))
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password() or "")
            refused = client.send_message(message, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as e:
        raise DeliveryError(
            f"{where}: login refused ({e.smtp_code})", permanent=e.smtp_code >= 500
        ) from e
    except smtplib.SMTPRecipientsRefused as e:
        reasons = "; ".join(
            f"{recipient}: {code} {_text(reason)}"
            for recipient, (code, reason) in sorted(e.recipients.items())
        )
        permanent = all(code >= 500 for code, _ in e.recipients.values())
        raise DeliveryError(
            f"{where}: refused every recipient ({reasons})", permanent=permanent
        ) from e
    except smtplib.SMTPResponseException as e:
        raise DeliveryError(
            f"{where}: {e.smtp_code} {_text(e.smtp_error)}", permanent=e.smtp_code >= 500
        ) from e
    except smtplib.SMTPNotSupportedError as e:
        raise DeliveryError(f"{where}: {e} (check smtp.security)") from e
    except (TimeoutError, smtplib.SMTPException, OSError) as e:
        reason = str(e) or type(e).__name__
        if client is not None and client.message_sent:
            # The server may have accepted it and its answer be lost: only a
            # refusal it gave (above) says for sure that it did not.
            raise DeliveryUncertain(
                f"{where}: no answer after the message ({reason}); it may have been "
                f"delivered, and is sent again, as the same message "
                f"{message['Message-ID']}, with the next digest"
            ) from e
        raise DeliveryError(f"{where}: {reason}") from e
    return {recipient: f"{code} {_text(reason)}" for recipient, (code, reason) in refused.items()}


def _text(reason: bytes | str) -> str:
    return reason.decode(errors="replace") if isinstance(reason, bytes) else reason
