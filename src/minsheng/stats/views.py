"""The statistics page (统计), its CSV and Excel exports, and the audit list behind each
figure. Open to leaders, city and sub-centre dispatchers, administrators, and handlers
(their own unit only); every figure counts only cases the reader may see."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.accounts.models import Role, Unit
from minsheng.cases import registry
from minsheng.cases.states import Rating
from minsheng.core import clock

from . import measures, table
from .forms import PERIODS, StatsForm, filter_params
from .measures import MEASURE_BY_KEY, NO_UNIT, PARTS, Filters
from .report import Report, build_report

STATS_ROLES = frozenset(
    {Role.LEADER, Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN, Role.HANDLER}
)
AUDIT_PAGE = 100
LOW = 90  # a rate under this many per cent gets a red bar


def _forbidden(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "stats/forbidden.html", {"actor": actor}, status=403)


# Signed-in people with a statistics role; anyone else signed in gets 403.
stats_page: Callable = signed_in(STATS_ROLES, refuse=_forbidden)


def _report(request: HttpRequest, actor: Actor) -> tuple[StatsForm, Filters, Report]:
    now = clock.now()
    form = StatsForm(request.GET or None, actor=actor, today=measures.local_date(now))
    filters = form.filters()
    return form, filters, build_report(actor, filters, now)


@stats_page
def index(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, filters, report = _report(request, actor)
    base = filter_params(filters)
    rows = table.table_rows(report)
    # One encoding of the filters, then each cell's measure, unit and part (a big city's
    # table has a couple of thousand links).
    unit_filter = base.pop("unit", "")
    prefix = reverse("stats:audit") + "?" + urlencode(base)
    for r in rows:
        unit = r.unit_param or unit_filter
        unit_part = f"&unit={unit}" if unit != "" else ""
        r.measures_html = mark_safe(  # noqa: S308 - built by _cell_html, escaped there
            "".join(_cell_html(c, prefix, unit_part) for c in r.measures)
        )
        r.durations_html = mark_safe(  # noqa: S308 - numbers only
            "".join(f"<td>{escape(c.text)}</td>" for c in r.durations)
        )
    query = urlencode(request.GET, doseq=True) if request.GET else urlencode(base)
    return render(
        request,
        "stats/index.html",
        {
            "actor": actor,
            "form": form,
            "filters": filters,
            "report": report,
            "rows": rows,
            "measures": measures.MEASURES,
            "duration_headers": table.duration_headers(),
            "periods": PERIODS,
            "period": form.cleaned_data.get("period", "month")
            if form.is_bound and form.is_valid()
            else "month",
            "query": query,
            "handler": actor.role == Role.HANDLER,
        },
    )


def _cell_html(c: table.Cell, prefix: str, unit_part: str) -> str:
    """One measure cell. Written here rather than in the template: a big city's table has
    well over a thousand of them, and the template engine would take longer than the
    figures themselves."""
    assert c.measure is not None
    key = c.measure.key
    link = f"{prefix}&measure={key}{unit_part}"
    if not (c.denominator or c.numerator):
        return f'<td data-measure="{key}"><span class="muted">—</span></td>'
    num, den = escape(f"{link}&part=num"), escape(f"{link}&part=den")
    sub = f'{c.numerator} / <a href="{den}">{c.denominator}</a>'
    bar = ""
    if c.measure.count_first:
        if c.value is not None:
            sub += f" · {escape(c.rate_text)}"
    elif c.bar is not None:
        low = " low" if c.bar < LOW else ""
        bar = f'<span class="bar{low}" aria-hidden="true"><span style="width: {c.bar}%"></span></span>'
    return (
        f'<td data-measure="{key}"><a class="fig" href="{num}">{escape(c.text)}</a>'
        f'<span class="fig-sub">{sub}</span>{bar}</td>'
    )


def _export_name(filters: Filters, ext: str) -> str:
    return f"minsheng-stats-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.{ext}"


@stats_page
def export_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    _form, filters, report = _report(request, actor)
    rows = table.table_rows(report)
    rates = table.rate_columns()
    buf = io.StringIO()
    buf.write("\ufeff")  # so that Excel opens the Chinese text as UTF-8
    writer = csv.writer(buf)
    writer.writerow([_("Period"), f"{filters.start:%Y-%m-%d}", f"{filters.end:%Y-%m-%d}"])
    writer.writerow(table.export_header())
    for line in table.export_rows(rows):
        writer.writerow(
            [("" if v is None else (table.fmt_rate(v) if i in rates else v)) for i, v in enumerate(line)]
        )
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(filters, "csv")}"'
    return response


@stats_page
def export_xlsx(request: HttpRequest, actor: Actor) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _form, filters, report = _report(request, actor)
    rows = table.table_rows(report)
    rates = table.rate_columns()
    wb = Workbook()
    ws = wb.active
    ws.title = _("Statistics")
    ws.append([_("Period"), f"{filters.start:%Y-%m-%d}", f"{filters.end:%Y-%m-%d}"])
    ws.append(table.export_header())
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for line in table.export_rows(rows):
        ws.append(line)
        for i in rates:
            ws.cell(row=ws.max_row, column=i + 1).number_format = "0.0%"
    ws.freeze_panes = "B3"
    ws.column_dimensions["A"].width = 22
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(filters, "xlsx")}"'
    return response


def case_url(case_id: int) -> str | None:
    try:
        return reverse("web:case", args=[case_id])
    except NoReverseMatch:  # pragma: no cover - the case pages are another app's
        return None


@stats_page
def audit(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The clocks or events one figure counted, each with its case number."""
    now = clock.now()
    form = StatsForm(request.GET or None, actor=actor, today=measures.local_date(now))
    filters = form.filters()
    key = request.GET.get("measure", "")
    part = request.GET.get("part", "num")
    if key not in MEASURE_BY_KEY or part not in PARTS:
        return render(request, "stats/forbidden.html", {"actor": actor, "bad_request": True}, status=400)
    m = MEASURE_BY_KEY[key]
    items = measures.audit_items(actor, filters, key, part, now)
    page = Paginator(items, AUDIT_PAGE).get_page(request.GET.get("page"))
    rows = []
    for item in page.object_list:
        rows.append(_audit_row(item, m, now))
    unit_name = _("All units")
    if filters.unit == NO_UNIT:
        unit_name = _("No unit yet")
    elif filters.unit is not None:
        unit_name = Unit.objects.filter(pk=filters.unit).values_list("name", flat=True).first() or ""
    back = urlencode(filter_params(filters))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "stats/audit.html",
        {
            "actor": actor,
            "measure": m,
            "part": part,
            "filters": filters,
            "page": page,
            "rows": rows,
            "unit_name": unit_name,
            "back": back,
            "query": params.urlencode(),
            "part_label": m.num_label if part == "num" else (m.den_label if part == "den" else _("missed")),
        },
    )


def _audit_row(item: Any, m: measures.Measure, now: Any) -> dict[str, Any]:
    case = item.case
    row: dict[str, Any] = {"number": case.number, "title": case.title, "url": case_url(case.pk)}
    if m.is_clock:
        if item.met_at is not None:
            outcome = _("met in time") if item.met_at <= item.due_at else _("met late")
            end = item.met_at
        elif item.stopped_at is not None:
            outcome = _("stopped after its limit") if item.stopped_at > item.due_at else _("stopped")
            end = item.stopped_at
        else:
            outcome = _("running past its limit") if item.due_at < now else _("running")
            end = None
        row.update(
            unit=item.unit.name if item.unit else _("No unit yet"),
            start=item.started_at,
            due=item.due_at,
            end=end,
            outcome=outcome,
        )
    else:
        rating = (item.data or {}).get("rating", "")
        label = Rating(rating).label if rating in Rating.values else rating
        row.update(
            at=item.at,
            action=registry.event_label(item.action),
            rating=rating,
            rating_label=label,
            note=item.note,
        )
    return row
