"""``{% load sensors %}{% sensor_panel case %}``: the sensor panel on a case page (the
device, its chart around the alarm, the alarms and the command form); empty for a case no
sensor alarm is on (one indexed query)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from minsheng.accounts.guards import actor_of

from ..labels import EVENT_LABELS
from ..views import case_panel_context

register = template.Library()


@register.simple_tag(takes_context=True)
def sensor_panel(context: dict[str, Any], case: Any) -> str:
    request = context.get("request")
    if request is None or case is None or not getattr(case, "pk", None):
        return ""
    ctx = case_panel_context(actor_of(request), case)
    if ctx is None:
        return ""
    return render_to_string("sensors/_case_panel.html", ctx, request=request)


@register.filter
def sensor_event_label(action: str) -> str:
    return str(EVENT_LABELS.get(action, action))
