"""The one scoping rule: which cases a person may see, and which actions they may take.

Every list, detail, search, count and export goes through :func:`visible_cases`, and every
action through :func:`may_act`, so that a department never sees another department's
cases and a sub-centre never sees another town's.
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Iterator
from contextvars import ContextVar

from django.db.models import Q, QuerySet

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit

from . import registry
from .models import Case

CITY_WIDE = frozenset({Role.ADMIN, Role.LEADER, Role.OPERATOR, Role.CITY_DISPATCHER})
CITY_DESK = frozenset({Role.ADMIN, Role.CITY_DISPATCHER})
# Roles who must call the requester back see the full phone number (and it is logged).
CALL_BACK_ROLES = frozenset(
    {Role.ADMIN, Role.OPERATOR, Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.HANDLER}
)


# Subtrees worked out once within :func:`remembering_subtrees` (one request of a screen
# that scopes many queries); ``None`` outside it: the units are read every time.
_subtrees: ContextVar[dict[int, frozenset[int]] | None] = ContextVar("unit_subtrees", default=None)


@contextlib.contextmanager
def remembering_subtrees() -> Iterator[None]:
    """Within the block, each unit's subtree is read once (units do not change during one
    page's reads)."""
    token = _subtrees.set({})
    try:
        yield
    finally:
        _subtrees.reset(token)


def unit_subtree_ids(unit: Unit) -> set[int]:
    """The unit and the units under it (a sub-centre and its villages/communities)."""
    memo = _subtrees.get()
    if memo is not None and unit.pk in memo:
        return set(memo[unit.pk])
    ids = {unit.pk}
    frontier = [unit.pk]
    while frontier:
        children = list(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier = [c for c in children if c not in ids]
        ids.update(frontier)
    if memo is not None:
        memo[unit.pk] = frozenset(ids)
    return ids


def _extra(unit_ids: set[int] | list[int]) -> list[Q]:
    """The cases these units see beyond what they hold, as parts registered them (the joint
    groups, 一键组群, they are members of)."""
    return [Q(pk__in=case_ids) for case_ids in registry.extra_visible(unit_ids)]


def _scope_parts(actor: Actor, *, per_unit: bool = False) -> list[Q] | None:
    """The scope as the conditions whose union it is, each one an index serves on its own;
    ``None`` means every case, ``[Q(pk__in=[])]`` none. ``per_unit``: a sub-centre's units one
    part each (a newest-first list then reads each off ``(owner_unit, created_at)``)."""
    if actor.is_system or actor.role in CITY_WIDE:
        return None
    unit = actor.unit
    if actor.role == Role.SUBCENTRE_DISPATCHER and unit is not None:
        subtree = unit_subtree_ids(unit)
        units = [[u] for u in sorted(subtree)] if per_unit else [sorted(subtree)]
        parts = [Q(owner_unit_id__in=u) if len(u) > 1 else Q(owner_unit_id=u[0]) for u in units]
        if unit.place_id:
            parts.append(Q(town_id=unit.place_id))
        return parts + _extra(subtree)
    if actor.role == Role.HANDLER and unit is not None:
        return [Q(owner_unit_id=unit.pk), *_extra([unit.pk])]
    if actor.role == Role.FIELD_WORKER and actor.user is not None:
        return [Q(assignees=actor.user)]
    return [Q(pk__in=[])]


def _scope_q(actor: Actor) -> Q | None:
    """``None`` means every case; an empty ``Q(pk__in=[])`` means none."""
    parts = _scope_parts(actor)
    if parts is None:
        return None
    return functools.reduce(operator.or_, parts)


def visible_cases(actor: Actor, base: QuerySet[Case] | None = None) -> QuerySet[Case]:
    qs = base if base is not None else Case.objects.all()
    q = _scope_q(actor)
    if q is None:
        return qs
    qs = qs.filter(q)
    if actor.role == Role.FIELD_WORKER:
        qs = qs.distinct()
    return qs


def visible_parts(actor: Actor, base: QuerySet[Case] | None = None) -> list[QuerySet[Case]]:
    """:func:`visible_cases` as querysets whose union it is, each served by one index: a
    handler's own cases and those of the joint groups its unit is in; a sub-centre's, unit
    by unit, its town's, its groups'. A newest-first page reads each part's page and merges
    them (:func:`minsheng.cases.lists.keyset_page`): the ``OR`` of the parts in one query
    has the database read every matching row and sort them. One part when the scope is
    one already."""
    qs = base if base is not None else Case.objects.all()
    parts = _scope_parts(actor, per_unit=True)
    if parts is None or len(parts) == 1 or actor.role == Role.FIELD_WORKER:
        return [visible_cases(actor, qs)]
    return [qs.filter(p) for p in parts]


def can_see(actor: Actor, case: Case) -> bool:
    return visible_cases(actor, Case.objects.filter(pk=case.pk)).exists()


def holds(actor: Actor, case: Case) -> bool:
    """The actor works in the unit that currently holds the case."""
    return (
        actor.unit is not None
        and case.owner_unit_id == actor.unit.pk
        and actor.role in (Role.HANDLER, Role.SUBCENTRE_DISPATCHER)
    )


def in_subcentre_scope(actor: Actor, case: Case) -> bool:
    """A sub-centre manages what its own units hold, and its town's cases no unit holds.
    It sees a line department's cases in its town but does not manage them: the city
    assigned them and the city re-routes, supervises and closes them."""
    if actor.role != Role.SUBCENTRE_DISPATCHER or actor.unit is None:
        return False
    if case.owner_unit_id is None:
        return actor.unit.place_id is not None and case.town_id == actor.unit.place_id
    return case.owner_unit_id in unit_subtree_ids(actor.unit)


def may_act(actor: Actor, action: str, case: Case) -> bool:
    """Whether the actor's role and scope allow ``action`` on ``case`` (state aside)."""
    role = actor.role
    if actor.is_system:
        return True
    if actor.is_requester:
        return action == "rate"
    if role == Role.LEADER or role is None:
        return False
    if registry.granted(actor, action, case):
        return True  # a part's grant: the lead unit of an open joint group closes the case
    city = role in CITY_DESK
    if action == "assign":
        return city or in_subcentre_scope(actor, case)
    if action in ("sign", "return", "dispatch", "feedback", "extend"):
        return holds(actor, case)
    if action == "handle":
        return holds(actor, case) or (
            role == Role.FIELD_WORKER and case.assignees.filter(pk=actor.user.pk).exists()
        )
    if action == "rate":
        return city or role == Role.OPERATOR
    if action in ("close", "merge"):
        return city or role == Role.OPERATOR or in_subcentre_scope(actor, case)
    if action == "reopen":
        return city or role == Role.OPERATOR
    if action in ("approve_extension", "supervise"):
        # A higher level approves and supervises; a unit never does either to itself.
        return (city or in_subcentre_scope(actor, case)) and not holds(actor, case)
    return False


def assignable_units(actor: Actor) -> QuerySet[Unit]:
    """Units the actor may assign a case to."""
    units = Unit.objects.filter(active=True).exclude(kind="centre")
    if actor.is_system or actor.role in CITY_DESK:
        return units
    if actor.role == Role.SUBCENTRE_DISPATCHER and actor.unit is not None:
        return units.filter(pk__in=unit_subtree_ids(actor.unit))
    return units.none()


def sees_full_phone(actor: Actor, case: Case) -> bool:
    if actor.role not in CALL_BACK_ROLES:
        return False
    if actor.role == Role.HANDLER:
        return holds(actor, case)
    if actor.role == Role.SUBCENTRE_DISPATCHER:
        # Not for a line department's case that merely lies in its town.
        return in_subcentre_scope(actor, case)
    return True
