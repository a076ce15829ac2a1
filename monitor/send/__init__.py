"""Stage 6, send: a composed digest to an SMTP server, or to the outbox folder.

Takes the email `digest` composed; hands back a `Delivery` saying who
accepted it, only once the server did (or the outbox files are completely
written), so the caller marks stories delivered only then. A failure is a
`DeliveryError`.
"""

from .delivery import Delivery, deliver

__all__ = ["Delivery", "deliver"]
