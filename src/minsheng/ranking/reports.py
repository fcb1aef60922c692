"""The monthly report (月报) of an evaluation: a PDF with its charts (reportlab: its built-in
CID font STSong-Light draws Chinese with no font file to ship or find) and an Excel workbook
(openpyxl). Both only format an :class:`~.queries.Evaluation`."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .queries import Evaluation, UnitScore

FONT = "STSong-Light"
RED = colors.HexColor("#c0392b")
YELLOW = colors.HexColor("#d4a017")
BAR = colors.HexColor("#2f6fb0")
CHART_UNITS = 20


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _score(u: UnitScore) -> str:
    return "—" if u.score is None else f"{u.score:.1f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _list_word(listed: str) -> str:
    return {"red": _("Red list"), "yellow": _("Yellow list")}.get(listed, "")


def report_title(ev: Evaluation) -> str:
    return _("Monthly report %(month)s") % {"month": ev.label}


def _scores_chart(ev: Evaluation, font: str) -> Drawing:
    ranked = [u for u in ev.units if u.score is not None][:CHART_UNITS]
    height = 40 + 14 * max(1, len(ranked))
    d = Drawing(170 * mm, height)
    d.add(String(0, height - 12, _("Score by unit"), fontName=font, fontSize=10))
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 70 * mm, 10, 95 * mm, height - 30
    chart.data = [[u.score or 0 for u in reversed(ranked)]] if ranked else [[0]]
    chart.categoryAxis.categoryNames = [u.name for u in reversed(ranked)] or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = font
    chart.bars[0].fillColor = BAR
    for i, u in enumerate(reversed(ranked)):
        if u.listed:
            chart.bars[(0, i)].fillColor = RED if u.listed == "red" else YELLOW
    d.add(chart)
    return d


def _tiers_chart(ev: Evaluation, font: str) -> Drawing:
    d = Drawing(80 * mm, 55 * mm)
    d.add(String(0, 55 * mm - 12, _("Units by tier"), fontName=font, fontSize=10))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 8 * mm, 60 * mm, 38 * mm
    tiers = ev.tiers
    chart.data = [[tiers[t] for t in "ABCD"]]
    chart.categoryAxis.categoryNames = list("ABCD")
    chart.categoryAxis.labels.fontName = font
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = font
    chart.bars[0].fillColor = BAR
    d.add(chart)
    return d


def pdf_bytes(ev: Evaluation) -> bytes:
    font = _font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=18, leading=24, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=report_title(ev), leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm
    )
    ranked = [u for u in ev.units if u.score is not None]
    story: list = [
        Paragraph(report_title(ev), h1),
        Paragraph(
            _("%(first)s to %(last)s · %(ranked)d units ranked of %(all)d · computed %(at)s")
            % {
                "first": ev.month.isoformat(),
                "last": ev.last_day.isoformat(),
                "ranked": len(ranked),
                "all": len(ev.units),
                "at": ev.as_of.strftime("%Y-%m-%d %H:%M"),
            },
            body,
        ),
        Paragraph(
            _("Weights: %(weights)s")
            % {
                "weights": ", ".join(
                    f"{p.label} {p.weight:g}" for p in (ev.units[0].parts if ev.units else [])
                )
            },
            body,
        ),
    ]
    for title, units in ((_("Red list"), ev.red), (_("Yellow list"), ev.yellow)):
        story.append(Paragraph(title, h2))
        names = "、".join(f"{u.name}（{_score(u)}）" for u in units) or _("None this month.")
        story.append(Paragraph(names, body))
    story += [Spacer(1, 4 * mm), _scores_chart(ev, font), _tiers_chart(ev, font), Paragraph(_("Ranking"), h2)]
    keys = [p for p in (ev.units[0].parts if ev.units else [])]
    header = [_("Rank"), _("Unit"), _("Score"), _("Tier"), *[p.label for p in keys], _("List")]
    rows = [header]
    for u in ev.units:
        rows.append(
            [
                str(u.rank or "—"),
                u.name,
                _score(u),
                u.tier or "—",
                *[_pct(p.value) for p in u.parts],
                _list_word(u.listed),
            ]
        )
    table = Table(rows, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), font, 7),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c0")),
        ("ALIGN", (2, 1), (-2, -1), "RIGHT"),
    ]
    for i, u in enumerate(ev.units, start=1):
        if u.listed:
            style.append(("TEXTCOLOR", (0, i), (-1, i), RED if u.listed == "red" else YELLOW))
    table.setStyle(TableStyle(style))
    story.append(table)
    doc.build(story)
    return out.getvalue()


def xlsx_bytes(ev: Evaluation) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Ranking")[:31]
    keys = ev.units[0].parts if ev.units else []
    header = [_("Rank"), _("Unit"), _("Score"), _("Tier"), _("List"), _("Items decided")]
    header += [p.label for p in keys]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    fills = {"red": PatternFill("solid", fgColor="F6D5D1"), "yellow": PatternFill("solid", fgColor="FBF0C8")}
    for u in ev.units:
        ws.append(
            [u.rank, u.name, u.score, u.tier or None, _list_word(u.listed) or None, u.decided]
            + [None if p.value is None else round(p.value, 4) for p in u.parts]
        )
        if u.listed:
            for cell in ws[ws.max_row]:
                cell.fill = fills[u.listed]
    for col in range(7, 7 + len(keys)):
        for row in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            row[0].number_format = "0.0%"
    ws.column_dimensions["B"].width = 24
    lists = wb.create_sheet(_("Red and yellow list")[:31])
    lists.append([_("List"), _("Unit"), _("Score"), _("Rank")])
    for u in [*ev.red, *ev.yellow]:
        lists.append([_list_word(u.listed), u.name, u.score, u.rank])
    w = wb.create_sheet(_("Weights")[:31])
    w.append([_("Measure"), _("Weight")])
    for p in keys:
        w.append([p.label, p.weight])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def file_name(ev: Evaluation, ext: str) -> str:
    return f"monthly-report-{ev.label}.{ext}"
