"""The last two stages: build each digest that has pending stories, and send it.

A story is marked delivered only once the server accepted the message (or the
outbox files are written); a failure leaves it pending for the next digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..config import Config, DigestConfig
from ..errors import DeliveryError, MonitorError
from ..models import Digest
from ..store import HOLDER, Storage
from .clock import Clock, utcnow


@dataclass(frozen=True)
class DigestOutcome:
    digest: Digest
    transport: str
    recipients: tuple[str, ...] = ()


DIGEST_LEASE_SECONDS = 600


def send_digests(
    config: Config,
    storage: Storage,
    clock: Clock = utcnow,
    names: tuple[str, ...] = (),
    slot: datetime | None = None,
) -> list[DigestOutcome]:
    """Deliver every configured digest (or those named); one failing does not stop the rest."""
    outcomes: list[DigestOutcome] = []
    failures: list[MonitorError] = []
    for digest in config.digests:
        if names and digest.name not in names:
            continue
        try:
            outcomes.extend(send_digest(config, storage, digest, clock, slot))
        except MonitorError as e:
            failures.append(e)
    if failures:
        raise failures[0]
    return outcomes


def send_digest(
    config: Config,
    storage: Storage,
    digest: DigestConfig,
    clock: Clock = utcnow,
    slot: datetime | None = None,
) -> list[DigestOutcome]:
    """Deliver what each recipient of `digest` has not had yet.

    Recipients with the same pending stories share a message (or get one each
    with ``per_recipient``). A story is recorded as delivered to a recipient
    only once the server accepted the message for that recipient, so a refused
    recipient gets it next time and the others do not get it twice. A lease in
    the database keeps two processes from sending the same digest at once.

    A daemon passes the scheduled `slot`: it is checked and recorded under the
    lease, so of several daemons due at the same moment exactly one sends it.
    """
    now = clock()
    lease = f"digest:{digest.name}"
    if storage.acquire_lease(lease, HOLDER, DIGEST_LEASE_SECONDS, now) is None:
        holder = storage.lease_holder(lease, now) or "another process"
        raise DigestBusy(
            f"digest {digest.name!r} is being sent by {holder}; nothing sent this time"
        )
    try:
        if slot is not None:
            last = storage.get_meta(slot_key(digest.name))
            if last is not None and datetime.fromisoformat(last) >= slot:
                return []
        outcomes = _send_pending(config, storage, digest, now)
        if slot is not None:
            storage.set_meta(slot_key(digest.name), slot.isoformat())
        return outcomes
    finally:
        storage.release_lease(lease, HOLDER)


def slot_key(digest: str) -> str:
    """The meta key holding the last scheduled send of `digest` that was handled."""
    return f"digest_slot:{digest}"


class DigestBusy(DeliveryError):
    """Another process holds the digest's lease: it is sending it right now."""


def _send_pending(
    config: Config, storage: Storage, digest: DigestConfig, now: datetime
) -> list[DigestOutcome]:
    from ..digest import build_digest, compose
    from ..send import deliver

    since = now - timedelta(days=config.dedup.window_days)
    by_pending: dict[frozenset[int], list[str]] = {}
    for recipient in digest.recipients or (digest.sender,):
        pending = frozenset(storage.pending_story_ids(digest.name, recipient, since))
        if pending:
            by_pending.setdefault(pending, []).append(recipient)
    outcomes: list[DigestOutcome] = []
    failures: list[MonitorError] = []
    for story_ids, recipients in by_pending.items():
        built = build_digest(storage.stories(set(story_ids)), config, digest, now)
        if built is None:
            continue
        for to in [[r] for r in recipients] if digest.per_recipient else [recipients]:
            message, html = compose(config, digest, built, to)
            digest_id = storage.begin_digest(
                digest.name, built.subject, str(message["Message-ID"]), to, now, built.story_count
            )
            try:
                delivery = deliver(config, digest, message, html, to, now)
            except MonitorError as e:
                storage.digest_failed(digest_id, str(e))
                failures.append(e)
                continue
            storage.digest_delivered(
                digest_id, digest.name, delivery.accepted, list(built.story_ids),
                delivery.transport, now,
            )  # fmt: skip
            outcomes.append(DigestOutcome(built, delivery.transport, tuple(delivery.accepted)))
            if delivery.refused:
                failures.append(DeliveryError(delivery.refused_message()))
    if failures:
        raise failures[0]
    return outcomes


def preview_digest(
    config: Config, storage: Storage, digest: DigestConfig, clock: Clock = utcnow
) -> str | None:
    """The pending digest of the first recipient as HTML; nothing is delivered or marked."""
    from ..digest import build_digest, render_html

    now = clock()
    since = now - timedelta(days=config.dedup.window_days)
    recipient = (digest.recipients or (digest.sender,))[0]
    story_ids = storage.pending_story_ids(digest.name, recipient, since)
    built = build_digest(storage.stories(story_ids), config, digest, now) if story_ids else None
    return render_html(config, digest, built) if built else None
