"""What the proposal pages read: the public tracking list with each proposal's progress,
and the measures per kind (the tracking column's figures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from minsheng.accounts.models import Unit
from minsheng.cases.models import CaseClock
from minsheng.cases.states import ClockName, Rating, State
from minsheng.core import clock

from .models import Proposal, ProposalKind


def tracked() -> QuerySet[Proposal]:
    """The public proposals, newest hand-over first, with what a row shows."""
    return (
        Proposal.objects.filter(public=True)
        .select_related("kind", "case__owner_unit")
        .prefetch_related(
            Prefetch("case__clocks", queryset=CaseClock.objects.order_by("started_at", "id")),
            "case__joint_groups__members__unit",
        )
        .order_by("-handed_over_at", "-id")
    )


def _latest(clocks: list[CaseClock], name: str) -> CaseClock | None:
    named = [c for c in clocks if c.name == name]
    return named[-1] if named else None


def progress(proposal: Proposal) -> dict[str, Any]:
    """One row of the tracking page: who handles it, and where contact, reply and verdict
    stand against their limits."""
    case = proposal.case
    clocks = list(case.clocks.all())
    contact, reply = _latest(clocks, ClockName.DISPATCH), _latest(clocks, ClockName.FEEDBACK)
    co_units: list[Unit] = []
    for group in case.joint_groups.all():
        co_units += [m.unit for m in group.members.all() if m.role != "lead" and m.removed_at is None]
    at = clock.now()
    return {
        "p": proposal,
        "lead": case.owner_unit,
        "co_units": co_units,
        "contact_due": contact.due_at if contact else None,
        "contact_late": bool(contact and contact.is_late(at)),
        "reply_due": reply.due_at if reply else None,
        "reply_late": bool(reply and reply.is_late(at)),
        "closed": case.state == State.CLOSED,
    }


@dataclass(frozen=True)
class KindFigures:
    kind: ProposalKind
    total: int
    contacted: int
    replied: int
    replied_on_time: int
    satisfied: int  # satisfied or basically satisfied, of those with a verdict
    verdicts: int

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.verdicts if self.verdicts else None


def figures() -> list[KindFigures]:
    """Per kind, over the public proposals: handed over, contacted, replied (on time), and
    the share of verdicts that were satisfied or basically satisfied."""
    out = []
    rows = list(tracked())
    for kind in ProposalKind.objects.order_by("code"):
        mine = [p for p in rows if p.kind_id == kind.pk]
        on_time = 0
        for p in mine:
            reply = _latest(list(p.case.clocks.all()), ClockName.FEEDBACK)
            if p.replied_at and reply and not reply.is_late():
                on_time += 1
        verdicts = [p.verdict for p in mine if p.verdict]
        out.append(
            KindFigures(
                kind=kind,
                total=len(mine),
                contacted=sum(1 for p in mine if p.contacted_at),
                replied=sum(1 for p in mine if p.replied_at),
                replied_on_time=on_time,
                satisfied=sum(1 for v in verdicts if v in (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)),
                verdicts=len(verdicts),
            )
        )
    return out
