"""Every change of 110 ↔ 12345 transfers, each one named action in one transaction.

110 → 12345 (非警务警情):

* :func:`receive_transfer` — a transfer from 110, taken once by its 110 reference; its clock
  (``MINSHENG_TRANSFER_RECEIVE_MINUTES``) starts, and the centre is told.
* :func:`accept_transfer` — the centre takes it into the loop: a case through
  ``cases.actions.accept_case`` (channel 110), linked, its log saying so, 110 told.
* :func:`return_transfer` — the centre returns it to 110 with a reason; 110 told.
* :func:`outcome_to_110` — an after-action hook: a taken transfer's case fed back, closed or
  reopened is told to 110.

12345 → 110 (警务类诉求):

* :func:`transfer_to_police` — a police matter reported through the hotline handed to 110
  (an item of the list), recorded on the case; the case is closed as transferred or held
  until 110's result, as the item says; 110 told.
* :func:`receive_receipt` — 110's receipt (received, refused) or result, taken once by its id.

Everything 110 is told goes through the outbox to the unit that stands for 110
(``MINSHENG_TRANSFER_110_UNIT``, its webhook channel), so it is retried until taken and never
lost. :func:`transfers_pass` is the worker's part: the centre is warned of a transfer from 110
not decided in time and of a transfer to 110 not acknowledged in time.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases import kernel, registry
from minsheng.cases.actions import Intake, accept_case
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.cases.states import Channel, ClockName, State
from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.core.phones import mask_phone, normalize_phone
from minsheng.core.text import NulCharacter, clean_text
from minsheng.notify.actions import enqueue

from . import rules
from .models import (
    Direction,
    Disposition,
    IncomingState,
    IncomingTransfer,
    OutgoingTransfer,
    ReceiptEvent,
    ReceiptState,
    TransferCategory,
    TransferItem,
)

LISTS = Path(__file__).parent / "data" / "lists.json"
TEXT_MAX = 2000
# The states from which a hotline case may be handed to 110: not once a result has been
# reported to the requester (feedback, rated) or the case is closed.
TRANSFERABLE_STATES = frozenset(
    {State.ACCEPTED, State.ASSIGNED, State.SIGNED, State.DISPATCHED, State.HANDLING, State.RETURNED}
)
# Case actions whose outcome 110 is told of, for a case it transferred.
OUTCOME_ACTIONS = frozenset({"feedback", "close", "reopen"})


# --- the lists ----------------------------------------------------------------------------


@transaction.atomic
def load_lists(path: Path | str = LISTS) -> dict[str, int]:
    """Create or update the categories and items of a lists file (``data/lists.json``); the
    items the city added in the admin stay. The counts of items per direction."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for direction in Direction.values:
        for cpos, cat in enumerate(data.get(direction, [])):
            category, _created = TransferCategory.objects.update_or_create(
                direction=direction, code=cat["code"], defaults={"name": cat["name"], "position": cpos}
            )
            for ipos, item in enumerate(cat["items"]):
                TransferItem.objects.update_or_create(
                    code=item["code"],
                    defaults={
                        "category": category,
                        "name": item["name"],
                        "matter_code": item.get("matter", ""),
                        "disposition": item.get("disposition", Disposition.CLOSE),
                        "position": ipos,
                    },
                )
                counts[direction] = counts.get(direction, 0) + 1
    return counts


def _item(code: str, direction: str, field: str = "item") -> TransferItem:
    item = (
        TransferItem.objects.select_related("category")
        .filter(code=(code or "").strip(), active=True, category__direction=direction)
        .first()
    )
    if item is None:
        raise Invalid(field, _("Not an item of the transfer list."))
    return item


# --- helpers ------------------------------------------------------------------------------


def police_unit() -> Unit:
    """The unit that stands for 110 in the outbox; refused (409) while it is missing, so that
    nothing owed to 110 is written with nowhere to go."""
    unit = Unit.objects.filter(code=rules.police_unit_code(), active=True).first()
    if unit is None:
        raise Conflict(
            _("The connection to 110 is not configured (no active unit %(code)s).")
            % {"code": rules.police_unit_code()},
            state="",
            version=0,
        )
    return unit


def centre_unit() -> Unit | None:
    return Unit.objects.filter(kind=UnitKind.CENTRE, active=True).order_by("pk").first()


def _text(value: str, field: str, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    try:
        text = clean_text(value or "").strip()
    except NulCharacter as exc:
        raise Invalid(field, _("Remove the NUL character from the text.")) from exc
    if required and not text:
        raise Invalid(field, _("This field is required."))
    if len(text) > limit:
        raise Invalid(field, _("At most %(max)d characters.") % {"max": limit})
    return text


def _centre(actor: Actor) -> None:
    if not (actor.is_system or actor.role in rules.CENTRE_ROLES):
        raise Forbidden(_("Only the centre transfers matters with 110."))


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at else None


# --- 110 → 12345 --------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferIn:
    """A transfer as 110 sent it, already parsed by the entry point."""

    police_ref: str
    item: str
    text: str
    sent_at: dt.datetime
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    caller_name: str = ""
    caller_phone: str = ""


@dataclass(frozen=True)
class Received:
    transfer: IncomingTransfer
    duplicate: bool


def receive_transfer(data: TransferIn) -> Received:
    """Take a transfer from 110. The same 110 reference again changes nothing and is answered
    as a duplicate. Its clock starts now: the centre accepts or returns it by ``due_at``."""
    ref = _text(data.police_ref, "police_ref", limit=64)
    seen = IncomingTransfer.objects.filter(police_ref=ref).first()
    if seen is not None:
        return Received(seen, duplicate=True)
    item = _item(data.item, Direction.TO_HOTLINE)
    text = _text(data.text, "text")
    address = _text(data.address, "address", required=False, limit=200)
    name = _text(data.caller_name, "caller_name", required=False, limit=64)
    if timezone.is_naive(data.sent_at):
        raise Invalid("sent_at", _("A moment with its UTC offset."))
    try:
        phone = normalize_phone(data.caller_phone or "") if (data.caller_phone or "").strip() else ""
    except ValueError as exc:
        raise Invalid("caller_phone", _("Not a valid phone number.")) from exc
    if (data.lat is None) != (data.lng is None):
        raise Invalid("lat", _("Give both latitude and longitude, or neither."))
    at = clock.now()
    try:
        with transaction.atomic():
            transfer = IncomingTransfer.objects.create(
                police_ref=ref,
                item=item,
                text=text,
                address=address,
                lat=data.lat,
                lng=data.lng,
                caller_name=name,
                caller_phone=phone,
                sent_at=data.sent_at,
                received_at=at,
                due_at=at + rules.receive_limit(),
            )
            centre = centre_unit()
            if centre is not None:
                enqueue(
                    "transfer_arrived",
                    unit=centre,
                    context={
                        "police_ref": ref,
                        "item": item.name,
                        "due_at": transfer.due_at.isoformat(),
                        "title": text[:60],
                    },
                )
    except IntegrityError:
        # The same transfer delivered twice at the same moment: the other delivery took it.
        seen = IncomingTransfer.objects.filter(police_ref=ref).first()
        if seen is None:
            raise
        return Received(seen, duplicate=True)
    return Received(transfer, duplicate=False)


def _pending(transfer_id: int) -> IncomingTransfer:
    transfer = (
        IncomingTransfer.objects.select_for_update(of=("self",))
        .select_related("item__category")
        .filter(pk=transfer_id)
        .first()
    )
    if transfer is None:
        raise NotFound(_("No such transfer."))
    if transfer.state != IncomingState.PENDING:
        raise Conflict(
            _("This transfer was decided already (%(state)s).") % {"state": transfer.get_state_display()},
            state=transfer.state,
            version=0,
        )
    return transfer


def _decision(transfer: IncomingTransfer, decision: str, **more: Any) -> dict[str, Any]:
    return {
        "police_ref": transfer.police_ref,
        "decision": decision,
        "in_time": transfer.in_time,
        "received_at": _iso(transfer.received_at),
        "decided_at": _iso(transfer.decided_at),
        **more,
    }


def accept_transfer(actor: Actor, transfer_id: int, *, category: str | None = None) -> Case:
    """接收: take a transfer from 110 into the loop as a case (the same intake as every
    channel: place, matter, duplicates, owner), as the matter the list names unless the centre
    chooses another; 110 is told the case's number."""
    _centre(actor)
    with transaction.atomic():
        transfer = _pending(transfer_id)
        unit = police_unit()
        code = (category or "").strip() or transfer.item.matter_code
        if code and not category and not Matter.objects.filter(code=code, active=True).exists():
            code = ""  # the list names a matter this city does not have: the dispatcher decides
        case = accept_case(
            actor,
            Intake(
                channel=Channel.POLICE_110,
                text=transfer.text,
                lat=transfer.lat,
                lng=transfer.lng,
                address=transfer.address,
                category=code or None,
                requester_name=transfer.caller_name,
                requester_phone=transfer.caller_phone,
                extra={"police_ref": transfer.police_ref},
            ),
        )
        at = clock.now()
        transfer.state = IncomingState.ACCEPTED
        transfer.decided_at = at
        transfer.decided_by = actor.user
        transfer.case = case
        transfer.save()
        with kernel.change(Actor.system(_("110 transfer")), case.pk, "transfer_accepted") as ch:
            ch.event(
                note=f"{transfer.police_ref} · {transfer.item.name}",
                data={
                    "police_ref": transfer.police_ref,
                    "item": transfer.item.code,
                    "in_time": transfer.in_time,
                    "received_at": _iso(transfer.received_at),
                    "due_at": _iso(transfer.due_at),
                },
            )
            ch.notify(
                "transfer_decided", unit=unit, context=_decision(transfer, "accepted", case=case.number)
            )
        case.refresh_from_db()
        return case


def return_transfer(actor: Actor, transfer_id: int, *, reason: str) -> IncomingTransfer:
    """退回: return a transfer to 110 with the reason (not the hotline's: a police matter,
    outside the city, …); 110 is told."""
    _centre(actor)
    why = _text(reason, "reason", limit=500)
    with transaction.atomic():
        transfer = _pending(transfer_id)
        unit = police_unit()
        transfer.state = IncomingState.RETURNED
        transfer.decided_at = clock.now()
        transfer.decided_by = actor.user
        transfer.reason = why
        transfer.save()
        enqueue("transfer_decided", unit=unit, context=_decision(transfer, "returned", reason=why))
        return transfer


def outcome_to_110(actor: Actor, case: Case, action: str, at: dt.datetime) -> None:
    """After a case action (in its transaction): a case 110 transferred that is fed back,
    closed or reopened is told to 110, with the result as the requester heard it."""
    if action not in OUTCOME_ACTIONS:
        return
    ref = IncomingTransfer.objects.filter(case_id=case.pk).values_list("police_ref", flat=True).first()
    if ref is None:
        return
    unit = Unit.objects.filter(code=rules.police_unit_code(), active=True).first()
    if unit is None:  # not configured any more: the transfer's own record keeps the outcome
        return
    enqueue(
        "transfer_outcome",
        unit=unit,
        case=case,
        context={
            "police_ref": ref,
            "case": case.number,
            "action": action,
            "state": case.state,
            "result": case.feedback_text or "",
            "at": at.isoformat(),
            "version": case.version,
        },
    )


# --- 12345 → 110 --------------------------------------------------------------------------


def _close_as_transferred(ch: kernel.Change, note: str) -> None:
    """The case ends here: its clocks stop (110 now owns the matter), it is closed, and the
    parts that follow closings are told (a follow-up is cancelled)."""
    case = ch.case
    from_state = case.state
    ch.stop_clocks(*ClockName.values)
    case.state = State.CLOSED
    case.closed_at = ch.at
    case.version += 1
    case.updated_at = ch.at
    case.save()
    ch.event("close", note=note, from_state=from_state, data={"transferred_to": "110"})
    registry.after_action(ch.actor, case, "close", ch.at)


def transfer_to_police(
    actor: Actor, case_id: int, *, item: str, note: str = "", expected_version: int | None = None
) -> OutgoingTransfer:
    """移交110: hand a police matter reported through the hotline to 110 as an item of the
    list. The case's log records it; 110 is sent the matter (through the outbox) and its
    receipt is awaited within ``MINSHENG_TRANSFER_RECEIPT_MINUTES``. The item says whether the
    case is closed as transferred now or held open until 110 reports its result.
    Refusals: 403 (not the centre), 404, 409 (a state that cannot be transferred, a transfer
    to 110 still open, a part's guard on closing, 110 not configured), 422 (``item``,
    ``note``); nothing written."""
    _centre(actor)
    chosen = _item(item, Direction.TO_POLICE)
    words = _text(note, "note", required=False, limit=500)

    def check(ch: kernel.Change) -> Unit:
        case = ch.case
        if case.state not in TRANSFERABLE_STATES:
            raise Conflict(
                _("This case is %(state)s; it cannot be transferred to 110 now.")
                % {"state": case.get_state_display()},
                state=case.state,
                version=case.version,
            )
        if OutgoingTransfer.objects.filter(
            case=case, state__in=(ReceiptState.SENT, ReceiptState.RECEIVED)
        ).exists():
            raise Conflict(_("This case is with 110 already."), state=case.state, version=case.version)
        if chosen.disposition == Disposition.CLOSE and (why := registry.refusal(case, "close")):
            raise Conflict(why, state=case.state, version=case.version)
        return police_unit()

    with kernel.change(
        actor, case_id, "police_transfer", expected_version=expected_version, check=check
    ) as ch:
        case = ch.case
        unit = ch.checked
        transfer = OutgoingTransfer.objects.create(
            case=case,
            item=chosen,
            disposition=chosen.disposition,
            note=words,
            sent_at=ch.at,
            sent_by=actor.user,
            receipt_due_at=ch.at + rules.receipt_limit(),
        )
        ch.event(
            note=f"{chosen.name}{' · ' + words if words else ''}",
            data={
                "transfer": transfer.reference,
                "item": chosen.code,
                "disposition": chosen.disposition,
                "receipt_due_at": _iso(transfer.receipt_due_at),
            },
        )
        ch.notify(
            "police_transfer",
            unit=unit,
            context={
                "transfer": transfer.reference,
                "case": case.number,
                "item": chosen.code,
                "item_name": chosen.name,
                "category": chosen.category.name,
                "disposition": chosen.disposition,
                "text": case.text,
                "note": words,
                "address": case.address,
                "lat": case.lat,
                "lng": case.lng,
                # The number stays out of the message (the outbox keeps its context in
                # clear); 110 reads it with a signed GET of the transfer.
                "caller_phone_masked": mask_phone(case.requester_phone or ""),
                "reported_at": _iso(case.created_at),
            },
        )
        if chosen.disposition == Disposition.CLOSE:
            _close_as_transferred(ch, _("Transferred to 110: %(item)s.") % {"item": chosen.name})
        else:
            ch.bump()
        return transfer


@dataclass(frozen=True)
class ReceiptIn:
    event_id: str
    transfer: str
    status: str
    at: dt.datetime
    police_ref: str = ""
    note: str = ""


@dataclass(frozen=True)
class ReceiptTaken:
    transfer: OutgoingTransfer
    duplicate: bool


def _outgoing(reference: str) -> OutgoingTransfer:
    ref = (reference or "").strip()
    pk = ref[1:] if ref[:1] in ("T", "t") else ref
    transfer = None
    if pk.isdigit():
        transfer = (
            OutgoingTransfer.objects.select_for_update(of=("self",))
            .select_related("case", "item")
            .filter(pk=int(pk))
            .first()
        )
    if transfer is None:
        raise NotFound(_("No such transfer to 110."))
    return transfer


def receive_receipt(data: ReceiptIn) -> ReceiptTaken:
    """110's word on a transfer to it: ``received`` (签收, with 110's reference), ``refused``
    (with why), or ``done`` (its result). Taken once by ``event_id``. The receipt's time
    against its clock goes on the case's log (the statistics count it); a held case is closed
    with 110's result; a refusal goes back to the centre."""
    if data.status not in ("received", "refused", "done"):
        raise Invalid("status", _("One of: received, refused, done."))
    if timezone.is_naive(data.at):
        raise Invalid("at", _("A moment with its UTC offset."))
    note = _text(data.note, "note", required=False, limit=2000)
    police_ref = _text(data.police_ref, "police_ref", required=False, limit=64)
    if data.status == "refused" and not note:
        raise Invalid("note", _("Say why 110 does not take it."))
    event_id = _text(data.event_id, "event_id", limit=64)
    seen = ReceiptEvent.objects.filter(event_id=event_id).select_related("transfer").first()
    if seen is not None:
        return ReceiptTaken(seen.transfer, duplicate=True)
    try:
        with transaction.atomic():
            transfer = _outgoing(data.transfer)
            now = clock.now()
            ReceiptEvent.objects.create(
                event_id=event_id, transfer=transfer, status=data.status, received_at=now
            )
            _apply_receipt(transfer, data.status, note=note, police_ref=police_ref, now=now)
            return ReceiptTaken(transfer, duplicate=False)
    except IntegrityError:
        seen = ReceiptEvent.objects.filter(event_id=event_id).select_related("transfer").first()
        if seen is None:
            raise
        return ReceiptTaken(seen.transfer, duplicate=True)


def _apply_receipt(
    transfer: OutgoingTransfer, status: str, *, note: str, police_ref: str, now: dt.datetime
) -> None:
    case = transfer.case
    system = Actor.system("110")
    if police_ref and not transfer.police_ref:
        transfer.police_ref = police_ref
    first_word = transfer.received_at is None and transfer.state == ReceiptState.SENT
    if first_word:
        # A result or refusal that comes first is 110's receipt too: it answered.
        transfer.received_at = now
        kernel.record(
            case,
            "police_receipt",
            now,
            actor=system,
            note=note if status == "refused" else (transfer.police_ref or ""),
            data={
                "transfer": transfer.reference,
                "status": status,
                "police_ref": transfer.police_ref,
                "in_time": transfer.in_time,
                "receipt_due_at": _iso(transfer.receipt_due_at),
            },
        )
    if status == "received":
        if transfer.state == ReceiptState.SENT:
            transfer.state = ReceiptState.RECEIVED
        transfer.save()
        return
    if transfer.state in (ReceiptState.DONE, ReceiptState.REFUSED):
        transfer.save()
        return  # 110 already closed its side; a later word changes nothing
    if status == "refused":
        transfer.state = ReceiptState.REFUSED
        transfer.result = note
        transfer.result_at = now
        transfer.save()
        centre = centre_unit()
        if centre is not None:
            enqueue(
                "police_refused",
                unit=centre,
                case=case,
                context={"transfer": transfer.reference, "case": case.number, "reason": note},
            )
        return
    transfer.state = ReceiptState.DONE
    transfer.result = note
    transfer.result_at = now
    transfer.save()
    if transfer.disposition == Disposition.HOLD and case.state != State.CLOSED:
        with kernel.change(system, case.pk, "police_result") as ch:
            ch.event(note=note, data={"transfer": transfer.reference, "police_ref": transfer.police_ref})
            ch.case.feedback_text = note
            _close_as_transferred(ch, _("Closed with 110's result."))
    else:
        kernel.record(
            case,
            "police_result",
            now,
            actor=system,
            note=note,
            data={"transfer": transfer.reference, "police_ref": transfer.police_ref},
        )


# --- the worker's part --------------------------------------------------------------------


def transfers_pass(now: dt.datetime, limit: int = 500) -> int:
    """Warn the centre, once each, of transfers from 110 not decided within their clock and of
    transfers to 110 whose receipt has not come within its clock; the number warned."""
    centre = centre_unit()
    if centre is None:
        return 0
    warned = 0
    with transaction.atomic():
        late_in = list(
            IncomingTransfer.objects.select_for_update(skip_locked=True)
            .filter(state=IncomingState.PENDING, due_at__lte=now, warned_at__isnull=True)
            .order_by("due_at")[:limit]
        )
        for t in late_in:
            enqueue(
                "transfer_overdue",
                unit=centre,
                context={"police_ref": t.police_ref, "due_at": t.due_at.isoformat(), "title": t.text[:60]},
            )
        IncomingTransfer.objects.filter(pk__in=[t.pk for t in late_in]).update(warned_at=now)
        late_out = list(
            OutgoingTransfer.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("case")
            .filter(state=ReceiptState.SENT, receipt_due_at__lte=now, warned_at__isnull=True)
            .order_by("receipt_due_at")[:limit]
        )
        for o in late_out:
            enqueue(
                "police_receipt_overdue",
                unit=centre,
                case=o.case,
                context={
                    "transfer": o.reference,
                    "case": o.case.number,
                    "due_at": o.receipt_due_at.isoformat(),
                },
            )
        OutgoingTransfer.objects.filter(pk__in=[o.pk for o in late_out]).update(warned_at=now)
        warned = len(late_in) + len(late_out)
    return warned
