"""Reading typical cases: the public ones (only what the public page shows), and the staff's
queue."""

from __future__ import annotations

from django.db.models import QuerySet

from minsheng.cases.models import Case
from minsheng.media.models import Photo

from .models import TypicalCase, TypicalState


def published() -> QuerySet[TypicalCase]:
    return (
        TypicalCase.objects.filter(state=TypicalState.PUBLISHED)
        .select_related("case__matter", "case__town", "case__place")
        .order_by("-published_at", "-id")
    )


def published_one(pk: int) -> TypicalCase | None:
    return published().filter(pk=pk).first()


def public_photo(pk: int, which: str) -> Photo | None:
    """A published typical case's before or after photo, and no other."""
    typical = published().select_related("before_photo", "after_photo").filter(pk=pk).first()
    if typical is None:
        return None
    return typical.before_photo if which == "before" else typical.after_photo if which == "after" else None


def queue() -> dict[str, list[TypicalCase]]:
    """The centre's queue, by state (the withdrawn aside)."""
    rows = (
        TypicalCase.objects.exclude(state=TypicalState.WITHDRAWN)
        .select_related("case__matter", "case__town", "nominated_by", "prepared_by")
        .order_by("-nominated_at", "-id")[:300]
    )
    out: dict[str, list[TypicalCase]] = {
        s: [] for s in (TypicalState.NOMINATED, TypicalState.PREPARED, TypicalState.PUBLISHED)
    }
    for t in rows:
        out[t.state].append(t)
    return out


def get(pk: int) -> TypicalCase | None:
    return (
        TypicalCase.objects.select_related("case__matter", "case__place", "case__town").filter(pk=pk).first()
    )


def case_photos(case: Case) -> list[Photo]:
    return list(Photo.objects.filter(case=case).order_by("created_at", "pk"))


def for_case(case: Case) -> TypicalCase | None:
    return TypicalCase.objects.filter(case=case).first()
