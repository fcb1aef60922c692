"""Named actions on cases: each checks the actor's scope and right, the case's state and
version, changes the case, appends the event, and writes the outbox, in one transaction.

Views, the API, the CLI and the worker only translate input and call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit, UnitKind
from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.core.phones import normalize_phone
from minsheng.core.workdays import add_working_days
from minsheng.field.duty import alert_on_duty
from minsheng.groups import rules as group_rules
from minsheng.notify.services import enqueue
from minsheng.places.coords import normalize_crs, to_wgs84, validate_point
from minsheng.routing.service import categorise, decide

from . import clocks
from .errors import Conflict, Forbidden, Invalid, NotFound
from .models import Case, CaseEvent, IntakeKey
from .numbering import next_number
from .routing import decide_owner, place_case
from .scoping import assignable_units, can_see, may_act
from .states import EXTENSION_STATES, TRANSITIONS, Channel, ClockName, Rating, State

TEXT_MAX = 20_000


@dataclass
class Intake:
    """What intake takes, already parsed by the entry point."""

    channel: str
    text: str
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    category: str | None = None
    urgent: bool = False
    requester_name: str = ""
    requester_phone: str = ""
    crs: str = "wgs84"  # the map app's coordinate system: wgs84, gcj02 (AMap, Tencent), bd09
    extra: dict[str, Any] = field(default_factory=dict)


# --- helpers shared by every action -------------------------------------------------------


def _append_event(
    case: Case,
    actor: Actor,
    action: str,
    at: dt.datetime,
    *,
    from_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        at=at,
        action=action,
        actor=actor.user,
        actor_label=actor.label,
        actor_unit=actor.unit,
        from_state=from_state,
        to_state=case.state,
        note=note,
        data=data or {},
    )


def _load(actor: Actor, case_id: int, action: str, expected_version: int | None) -> Case:
    """Lock the case and check, in order: visible (404), allowed (403), state (409),
    version (409)."""
    # Lock only the case row: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer joins that select_related makes for the optional foreign keys.
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("matter", "owner_unit", "place", "town")
        .filter(pk=case_id)
        .first()
    )
    if case is None or not (actor.is_system or actor.is_requester or can_see(actor, case)):
        raise NotFound(_("No such case."))
    if not may_act(actor, action, case):
        raise Forbidden(_("You may not do this on this case."))
    allowed_from, _to = TRANSITIONS[action]
    if case.state not in allowed_from:
        raise Conflict(
            _("This case is %(state)s; that action is not possible now.")
            % {"state": case.get_state_display()},
            state=case.state,
            version=case.version,
        )
    refused = group_rules.refusal(actor, case, action)  # an open joint group (一键组群)
    if refused:
        raise Conflict(refused, state=case.state, version=case.version)
    if expected_version is not None and expected_version != case.version:
        raise Conflict(
            _("Someone else changed this case meanwhile; reload it and try again."),
            state=case.state,
            version=case.version,
        )
    return case


def _commit(
    case: Case,
    actor: Actor,
    action: str,
    at: dt.datetime,
    *,
    from_state: str,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> Case:
    _allowed, to_state = TRANSITIONS[action]
    if to_state is not None:
        case.state = to_state
    if case.extension_requested_days and case.state not in EXTENSION_STATES:
        # A request for more time is the holding unit's, for the work it is doing: it
        # lapses when the case leaves that unit or that work, never passing to another.
        data = {**(data or {}), "extension_lapsed": case.extension_requested_days}
        case.extension_requested_days = None
        case.extension_reason = ""
    case.version += 1
    case.updated_at = at
    case.save()
    _append_event(case, actor, action, at, from_state=from_state, note=note, data=data)
    group_rules.after_case_action(actor, case, action, at)
    return case


def _require(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(field_name, message)
    return value


def _tell_requester(case: Case, kind: str, **context: Any) -> None:
    if case.requester_phone:
        enqueue(kind, case=case, phone=case.requester_phone, context={"number": case.number, **context})


# --- intake (受理) -------------------------------------------------------------------------


def _make_title(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 40 else one_line[:39] + "…"


def _check_point(data: Intake) -> tuple[float | None, float | None]:
    """The point in WGS-84, converted from the client's coordinate system; clear errors
    for half a point, out-of-range or swapped values."""
    if data.lat is None and data.lng is None:
        return None, None
    if (data.lat is None) != (data.lng is None):
        raise Invalid("lat", _("Give both latitude and longitude, or neither."))
    try:
        crs = normalize_crs(data.crs or "wgs84")
    except ValueError as exc:
        raise Invalid("crs", str(exc)) from exc
    try:
        lat, lng = validate_point(data.lat, data.lng)
    except ValueError as exc:
        raise Invalid("lat", str(exc)) from exc
    return to_wgs84(lat, lng, crs)


def _check_intake(data: Intake) -> tuple[str, Matter | None, str]:
    if data.channel not in Channel.values:
        raise Invalid("channel", _("Unknown channel."))
    text = (data.text or "").strip()
    if not text:
        raise Invalid("text", _("Describe the request."))
    if len(text) > TEXT_MAX:
        raise Invalid("text", _("The text is longer than %(max)d characters.") % {"max": TEXT_MAX})
    matter = None
    if data.category:
        matter = Matter.objects.filter(code=data.category, active=True).first()
        if matter is None:
            raise Invalid("category", _("Unknown category code."))
    try:
        phone = normalize_phone(data.requester_phone or "")
    except ValueError as exc:
        raise Invalid("requester.phone", _("Not a valid phone number.")) from exc
    return text, matter, phone


def accept_case(actor: Actor, data: Intake, *, idempotency_key: str | None = None) -> Case:
    """受理: record a request from any channel, start its clocks, and route it when the
    list of matters says where it goes. A retried call with the same idempotency key
    returns the case it made the first time."""
    if not (actor.is_system or actor.is_requester) and actor.role in (Role.LEADER, None):
        raise Forbidden(_("You may not register requests."))
    text, matter, phone = _check_intake(data)
    lat, lng = _check_point(data)
    user = actor.user
    if idempotency_key and user is not None:
        prior = IntakeKey.objects.filter(user=user, key=idempotency_key).select_related("case")
        if prior.exists():
            return prior.get().case
    try:
        with transaction.atomic():
            at = clock.now()
            case = Case(
                number=next_number(at),
                channel=data.channel,
                text=text,
                title=_make_title(text),
                matter=matter,
                lat=lat,
                lng=lng,
                address=(data.address or "").strip()[:200],
                urgent=data.urgent,
                requester_name=(data.requester_name or "").strip()[:64],
                requester_phone=phone,
                state=State.ACCEPTED,
                created_by=user,
                created_at=at,
                updated_at=at,
            )
            place = place_case(case)
            decision = categorise(case, matter)
            if case.matter is None and decision.code:
                case.matter = Matter.objects.filter(code=decision.code, active=True).first()
            case.save()
            decide(case, decision, place.get("reason"))
            case.routing = {**decision.as_dict(), "place": place}
            if data.crs and data.crs != "wgs84" and lat is not None:
                case.routing["point_given"] = {"lat": data.lat, "lng": data.lng, "crs": data.crs}
            case.save(update_fields=["routing"])
            _append_event(case, actor, "accept", at, data={"channel": data.channel, "routing": case.routing})
            clocks.start(case, ClockName.FEEDBACK, at)
            clocks.start(case, ClockName.RESOLVE, at)
            if data.channel == Channel.SENSOR:
                clocks.start(case, ClockName.RESPONSE, at)
            if idempotency_key and user is not None:
                IntakeKey.objects.create(user=user, key=idempotency_key, case=case, created_at=at)
            _tell_requester(case, "case_accepted", token=case.public_token)
            router = Actor.system(_("Automatic dispatch"))
            certain = decision.certain_duplicate
            if certain is not None:
                original = Case.objects.select_for_update().get(pk=certain.case_id)
                return _merge(case, original, router, at, note=_("Same address and matter within the hour."))
            owner, reason = decide_owner(case) if decision.auto else (None, "")
            if owner is not None:
                return _assign(
                    case,
                    router,
                    owner,
                    at,
                    note=reason,
                    from_state=case.state,
                    data={"rule": "zero_touch", "confidence": decision.confidence},
                )
            reasons = decision.reasons or [reason]
            _append_event(
                case,
                router,
                "triage",
                at,
                note=" ".join(r for r in reasons if r),
                from_state=case.state,
                data={"reasons": reasons},
            )
            return case
    except IntegrityError:
        if idempotency_key and user is not None:
            earlier = IntakeKey.objects.filter(user=user, key=idempotency_key).first()
            if earlier is not None:
                return earlier.case
        raise


# --- assign (派单) and re-assign ------------------------------------------------------------


def _assign(
    case: Case,
    actor: Actor,
    unit: Unit,
    at: dt.datetime,
    *,
    note: str,
    from_state: str,
    data: dict[str, Any] | None = None,
) -> Case:
    clocks.stop(case, (ClockName.SIGN, ClockName.DISPATCH), at)
    previous = case.owner_unit
    case.owner_unit = unit
    case.assignees.clear()
    case.dispatched_people = []
    # The unit now holding the case is the one held to its feedback and resolve limits.
    case.clocks.filter(
        name__in=(ClockName.FEEDBACK, ClockName.RESOLVE, ClockName.RESPONSE),
        met_at__isnull=True,
        stopped_at__isnull=True,
    ).update(unit=unit)
    clocks.start(case, ClockName.SIGN, at)
    enqueue(
        "case_assigned",
        case=case,
        unit=unit,
        context={"number": case.number, "title": case.title, "urgent": case.urgent},
    )
    alert_on_duty(case, unit, at)  # an urgent case at night also goes to who is on duty
    payload = {
        "unit": unit.code,
        "unit_name": unit.name,
        "previous_unit": previous.code if previous else None,
        **(data or {}),
    }
    return _commit(case, actor, "assign", at, from_state=from_state, note=note, data=payload)


def _last_returned_by(case: Case) -> str | None:
    event = case.events.filter(action="return").order_by("-at", "-id").first()
    return event.data.get("returned_by") if event else None


def assign_case(
    actor: Actor,
    case_id: int,
    *,
    unit_id: int | None = None,
    category: str | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """派单 / 改派: send the case to a unit (by default the owner the list of matters names),
    optionally correcting its category first."""
    with transaction.atomic():
        case = _load(actor, case_id, "assign", expected_version)
        at = clock.now()
        from_state = case.state
        data: dict[str, Any] = {}
        if category and (case.matter is None or category != case.matter.code):
            matter = Matter.objects.filter(code=category, active=True).first()
            if matter is None:
                raise Invalid("category", _("Unknown category code."))
            data["recategorised"] = {"from": case.matter.code if case.matter else None, "to": matter.code}
            case.matter = matter
            clocks.recompute_resolve(case)
        if unit_id is not None:
            unit = assignable_units(actor).filter(pk=unit_id).first()
            if unit is None:
                raise Invalid("unit", _("You cannot assign to that unit."))
        else:
            unit, reason = decide_owner(case)
            if unit is None:
                raise Invalid("unit", reason or _("Choose a unit."))
            if case.state == State.RETURNED and _last_returned_by(case) == unit.code:
                raise Invalid(
                    "unit",
                    _("%(unit)s returned this case; choose another unit or correct the category.")
                    % {"unit": unit.name},
                )
            if not assignable_units(actor).filter(pk=unit.pk).exists():
                raise Invalid("unit", _("You cannot assign to that unit."))
        return _assign(case, actor, unit, at, note=note.strip(), from_state=from_state, data=data)


# --- the unit's work ---------------------------------------------------------------------


def sign_case(actor: Actor, case_id: int, *, note: str = "", expected_version: int | None = None) -> Case:
    """签收: the unit acknowledges the case; the dispatch clock starts."""
    with transaction.atomic():
        case = _load(actor, case_id, "sign", expected_version)
        at = clock.now()
        clocks.meet(case, ClockName.SIGN, at)
        clocks.meet(case, ClockName.RESPONSE, at)
        clocks.start(case, ClockName.DISPATCH, at)
        return _commit(case, actor, "sign", at, from_state=State.ASSIGNED, note=note.strip())


def return_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """退单: "not ours", with a reason. A village/community returns to its sub-centre;
    anyone else returns to the city dispatcher."""
    with transaction.atomic():
        case = _load(actor, case_id, "return", expected_version)
        reason = _require(note, "note", _("Say why the case is not yours."))
        at = clock.now()
        from_state = case.state
        returning = case.owner_unit
        clocks.stop(case, (ClockName.SIGN, ClockName.DISPATCH), at)
        parent = returning.parent if returning else None
        if returning and returning.kind == UnitKind.GRASSROOTS and parent is not None:
            case.owner_unit = parent
            enqueue(
                "case_returned", case=case, unit=parent, context={"number": case.number, "reason": reason}
            )
        else:
            case.owner_unit = None
        return _commit(
            case,
            actor,
            "return",
            at,
            from_state=from_state,
            note=reason,
            data={"returned_by": returning.code if returning else None},
        )


def dispatch_case(
    actor: Actor, case_id: int, *, people: list[str], note: str = "", expected_version: int | None = None
) -> Case:
    """派遣: people go on site. Names that are field workers' user names (or display
    names) of the unit put the case on their phones."""
    with transaction.atomic():
        case = _load(actor, case_id, "dispatch", expected_version)
        names = [p.strip() for p in (people or []) if p and p.strip()]
        if not names:
            raise Invalid("people", _("Name the people or team sent."))
        at = clock.now()
        users = list(
            get_user_model()
            .objects.filter(
                profile__unit=case.owner_unit,
                profile__role=Role.FIELD_WORKER,
                is_active=True,
            )
            .filter(username__in=names)
        ) + list(
            get_user_model().objects.filter(
                profile__unit=case.owner_unit,
                profile__role=Role.FIELD_WORKER,
                is_active=True,
                profile__display_name__in=names,
            )
        )
        case.dispatched_people = names
        case.assignees.set(users)
        for u in {u.pk: u for u in users}.values():
            enqueue(
                "case_dispatched", case=case, user=u, context={"number": case.number, "title": case.title}
            )
        clocks.meet(case, ClockName.DISPATCH, at)
        return _commit(
            case,
            actor,
            "dispatch",
            at,
            from_state=State.SIGNED,
            note=note.strip(),
            data={"people": names, "users": [u.username for u in users]},
        )


def handle_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """办理: a note on the work done (repeatable)."""
    with transaction.atomic():
        case = _load(actor, case_id, "handle", expected_version)
        text = _require(note, "note", _("Write what was done."))
        at = clock.now()
        return _commit(case, actor, "handle", at, from_state=case.state, note=text)


def feedback_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """反馈: the outcome, in words for the requester; they are asked to rate it."""
    with transaction.atomic():
        case = _load(actor, case_id, "feedback", expected_version)
        text = _require(note, "note", _("Write the outcome for the requester."))
        at = clock.now()
        from_state = case.state
        case.feedback_text = text
        clocks.meet(case, ClockName.FEEDBACK, at)
        _tell_requester(case, "case_feedback", feedback=text, token=case.public_token)
        return _commit(case, actor, "feedback", at, from_state=from_state, note=text)


def rate_case(
    actor: Actor, case_id: int, *, rating: str, note: str = "", expected_version: int | None = None
) -> Case:
    """评价 / 回访: the requester's verdict, given on the public page or taken by phone."""
    with transaction.atomic():
        case = _load(actor, case_id, "rate", expected_version)
        if rating not in Rating.values:
            raise Invalid("rating", _("Choose satisfied, basically satisfied or unsatisfied."))
        at = clock.now()
        case.rating = rating
        case.rating_note = note.strip()
        return _commit(
            case, actor, "rate", at, from_state=State.FEEDBACK, note=note.strip(), data={"rating": rating}
        )


def close_case(actor: Actor, case_id: int, *, note: str = "", expected_version: int | None = None) -> Case:
    """办结. Closing over an unsatisfied rating needs a reason on record."""
    with transaction.atomic():
        case = _load(actor, case_id, "close", expected_version)
        if case.rating == Rating.UNSATISFIED:
            _require(note, "note", _("The requester is unsatisfied: say why it closes anyway."))
        at = clock.now()
        from_state = case.state
        clocks.meet(case, ClockName.RESOLVE, at)
        clocks.stop(case, tuple(ClockName.values), at)
        case.closed_at = at
        return _commit(case, actor, "close", at, from_state=from_state, note=note.strip())


def reopen_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """重新办理: after an unsatisfied rating the case goes back to the unit that held it,
    with fresh sign, feedback and resolve clocks."""
    with transaction.atomic():
        case = _load(actor, case_id, "reopen", expected_version)
        if case.rating != Rating.UNSATISFIED or case.merged_into_id:
            raise Conflict(
                _("Only a case rated unsatisfied can be reopened."), state=case.state, version=case.version
            )
        reason = _require(note, "note", _("Say why the case is reopened."))
        if case.owner_unit is None:
            raise Conflict(_("This case has no unit to go back to."), state=case.state, version=case.version)
        at = clock.now()
        from_state = case.state
        case.reopen_count += 1
        case.closed_at = None
        case.rating = ""
        clocks.stop(case, tuple(ClockName.values), at)
        clocks.start(case, ClockName.SIGN, at)
        clocks.start(case, ClockName.FEEDBACK, at)
        clocks.start(case, ClockName.RESOLVE, at)
        enqueue(
            "case_reopened",
            case=case,
            unit=case.owner_unit,
            context={"number": case.number, "reason": reason},
        )
        return _commit(
            case,
            actor,
            "reopen",
            at,
            from_state=from_state,
            note=reason,
            data={"reopen_count": case.reopen_count},
        )


# --- extensions, supervision, duplicates -------------------------------------------------


def request_extension(
    actor: Actor, case_id: int, *, days: int, note: str, expected_version: int | None = None
) -> Case:
    """延期申请: the unit asks for more working days, with a reason."""
    with transaction.atomic():
        case = _load(actor, case_id, "extend", expected_version)
        if not isinstance(days, int) or not 1 <= days <= 30:
            raise Invalid("days", _("Ask for 1 to 30 working days."))
        reason = _require(note, "note", _("Say why more time is needed."))
        if case.extension_requested_days:
            raise Conflict(
                _("An extension request is already waiting."), state=case.state, version=case.version
            )
        at = clock.now()
        case.extension_requested_days = days
        case.extension_reason = reason
        return _commit(case, actor, "extend", at, from_state=case.state, note=reason, data={"days": days})


def approve_extension(
    actor: Actor, case_id: int, *, approved: bool = True, note: str = "", expected_version: int | None = None
) -> Case:
    """延期审批: approve (the resolve limit moves by the working days asked) or refuse."""
    with transaction.atomic():
        case = _load(actor, case_id, "approve_extension", expected_version)
        days = case.extension_requested_days
        if not days:
            raise Conflict(_("No extension request is waiting."), state=case.state, version=case.version)
        at = clock.now()
        data: dict[str, Any] = {"days": days, "approved": approved}
        if approved:
            resolve = clocks.running(case, ClockName.RESOLVE)
            if resolve is not None:
                clocks.move_due(case, resolve, add_working_days(resolve.due_at, days))
                data["resolve_due_at"] = resolve.due_at.isoformat()
        case.extension_requested_days = None
        case.extension_reason = ""
        enqueue(
            "extension_decided",
            case=case,
            unit=case.owner_unit,
            context={"number": case.number, "approved": approved, "days": days},
        )
        return _commit(
            case, actor, "approve_extension", at, from_state=case.state, note=note.strip(), data=data
        )


def supervise_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """督办: a higher level chases the unit holding the case."""
    with transaction.atomic():
        case = _load(actor, case_id, "supervise", expected_version)
        text = _require(note, "note", _("Write what the unit must do, by when."))
        at = clock.now()
        case.supervision_count += 1
        if case.owner_unit is not None:
            enqueue(
                "case_supervised",
                case=case,
                unit=case.owner_unit,
                context={"number": case.number, "note": text},
            )
        return _commit(
            case, actor, "supervise", at, from_state=case.state, note=text, data={"level": actor.role}
        )


def merge_case(
    actor: Actor, case_id: int, *, into: int, note: str = "", expected_version: int | None = None
) -> Case:
    """合并: a duplicate closes into its original; its requester is told the original's
    number and follows that case."""
    with transaction.atomic():
        case = _load(actor, case_id, "merge", expected_version)
        if into == case.pk:
            raise Invalid("into", _("A case cannot be merged into itself."))
        original = Case.objects.select_for_update().filter(pk=into).first()
        if original is None or not (actor.is_system or can_see(actor, original)):
            raise Invalid("into", _("No such case to merge into."))
        if original.state == State.CLOSED or original.merged_into_id:
            raise Invalid("into", _("The original case is already closed."))
        return _merge(case, original, actor, clock.now(), note=note.strip())


def _merge(case: Case, original: Case, actor: Actor, at: dt.datetime, *, note: str) -> Case:
    from_state = case.state
    clocks.stop(case, tuple(ClockName.values), at)
    case.merged_into = original
    case.closed_at = at
    _tell_requester(case, "case_merged", original=original.number, token=original.public_token)
    result = _commit(
        case,
        actor,
        "merge",
        at,
        from_state=from_state,
        note=note,
        data={"into": original.number, "into_id": original.pk},
    )
    original.version += 1
    original.updated_at = at
    original.save(update_fields=["version", "updated_at"])
    _append_event(
        original,
        actor,
        "merged_in",
        at,
        from_state=original.state,
        note=note,
        data={"duplicate": case.number, "duplicate_id": case.pk},
    )
    return result


ACTION_FUNCTIONS: dict[str, Callable[..., Case]] = {
    "assign": assign_case,
    "sign": sign_case,
    "return": return_case,
    "dispatch": dispatch_case,
    "handle": handle_case,
    "feedback": feedback_case,
    "rate": rate_case,
    "close": close_case,
    "reopen": reopen_case,
    "extend": request_extension,
    "approve_extension": approve_extension,
    "supervise": supervise_case,
    "merge": merge_case,
}


def available_actions(actor: Actor, case: Case) -> list[str]:
    """Actions this actor may take on this case now (for pages and the API)."""
    out = []
    refused = group_rules.refusals(case)
    for name, (allowed_from, _to) in TRANSITIONS.items():
        if case.state in allowed_from and may_act(actor, name, case):
            if name == "reopen" and case.rating != Rating.UNSATISFIED:
                continue
            if name == "approve_extension" and not case.extension_requested_days:
                continue
            if name == "extend" and case.extension_requested_days:
                continue
            if name in refused:
                continue
            out.append(name)
    return out
