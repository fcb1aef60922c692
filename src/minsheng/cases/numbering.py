"""Case numbers a person can read out on the phone: prefix + local date + sequence
(``MS2026112300042``), unique per day and starting again at 1 every day.

On PostgreSQL each day has its own sequence (``cases_number_YYYYMMDD``): ``nextval`` takes
no lock that lasts until COMMIT, so concurrent intakes no longer queue behind one counter
row (a row lock held for the whole intake transaction capped intake at ~57 a second,
issue #15). A number taken by an intake that then fails is not given again (a gap, as with
any sequence). The day's sequence is made by the first intake of the day; numbers an older
counter gave that day are carried over by the migration that introduced the sequences.

On SQLite a writing transaction holds the database's one write lock anyway, so the
per-day counter row (:class:`~minsheng.cases.models.DailyCounter`) costs nothing more; it
is taken in one statement (an upsert answering the new value), not three.
"""

from __future__ import annotations

import datetime as dt

from django.db import DatabaseError, connection, transaction
from django.db.models import F

from minsheng.core.conf import setting
from minsheng.core.workdays import CITY_TZ

from .models import DailyCounter

# Days whose sequence this process has seen committed: no CREATE for them again.
_made: set[str] = set()


def sequence_name(day: dt.date) -> str:
    return f"cases_number_{day:%Y%m%d}"


def _next_on_postgresql(day: dt.date) -> int:
    name = sequence_name(day)
    with connection.cursor() as cur:
        if name not in _made:
            try:
                with transaction.atomic():  # a savepoint: another intake may be making it now
                    cur.execute(f"CREATE SEQUENCE IF NOT EXISTS {name}")
            except DatabaseError:
                pass  # it made it first (and has committed: we waited for it)
            transaction.on_commit(lambda: _made.add(name))
        cur.execute("SELECT nextval(%s)", [name])
        return int(cur.fetchone()[0])


def _next_on_sqlite(day: dt.date) -> int:
    table = DailyCounter._meta.db_table  # the model's own name, not input
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608
            "ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
            [day.isoformat()],
        )
        return int(cur.fetchone()[0])


def _next_on_counter(day: dt.date) -> int:
    DailyCounter.objects.get_or_create(day=day)
    DailyCounter.objects.filter(day=day).update(last=F("last") + 1)
    return DailyCounter.objects.get(day=day).last


def next_number(at: dt.datetime) -> str:
    """``MS2026112300042``. Call inside the intake transaction."""
    day = at.astimezone(CITY_TZ).date()
    if connection.vendor == "postgresql":
        seq = _next_on_postgresql(day)
    elif connection.vendor == "sqlite":
        seq = _next_on_sqlite(day)
    else:
        seq = _next_on_counter(day)
    return f"{setting('MINSHENG_CASE_PREFIX', 'MS')}{day:%Y%m%d}{seq:05d}"
