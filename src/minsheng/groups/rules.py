"""What an open joint group (一键组群) changes about a case, for the case's own actions.

``GroupsConfig.ready()`` registers these with ``minsheng.cases.registry``; the case kernel
and the scoping rule call them, and nothing else of this app:

* :func:`member_case_ids` — member units see the case (visibility, ``scoping.visible_cases``);
* :func:`leads` — the lead unit may close the case (a grant, ``scoping.may_act``);
* :func:`refusals` — while a group is open the case no longer bounces: return (退单),
  re-assignment and merging are refused, and it closes only with every part done or
  waived (a guard on :data:`GUARDED`: the kernel's checks and ``available_actions``). The
  lead's feedback is not held back: the requester hears within the feedback limit (24 h)
  even when a part takes longer, and the case stays open until that part is done;
* :func:`after_case_action` — the lead's signature and feedback are its part's, and the
  case's closing closes the group (an after-action hook, run by the kernel's ``commit``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role

from .models import GroupMember, GroupState, JointGroup, MemberRole

# Roles that act for their unit in a group (as they do for the cases their unit holds).
MEMBER_ROLES = frozenset({Role.HANDLER, Role.SUBCENTRE_DISPATCHER})
# Case actions an open group has a say on.
GUARDED = frozenset({"return", "assign", "merge", "close"})


def member_case_ids(unit_ids: Iterable[int]) -> QuerySet[GroupMember, Any]:
    """Ids of the cases on which one of these units is a member of a group (open or on
    record): a subquery for the scoping rule. A unit taken out of the group no longer
    sees the case through it."""
    return GroupMember.objects.filter(unit_id__in=list(unit_ids), removed_at__isnull=True).values(
        "group__case_id"
    )


def open_group(case: Any) -> JointGroup | None:
    return (
        JointGroup.objects.filter(case_id=case.pk, state=GroupState.OPEN)
        .select_related("lead_unit", "formed_unit")
        .first()
    )


def leads(actor: Actor, case: Any) -> bool:
    """The actor works in the lead unit of the case's open group."""
    if actor.unit is None or actor.role not in MEMBER_ROLES:
        return False
    return JointGroup.objects.filter(
        case_id=case.pk, state=GroupState.OPEN, lead_unit_id=actor.unit.pk
    ).exists()


def _names(members: list[GroupMember]) -> str:
    return "、".join(m.unit.name for m in members)


def refusals(case: Any) -> dict[str, str]:
    """Case actions an open group refuses now, with the reason to show (two queries when
    a group is open, one when not)."""
    group = open_group(case)
    if group is None:
        return {}
    bounce = _("A joint group is working on this case: ask the dispatcher to change the group instead.")
    out = {
        "return": bounce,
        "assign": _(
            "A joint group is working on this case: change or dissolve the group instead of re-assigning it."
        ),
        "merge": _("A joint group is working on this case: dissolve the group before merging it."),
    }
    open_parts = [
        m for m in group.members.filter(removed_at__isnull=True).select_related("unit") if not m.settled
    ]
    if open_parts:
        out["close"] = _("The case closes when every part is done or waived: %(units)s not yet.") % {
            "units": _names(open_parts)
        }
    return out


def after_case_action(actor: Actor, case: Any, action: str, at: dt.datetime) -> None:
    """Called after each of the case's own actions, in its transaction."""
    if action not in ("sign", "feedback", "close", "merge"):
        return
    group = open_group(case)
    if group is None:
        return
    if action in ("close", "merge"):
        # The case's closing stopped every running clock, the members' included.
        group.state = GroupState.CLOSED
        group.closed_at = at
        group.save(update_fields=["state", "closed_at"])
        return
    lead = group.members.filter(role=MemberRole.LEAD, removed_at__isnull=True).first()
    if lead is None:
        return
    if action == "sign" and lead.signed_at is None:
        lead.signed_at, lead.signed_by = at, actor.user
        lead.save(update_fields=["signed_at", "signed_by"])
    elif action == "feedback" and lead.done_at is None and lead.waived_at is None:
        # The consolidated feedback (汇总反馈) is the lead's part done.
        lead.done_at, lead.done_by, lead.result = at, actor.user, case.feedback_text
        lead.save(update_fields=["done_at", "done_by", "result"])
