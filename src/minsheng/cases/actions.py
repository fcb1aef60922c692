"""Named actions on cases: each opens a change through the kernel (which checks the
actor's scope and right, the case's state and version), changes the case, appends the
event, and writes the outbox, in one transaction.

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
from minsheng.core.text import NulCharacter, clean_text
from minsheng.core.workdays import add_working_days
from minsheng.places.coords import normalize_crs, to_wgs84, validate_point

from . import clocks, kernel, registry
from .errors import CaseError, Conflict, Forbidden, Invalid
from .intake import Decision, Lookups, decide_owner, route_many
from .kernel import Change
from .models import Case, IntakeKey
from .numbering import next_numbers
from .scoping import assignable_units, can_see, may_act
from .states import TRANSITIONS, Channel, ClockName, Rating, State

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


def _clean(value: str | None, field_name: str) -> str:
    """Submitted text under the one rule for control characters (:mod:`minsheng.core.text`):
    a NUL is refused naming the field, the others are removed."""
    try:
        return clean_text(value or "")
    except NulCharacter as exc:
        raise Invalid(field_name, _("Remove the NUL character from the text.")) from exc


def _require(value: str, field_name: str, message: str) -> str:
    value = _clean(value, field_name).strip()
    if not value:
        raise Invalid(field_name, message)
    return value


def _tell_requester(ch: Change | kernel.Fresh, kind: str, **context: Any) -> None:
    case = ch.case
    if case.requester_phone:
        ch.notify(kind, phone=case.requester_phone, context={"number": case.number, **context})


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


def _check_intake(data: Intake, lookups: Lookups) -> tuple[str, Matter | None, str]:
    if data.channel not in Channel.values:
        raise Invalid("channel", _("Unknown channel."))
    text = _clean(data.text, "text").strip()
    if not text:
        raise Invalid("text", _("Describe the request."))
    if len(text) > TEXT_MAX:
        raise Invalid("text", _("The text is longer than %(max)d characters.") % {"max": TEXT_MAX})
    matter = None
    if data.category:
        matter = lookups.matter(data.category)
        if matter is None:
            raise Invalid("category", _("Unknown category code."))
    try:
        phone = normalize_phone(data.requester_phone or "")
    except ValueError as exc:
        raise Invalid("requester.phone", _("Not a valid phone number.")) from exc
    return text, matter, phone


@dataclass
class _Item:
    """An intake checked and routed, not yet written: the new case (no number yet) and the
    decision about it."""

    data: Intake
    case: Case
    given: Matter | None
    key: str | None
    point_given: dict[str, Any] | None
    decision: Decision | None = None


def _may_register(actor: Actor) -> None:
    if not (actor.is_system or actor.is_requester) and actor.role in (Role.LEADER, None):
        raise Forbidden(_("You may not register requests."))


def _prepare(
    actor: Actor,
    items: list[Intake],
    keys: list[str | None],
    predicted: list[tuple[Any, float] | None],
    at: dt.datetime,
) -> list[_Item | Case | CaseError | int]:
    """Check and route new intakes, before any transaction opens: each answered by the
    :class:`_Item` to write, the case an earlier request made under its key, its
    :class:`~.errors.CaseError`, or the position of an earlier item of the same call under
    the same key (answered by that item's case). What routing reads from the database is
    read once for all (:func:`~.intake.route_many`)."""
    lookups = Lookups()
    lookups.matters([d.category for d in items])
    user = actor.user
    prior: dict[str, Case] = {}
    wanted = [k for k in keys if k]
    if wanted and user is not None:
        prior = {
            k.key: k.case for k in IntakeKey.objects.filter(user=user, key__in=wanted).select_related("case")
        }
    out: list[_Item | Case | CaseError | int] = []
    first_of_key: dict[str, int] = {}
    for i, (data, key) in enumerate(zip(items, keys, strict=True)):
        try:
            text, matter, phone = _check_intake(data, lookups)
            address = _clean(data.address, "address").strip()[:200]
            requester_name = _clean(data.requester_name, "requester.name").strip()[:64]
            lat, lng = _check_point(data)
        except CaseError as exc:
            out.append(exc)
            continue
        if key and user is not None:
            if key in prior:
                out.append(prior[key])
                continue
            if key in first_of_key:
                out.append(first_of_key[key])
                continue
            first_of_key[key] = i
        case = Case(
            channel=data.channel,
            text=text,
            title=_make_title(text),
            matter=matter,
            lat=lat,
            lng=lng,
            address=address,
            urgent=data.urgent,
            requester_name=requester_name,
            requester_phone=phone,
            state=State.ACCEPTED,
            created_by=user,
            created_at=at,
            updated_at=at,
        )
        point_given = None
        if data.crs and data.crs != "wgs84" and lat is not None:
            point_given = {"lat": data.lat, "lng": data.lng, "crs": data.crs}
        out.append(_Item(data, case, matter, key if user is not None else None, point_given))
    todo = [(x, predicted[i]) for i, x in enumerate(out) if isinstance(x, _Item)]
    decisions = route_many(
        [x.case for x, _p in todo], [x.given for x, _p in todo], [p for _x, p in todo], lookups
    )
    for (item, _p), decision in zip(todo, decisions, strict=True):
        item.decision = decision  # place, category, duplicates, owner
    if todo:  # the parts' clock rules read what they need, for all at once, before any write
        registry.prepare_clock_rules([x.case for x, _p in todo])
    return out


def _intake_rules(batch: kernel.NewCases, actor: Actor, router: Actor, item: _Item) -> None:
    """What accepting a new case does, onto the kernel's handle (written with the others):
    the accept entry with the decision's record, the feedback and resolve clocks (and the
    response clock for a sensor), the key, the requester's SMS, then the zero-touch
    assignment or the triage entry. A certain duplicate is merged once written
    (:func:`_merge_written`)."""
    case, decision, data = item.case, item.decision, item.data
    assert decision is not None
    case.routing = decision.record()
    if item.point_given is not None:
        case.routing["point_given"] = item.point_given
    ch = batch.begin(case, actor, "accept")
    ch.event(from_state="", data={"channel": data.channel, "routing": case.routing})
    started = [ClockName.FEEDBACK, ClockName.RESOLVE]
    if data.channel == Channel.SENSOR:
        started.append(ClockName.RESPONSE)
    ch.start_clocks(*started)
    if item.key:
        batch.key(case, actor.user, item.key)
    _tell_requester(ch, "case_accepted", token=case.public_token)
    if decision.certain_duplicate is not None:
        return
    if decision.owner is not None:
        _assign(
            batch.begin(case, router, "assign"),
            decision.owner,
            note=decision.owner_reason,
            data={"rule": "zero_touch", "confidence": decision.confidence},
        )
    else:
        reasons = decision.triage_reasons
        batch.begin(case, router, "triage").event(
            note=" ".join(r for r in reasons if r), data={"reasons": reasons}
        )
    case.made_clocks = batch.clocks_of(case)  # as written: the answer shows them without reading them


def _merge_written(router: Actor, item: _Item, at: dt.datetime) -> None:
    """A new case, written, whose earlier report is certain (same address and matter within
    the hour): merged into it through the per-case path, in the same transaction (the rare
    path: the original is locked and changed). Should the original have closed since the
    decision, the case waits for a dispatcher."""
    case, decision = item.case, item.decision
    assert decision is not None and decision.certain_duplicate is not None
    original = kernel.lock_case(decision.certain_duplicate.case_id)
    if original is not None and original.state != State.CLOSED and not original.merged_into_id:
        _merge(
            kernel.begin(case, router, "merge", at),
            original,
            note=_("Same address and matter within the hour."),
        )
        return
    reasons = decision.triage_reasons
    kernel.begin(case, router, "triage", at).event(
        note=" ".join(r for r in reasons if r), data={"reasons": reasons}
    )


def _write(actor: Actor, items: list[_Item], at: dt.datetime) -> None:
    """Write new cases checked and routed (:func:`_prepare`), in the caller's transaction:
    their numbers as one block, then through the kernel each kind of row in one INSERT;
    certain duplicates merged after. Only writes: the CPU work was done before."""
    if not items:
        return
    batch = kernel.NewCases(at)
    for item, number in zip(items, next_numbers(at, len(items)), strict=True):
        item.case.number = number
        batch.add(item.case)
    router = Actor.system(_("Automatic dispatch"))
    for item in items:
        _intake_rules(batch, actor, router, item)
    named = [x for x in items if x.decision is not None and x.decision.in_batch]

    def name_earlier() -> None:
        """The earlier cases of the batch a case may repeat have their ids now."""
        for x in named:
            assert x.decision is not None
            x.case.routing["duplicates"][:] = [d.as_dict() for d in x.decision.duplicates]
        if named:
            Case.objects.bulk_update([x.case for x in named], ["routing"])

    try:
        batch.write(name_earlier)
        for item in items:
            if item.decision is not None and item.decision.certain_duplicate is not None:
                _merge_written(router, item, at)
    finally:
        for item in items:
            item.case.fresh = False


def _unwritten(item: _Item) -> None:
    """The item's case as before a write that was rolled back, to be written again."""
    case = item.case
    case.pk = None
    case._state.adding = True
    case.version, case.state, case.owner_unit, case.made_clocks = 1, State.ACCEPTED, None, None
    case.merged_into, case.closed_at = None, None


def accept_case(
    actor: Actor,
    data: Intake,
    *,
    idempotency_key: str | None = None,
    predicted: tuple[Any, float] | None = None,
    then: Callable[[Case], None] | None = None,
) -> Case:
    """受理: record a request from any channel, start its clocks, and route it when the
    list of matters says where it goes. A retried call with the same idempotency key
    returns the case it made the first time. ``predicted``: the classifier's answer for the
    text, when the caller asked it already. ``then(case)`` runs in the intake's transaction
    once the case is written (the API records who was shown the phone number there).

    The batch of one of :func:`accept_cases`: checked and routed (place, category,
    duplicates, owner) before the transaction opens, so the transaction holds only the
    writes (on SQLite, the one write lock)."""
    _may_register(actor)
    at = clock.now()
    (got,) = _prepare(actor, [data], [idempotency_key], [predicted], at)
    if isinstance(got, CaseError):
        raise got
    if isinstance(got, Case):
        return got
    assert isinstance(got, _Item)
    try:
        with transaction.atomic():
            _write(actor, [got], at)
            if then is not None:
                then(got.case)
            return got.case
    except IntegrityError:
        user = actor.user
        if idempotency_key and user is not None:
            earlier = IntakeKey.objects.filter(user=user, key=idempotency_key).first()
            if earlier is not None:
                return earlier.case
        raise


BATCH_MAX = 500
# Items written together: one transaction, one INSERT per kind of row. On SQLite the write
# lock is held while they are written (tens of milliseconds), no longer.
BATCH_COMMIT = 100


def accept_cases(
    actor: Actor,
    items: list[Intake],
    *,
    keys: list[str | None] | None = None,
    then: Callable[[list[tuple[int, Case]]], None] | None = None,
) -> list[Case | CaseError]:
    """受理 in bulk (partner platforms, 110 transfers, migrations): each item as
    :func:`accept_case` would (checked, placed, routed, its clocks, log and outbox; an item
    repeating an earlier one of the batch found as it would be had they come one after the
    other), with set-based work: the texts without a category classified in one pass of
    the model, what routing reads loaded once, places and duplicates found in memory, and
    through the kernel's :class:`~.kernel.NewCases` each kind of row written with one
    INSERT for :data:`BATCH_COMMIT` items at a time, their numbers taken as a block. A
    refused item (its :class:`~.errors.CaseError` in its place in the answer) leaves the
    others; all are durable once this returns. ``then(made)`` runs in each transaction
    with the ``(index, case)`` it wrote (the API records the requests' fingerprints); should
    it refuse (a :class:`~.errors.CaseError`), the items are written again one by one and
    the one it refuses alone is answered with the refusal.

    The rare paths take the per-case path in the same transaction: a certain duplicate is
    merged into its original case by case; should a write fail on a key another request
    took meanwhile, the items of that transaction are written again one by one, the one
    whose key was taken answered by the case made under it."""
    if len(items) > BATCH_MAX:
        raise Invalid("cases", _("At most %(n)d cases at once.") % {"n": BATCH_MAX})
    try:
        _may_register(actor)
    except CaseError as exc:
        return [exc for _item in items]
    keys = keys if keys is not None else [None] * len(items)
    at = clock.now()
    predicted: list[tuple[Any, float] | None] = [None] * len(items)
    classify_many = registry.classifier_many()
    unsure = [i for i, d in enumerate(items) if not d.category]
    if classify_many is not None and unsure:
        texts = [
            _clean(items[i].text, "text").strip() if "\x00" not in (items[i].text or "") else ""
            for i in unsure
        ]
        for i, guess in zip(unsure, classify_many(texts), strict=True):
            predicted[i] = guess
    prepared = _prepare(actor, items, keys, predicted, at)
    out: list[Case | CaseError | None] = [x if isinstance(x, (Case, CaseError)) else None for x in prepared]
    todo = [(i, x) for i, x in enumerate(prepared) if isinstance(x, _Item)]
    for start in range(0, len(todo), BATCH_COMMIT):
        chunk = todo[start : start + BATCH_COMMIT]
        try:
            with transaction.atomic():
                _write(actor, [x for _i, x in chunk], at)
                if then is not None:
                    then([(i, x.case) for i, x in chunk])
        except (IntegrityError, CaseError):  # a key taken meanwhile, or ``then`` refused one
            for _i, x in chunk:
                _unwritten(x)
            _write_one_by_one(actor, chunk, at, then, out)
        else:
            for i, x in chunk:
                out[i] = x.case
    for i, p in enumerate(prepared):
        if isinstance(p, int):  # the same key as an earlier item: its case
            out[i] = out[p]
    return [x if x is not None else Invalid("cases", _("Not written.")) for x in out]


def _write_one_by_one(
    actor: Actor,
    chunk: list[tuple[int, _Item]],
    at: dt.datetime,
    then: Callable[[list[tuple[int, Case]]], None] | None,
    out: list[Case | CaseError | None],
) -> None:
    """The rare path of :func:`accept_cases`: each item of a transaction that failed on a
    key written again alone, in its own savepoint."""
    with transaction.atomic():
        for i, item in chunk:
            try:
                with transaction.atomic():
                    _write(actor, [item], at)
                    if then is not None:
                        then([(i, item.case)])
            except IntegrityError:
                _unwritten(item)
                earlier = (
                    IntakeKey.objects.filter(user=actor.user, key=item.key).first() if item.key else None
                )
                if earlier is None:
                    raise
                out[i] = earlier.case
            except CaseError as exc:
                _unwritten(item)
                out[i] = exc
            else:
                out[i] = item.case


# --- assign (派单) and re-assign ------------------------------------------------------------


def _assign(ch: Change | kernel.Fresh, unit: Unit, *, note: str, data: dict[str, Any] | None = None) -> Case:
    case = ch.case
    ch.stop_clocks(ClockName.SIGN, ClockName.DISPATCH)
    previous = case.owner_unit
    case.owner_unit = unit
    if not case.fresh:  # a case intake has just made has no one on it yet
        case.assignees.clear()
    case.dispatched_people = []
    # The unit now holding the case is the one held to its feedback and resolve limits.
    ch.hand_clocks((ClockName.FEEDBACK, ClockName.RESOLVE, ClockName.RESPONSE), unit)
    ch.start_clock(ClockName.SIGN)
    ch.notify(
        "case_assigned",
        unit=unit,
        context={"number": case.number, "title": case.title, "urgent": case.urgent},
    )
    ch.on_assign(unit)  # e.g. an urgent case at night goes to who is on duty
    payload = {
        "unit": unit.code,
        "unit_name": unit.name,
        "previous_unit": previous.code if previous else None,
        **(data or {}),
    }
    return ch.commit(note=note, data=payload)


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
    with kernel.change(actor, case_id, "assign", expected_version=expected_version) as ch:
        case = ch.case
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
        return _assign(ch, unit, note=note.strip(), data=data)


# --- the unit's work ---------------------------------------------------------------------


def sign_case(actor: Actor, case_id: int, *, note: str = "", expected_version: int | None = None) -> Case:
    """签收: the unit acknowledges the case; the dispatch clock starts."""
    with kernel.change(actor, case_id, "sign", expected_version=expected_version) as ch:
        ch.meet_clock(ClockName.SIGN)
        ch.meet_clock(ClockName.RESPONSE)
        ch.start_clock(ClockName.DISPATCH)
        return ch.commit(note=note.strip())


def return_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """退单: "not ours", with a reason. A village/community returns to its sub-centre;
    anyone else returns to the city dispatcher."""
    with kernel.change(actor, case_id, "return", expected_version=expected_version) as ch:
        case = ch.case
        reason = _require(note, "note", _("Say why the case is not yours."))
        returning = case.owner_unit
        ch.stop_clocks(ClockName.SIGN, ClockName.DISPATCH)
        parent = returning.parent if returning else None
        if returning and returning.kind == UnitKind.GRASSROOTS and parent is not None:
            case.owner_unit = parent
            ch.notify("case_returned", unit=parent, context={"number": case.number, "reason": reason})
        else:
            case.owner_unit = None
        return ch.commit(note=reason, data={"returned_by": returning.code if returning else None})


def dispatch_case(
    actor: Actor, case_id: int, *, people: list[str], note: str = "", expected_version: int | None = None
) -> Case:
    """派遣: people go on site. Names that are field workers' user names (or display
    names) of the unit put the case on their phones."""
    with kernel.change(actor, case_id, "dispatch", expected_version=expected_version) as ch:
        case = ch.case
        names = [p.strip() for p in (people or []) if p and p.strip()]
        if not names:
            raise Invalid("people", _("Name the people or team sent."))
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
            ch.notify("case_dispatched", user=u, context={"number": case.number, "title": case.title})
        ch.meet_clock(ClockName.DISPATCH)
        return ch.commit(note=note.strip(), data={"people": names, "users": [u.username for u in users]})


def handle_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """办理: a note on the work done (repeatable)."""
    with kernel.change(actor, case_id, "handle", expected_version=expected_version) as ch:
        text = _require(note, "note", _("Write what was done."))
        return ch.commit(note=text)


def feedback_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """反馈: the outcome, in words for the requester; they are asked to rate it."""
    with kernel.change(actor, case_id, "feedback", expected_version=expected_version) as ch:
        text = _require(note, "note", _("Write the outcome for the requester."))
        ch.case.feedback_text = text
        ch.meet_clock(ClockName.FEEDBACK)
        _tell_requester(ch, "case_feedback", feedback=text, token=ch.case.public_token)
        return ch.commit(note=text)


def rate_case(
    actor: Actor, case_id: int, *, rating: str, note: str = "", expected_version: int | None = None
) -> Case:
    """评价 / 回访: the requester's verdict, given on the public page or taken by phone."""
    with kernel.change(actor, case_id, "rate", expected_version=expected_version) as ch:
        if rating not in Rating.values:
            raise Invalid("rating", _("Choose satisfied, basically satisfied or unsatisfied."))
        ch.case.rating = rating
        ch.case.rating_note = note.strip()
        return ch.commit(note=note.strip(), data={"rating": rating})


def close_case(actor: Actor, case_id: int, *, note: str = "", expected_version: int | None = None) -> Case:
    """办结. Closing over an unsatisfied rating needs a reason on record."""
    with kernel.change(actor, case_id, "close", expected_version=expected_version) as ch:
        if ch.case.rating == Rating.UNSATISFIED:
            _require(note, "note", _("The requester is unsatisfied: say why it closes anyway."))
        ch.meet_clock(ClockName.RESOLVE)
        ch.stop_clocks(*ClockName.values)
        ch.case.closed_at = ch.at
        return ch.commit(note=note.strip())


def reopen_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """重新办理: after an unsatisfied rating the case goes back to the unit that held it,
    with fresh sign, feedback and resolve clocks."""
    with kernel.change(actor, case_id, "reopen", expected_version=expected_version) as ch:
        case = ch.case
        if case.rating != Rating.UNSATISFIED or case.merged_into_id:
            raise Conflict(
                _("Only a case rated unsatisfied can be reopened."), state=case.state, version=case.version
            )
        reason = _require(note, "note", _("Say why the case is reopened."))
        if case.owner_unit is None:
            raise Conflict(_("This case has no unit to go back to."), state=case.state, version=case.version)
        case.reopen_count += 1
        case.closed_at = None
        case.rating = ""
        ch.stop_clocks(*ClockName.values)
        ch.start_clock(ClockName.SIGN)
        ch.start_clock(ClockName.FEEDBACK)
        ch.start_clock(ClockName.RESOLVE)
        ch.notify(
            "case_reopened",
            unit=case.owner_unit,
            context={"number": case.number, "reason": reason},
        )
        return ch.commit(note=reason, data={"reopen_count": case.reopen_count})


# --- extensions, supervision, duplicates -------------------------------------------------


def request_extension(
    actor: Actor, case_id: int, *, days: int, note: str, expected_version: int | None = None
) -> Case:
    """延期申请: the unit asks for more working days, with a reason."""
    with kernel.change(actor, case_id, "extend", expected_version=expected_version) as ch:
        case = ch.case
        if not isinstance(days, int) or not 1 <= days <= 30:
            raise Invalid("days", _("Ask for 1 to 30 working days."))
        reason = _require(note, "note", _("Say why more time is needed."))
        if case.extension_requested_days:
            raise Conflict(
                _("An extension request is already waiting."), state=case.state, version=case.version
            )
        case.extension_requested_days = days
        case.extension_reason = reason
        return ch.commit(note=reason, data={"days": days})


def approve_extension(
    actor: Actor, case_id: int, *, approved: bool = True, note: str = "", expected_version: int | None = None
) -> Case:
    """延期审批: approve (the resolve limit moves by the working days asked) or refuse."""
    with kernel.change(actor, case_id, "approve_extension", expected_version=expected_version) as ch:
        case = ch.case
        days = case.extension_requested_days
        if not days:
            raise Conflict(_("No extension request is waiting."), state=case.state, version=case.version)
        data: dict[str, Any] = {"days": days, "approved": approved}
        if approved:
            resolve = clocks.running(case, ClockName.RESOLVE)
            if resolve is not None:
                clocks.move_due(case, resolve, add_working_days(resolve.due_at, days))
                data["resolve_due_at"] = resolve.due_at.isoformat()
        case.extension_requested_days = None
        case.extension_reason = ""
        ch.notify(
            "extension_decided",
            unit=case.owner_unit,
            context={"number": case.number, "approved": approved, "days": days},
        )
        return ch.commit(note=note.strip(), data=data)


def supervise_case(actor: Actor, case_id: int, *, note: str, expected_version: int | None = None) -> Case:
    """督办: a higher level chases the unit holding the case."""
    with kernel.change(actor, case_id, "supervise", expected_version=expected_version) as ch:
        case = ch.case
        text = _require(note, "note", _("Write what the unit must do, by when."))
        case.supervision_count += 1
        if case.owner_unit is not None:
            ch.notify("case_supervised", unit=case.owner_unit, context={"number": case.number, "note": text})
        return ch.commit(note=text, data={"level": actor.role})


def merge_case(
    actor: Actor, case_id: int, *, into: int, note: str = "", expected_version: int | None = None
) -> Case:
    """合并: a duplicate closes into its original; its requester is told the original's
    number and follows that case."""
    with kernel.change(actor, case_id, "merge", expected_version=expected_version) as ch:
        if into == ch.case.pk:
            raise Invalid("into", _("A case cannot be merged into itself."))
        original = kernel.lock_case(into)
        if original is None or not (actor.is_system or can_see(actor, original)):
            raise Invalid("into", _("No such case to merge into."))
        if original.state == State.CLOSED or original.merged_into_id:
            raise Invalid("into", _("The original case is already closed."))
        return _merge(ch, original, note=note.strip())


def _merge(ch: Change, original: Case, *, note: str) -> Case:
    case = ch.case
    ch.stop_clocks(*ClockName.values)
    case.merged_into = original
    case.closed_at = ch.at
    # The duplicate's requester follows their own page, which shows the original's progress;
    # the original's secret link belongs to its requester alone.
    _tell_requester(ch, "case_merged", original=original.number, token=case.public_token)
    result = ch.commit(note=note, data={"into": original.number, "into_id": original.pk})
    merged_in = kernel.begin(original, ch.actor, "merged_in", ch.at)
    merged_in.bump()
    merged_in.event(note=note, data={"duplicate": case.number, "duplicate_id": case.pk})
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
    refused = registry.refusals(case)
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
