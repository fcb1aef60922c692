"""Reading cases for a person: loading within scope (the personal-data access log is
written by :func:`minsheng.cases.privacy.reveal_phone`)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor

from .errors import NotFound
from .models import Case
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
