"""Deliver a composed digest: to an SMTP server, or to the outbox folder.

Delivery reports success only once the server accepted the message for every
recipient (or the outbox files are completely written); the caller marks
stories delivered only then, so a failure means the next run tries again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from ..config import Config, DigestConfig
from .outbox import write_outbox
from .smtp import send_smtp


@dataclass(frozen=True)
class Delivery:
    transport: str
    accepted: list[str]
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def refused_for_good(self) -> bool:
        """Whether the server refused each refused recipient permanently (5xx)."""
        return all(why.startswith("5") for why in self.refused.values())

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
