"""Reading cases for a person: loading within scope (the personal-data access log is
written by :func:`minsheng.cases.privacy.reveal_phone`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.catalog.models import Matter
from minsheng.core import clock

from .errors import NotFound
from .intake import Candidate, find_duplicates
from .models import Case, CaseClock
from .scoping import visible_cases


def get_visible_case(actor: Actor, case_id: int) -> Case:
    rows = (
        visible_cases(actor)
        .select_related("matter", "owner_unit", "place", "town", "merged_into")
        .prefetch_related("clocks__unit")
        .filter(pk=case_id)
        .order_by()  # one row: compiling the default order costs more CPU than the query
    )
    found = list(rows[:1])
    if not found:
        raise NotFound(_("No such case."))
    return found[0]


def as_made(case: Case) -> Case:
    """The case ``accept_case`` has just answered, ready to present to the one who made it:
    what the decision set (matter, place, town, owner) is already on it, so only its clocks
    are read (one query; none when intake left it for a dispatcher and kept the clocks it
    started, ``Case.made_clocks``), not the whole case again; and no part has rows of it
    yet (a joint group, a proposal: nothing the intake's hooks make), so the actions offered
    are not checked against them (``Case.fresh``). Call it on that case only, in that
    request."""
    if case.made_clocks is None:  # else a case left for a dispatcher: its clocks as started
        clocks = CaseClock.objects.select_related("unit")
        prefetch_related_objects([case], Prefetch("clocks", queryset=clocks))
    case.fresh = True
    return case


def get_visible_case_by_number(actor: Actor, number: str) -> Case:
    case = visible_cases(actor).filter(number=number).values_list("pk", flat=True).first()
    if case is None:
        raise NotFound(_("No such case."))
    return get_visible_case(actor, case)


@dataclass(frozen=True)
class PossibleDuplicate:
    """An open case a request being typed may repeat (the intake's own rule), as the person
    may see it."""

    case: Case
    candidate: Candidate


def possible_duplicates(
    actor: Actor,
    *,
    text: str,
    matter_code: str,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    limit: int = 5,
) -> list[PossibleDuplicate]:
    """The open cases that a request not yet registered would be found to repeat, by the
    same rule intake applies (``cases.intake.find_duplicates``: same matter, within its
    radius and window, alike in text), limited to the cases ``actor`` may see. Read-only:
    nothing is written, the request is never saved."""
    matter = Matter.objects.filter(code=matter_code, active=True).first() if matter_code else None
    if matter is None or not (text or "").strip():
        return []
    if (lat is None) != (lng is None):
        lat = lng = None
    draft = Case(text=text, matter=matter, lat=lat, lng=lng, address=address or "", created_at=clock.now())
    found = find_duplicates(draft, limit=limit)
    if not found:
        return []
    shown = {
        c.pk: c
        for c in visible_cases(actor)
        .select_related("matter", "owner_unit")
        .filter(pk__in=[d.case_id for d in found])
    }
    return [PossibleDuplicate(shown[d.case_id], d) for d in found if d.case_id in shown]
