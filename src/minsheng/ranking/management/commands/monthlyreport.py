"""``minsheng monthlyreport 2026-11 [--out DIR]``: the month's evaluation as PDF and Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from minsheng.ranking import queries, reports


class Command(BaseCommand):
    help = "Write the monthly report (月报) of a month as PDF and Excel."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument("--out", default=".", help="directory to write into (default: here)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            month = queries.parse_month(opts["month"])
        except ValueError as exc:
            raise CommandError(f"month: give it as YYYY-MM, not {opts['month']!r}") from exc
        out = Path(opts["out"])
        out.mkdir(parents=True, exist_ok=True)
        with translation.override(settings.LANGUAGE_CODE):
            ev = queries.evaluate_month(month)
            for ext, make in (("pdf", reports.pdf_bytes), ("xlsx", reports.xlsx_bytes)):
                path = out / reports.file_name(ev, ext)
                path.write_bytes(make(ev))
                self.stdout.write(str(path))
        ranked = sum(1 for u in ev.units if u.score is not None)
        self.stdout.write(
            f"{ev.label}: {ranked} of {len(ev.units)} units ranked; "
            f"red list {len(ev.red)}, yellow list {len(ev.yellow)}"
        )
