"""What the enterprise pages and the case panel read."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

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


def enterprises(actor: Actor) -> QuerySet[Enterprise]:
    """The enterprises, each with ``requests``: how many of its requests the reader may see
    (:func:`visible_cases`; one subquery, not one per row)."""
    seen = (
        visible_cases(actor)
        .filter(enterprise_link__enterprise=OuterRef("pk"))
        .order_by()
        .values("enterprise_link__enterprise")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Enterprise.objects.select_related("service_officer__profile")
        .annotate(requests=Coalesce(Subquery(seen), 0))
        .order_by("name")
    )
