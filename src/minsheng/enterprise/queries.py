"""What the enterprise pages and the case panel read."""

from __future__ import annotations

from django.db.models import QuerySet

from minsheng.accounts.actors import Actor
from minsheng.cases.models import Case
from minsheng.cases.scoping import visible_cases
from minsheng.catalog.models import Matter

from .models import Enterprise, EnterpriseCase

HISTORY_ROWS = 20


def enterprise_of(case: Case) -> EnterpriseCase | None:
    return (
        EnterpriseCase.objects.select_related("enterprise__service_officer__profile")
        .filter(case_id=case.pk)
        .first()
    )


def history(actor: Actor, enterprise: Enterprise, *, exclude: int | None = None) -> QuerySet[Case]:
    """The enterprise's requests as this person may see them, newest first."""
    cases = visible_cases(actor).filter(enterprise_link__enterprise=enterprise).select_related("matter")
    if exclude is not None:
        cases = cases.exclude(pk=exclude)
    return cases.order_by("-created_at", "-id")


def enterprise_matters() -> QuerySet[Matter]:
    return Matter.objects.filter(active=True, enterprise__isnull=False).order_by("code")


def enterprises() -> QuerySet[Enterprise]:
    return Enterprise.objects.select_related("service_officer__profile").order_by("name")
