"""When to fetch a feed next, and when a digest is due: pure functions.

Fetching. A feed is fetched every ``interval`` (per feed, or ``[fetch]
interval``), never more often than ``[fetch] min_interval``, and never sooner
than the server asked: ``Retry-After`` on 429/503, ``Cache-Control: max-age``
or ``Expires`` on success, and the feed's own RSS ``<ttl>``. Each feed's times
carry a fixed jitter of up to `JITTER` of the interval, derived from its name,
so feeds configured together do not all fire together, yet a restart keeps the
same rhythm. A failing feed backs off exponentially (interval × 2^(errors-1),
capped at `MAX_BACKOFF`) and returns to its interval by itself once it works;
a feed that answered 410 Gone is not fetched again until its URL changes.

Digests. A digest is due at ``send_at`` in its time zone every day; the time
is computed in that zone, so a daylight-saving change moves it with the local
clock. A slot missed while the daemon was down is sent once at start-up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

JITTER = 0.1
MAX_BACKOFF = timedelta(hours=24)
MAX_SERVER_DELAY = timedelta(days=7)
"""A Retry-After or max-age beyond this is not taken at its word."""


@dataclass(frozen=True)
class ServerHints:
    """What the last response said about when to come back."""

    retry_after: str | None = None
    cache_control: str | None = None
    expires: str | None = None
    date: str | None = None
    ttl_minutes: int | None = None


def jitter(name: str, interval: timedelta) -> timedelta:
    """A fixed offset in [-JITTER, +JITTER] × interval, the same for a feed every time."""
    digest = hashlib.blake2b(name.encode(), digest_size=4).digest()
    share = int.from_bytes(digest, "big") / 0xFFFFFFFF * 2 - 1
    return interval * (JITTER * share)


def server_delay(hints: ServerHints, now: datetime) -> timedelta | None:
    """The soonest the server wants to be asked again, if it said."""
    delays: list[timedelta] = []
    if hints.retry_after:
        value = hints.retry_after.strip()
        if value.isdigit():
            delays.append(timedelta(seconds=int(value)))
        else:
            when = _http_date(value)
            if when is not None:
                delays.append(when - now)
    if hints.cache_control:
        for part in hints.cache_control.lower().split(","):
            key, _, value = part.strip().partition("=")
            if key == "max-age" and value.strip().isdigit():
                delays.append(timedelta(seconds=int(value)))
    has_max_age = bool(hints.cache_control and "max-age" in hints.cache_control.lower())
    if hints.expires and not has_max_age:  # RFC 9111 5.3: max-age wins over Expires
        expires = _http_date(hints.expires)
        served = _http_date(hints.date) if hints.date else None
        if expires is not None:
            delays.append(expires - (served or now))
    if hints.ttl_minutes:
        delays.append(timedelta(minutes=hints.ttl_minutes))
    delays = [d for d in delays if d > timedelta(0)]
    return min(max(delays), MAX_SERVER_DELAY) if delays else None


def next_fetch(
    name: str,
    now: datetime,
    interval: timedelta,
    min_interval: timedelta,
    errors: int,
    hints: ServerHints = ServerHints(),
) -> datetime:
    """When to fetch feed `name` next, after a fetch at `now` that left `errors` in a row."""
    base = max(interval, min_interval)
    if errors > 0:
        # Capped first: a long interval doubled 20 times leaves timedelta's range.
        base = min(min(base, MAX_BACKOFF) * 2 ** min(errors - 1, 20), MAX_BACKOFF)
    delay = max(base + jitter(name, base), min_interval)
    asked = server_delay(hints, now)
    if asked is not None:
        delay = max(delay, asked)
    return now + delay


def digest_slot(now: datetime, send_at: time, zone: ZoneInfo) -> datetime:
    """The most recent time at or before `now` when the digest was due (aware, UTC-comparable)."""
    local = now.astimezone(zone)
    today = _local(local.date(), send_at, zone)
    if today <= now:
        return today
    return _local(local.date() - timedelta(days=1), send_at, zone)


def next_digest_slot(now: datetime, send_at: time, zone: ZoneInfo) -> datetime:
    """The first time after `now` when the digest is due."""
    local = now.astimezone(zone)
    today = _local(local.date(), send_at, zone)
    if today > now:
        return today
    return _local(local.date() + timedelta(days=1), send_at, zone)


def digest_due(now: datetime, send_at: time, zone: ZoneInfo, last_slot: datetime | None) -> bool:
    """True when the latest slot has not been handled: on time, or missed while down."""
    slot = digest_slot(now, send_at, zone)
    return last_slot is None or last_slot < slot


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day` at local time `at` in `zone`. A time skipped by a daylight-saving jump
    comes out shifted forward by the jump, which is when local clocks reach it."""
    aware = datetime.combine(day, at).replace(tzinfo=zone)
    # Round-trip through UTC so a nonexistent local time becomes a real instant.
    return aware.astimezone(ZoneInfo("UTC")).astimezone(zone)


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=ZoneInfo("UTC"))
    return parsed
