"""Delivering the outbox: claim what is due, render it, send it through every channel that
applies, and record what each channel did.

Guarantees (details and the reasoning in ``docs/notifications.md``):

* **Claims never overlap.** A worker claims a batch in one short transaction
  (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers with
  ``BEGIN IMMEDIATE``) by setting a lease (``claimed_until``/``claimed_by``). Another
  worker skips leased rows; a worker that dies leaves its lease to expire, and the messages
  are taken again. A worker stops starting new messages after half the lease, so a live
  worker never outlives its lease (each HTTP request has a timeout, each message a budget).
* **In-app: exactly once.** Notifications are written in the same transaction that records
  the delivery and marks the message sent, and (user, message) is unique.
* **External services: at least once, duplicates only in one narrow window.** Each channel
  that takes a message gets a ``Delivery`` row committed right after its HTTP 2xx, so a
  retry after a partial failure (robot ok, webhook down) goes only to the channels still
  missing. A duplicate needs the process to die between the 2xx and that commit; DingTalk
  and WeCom robots have no idempotency key, so such a repeat shows in the group (with the
  same ``〔民声消息 #id〕`` reference); webhooks and SMS gateways get the message id as the
  dedupe key.
* **Nothing dropped.** A failed message is retried with exponential back-off and jitter;
  after ``MINSHENG_NOTIFY_MAX_ATTEMPTS`` it is parked, visible and retryable in the admin.
  One bad message (a broken template, a channel raising) never stops the batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.template import Context, Template, TemplateSyntaxError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from minsheng.accounts.models import Profile
from minsheng.core import clock
from minsheng.core.conf import setting

from .channels import (
    Channel,
    ChannelError,
    InAppChannel,
    Rendered,
    SmsChannel,
    for_unit_channel,
)
from .defaults import CLOCK_LABELS, DEFAULT_TEMPLATES, FALLBACK_TEMPLATE
from .models import (
    Audience,
    Delivery,
    DeliveryStatus,
    MessageTemplate,
    OutboxMessage,
    OutboxStatus,
    UnitChannel,
)

log = logging.getLogger("minsheng.notify")


# --- settings ---------------------------------------------------------------------------


def lease_seconds() -> float:
    return float(setting("MINSHENG_NOTIFY_LEASE_SECONDS", 300.0))


def max_attempts() -> int:
    return int(setting("MINSHENG_NOTIFY_MAX_ATTEMPTS", 10))


def message_budget() -> float:
    """Wall seconds one message may spend on its external channels; channels not tried
    within it count as failed this time and are retried later."""
    return float(setting("MINSHENG_NOTIFY_MESSAGE_BUDGET", 60.0))


def backoff(attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: base·2^(n-1), capped,
    times a jitter of ±20% so that messages failing together do not retry in lockstep.
    With the defaults (30 s, cap 1 h): 30 s, 1 min, 2 min, … 32 min, then hourly."""
    base = float(setting("MINSHENG_NOTIFY_BACKOFF_BASE", 30.0))
    cap = float(setting("MINSHENG_NOTIFY_BACKOFF_CAP", 3600.0))
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.8, 1.2)  # spreads retries; not a secret
    return dt.timedelta(seconds=min(cap, delay * jitter))


# --- result -----------------------------------------------------------------------------


@dataclass
class DeliveryResult:
    """What one ``deliver_due`` call did. ``sent``: messages every channel has taken;
    ``retried``: failed this time, scheduled again; ``parked``: failed for the last time;
    ``released``: claimed but handed back unstarted (the batch ran out of time);
    ``lost``: the lease ran out before the message was finished (another worker has it)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    parked: int = 0
    released: int = 0
    lost: int = 0
    errors: dict[int, str] = field(default_factory=dict)

    def __int__(self) -> int:
        return self.sent


# --- claiming ---------------------------------------------------------------------------


def _claim(now: dt.datetime, limit: int, token: str, until: dt.datetime) -> list[int]:
    due = (
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("next_attempt_at", "id")
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if ids:
            OutboxMessage.objects.filter(id__in=ids).update(claimed_until=until, claimed_by=token)
    return ids


def _release(ids: list[int], token: str) -> None:
    OutboxMessage.objects.filter(id__in=ids, claimed_by=token).update(claimed_until=None, claimed_by="")


# --- recording --------------------------------------------------------------------------


def _row(message_id: int, channel: str, status: str, at: dt.datetime, error: str, attempts: int) -> Delivery:
    return Delivery(
        message_id=message_id,
        channel=channel,
        status=status,
        attempts=attempts,
        last_error=error[:2000],
        updated_at=at,
        sent_at=at if status == DeliveryStatus.SENT else None,
    )


def _upsert(rows: list[Delivery]) -> None:
    """Insert or update delivery rows in one statement (``ON CONFLICT … DO UPDATE``)."""
    Delivery.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["message", "channel"],
        update_fields=["status", "attempts", "last_error", "sent_at", "updated_at"],
    )


def record_delivery(
    message_id: int, channel: str, status: str, at: dt.datetime, error: str = "", *, attempts: int = 1
) -> None:
    """Write what ``channel`` did with the message (``attempts``: its count of tries so
    far). For an external channel this runs on its own, committed right after the HTTP
    answer: the commit is what stops a retry from sending there again."""
    _upsert([_row(message_id, channel, status, at, error, attempts)])


def _mark_sent(message: OutboxMessage, at: dt.datetime, token: str, note: str = "") -> bool:
    """Mark the message sent if this worker's lease still holds it; False if not."""
    fields: dict[str, Any] = {
        "status": OutboxStatus.SENT,
        "sent_at": at,
        "last_attempt_at": at,
        "attempts": F("attempts") + 1,
        "claimed_until": None,
        "claimed_by": "",
    }
    if note:
        fields["last_error"] = note
    return bool(_held(message, token).update(**fields))


def _mark_failed(message: OutboxMessage, at: dt.datetime, token: str, error: str) -> str:
    """Schedule the next attempt, or park: "retried", "parked", or "lost" if this worker's
    lease no longer holds the message."""
    attempts = message.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": at,
        "last_error": error[:4000],
        "claimed_until": None,
        "claimed_by": "",
    }
    parked = attempts >= max_attempts()
    if parked:
        fields["status"] = OutboxStatus.PARKED
    else:
        fields["next_attempt_at"] = at + backoff(attempts)
    if not _held(message, token).update(**fields):
        return "lost"
    if parked:
        log.warning("outbox #%s (%s) parked after %d attempts: %s", message.pk, message.kind, attempts, error)
    return "parked" if parked else "retried"


def _held(message: OutboxMessage, token: str) -> QuerySet[OutboxMessage]:
    """The message's row, if this worker's lease still holds it: updating through it is a
    compare-and-set on the lease."""
    return OutboxMessage.objects.filter(pk=message.pk, claimed_by=token, status=OutboxStatus.PENDING)


# --- rendering --------------------------------------------------------------------------


def public_base() -> str:
    """Where people reach this deployment (``MINSHENG_PUBLIC_URL``), for absolute links in
    robots and SMS; empty when unknown, and links are then left out of those texts."""
    return setting("MINSHENG_PUBLIC_URL", "").rstrip("/")


def _path(name: str, *args: Any) -> str:
    """A link is a courtesy: a message goes out without one rather than not at all (the
    worker may run where the pages are not mounted, or their URLconf fails to import)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
    except Exception:
        log.warning("no link for %s: the URLconf failed", name, exc_info=True)
        return ""


def _local_due(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(at):
        return value
    local = timezone.localtime(at)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def render_context(message: OutboxMessage) -> tuple[dict[str, Any], str, str]:
    """The variables a template sees, the link for people (absolute when a public URL is
    configured) and the same link as a path on this site."""
    ctx: dict[str, Any] = dict(message.context or {})
    base = public_base()
    link = ""
    token = ctx.get("token")
    track = _path("web:track_token", token) if token else ""
    if message.audience == Audience.REQUESTER:
        link = track
    elif message.case_id:
        link = _path("web:case", message.case_id)
    if message.case_id and message.case is not None:
        ctx.setdefault("number", message.case.number)
    common = {
        "city": setting("MINSHENG_CITY_NAME", ""),
        "kind": message.kind,
        "unit": message.unit.name if message.unit_id and message.unit else "",
        "url": f"{base}{link}" if base and link else "",
        "track_url": f"{base}{track}" if base and track else "",
        "clock_label": CLOCK_LABELS.get(str(ctx.get("clock", "")), ctx.get("clock", "")),
        "due_at_local": _local_due(ctx.get("due_at")),
    }
    for key, value in common.items():
        ctx.setdefault(key, value)
    return ctx, (f"{base}{link}" if base and link else link), link


class Templates:
    """The batch's templates, compiled once: an edited template applies from the next
    batch. A template that no longer compiles falls back to the shipped default."""

    def __init__(self, kinds: set[str]) -> None:
        rows = {t.kind: (t.title, t.body) for t in MessageTemplate.objects.filter(kind__in=kinds)}
        self._compiled: dict[str, tuple[Template, Template]] = {}
        for kind in kinds:
            source = rows.get(kind) or DEFAULT_TEMPLATES.get(kind) or FALLBACK_TEMPLATE
            try:
                self._compiled[kind] = (Template(source[0]), Template(source[1]))
            except TemplateSyntaxError as exc:
                log.warning("template %s does not compile (%s); using the default", kind, exc)
                default = DEFAULT_TEMPLATES.get(kind) or FALLBACK_TEMPLATE
                self._compiled[kind] = (Template(default[0]), Template(default[1]))

    def render(self, message: OutboxMessage) -> Rendered:
        title_t, body_t = self._compiled[message.kind]
        ctx, link, path = render_context(message)
        context = Context(ctx, autoescape=False)
        title = " ".join(title_t.render(context).split())
        body = body_t.render(context).strip()
        return Rendered(title=title[:200], body=body, url=link, path=path)


def render(message: OutboxMessage) -> Rendered:
    """Render one message with the current templates (for previews and tests)."""
    return Templates({message.kind}).render(message)


# --- planning a batch -------------------------------------------------------------------


@dataclass
class _Batch:
    templates: Templates
    delivered: dict[int, set[str]]  # message id → channels that have taken it
    tries: dict[tuple[int, str], int]  # (message id, channel) → attempts so far
    unit_channels: dict[int, list[UnitChannel]]
    unit_staff: dict[int, list[int]]

    @classmethod
    def load(cls, messages: list[OutboxMessage]) -> _Batch:
        ids = [m.pk for m in messages]
        unit_ids = {m.unit_id for m in messages if m.unit_id}
        delivered: dict[int, set[str]] = {}
        tries: dict[tuple[int, str], int] = {}
        for mid, key, status, attempts in Delivery.objects.filter(message_id__in=ids).values_list(
            "message_id", "channel", "status", "attempts"
        ):
            tries[mid, key] = attempts
            if status == DeliveryStatus.SENT:
                delivered.setdefault(mid, set()).add(key)
        channels: dict[int, list[UnitChannel]] = {}
        for ch in UnitChannel.objects.filter(unit_id__in=unit_ids, active=True).order_by("id"):
            channels.setdefault(ch.unit_id, []).append(ch)
        staff: dict[int, list[int]] = {}
        for unit_id, user_id in Profile.objects.filter(
            unit_id__in=unit_ids, user__is_active=True
        ).values_list("unit_id", "user_id"):
            staff.setdefault(unit_id, []).append(user_id)
        return cls(Templates({m.kind for m in messages}), delivered, tries, channels, staff)

    def channels_for(self, message: OutboxMessage) -> tuple[list[Channel], list[int]]:
        """The external channels, and the users to notify in-app."""
        if message.audience == Audience.UNIT and message.unit_id:
            external: list[Channel] = []
            for ch in self.unit_channels.get(message.unit_id, []):
                external.append(for_unit_channel(ch))
            return external, self.unit_staff.get(message.unit_id, [])
        if message.audience == Audience.USER and message.user_id:
            return [], [message.user_id]
        if message.phone:
            return [SmsChannel()], []
        return [], []


# --- delivering -------------------------------------------------------------------------


def _deliver_one(message: OutboxMessage, batch: _Batch, now: dt.datetime, token: str) -> tuple[str, str]:
    """Send one claimed message; returns the outcome ("sent", "retried", "parked" or
    "lost") and the error, if any."""
    rendered = batch.templates.render(message)
    done = batch.delivered.get(message.pk, set())
    external, inapp_users = batch.channels_for(message)
    failures: dict[str, str] = {}
    started = time.monotonic()
    budget = message_budget()
    for channel in external:
        if channel.key in done:
            continue
        if time.monotonic() - started > budget:
            failures[channel.key] = "not tried: the message's time budget ran out"
            continue
        try:
            channel.send(rendered, message)
        except ChannelError as exc:
            failures[channel.key] = str(exc)
        except Exception as exc:  # a channel's bug must not cost the other channels
            log.exception("channel %s failed on outbox #%s", channel.key, message.pk)
            failures[channel.key] = f"{type(exc).__name__}: {exc}"
        else:
            record_delivery(
                message.pk,
                channel.key,
                DeliveryStatus.SENT,
                max(now, clock.now()),
                attempts=batch.tries.get((message.pk, channel.key), 0) + 1,
            )
    at = max(now, clock.now())
    with transaction.atomic():
        rows = [
            _row(message.pk, key, DeliveryStatus.FAILED, at, error, batch.tries.get((message.pk, key), 0) + 1)
            for key, error in failures.items()
        ]
        if inapp_users and InAppChannel.key not in done:
            InAppChannel(inapp_users, at=at).send(rendered, message)
            rows.append(
                _row(
                    message.pk,
                    InAppChannel.key,
                    DeliveryStatus.SENT,
                    at,
                    "",
                    batch.tries.get((message.pk, InAppChannel.key), 0) + 1,
                )
            )
        if rows:
            _upsert(rows)
        error = "; ".join(f"{key}: {err}" for key, err in failures.items())
        if failures:
            outcome = _mark_failed(message, at, token, error)
        else:
            note = "" if (external or inapp_users) else "nobody to tell: no active staff, channel or phone"
            outcome = "sent" if _mark_sent(message, at, token, note) else "lost"
        if outcome == "lost":
            # Another worker holds the message now (this one's lease ran out): leave the
            # in-app notifications and the records to it.
            transaction.set_rollback(True)
            log.warning("outbox #%s: lease lost before it was finished", message.pk)
            return "lost", ""
        return outcome, error


def _fail_whole(message: OutboxMessage, now: dt.datetime, token: str, error: str) -> tuple[str, str]:
    """A message that could not even be attempted (rendering crashed, the database
    refused): counts as a failed attempt like any other."""
    outcome = _mark_failed(message, max(now, clock.now()), token, error)
    return outcome, (error if outcome != "lost" else "")


def deliver_due(now: dt.datetime, *, limit: int = 100, worker_id: str = "") -> DeliveryResult:
    """Deliver up to ``limit`` messages due at ``now``. Safe to run in any number of worker
    processes at once (on PostgreSQL) and to kill at any instant."""
    if timezone.is_naive(now):
        raise ValueError("deliver_due needs a timezone-aware time")
    result = DeliveryResult()
    token = f"{worker_id or 'worker'}/{uuid.uuid4().hex[:12]}"
    lease = lease_seconds()
    # The lease runs from the time of the claim, not from ``now``: a worker pass that has
    # been running a while passes an older ``now``, and a lease counted from it would end
    # early and let a second worker take messages this one is still sending.
    until = max(now, clock.now()) + dt.timedelta(seconds=lease)
    ids = _claim(now, limit, token, until)
    result.claimed = len(ids)
    if not ids:
        return result
    messages = list(
        OutboxMessage.objects.filter(id__in=ids)
        .select_related("unit", "user", "case")
        .order_by("next_attempt_at", "id")
    )
    batch = _Batch.load(messages)
    started = time.monotonic()
    for index, message in enumerate(messages):
        if time.monotonic() - started > lease / 2:
            rest = [m.pk for m in messages[index:]]
            _release(rest, token)
            result.released += len(rest)
            break
        try:
            outcome, error = _deliver_one(message, batch, now, token)
        except Exception as exc:
            log.exception("outbox #%s (%s) failed", message.pk, message.kind)
            error = f"{type(exc).__name__}: {exc}"
            try:
                outcome, error = _fail_whole(message, now, token, error)
            except Exception:  # the database itself is failing: the lease will run out
                log.exception("outbox #%s: could not record the failure", message.pk)
                outcome = "lost"
        if outcome == "sent":
            result.sent += 1
        elif outcome == "lost":
            result.lost += 1
        else:
            result.errors[message.pk] = error
            if outcome == "parked":
                result.parked += 1
            else:
                result.retried += 1
    return result


def retry(messages: Any, now: dt.datetime | None = None) -> int:
    """Put parked (or failing) messages back in line now, with a fresh count of attempts
    (the admin's "retry"). Channels that already took a message are still skipped."""
    at = now or clock.now()
    # A message a live worker holds right now is left alone: clearing its lease would let a
    # second worker take it too.
    free = (
        Q(status=OutboxStatus.PARKED)
        | Q(status=OutboxStatus.PENDING, claimed_until__isnull=True)
        | Q(status=OutboxStatus.PENDING, claimed_until__lte=at)
    )
    return messages.filter(free).update(
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=at, claimed_until=None, claimed_by=""
    )
