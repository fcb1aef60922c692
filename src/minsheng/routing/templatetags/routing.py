"""``{% routing_panel %}``: why a case went where it went, with its duplicate candidates
side by side (only those the viewer may see)."""

from __future__ import annotations

from django import template

from minsheng.cases.scoping import visible_cases

register = template.Library()


@register.inclusion_tag("routing/_why.html", takes_context=True)
def routing_panel(context):
    case = context["case"]
    dups = (case.routing or {}).get("duplicates") or []
    actor = context.get("actor")
    ids = [d["id"] for d in dups]
    found = {c.pk: c for c in visible_cases(actor).filter(pk__in=ids)} if actor and ids else {}
    rows = [{"case": found[d["id"]], **d} for d in dups if d["id"] in found]
    return {**context.flatten(), "duplicates": rows}
