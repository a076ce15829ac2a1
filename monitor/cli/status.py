"""`monitor status`: what each feed and digest is doing, for people and scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from ..config import Config
from ..service import next_digest_slot
from ..store import DAEMON_LEASE, DeliveryProblems, Storage, is_stale
from ..words import counted


def status_report(
    config: Config, storage: Storage | None, now: datetime | None = None, zone: tzinfo | None = None
) -> dict[str, Any]:
    """Feeds in config order (feeds never fetched included), then digests; without
    `storage` (no database made yet), as they are before the first run.

    Every time is in one zone, `zone` (by default the machine's own), in ISO
    8601 with its offset; the text shows the same times, and names the zone.
    """
    now = now or datetime.now(UTC)
    zone = zone or datetime.now().astimezone().tzinfo or UTC

    def local(value: str | None) -> str | None:
        if not value:
            return None
        return datetime.fromisoformat(value).astimezone(zone).isoformat(timespec="seconds")

    stored = storage.feed_statuses() if storage else {}
    pages = storage.page_failure_counts() if storage else {}
    feeds = []
    for feed in config.feeds:
        row = stored.get(feed.name, {})
        state = "ok"
        if feed.paused:
            state = "paused"
        elif row.get("gone"):
            state = "gone"
        elif row.get("error_count"):
            state = "failing"
        elif not row.get("last_fetched_at"):
            state = "new"
        feeds.append(
            {
                "name": feed.name,
                "url": feed.url,
                "moved_to": row.get("moved_to"),
                "state": state,
                "last_fetch": local(row.get("last_fetched_at")),
                "http_status": row.get("last_status"),
                "items": row.get("items", 0),
                "last_new_item": local(row.get("last_new_at")),
                "errors": row.get("error_count", 0),
                "last_error": row.get("last_error"),
                # A paused feed is not fetched: it has no next fetch.
                "next_fetch": None if feed.paused else local(row.get("next_fetch_at")),
                "pages_failed": dict(
                    zip(("retrying", "given_up"), pages.get(feed.name, (0, 0)), strict=True)
                ),
            }
        )
    since = now - timedelta(days=config.dedup.window_days)
    digests = []
    for digest in config.digests:
        problems, pending, (shown, left_out) = DeliveryProblems(0, None, ()), set[int](), (0, 0)
        if storage is not None:
            problems = storage.delivery_problems(digest.name)
            for recipient in digest.recipients or (digest.sender,):
                pending |= storage.pending_story_ids(digest.name, recipient, since)
            if digest.topics and pending:
                from ..digest import homes  # noqa: PLC0415 - only for limited digests

                shown_ids = {s.id for s, _ in homes(storage.stories(pending), config, digest)}
                pending &= shown_ids
            shown, left_out = storage.last_counts(digest.name)
        digests.append(
            {
                "name": digest.name,
                "recipients": list(digest.recipients),
                "last_delivered": local(storage.last_delivery(digest.name) if storage else None),
                "last_shown": shown,
                "last_left_out": left_out,
                "next_due": local(next_digest_slot(now, digest.send_at, digest.zone).isoformat()),
                "pending_stories": len(pending),
                "failed_since_delivered": problems.failed,
                "last_failure": (
                    {"at": local(problems.last_failure[0]), "error": problems.last_failure[1]}
                    if problems.last_failure
                    else None
                ),
                "uncertain": [
                    {"at": local(at), "message_id": message_id, "error": error}
                    for at, message_id, error in problems.uncertain
                ],
            }
        )
    location = str(config.storage.target)
    database: dict[str, Any] = {"location": location, "schema": None, "daemons": []}
    if storage is not None:
        database = {
            "location": storage.name,
            "schema": storage.schema_version(),
            # Holders of live daemon leases: one on SQLite, each daemon sharing PostgreSQL;
            # not one of this machine's that is gone (killed), whose lease has yet to expire.
            "daemons": sorted(
                holder for holder in storage.live_leases(DAEMON_LEASE, now) if not is_stale(holder)
            ),
        }
    zone_name = datetime.now(zone).strftime("%Z %z").strip()
    return {"zone": zone_name, "feeds": feeds, "digests": digests, "database": database}


def _when(value: str | None) -> str:
    """A time of the report, in the report's zone already, as the table shows it."""
    return datetime.fromisoformat(value).strftime("%m-%d %H:%M") if value else "-"


def render_status(report: dict[str, Any]) -> str:
    """A plain table; errors on their own line below the feed, so nothing is cut."""
    header = ("feed", "state", "last fetch", "http", "items", "last new", "errors", "next fetch")
    rows = [
        (
            feed["name"],
            feed["state"],
            _when(feed["last_fetch"]),
            str(feed["http_status"] or "-"),
            str(feed["items"]),
            _when(feed["last_new_item"]),
            str(feed["errors"]),
            "never (gone)" if feed["state"] == "gone" else _when(feed["next_fetch"]),
        )  # fmt: skip
        for feed in report["feeds"]
    ]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [_line(header, widths)]
    for feed, row in zip(report["feeds"], rows, strict=True):
        lines.append(_line(row, widths))
        if feed["last_error"] and feed["state"] in ("failing", "gone"):
            lines.append(f"    {feed['last_error']}")
        if feed["moved_to"]:
            lines.append(f"    moved permanently to {feed['moved_to']}")
        failed = feed["pages_failed"]
        if failed["retrying"] or failed["given_up"]:
            lines.append(
                f"    article pages failed: {failed['retrying']} to be tried again, "
                f"{failed['given_up']} given up (their teasers kept)"
            )
    lines.append("")
    for digest in report["digests"]:
        lines.append(
            f"digest {digest['name']}: last delivered {_when(digest['last_delivered'])}"
            + (
                f" ({counted(digest['last_shown'], 'story', 'stories')} shown, "
                f"{digest['last_left_out']:,} left out)"
                if digest["last_left_out"]
                else ""
            )
            + f", next due {_when(digest['next_due'])}, "
            f"{counted(digest['pending_stories'], 'story', 'stories')} pending"
        )
        if digest["failed_since_delivered"]:
            failure = digest["last_failure"]
            lines.append(
                f"    {digest['failed_since_delivered']} failed since, the last at "
                f"{_when(failure['at'])}: {failure['error']}"
            )
        for uncertain in digest["uncertain"]:
            why = uncertain["error"] or "the sender stopped before it was recorded"
            lines.append(
                f"    uncertain: {uncertain['message_id']} of {_when(uncertain['at'])} may not "
                f"have been delivered ({why}); it is sent again, unchanged, before the next digest"
            )
    database = report["database"]
    daemons = ", ".join(database["daemons"]) or "none running"
    if database["schema"] is None:
        lines.append(f"database {database['location']}: not made yet (the first run makes it)")
    else:
        lines.append(
            f"database {database['location']}: schema version {database['schema']}; "
            f"daemons: {daemons}"
        )
    lines.append(f"times in {report['zone']}")
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(
        2
        if c >= "\u1100"
        and (c <= "\u115f" or "\u2e80" <= c <= "\ufaff" or "\uff00" <= c <= "\uffef")
        else 1
        for c in text
    )


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()
