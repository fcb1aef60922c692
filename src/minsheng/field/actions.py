"""Named actions of the field worker's phone: arrive on site, and mark the work handled
with a note and a photo. Each is one change to the case through the case kernel, with its
case event, and a retry of the same submission (weak connection, lost answer) records
nothing twice."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit
from minsheng.cases import actions as case_actions
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.kernel import Change
from minsheng.cases.models import Case
from minsheng.cases.scoping import can_see, holds
from minsheng.cases.states import State
from minsheng.core import clock
from minsheng.media.actions import attach_photo
from minsheng.media.models import Photo, PhotoSource
from minsheng.places.coords import validate_point

from .models import Arrival, DutyShift, SubmissionKey

ON_SITE_STATES = (State.DISPATCHED, State.HANDLING)
# A second tap (or a retried request) this soon after an arrival returns the first one.
ARRIVE_AGAIN_AFTER = dt.timedelta(minutes=2)


def _a_person_who_sees(actor: Actor, case: Case) -> bool:
    return actor.user is not None and can_see(actor, case)


def _sent_on_site(ch: Change) -> None:
    case, actor = ch.case, ch.actor
    sent = case.assignees.filter(pk=actor.user.pk).exists()
    if not (sent or holds(actor, case)):
        raise Forbidden(_("You were not sent to this case."))
    if case.state not in ON_SITE_STATES:
        raise Conflict(
            _("This case is %(state)s; that action is not possible now.")
            % {"state": case.get_state_display()},
            state=case.state,
            version=case.version,
        )


def _on_site(actor: Actor, case_id: int, action: str) -> AbstractContextManager[Change]:
    """A change to the case by a person who was sent to it (or whose unit holds it), while
    people are on site."""
    return kernel.change(actor, case_id, action, visible=_a_person_who_sees, check=_sent_on_site)


def arrive(actor: Actor, case_id: int, *, lat: Any, lng: Any, accuracy: Any = None) -> Arrival:
    """到场: record that the person is on site, when and where (the phone's WGS-84
    position and its accuracy in metres), as an ``arrive`` event of the case."""
    try:
        lat_f, lng_f = validate_point(lat, lng)
    except (TypeError, ValueError) as exc:
        raise Invalid(
            "position", _("Your position is needed: allow location on the phone and try again.")
        ) from exc
    acc: float | None = None
    if accuracy not in (None, ""):
        try:
            acc = max(0.0, min(float(accuracy), 100_000.0))
        except (TypeError, ValueError):
            acc = None
    with _on_site(actor, case_id, "arrive") as ch:
        case, at = ch.case, ch.at
        recent = Arrival.objects.filter(case=case, user=actor.user, at__gte=at - ARRIVE_AGAIN_AFTER).first()
        if recent is not None:
            return recent
        arrival = Arrival.objects.create(
            case=case, user=actor.user, at=at, lat=lat_f, lng=lng_f, accuracy=acc
        )
        ch.event(data={"lat": lat_f, "lng": lng_f, "accuracy": acc, "at": at.isoformat()})
        return arrival


def _claim_key(actor: Actor, case: Case, key: str) -> bool:
    """True the first time this person submits ``key``; False for a repeat."""
    if not key:
        return True
    if len(key) > 64:
        raise Invalid("client_key", _("The upload key is not valid."))
    try:
        with transaction.atomic():
            SubmissionKey.objects.create(user=actor.user, key=key, case=case, created_at=clock.now())
    except IntegrityError:
        return False
    return True


def handle_on_site(actor: Actor, case_id: int, *, note: str, photo: Any = None, client_key: str = "") -> Case:
    """办理 from the phone ("mark handled"): the note (``handle_case``) and, if given, a
    photo of the work, together or not at all. A repeat of the same submission returns
    the case without adding anything."""
    if not (note or "").strip():
        raise Invalid("note", _("Write what was done."))
    with _on_site(actor, case_id, "handle_on_site") as ch:
        case = ch.case
        if not _claim_key(actor, case, client_key):
            return case
        if photo is not None:
            attach_photo(actor, case.pk, photo, client_key=client_key, source=PhotoSource.FIELD)
        return case_actions.handle_case(actor, case.pk, note=note)


def add_site_photo(actor: Actor, case_id: int, *, photo: Any, client_key: str = "") -> Photo:
    """A photo from the site without a note; idempotent by ``client_key``."""
    with _on_site(actor, case_id, "photo"):
        pass  # the checks only: the photo is decoded before attach_photo takes the lock
    return attach_photo(actor, case_id, photo, client_key=client_key, source=PhotoSource.FIELD)


# --- the duty roster ------------------------------------------------------------------

ROSTER_ROLES = (Role.HANDLER, Role.SUBCENTRE_DISPATCHER)


def may_manage_roster(actor: Actor, unit: Unit) -> bool:
    """A unit's handlers (a sub-centre's dispatchers) keep their own roster; the
    administrator any unit's."""
    if actor.role == Role.ADMIN:
        return True
    return actor.role in ROSTER_ROLES and actor.unit is not None and actor.unit.pk == unit.pk


def add_shift(
    actor: Actor, unit: Unit, *, user_id: int, starts_at: dt.datetime, ends_at: dt.datetime, note: str = ""
) -> DutyShift:
    """排班: put one of the unit's people on duty; a person is never on two overlapping
    shifts of the same unit."""
    if not may_manage_roster(actor, unit):
        raise Forbidden(_("You may not change this unit's roster."))
    if ends_at <= starts_at:
        raise Invalid("ends_at", _("A shift must end after it starts."))
    if ends_at - starts_at > dt.timedelta(hours=48):
        raise Invalid("ends_at", _("A shift lasts at most 48 hours."))
    person = get_user_model().objects.filter(pk=user_id, is_active=True, profile__unit=unit).first()
    if person is None:
        raise Invalid("user", _("Choose a person of this unit."))
    with transaction.atomic():
        clash = (
            DutyShift.objects.select_for_update()
            .filter(unit=unit, user=person, starts_at__lt=ends_at, ends_at__gt=starts_at)
            .exists()
        )
        if clash:
            raise Invalid("starts_at", _("This person already has a shift at that time."))
        return DutyShift.objects.create(
            unit=unit,
            user=person,
            starts_at=starts_at,
            ends_at=ends_at,
            note=note.strip()[:200],
            created_by=actor.user,
        )


def remove_shift(actor: Actor, shift_id: int) -> None:
    shift = DutyShift.objects.select_related("unit").filter(pk=shift_id).first()
    if shift is None:
        raise NotFound(_("No such shift."))
    if not may_manage_roster(actor, shift.unit):
        raise Forbidden(_("You may not change this unit's roster."))
    shift.delete()
