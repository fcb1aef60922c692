"""Template helpers of the field pages: distances in words, and the people on duty that
the dispatch form on the case page suggests."""

from __future__ import annotations

from typing import Any

from django import template

from minsheng.core import clock

from ..duty import on_duty
from ..tasks import distance_words

register = template.Library()


@register.filter
def distance(metres: float | None) -> str:
    return distance_words(metres)


@register.simple_tag
def on_duty_now(case: Any) -> list[Any]:
    """The people of the case's unit on duty now (the dispatch form's suggestion)."""
    unit = getattr(case, "owner_unit", None)
    return on_duty(unit, clock.now()) if unit is not None else []
