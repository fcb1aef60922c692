"""``{% load joint_groups %}{% joint_group_panel %}``: the joint group (一键组群) on the case
page — the form for dispatchers, and once a group exists its members, parts, limits,
change requests and shared thread, with the actions this person may take. Reads ``case``,
``d`` (the case as presented, for its version) and a refusal (``error``, ``failed``,
``posted``) from the case panel's context; renders nothing for someone with nothing to
see or do."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from minsheng.accounts.guards import actor_of

register = template.Library()


@register.simple_tag(takes_context=True)
def joint_group_panel(context: Any) -> str:
    from ..panel import FORM_ROWS, panel_data

    request = context.get("request")
    case = context.get("case")
    if request is None or case is None or not getattr(case, "pk", None):
        return ""
    data = panel_data(actor_of(request), case)
    if data is None:
        return ""
    posted = context.get("posted")
    if data.get("can_form"):
        rows: list[tuple[str, str]] = []
        if context.get("failed") == "group_form" and posted is not None:
            rows = list(zip(posted.getlist("assist_unit"), posted.getlist("assist_task"), strict=False))
        rows += [("", "")] * max(0, FORM_ROWS - len(rows))
        data["form_values"] = rows
    ctx = {
        **data,
        "case": case,
        "d": context.get("d"),
        "error": context.get("error"),
        "failed": context.get("failed", ""),
        "posted": posted,
    }
    return render_to_string("groups/_panel.html", ctx, request=request)


@register.filter
def part_tone(state: str) -> str:
    """Badge colour of a part's state (the case page's badge classes)."""
    return {"waiting": "wait", "signed": "work", "done": "done", "waived": "muted", "removed": "muted"}.get(
        state, "new"
    )
