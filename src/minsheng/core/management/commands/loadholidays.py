"""``minsheng loadholidays PATH``: a year's holiday schedule (节假日安排) from a JSON file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from minsheng.core.holidays import ScheduleError, parse_file, save_schedule
from minsheng.core.models import HolidaySchedule


class Command(BaseCommand):
    help = (
        "Load the State Council's holiday schedule for one year from a JSON file "
        '({"year", "notice", "holidays": [{"name", "from", "to"}], "workdays": [{"name", "date"}]}); '
        "it replaces what the city had for that year and recounts the running resolve limits."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options):
        try:
            year, notice, days = parse_file(Path(path))
            schedule, moved = save_schedule(year, days, notice=notice, source=HolidaySchedule.Source.FILE)
        except ScheduleError as exc:
            raise CommandError("\n".join(f"{where}: {msg}" for where, msg in exc.errors)) from exc
        rest = schedule.days.filter(kind="rest").count()
        work = schedule.days.filter(kind="work").count()
        self.stdout.write(
            f"{year}: {rest} days off, {work} adjusted working days; {moved} running limits recounted"
        )
