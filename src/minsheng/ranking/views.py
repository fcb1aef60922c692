"""The ranking page (考核) and its monthly report (月报) as PDF and Excel, generated on
request from the month's evaluation. A month not given as YYYY-MM is refused with 422 and the
message on the page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.accounts.models import Role
from minsheng.core import clock
from minsheng.stats.measures import local_date

from . import queries, reports

# The ranking is the city's: who judges units, and the sub-centres who are judged with theirs.
RANKING_ROLES = frozenset({Role.LEADER, Role.CITY_DISPATCHER, Role.ADMIN, Role.SUBCENTRE_DISPATCHER})


def _month(raw: str | None):
    if not raw:
        return queries.last_month(local_date(clock.now())), None
    try:
        return queries.parse_month(raw), None
    except ValueError:
        return None, _("Give the month as YYYY-MM, e.g. 2026-11.")


@require_GET
@signed_in(RANKING_ROLES)
def ranking(request: HttpRequest, actor: Actor) -> HttpResponse:
    month, error = _month(request.GET.get("month"))
    if month is None:
        return render(
            request,
            "ranking/ranking.html",
            {"error": error, "kept": request.GET.get("month", "")},
            status=422,
        )
    ev = queries.evaluate_month(month)
    return render(request, "ranking/ranking.html", {"ev": ev, "kept": ev.label})


def _file(month_text: str, ext: str) -> HttpResponse:
    try:
        month = queries.parse_month(month_text)
    except ValueError:
        return HttpResponse(_("Give the month as YYYY-MM, e.g. 2026-11."), status=422)
    ev = queries.evaluate_month(month)
    if ext == "pdf":
        body, kind = reports.pdf_bytes(ev), "application/pdf"
    else:
        body, kind = (
            reports.xlsx_bytes(ev),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{reports.file_name(ev, ext)}"'
    return response


@require_GET
@signed_in(RANKING_ROLES)
def report_pdf(request: HttpRequest, actor: Actor, month: str) -> HttpResponse:
    return _file(month, "pdf")


@require_GET
@signed_in(RANKING_ROLES)
def report_xlsx(request: HttpRequest, actor: Actor, month: str) -> HttpResponse:
    return _file(month, "xlsx")
