"""Read-only helpers for the transfer pages, the case panel and the figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from minsheng.cases.models import Case

from .models import (
    Direction,
    IncomingState,
    IncomingTransfer,
    OutgoingTransfer,
    ReceiptState,
    TransferCategory,
    TransferItem,
)


def lists() -> dict[str, list[TransferCategory]]:
    """Both lists, category by category, each with its active items."""
    out: dict[str, list[TransferCategory]] = {d: [] for d in Direction.values}
    items: dict[int, list[TransferItem]] = {}
    for item in TransferItem.objects.filter(active=True).order_by("position", "code"):
        items.setdefault(item.category_id, []).append(item)
    for category in TransferCategory.objects.order_by("position", "code"):
        category.active_items = items.get(category.pk, [])  # type: ignore[attr-defined]
        out[category.direction].append(category)
    return out


def police_items() -> QuerySet[TransferItem]:
    return (
        TransferItem.objects.filter(active=True, category__direction=Direction.TO_POLICE)
        .select_related("category")
        .order_by("category__position", "position", "code")
    )


def pending_transfers() -> QuerySet[IncomingTransfer]:
    """Transfers from 110 awaiting the centre, the earliest clock first."""
    return (
        IncomingTransfer.objects.filter(state=IncomingState.PENDING)
        .select_related("item")
        .order_by("due_at", "pk")
    )


def recent_incoming(limit: int = 30) -> list[IncomingTransfer]:
    return list(
        IncomingTransfer.objects.exclude(state=IncomingState.PENDING)
        .select_related("item", "case")
        .order_by("-decided_at", "-pk")[:limit]
    )


def recent_outgoing(limit: int = 30) -> list[OutgoingTransfer]:
    return list(OutgoingTransfer.objects.select_related("item", "case").order_by("-sent_at", "-pk")[:limit])


def of_case(case: Case) -> dict[str, Any]:
    return {
        "incoming": IncomingTransfer.objects.filter(case=case).select_related("item").first(),
        "outgoing": list(
            OutgoingTransfer.objects.filter(case=case).select_related("item").order_by("sent_at")
        ),
    }


@dataclass(frozen=True)
class Figures:
    """Transfers each way in a period and their timeliness. From 110 (received in the
    period): decided in time, decided late, still pending (of which overdue), accepted,
    returned. To 110 (sent in the period): acknowledged in time, late, not yet (of which
    overdue), refused, held until 110's result."""

    incoming: int
    in_time: int
    late: int
    pending: int
    pending_overdue: int
    accepted: int
    returned: int
    outgoing: int
    receipts_in_time: int
    receipts_late: int
    awaiting: int
    awaiting_overdue: int
    refused: int
    held: int

    @staticmethod
    def rate(num: int, den: int) -> float | None:
        return None if den == 0 else num / den

    @property
    def in_rate(self) -> float | None:
        return self.rate(self.in_time, self.in_time + self.late + self.pending_overdue)

    @property
    def receipt_rate(self) -> float | None:
        return self.rate(
            self.receipts_in_time, self.receipts_in_time + self.receipts_late + self.awaiting_overdue
        )


def figures(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Figures:
    """Two queries. A transfer still undecided past its clock counts as late in the rate."""
    inc = IncomingTransfer.objects.filter(received_at__gte=start, received_at__lt=end).aggregate(
        n=Count("pk"),
        in_time=Count("pk", filter=Q(decided_at__isnull=False, decided_at__lte=F("due_at"))),
        late=Count("pk", filter=Q(decided_at__isnull=False, decided_at__gt=F("due_at"))),
        pending=Count("pk", filter=Q(state=IncomingState.PENDING)),
        pending_overdue=Count("pk", filter=Q(state=IncomingState.PENDING, due_at__lt=now)),
        accepted=Count("pk", filter=Q(state=IncomingState.ACCEPTED)),
        returned=Count("pk", filter=Q(state=IncomingState.RETURNED)),
    )
    out = OutgoingTransfer.objects.filter(sent_at__gte=start, sent_at__lt=end).aggregate(
        n=Count("pk"),
        in_time=Count("pk", filter=Q(received_at__isnull=False, received_at__lte=F("receipt_due_at"))),
        late=Count("pk", filter=Q(received_at__isnull=False, received_at__gt=F("receipt_due_at"))),
        awaiting=Count("pk", filter=Q(received_at__isnull=True)),
        awaiting_overdue=Count("pk", filter=Q(received_at__isnull=True, receipt_due_at__lt=now)),
        refused=Count("pk", filter=Q(state=ReceiptState.REFUSED)),
        held=Count("pk", filter=Q(disposition="hold")),
    )
    return Figures(
        incoming=inc["n"],
        in_time=inc["in_time"],
        late=inc["late"],
        pending=inc["pending"],
        pending_overdue=inc["pending_overdue"],
        accepted=inc["accepted"],
        returned=inc["returned"],
        outgoing=out["n"],
        receipts_in_time=out["in_time"],
        receipts_late=out["late"],
        awaiting=out["awaiting"],
        awaiting_overdue=out["awaiting_overdue"],
        refused=out["refused"],
        held=out["held"],
    )
