"""The workbenches: one page per role, each a set of lists drawn through ``visible_cases``.
The operator's seat (the intake form) is in ``seat_views``."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.accounts.models import Unit
from minsheng.cases.errors import Invalid
from minsheng.cases.filters import CaseFilter
from minsheng.cases.lists import CappedCount, Page, keyset_page, page_count
from minsheng.cases.presenters import matter_groups, unit_choices
from minsheng.cases.scoping import remembering_subtrees, visible_parts
from minsheng.cases.states import State
from minsheng.catalog.models import Matter
from minsheng.core.htmx import partial

from . import queries
from .roles import PAGE_ROLES, home_page, url_name

SECTION_LABELS = {
    "unassigned": _("Awaiting assignment"),
    "returned": _("Returned by units"),
    "held": _("Held by our centre"),
    "breaching": _("About to breach"),
    "sign": _("To sign"),
    "dispatch": _("To dispatch"),
    "feedback": _("To feed back"),
    "joint": _("Joint group parts"),
    "closing": _("To call back and close"),
}
# A workbench section shows this many rows; the rest are one click away in the search.
SECTION_ROWS = 25
PAGE_SIZE = 50


def _own_workbench(request: HttpRequest, actor: Actor) -> HttpResponse:
    return redirect("web:home")


def subtrees_once(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A sub-centre's units read once for the request, not once per list it scopes."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, actor: Actor) -> HttpResponse:
        with remembering_subtrees():
            return view(request, actor)

    return wrapped


def workbench(page: str) -> Callable:
    """Signed-in people whose role has this page; others go to their own workbench."""
    return signed_in(PAGE_ROLES[page], refuse=_own_workbench)


def render_page(
    request: HttpRequest, actor: Actor, template: str, context: dict, status: int = 200
) -> HttpResponse:
    return render(request, template, {"actor": actor, **context}, status=status)


@signed_in()
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    """``/``: straight to the person's workbench."""
    page = home_page(actor)
    if page is None:
        return render_page(request, actor, "web/no_role.html", {}, status=403)
    return redirect(url_name(page))


def _sections(keyed: list[tuple[str, Any]], wanted: str | None = None) -> list[dict[str, Any]]:
    """Every section's count (stopping at the cap: "1000+"), and the rows of the one shown
    only (the tab ``wanted``, else the first with something in it): the other tabs load
    their rows when opened."""
    out = [
        {
            "key": key,
            "label": SECTION_LABELS[key],
            "count": queries.section_count(rows),
            "rows": [],
            "src": rows,
        }
        for key, rows in keyed
    ]
    shown = _pick(wanted, out)
    shown["rows"] = queries.section_rows(shown["src"], SECTION_ROWS)
    for s in out:
        del s["src"]
        s["more"] = s["count"].capped or s["count"].n > SECTION_ROWS
    return out


def _pick(wanted: str | None, sections: list[dict[str, Any]]) -> dict[str, Any]:
    for s in sections:
        if s["key"] == wanted:
            return s
    # Default: the first tab with something in it.
    return next((s for s in sections if s["count"]), sections[0])


def _tab(request: HttpRequest, sections: list[dict[str, Any]]) -> dict[str, Any]:
    return _pick(request.GET.get("tab"), sections)


# --- dispatchers ------------------------------------------------------------------------


@workbench("queue")
@subtrees_once
def queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    sections = _sections(queries.queue_sections(actor), request.GET.get("tab"))
    units, matters = unit_choices(actor), matter_groups()
    context = {
        "sections": sections,
        "tab": _tab(request, sections),
        "units": units,
        "matter_groups": matters,
        # Each row's assign form offers every unit and matter: rendered once for the page,
        # each row marks its own choice (``selecting``), not a template loop per row.
        "assign_options": {
            "units": render_to_string(
                "web/_unit_options.html", {"units": units, "blank": _("By the list of matters")}
            ),
            "matters": render_to_string(
                "web/_matter_options.html", {"matter_groups": matters, "blank": _("Keep category")}
            ),
        },
    }
    template = "web/_queue_tab.html" if partial(request) else "web/queue.html"
    return render_page(request, actor, template, context)


# --- units ------------------------------------------------------------------------------


@workbench("inbox")
@subtrees_once
def inbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    sections = _sections(queries.inbox_sections(actor), request.GET.get("tab"))
    context = {"sections": sections, "tab": _tab(request, sections)}
    template = "web/_inbox_tab.html" if partial(request) else "web/inbox.html"
    return render_page(request, actor, template, context)


@workbench("field")
def field(request: HttpRequest, actor: Actor) -> HttpResponse:
    active, done = queries.field_cases(actor)
    context = {"active": list(active[:100]), "done": list(done[:SECTION_ROWS])}
    return render_page(request, actor, "web/field.html", context)


# --- leaders ----------------------------------------------------------------------------


@workbench("overview")
def overview(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Read-only: counts by state, late cases and the units holding the most."""
    figures = queries.overview(actor)
    states = [{"state": s.value, "label": s.label, "count": figures.by_state[s.value]} for s in State]
    context = {
        "states": states,
        "total": figures.total,
        "open": figures.open,
        "overdue": figures.overdue,
        "by_unit": figures.by_unit,
        "breaching": queries.about_to_breach(actor).rows(SECTION_ROWS),
    }
    return render_page(request, actor, "web/overview.html", context)


# --- search -----------------------------------------------------------------------------


@workbench("cases")
@subtrees_once
def case_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Search and filter within what the person may see, 50 a page."""
    g = request.GET
    filters = CaseFilter(g, queryset=queries.base(actor))
    # A value the search cannot use is named on the page; no list filtered by half the
    # question.
    valid = filters.is_valid()
    found = filters.qs if valid else filters.queryset.none()
    # Keyset pages (``?after=``): the tenth page costs what the first does.
    words = bool(g.get("q", "").strip())
    # A search by words reads newest-first in windows and stops at a full page.
    scan = queries.base(actor) if words else None
    # A unit's own cases and its joint groups' each read off an index of their own, merged.
    scope = visible_parts(actor)
    parts = [queries.annotated(filters.filter_queryset(p)) for p in scope] if valid else []
    try:
        page = keyset_page(
            queries.annotated(found), after=g.get("after") or None, size=PAGE_SIZE, scan=scan, parts=parts
        )
    except Invalid as exc:
        valid = False
        page = Page([], None)
        filters_errors = [{"field": exc.field, "label": "", "messages": [exc.message]}]
    else:
        filters_errors = filters.error_list()
    # Units holding a visible case: one index probe per unit and part of the scope, not a
    # pass over every case (with the scope's OR in one probe, a unit's every case is read
    # to find one in the reader's joint groups).
    holding = [Exists(part.filter(owner_unit=OuterRef("pk"))) for part in scope]
    units = Unit.objects.filter(functools.reduce(operator.or_, holding)).order_by("kind", "name")
    context = {
        "page": page,
        "count": (page_count(page) if words else filters.count(parts=scope))
        if valid
        else CappedCount(0, False),
        "after": g.get("after", ""),
        "states": State.choices,
        "units": units,
        "matters": Matter.objects.filter(active=True).order_by("code"),
        "f": {
            "state": g.get("state", ""),
            "unit": g.get("unit", ""),
            "category": g.get("category", ""),
            "q": g.get("q", "").strip(),
            "overdue": g.get("overdue") == "1",
        },
        "filter_errors": filters_errors,
    }
    template = "web/_case_results.html" if partial(request) else "web/cases.html"
    return render_page(request, actor, template, context, status=200 if valid else 422)
