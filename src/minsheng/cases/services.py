"""Reading cases for a person: loading within scope, and the personal-data access log."""

from __future__ import annotations

from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.core import clock

from .errors import NotFound
from .models import Case, PersonalDataAccess
from .scoping import visible_cases


def get_visible_case(actor: Actor, case_id: int) -> Case:
    case = (
        visible_cases(actor)
        .select_related("matter", "owner_unit", "place", "town", "merged_into")
        .prefetch_related("clocks__unit")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound(_("No such case."))
    return case


def get_visible_case_by_number(actor: Actor, number: str) -> Case:
    case = visible_cases(actor).filter(number=number).values_list("pk", flat=True).first()
    if case is None:
        raise NotFound(_("No such case."))
    return get_visible_case(actor, case)


def log_phone_view(actor: Actor, case: Case, *, via: str) -> None:
    """Written every time a full phone number is shown to someone."""
    if actor.user is not None:
        PersonalDataAccess.objects.create(user=actor.user, case=case, via=via, at=clock.now())
