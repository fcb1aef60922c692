"""The report as the page shows it, and as the exports write it: one list of columns and
one list of cells per row, so that the CSV and the Excel file hold exactly what the
table shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.cases.states import ClockName

from .measures import DURATION_LABELS, DURATIONS, MEASURES, PERCENTILES, Measure
from .report import Report, Row

# Each step's durations are shown in one unit, so a column reads without guessing.
DURATION_UNIT: dict[str, tuple[Any, float]] = {
    ClockName.SIGN: (gettext_lazy("seconds"), 1.0),
    ClockName.DISPATCH: (gettext_lazy("minutes"), 60.0),
    ClockName.FEEDBACK: (gettext_lazy("hours"), 3600.0),
    ClockName.RESOLVE: (gettext_lazy("days"), 86400.0),
    ClockName.RESPONSE: (gettext_lazy("minutes"), 60.0),
}
RATE = gettext_lazy("rate")
PERCENTILE_LABELS = {"p50": gettext_lazy("median"), "p90": gettext_lazy("90th percentile")}


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"


def round_duration(value: float) -> float:
    """One decimal, two under one (a one-hour resolve is 0.04 days, not 0.0)."""
    return round(value, 2) if value < 1 else round(value, 1)


@dataclass
class Cell:
    text: str  # what the page shows in the cell's main line
    value: Any = None  # the number behind it (exports)
    numerator: int | None = None
    denominator: int | None = None
    bar: float | None = None  # 0..100, width of the bar
    audit: dict[str, str] = field(default_factory=dict)  # query parameters of the drill-down
    measure: Measure | None = None

    @property
    def rate_text(self) -> str:
        return fmt_rate(self.value)


@dataclass
class TableRow:
    label: str
    is_total: bool
    unit_param: str
    measures: list[Cell]
    durations: list[Cell]
    measures_html: str = ""  # filled by the page
    durations_html: str = ""


def unit_label(row: Row) -> str:
    if row.is_total:
        return _("All units")
    return row.label or _("No unit yet")


def measure_cell(row: Row, m: Measure) -> Cell:
    f = row.tally.figure(m)
    value = f.value
    text = str(f.numerator) if m.count_first else fmt_rate(value)
    return Cell(
        text=text,
        value=value,
        numerator=f.numerator,
        denominator=f.denominator,
        bar=None if value is None else round(min(1.0, value) * 100, 1),
        audit={"measure": m.key, "unit": row.audit_unit},
        measure=m,
    )


def duration_cell(row: Row, name: str, p: float) -> Cell:
    seconds = row.percentile(name, p)
    scale = DURATION_UNIT[name][1]
    value = None if seconds is None else round_duration(seconds / scale)
    return Cell(text=fmt_number(value), value=value)


def table_rows(report: Report) -> list[TableRow]:
    out = []
    for row in report.all_rows:
        out.append(
            TableRow(
                label=unit_label(row),
                is_total=row.is_total,
                unit_param=row.audit_unit,
                measures=[measure_cell(row, m) for m in MEASURES],
                durations=[duration_cell(row, name, p) for name in DURATIONS for p, _k in PERCENTILES],
            )
        )
    return out


def duration_headers() -> list[dict[str, str]]:
    return [
        {
            "step": str(DURATION_LABELS[name]),
            "which": str(PERCENTILE_LABELS[key]),
            "unit": str(DURATION_UNIT[name][0]),
        }
        for name in DURATIONS
        for _p, key in PERCENTILES
    ]


def export_header() -> list[str]:
    head = [_("Unit")]
    for m in MEASURES:
        if m.count_first:
            head += [f"{m.label}", f"{m.label} · {m.den_label}", f"{m.label} · {RATE}"]
        else:
            head += [f"{m.label}", f"{m.label} · {m.num_label}", f"{m.label} · {m.den_label}"]
    for h in duration_headers():
        head.append(f"{h['step']} · {h['which']} ({h['unit']})")
    return head


def export_rows(rows: list[TableRow]) -> list[list[Any]]:
    """Values in ``export_header`` order: rates as fractions (Excel formats them as %)."""
    out = []
    for r in rows:
        line: list[Any] = [r.label]
        for c in r.measures:
            assert c.measure is not None
            if c.measure.count_first:
                line += [c.numerator, c.denominator, c.value]
            else:
                line += [c.value, c.numerator, c.denominator]
        line += [c.value for c in r.durations]
        out.append(line)
    return out


def rate_columns() -> set[int]:
    """0-based indexes of the export columns that hold rates."""
    cols, i = set(), 1
    for m in MEASURES:
        cols.add(i + 2 if m.count_first else i)
        i += 3
    return cols
