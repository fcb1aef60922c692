from __future__ import annotations

from typing import Any

from django import template

from ..models import Photo

register = template.Library()


@register.simple_tag
def case_photos(case: Any) -> list[Photo]:
    """The case's photos, for a page whose reader may already see the case."""
    return list(Photo.objects.filter(case=case).order_by("created_at", "id"))
