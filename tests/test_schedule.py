"""Scheduling decisions as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.config import MAX_DAYS
from monitor.service import next_digest_slot
from monitor.service.schedule import (
    JITTER,
    MAX_BACKOFF,
    ServerHints,
    digest_due,
    digest_slot,
    jitter,
    next_fetch,
    server_delay,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
FIVE_MINUTES = timedelta(minutes=5)


def delay(**kwargs: object) -> timedelta:
    return next_fetch("feed", NOW, HOUR, FIVE_MINUTES, **kwargs) - NOW  # type: ignore[arg-type]


def test_jitter_is_bounded_and_fixed_per_feed() -> None:
    values = {jitter(f"feed {n}", HOUR) for n in range(200)}
    assert all(abs(v) <= HOUR * JITTER for v in values)
    assert len(values) > 150  # spread, not all the same
    assert jitter("DW 中文", HOUR) == jitter("DW 中文", HOUR)


def test_interval_with_its_jitter() -> None:
    assert abs(delay(errors=0) - HOUR) <= HOUR * JITTER


def test_min_interval_is_a_floor() -> None:
    soon = next_fetch("feed", NOW, timedelta(seconds=10), FIVE_MINUTES, 0)
    assert soon - NOW >= FIVE_MINUTES


def test_failures_back_off_exponentially_up_to_a_cap() -> None:
    delays = [delay(errors=n) for n in range(1, 12)]
    assert all(b >= a for a, b in zip(delays, delays[1:], strict=False))
    assert abs(delays[1] - 2 * HOUR) <= 2 * HOUR * JITTER
    assert abs(delays[2] - 4 * HOUR) <= 4 * HOUR * JITTER
    assert max(delays) <= MAX_BACKOFF * (1 + JITTER)
    assert abs(delays[-1] - MAX_BACKOFF) <= MAX_BACKOFF * JITTER


def test_the_longest_interval_allowed_backs_off_without_leaving_the_calendar() -> None:
    longest = timedelta(days=MAX_DAYS)
    for errors in (1, 16, 21, 1000):
        delay = next_fetch("feed", NOW, longest, FIVE_MINUTES, errors) - NOW
        assert delay <= MAX_BACKOFF * (1 + JITTER)


def test_retry_after_seconds_and_date() -> None:
    assert delay(errors=1, hints=ServerHints(retry_after="7200")) == 2 * HOUR
    when = "Sun, 22 Nov 2026 11:00:00 GMT"
    assert delay(errors=1, hints=ServerHints(retry_after=when)) == 3 * HOUR
    assert server_delay(ServerHints(retry_after="soon"), NOW) is None


def test_cache_control_wins_over_expires_and_ttl_is_honoured() -> None:
    hints = ServerHints(
        cache_control="public, max-age=10800", expires="Sun, 22 Nov 2026 09:00:00 GMT"
    )
    assert delay(errors=0, hints=hints) == 3 * HOUR
    hints = ServerHints(
        expires="Sun, 22 Nov 2026 10:00:00 GMT", date="Sun, 22 Nov 2026 08:00:00 GMT"
    )
    assert delay(errors=0, hints=hints) == 2 * HOUR
    assert delay(errors=0, hints=ServerHints(ttl_minutes=240)) == 4 * HOUR
    # A server can ask for a longer wait, not a shorter one than the interval.
    assert (
        abs(delay(errors=0, hints=ServerHints(cache_control="max-age=60")) - HOUR) <= HOUR * JITTER
    )


def test_digest_slots_follow_the_local_clock_across_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    at = time(7, 0)
    # Before and after the switch to summer time (29 March 2026): 07:00 local each day.
    before = digest_slot(datetime(2026, 3, 28, 12, tzinfo=UTC), at, berlin)
    after = digest_slot(datetime(2026, 3, 30, 12, tzinfo=UTC), at, berlin)
    assert before == datetime(2026, 3, 28, 6, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)
    assert next_digest_slot(datetime(2026, 10, 24, 12, tzinfo=UTC), at, berlin) == datetime(
        2026, 10, 25, 6, 0, tzinfo=UTC
    )  # back to winter time that night


def test_a_time_skipped_by_the_spring_jump_still_happens() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    slot = next_digest_slot(datetime(2026, 3, 28, 23, tzinfo=UTC), time(2, 30), berlin)
    assert slot.astimezone(berlin).hour == 3  # 02:30 does not exist that night


def test_digest_due_when_the_latest_slot_was_not_handled() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    at = time(7, 0)
    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    slot = digest_slot(now, at, shanghai)
    assert slot == datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    assert digest_due(now, at, shanghai, last_slot=slot - timedelta(days=1))  # missed: send once
    assert not digest_due(now, at, shanghai, last_slot=slot)  # already handled
    assert digest_due(now, at, shanghai, last_slot=None)
