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

A batch of new cases takes its numbers as a block in one statement (:func:`next_numbers`):
``nextval`` over ``generate_series`` on PostgreSQL (values other intakes take meanwhile may
interleave: the block is in order, not necessarily contiguous), the counter moved by the
block's size on SQLite.
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


def _next_on_postgresql(day: dt.date, n: int) -> list[int]:
    name = sequence_name(day)
    with connection.cursor() as cur:
        if name not in _made:
            try:
                with transaction.atomic():  # a savepoint: another intake may be making it now
                    cur.execute(f"CREATE SEQUENCE IF NOT EXISTS {name}")
            except DatabaseError:
                pass  # it made it first (and has committed: we waited for it)
            transaction.on_commit(lambda: _made.add(name))
        if n == 1:
            cur.execute("SELECT nextval(%s)", [name])
        else:
            cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [name, n])
        return sorted(int(row[0]) for row in cur.fetchall())


def _next_on_sqlite(day: dt.date, n: int) -> list[int]:
    table = DailyCounter._meta.db_table  # the model's own name, not input
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, %s) "  # noqa: S608
            "ON CONFLICT (day) DO UPDATE SET last = last + %s RETURNING last",
            [day.isoformat(), n, n],
        )
        last = int(cur.fetchone()[0])
    return list(range(last - n + 1, last + 1))


def _next_on_counter(day: dt.date, n: int) -> list[int]:
    DailyCounter.objects.get_or_create(day=day)
    DailyCounter.objects.filter(day=day).update(last=F("last") + n)
    last = DailyCounter.objects.get(day=day).last
    return list(range(last - n + 1, last + 1))


def next_numbers(at: dt.datetime, n: int) -> list[str]:
    """``n`` numbers of the day of ``at``, in order, taken in one statement. Call inside the
    intake transaction."""
    if n <= 0:
        return []
    day = at.astimezone(CITY_TZ).date()
    if connection.vendor == "postgresql":
        seqs = _next_on_postgresql(day, n)
    elif connection.vendor == "sqlite":
        seqs = _next_on_sqlite(day, n)
    else:
        seqs = _next_on_counter(day, n)
    prefix = setting("MINSHENG_CASE_PREFIX", "MS")
    return [f"{prefix}{day:%Y%m%d}{seq:05d}" for seq in seqs]


def next_number(at: dt.datetime) -> str:
    """``MS2026112300042``. Call inside the intake transaction."""
    return next_numbers(at, 1)[0]
