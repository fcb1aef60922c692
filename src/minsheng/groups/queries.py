"""Reading joint groups: a member unit's inbox, and the figures statistics show.

Statistics count a joint case once (by its group) and each member unit's part separately,
so that a unit that assisted is credited or blamed for its own part and not for the lead's.

* :func:`joint_case_counts` — groups formed in a period: how many, closed with the case,
  dissolved, still open, and how many assisting units they had.
* :func:`member_part_counts` — per unit and role (lead/assisting), for the parts of groups
  formed in the period: parts, done in time, done late, waived, still open (and of those,
  overdue), and dropped (never done, the group dissolved). A part is in time when it was
  marked done by its limit (``due_at``; for the lead, the case's feedback limit when the
  group was formed). A part taken out of the group is not counted.

Both take an optional ``actor`` and then count only cases that person may see (THE scoping
rule); ``now`` defaults to the application's clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit, UnitKind
from minsheng.cases.models import Case
from minsheng.cases.scoping import CITY_DESK, assignable_units, in_subcentre_scope, visible_cases
from minsheng.core import clock

from .models import GroupMember, GroupState, JointGroup, MemberRole
from .rules import MEMBER_ROLES


def _groups(start: dt.datetime, end: dt.datetime, actor: Actor | None) -> QuerySet[JointGroup]:
    qs = JointGroup.objects.filter(formed_at__gte=start, formed_at__lt=end)
    if actor is not None:
        qs = qs.filter(case__in=visible_cases(actor).values("pk"))
    return qs


def joint_case_counts(start: dt.datetime, end: dt.datetime, *, actor: Actor | None = None) -> dict[str, int]:
    """``{"groups", "cases", "closed", "dissolved", "open", "assisting_units"}`` for the
    groups formed in ``[start, end)`` (one query, plus one for the assisting units)."""
    qs = _groups(start, end, actor)
    row = qs.aggregate(
        groups=Count("pk"),
        cases=Count("case_id", distinct=True),
        closed=Count("pk", filter=Q(state=GroupState.CLOSED)),
        dissolved=Count("pk", filter=Q(state=GroupState.DISSOLVED)),
        open=Count("pk", filter=Q(state=GroupState.OPEN)),
    )
    row["assisting_units"] = GroupMember.objects.filter(
        group__in=qs, role=MemberRole.ASSIST, removed_at__isnull=True
    ).count()
    return {k: int(v or 0) for k, v in row.items()}


def member_parts(
    start: dt.datetime, end: dt.datetime, *, actor: Actor | None = None
) -> QuerySet[GroupMember]:
    """The parts behind :func:`member_part_counts` (for an audit list)."""
    return GroupMember.objects.filter(
        group__in=_groups(start, end, actor),
        removed_at__isnull=True,
    ).select_related("unit", "group__case")


def member_part_counts(
    start: dt.datetime, end: dt.datetime, *, actor: Actor | None = None, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Rows ``{"unit_id", "unit", "role", "parts", "done_in_time", "done_late", "waived",
    "open", "overdue", "dropped"}``, one per unit and role, most parts first (one query)."""
    now = now or clock.now()
    done = Q(done_at__isnull=False)
    owed = Q(done_at__isnull=True, waived_at__isnull=True)
    pending = owed & Q(group__state=GroupState.OPEN)
    rows = (
        member_parts(start, end, actor=actor)
        .order_by()
        .values("unit_id", "role", unit_name=F("unit__name"))
        .annotate(
            parts=Count("pk"),
            done_in_time=Count("pk", filter=done & Q(done_at__lte=F("due_at"))),
            done_late=Count("pk", filter=done & Q(done_at__gt=F("due_at"))),
            waived=Count("pk", filter=Q(waived_at__isnull=False, done_at__isnull=True)),
            open=Count("pk", filter=pending),
            overdue=Count("pk", filter=pending & Q(due_at__lt=now)),
            dropped=Count("pk", filter=owed & ~Q(group__state=GroupState.OPEN)),
        )
    )
    out = [
        {
            "unit_id": r["unit_id"],
            "unit": r["unit_name"],
            "role": r["role"],
            **{
                k: r[k]
                for k in ("parts", "done_in_time", "done_late", "waived", "open", "overdue", "dropped")
            },
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["parts"], r["unit"], r["role"]))


# --- the member unit's inbox -------------------------------------------------------------


def member_inbox(actor: Actor) -> QuerySet[GroupMember]:
    """The open groups the actor's unit is a member of, with its part: what waits for the
    unit's signature first, then what it is still working on, then what it has done."""
    if actor.unit is None:
        return GroupMember.objects.none()
    return (
        GroupMember.objects.filter(
            unit_id=actor.unit.pk, removed_at__isnull=True, group__state=GroupState.OPEN
        )
        # Probed case by case for the member's few groups, not the whole list of cases the
        # unit may see (SQLite built that list first: 44 ms at 1,000,000 cases).
        .filter(Exists(visible_cases(actor).filter(pk=OuterRef("group__case_id"))))
        .select_related("group__case", "group__lead_unit", "group__case__matter", "unit", "sign_clock")
        .order_by(F("done_at").asc(nulls_first=True), F("signed_at").asc(nulls_first=True), "due_at", "id")
    )


# --- who may do what -------------------------------------------------------------------


def may_form(actor: Actor, case: Case) -> bool:
    """The dispatcher's right to form a group on this case (state aside)."""
    if actor.is_system or actor.role in CITY_DESK:
        return True
    return actor.role == Role.SUBCENTRE_DISPATCHER and in_subcentre_scope(actor, case)


def manages(actor: Actor, group: JointGroup) -> bool:
    """The dispatching level that formed the group (and the city desk, always)."""
    if actor.is_system or actor.role in CITY_DESK:
        return True
    return (
        actor.role == Role.SUBCENTRE_DISPATCHER
        and actor.unit is not None
        and group.formed_unit_id == actor.unit.pk
    )


def acting_member(actor: Actor, group: JointGroup) -> GroupMember | None:
    """The member whose part the actor works on (their unit's, if it is in the group)."""
    if actor.unit is None or actor.role not in MEMBER_ROLES:
        return None
    return (
        group.members.filter(unit_id=actor.unit.pk, removed_at__isnull=True)
        .select_related("unit", "sign_clock", "handle_clock")
        .first()
    )


def lead_choices(actor: Actor) -> QuerySet[Unit]:
    """Units the actor may make the lead: those it may hand the case to."""
    return assignable_units(actor)


def assist_choices(actor: Actor) -> QuerySet[Unit]:
    """Units the actor may ask to assist: a sub-centre adds the line departments."""
    units = Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE)
    if actor.is_system or actor.role in CITY_DESK:
        return units
    if actor.role == Role.SUBCENTRE_DISPATCHER and actor.unit is not None:
        own = assignable_units(actor).values("pk")
        return units.filter(pk__in=own) | units.filter(kind=UnitKind.DEPARTMENT)
    return units.none()


def latest_group(case: Case) -> JointGroup | None:
    return case.joint_groups.select_related("lead_unit", "formed_unit").order_by("-formed_at", "-id").first()
