"""The one exception tree of `monitor`.

Every error a user can meet is a `MonitorError`; its message is one line that
names the thing at fault (the config file and key, the feed, the database, the
mail server) so the user knows what to fix without reading a traceback::

    MonitorError
     ├── ConfigError     the config file is missing, unreadable or wrong
     ├── FetchError      one feed could not be fetched (never stops the others)
     ├── ParseError      one feed's bytes are not a usable feed
     ├── StorageError    the database cannot be opened, read or written
     └── DeliveryError   the digest could not be delivered (it is retried)
          └── DeliveryUncertain  no answer after the message went out: it is
                                 sent again, the same message, next time

Causes are chained (``raise ... from e``) so ``--debug`` can still show them.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error `monitor` reports to a user."""

    exit_code = 1


class ConfigError(MonitorError):
    """The configuration cannot be used; the message names file, line and key."""

    exit_code = 2


class FetchError(MonitorError):
    """A feed could not be fetched; the message names the feed and the reason.

    `status` is the HTTP status when there was one, and `retry_after` what the
    server said about coming back (429/503), for the scheduler.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ParseError(MonitorError):
    """A feed's content is not a feed `monitor` can read."""


class StorageError(MonitorError):
    """The database cannot be used; the message names the database file."""


class DeliveryError(MonitorError):
    """A digest was not accepted; its stories stay pending for the next run.

    `permanent` when the server's answer says that trying again soon will not
    help (a 5xx refusal, a login refused): the daemon then waits for the
    digest's next scheduled send rather than asking again in minutes.
    """

    exit_code = 3

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class DeliveryUncertain(DeliveryError):
    """The message went out but its acceptance was never confirmed (no answer after
    the message, a timeout): the same message is sent again with the next digest."""
