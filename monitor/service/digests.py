"""The last two stages: build each digest that has pending stories, and send it.

A story is marked delivered only once the server accepted the message (or the
outbox files are written); a failure leaves it pending for the next digest.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Literal

from ..config import Config, DigestConfig
from ..errors import DeliveryError, DeliveryUncertain, MonitorError
from ..models import Digest, Story
from ..store import HOLDER, Storage
from ..words import counted
from .clock import Clock, utcnow


@dataclass(frozen=True)
class DigestOutcome:
    digest: Digest
    transport: str
    recipients: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """What the email held: "12 stories in 3 sections, 40 left out"."""
        digest = self.digest
        text = (
            f"{counted(digest.story_count, 'story', 'stories')} in "
            f"{counted(len(digest.sections), 'section')}"
        )
        return f"{text}, {len(digest.left_out):,} left out" if digest.left_out else text


log = logging.getLogger("monitor")

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
    When some recipients' messages failed for now, the slot is recorded as
    waiting for them alone: sending it again (the daemon's retry) sends to them
    only, so that the others do not get a digest of what came in since at each
    retry. Refused for good (each failure a 5xx), the slot is done: its
    recipients get what waits for them at the next.
    """
    now = clock()
    lease = f"digest:{digest.name}"
    if storage.acquire_lease(lease, HOLDER, DIGEST_LEASE_SECONDS, now) is None:
        holder = storage.lease_holder(lease, now) or "another process"
        raise DigestBusy(
            f"digest {digest.name!r} is being sent by {holder}; nothing sent this time"
        )
    try:
        waiting: set[str] | None = None
        if slot is not None:
            last = storage.get_meta(slot_key(digest.name))
            if last is not None and datetime.fromisoformat(last) >= slot:
                return []
            waiting = _waiting(storage.get_meta(waiting_key(digest.name)), slot)
        _send_unsettled(config, storage, digest, now)
        outcomes, failures, failed = _send_pending(config, storage, digest, now, waiting)
        error = _one_error(failures) if failures else None
        if slot is not None:
            if error is not None and not (isinstance(error, DeliveryError) and error.permanent):
                record = {"slot": slot.isoformat(), "recipients": sorted(failed)}
                storage.set_meta(waiting_key(digest.name), json.dumps(record))
            else:  # done, or refused for good: the next send_at sends what waits
                storage.set_meta(slot_key(digest.name), slot.isoformat())
        if error is not None:
            raise error
        return outcomes
    finally:
        storage.release_lease(lease, HOLDER)


def _one_error(failures: list[MonitorError]) -> MonitorError:
    """The failures of a send as one error: permanent only when each of them is,
    lest a recipient whose server may take the message in minutes wait a day."""
    if len(failures) == 1:
        return failures[0]
    permanent = all(isinstance(f, DeliveryError) and f.permanent for f in failures)
    return DeliveryError("; ".join(str(f) for f in failures), permanent=permanent)


def slot_key(digest: str) -> str:
    """The meta key holding the last scheduled send of `digest` that was handled."""
    return f"digest_slot:{digest}"


def waiting_key(digest: str) -> str:
    """The meta key holding a scheduled send of `digest` that some recipients'
    messages failed, and those recipients (`send_digest`)."""
    return f"digest_waiting:{digest}"


def _waiting(recorded: str | None, slot: datetime) -> set[str] | None:
    """The recipients a send of `slot` still owes, when an earlier try of that very
    slot failed for some; None when none did (every recipient is due)."""
    if recorded is None:
        return None
    record = json.loads(recorded)
    if datetime.fromisoformat(record["slot"]) != slot:
        return None
    return set(record["recipients"])


class DigestBusy(DeliveryError):
    """Another process holds the digest's lease: it is sending it right now."""


def _send_unsettled(config: Config, storage: Storage, digest: DigestConfig, now: datetime) -> None:
    """Send again, unchanged, each digest of `digest` whose last send had no known end.

    Killed between the server's "250" and the commit that records it, or left
    without an answer after the message, a send may or may not have
    delivered. The very same message goes again, with the same Message-ID, so
    that servers and mail clients that drop a Message-ID they have seen drop
    it; nothing new is sent until it is settled, lest its stories go twice.
    A refusal settles it as failed: its stories then wait for the next digest.
    """
    import email
    import email.policy

    from ..send import deliver

    for unsettled in storage.unsettled_digests(digest.name):
        message = email.message_from_bytes(unsettled.message, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("html",))
        html = str(body.get_content()) if body is not None else ""
        try:
            delivery = deliver(config, digest, message, html, list(unsettled.recipients), now)
        except DeliveryUncertain as e:
            storage.digest_uncertain(unsettled.id, str(e))
            raise
        except MonitorError as e:
            storage.digest_failed(unsettled.id, str(e))
            # Settled now: what it held waits for the next message, which a try in
            # minutes sends, whatever the server said of this one.
            raise DeliveryError(str(e)) from e
        storage.digest_delivered(
            unsettled.id, digest.name, delivery.accepted, list(unsettled.story_ids),
            delivery.transport, now, unsettled.left_out,
        )  # fmt: skip
        log.warning(
            "digest %s: sent %s again (its delivery on %s was uncertain: %s) to %s → %s",
            digest.name, unsettled.message_id, unsettled.created_at,
            unsettled.error or "the sender stopped before recording it",
            ", ".join(delivery.accepted), delivery.transport,
        )  # fmt: skip


def _send_pending(
    config: Config,
    storage: Storage,
    digest: DigestConfig,
    now: datetime,
    only: set[str] | None = None,
) -> tuple[list[DigestOutcome], list[MonitorError], set[str]]:
    """Send each recipient (of `only`, when given) what is pending for them; what
    was sent, the failures, and the recipients whose messages failed."""
    from ..send import deliver

    since = now - timedelta(days=config.dedup.window_days)
    by_pending: dict[tuple[frozenset[int], frozenset[int], frozenset[int]], list[str]] = {}
    for recipient in digest.recipients or (digest.sender,):
        if only is not None and recipient not in only:
            continue
        pending = storage.pending_story_ids(digest.name, recipient, since)
        if pending:
            expired = frozenset(storage.expired_story_ids(digest.name, recipient, since))
            updated = frozenset(storage.updated_story_ids(digest.name, recipient, pending))
            by_pending.setdefault((frozenset(pending), expired, updated), []).append(recipient)
    outcomes: list[DigestOutcome] = []
    failures: list[MonitorError] = []
    failed: set[str] = set()
    for (story_ids, expired, updated), recipients in by_pending.items():
        stories = storage.stories(set(story_ids))
        for to in [[r] for r in recipients] if digest.per_recipient else [recipients]:
            fitted = _fitting(config, digest, stories, now, to, expired, updated)
            if fitted is None:  # none of the stories belongs in this digest
                break
            built, message, html = fitted
            digest_id = storage.begin_digest(
                digest.name, built.subject, str(message["Message-ID"]), to, now,
                built.story_count, message.as_bytes(), list(built.story_ids), built.left_out,
            )  # fmt: skip
            try:
                delivery = deliver(config, digest, message, html, to, now)
            except DeliveryUncertain as e:
                storage.digest_uncertain(digest_id, str(e))
                failures.append(e)
                failed.update(to)
                continue
            except MonitorError as e:
                storage.digest_failed(digest_id, str(e))
                failures.append(e)
                failed.update(to)
                continue
            storage.digest_delivered(
                digest_id, digest.name, delivery.accepted, list(built.story_ids),
                delivery.transport, now, built.left_out,
            )  # fmt: skip
            outcomes.append(DigestOutcome(built, delivery.transport, tuple(delivery.accepted)))
            if delivery.refused:
                failures.append(
                    DeliveryError(delivery.refused_message(), permanent=delivery.refused_for_good)
                )
                failed.update(delivery.refused)
    return outcomes, failures, failed


def _fitting(
    config: Config,
    digest: DigestConfig,
    stories: list[Story],
    now: datetime,
    to: list[str],
    expired: frozenset[int] = frozenset(),
    updated: frozenset[int] = frozenset(),
) -> tuple[Digest, EmailMessage, str] | None:
    """The digest of `stories` and its message, under `digest.max_bytes`: a bigger
    message shows fewer headlines (the lowest-ranked left out, as over
    `max_stories`) until it fits, or shows one. The `expired` stories (past the
    window, never sent) are counted in it and left out with the rest. None when
    none of `stories` belongs in the digest."""
    from ..digest import build_digest, compose

    limit = digest.max_stories
    while True:
        built = build_digest(stories, config, replace(digest, max_stories=limit), now, updated)
        if built is None:  # only with the full limit: fewer headlines never empty it
            return None
        if expired:
            built = replace(
                built, left_out=(*built.left_out, *sorted(expired)), expired=len(expired)
            )
        message, html = compose(config, digest, built, to)
        size = len(message.as_bytes())
        headlines = sum(len(section.entries) for section in built.sections)
        if size <= digest.max_bytes or headlines <= 1:
            if limit < digest.max_stories:
                log.info(
                    "digest %s: %s to stay under max_bytes (%s bytes)",
                    digest.name, counted(headlines, "headline"), f"{digest.max_bytes:,}",
                )  # fmt: skip
            return built, message, html
        limit = max(1, min(headlines - 1, int(headlines * digest.max_bytes / size * 0.9)))


def preview_digest(
    config: Config,
    storage: Storage,
    digest: DigestConfig,
    clock: Clock = utcnow,
    *,
    form: Literal["html", "text", "json"] = "html",
) -> str | None:
    """The next digest of the first recipient who has one pending, as the email's
    HTML, its plain text (`form` "text": what a mail reader that shows text only
    shows) or the data `digest_data` gives (`form` "json"); nothing is delivered or
    marked. After a send refused for some recipients, the first may have had
    everything: the preview is then of what the next send gives the others."""
    from ..digest import digest_data

    now = clock()
    since = now - timedelta(days=config.dedup.window_days)
    for recipient in digest.recipients or (digest.sender,):
        story_ids = storage.pending_story_ids(digest.name, recipient, since)
        if not story_ids:
            continue
        expired = frozenset(storage.expired_story_ids(digest.name, recipient, since))
        updated = frozenset(storage.updated_story_ids(digest.name, recipient, story_ids))
        stories = storage.stories(story_ids)
        fitted = _fitting(config, digest, stories, now, [recipient], expired, updated)
        if fitted is not None:
            break
    else:
        return None
    built, message, html = fitted
    if form == "json":
        return json.dumps(digest_data(built), ensure_ascii=False, indent=1) + "\n"
    if form == "text":
        text = message.get_body(preferencelist=("plain",))
        assert text is not None  # `compose` always writes a plain-text part
        return str(text.get_content())
    return html
