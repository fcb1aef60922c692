"""The moment the moved-clock run (``make test-moved-clock``) sets the machine's clock to.

Printed as ``YYYY-MM-DD HH:MM:SS`` in UTC for ``faketime``. Unless ``MOVED_AT`` names one,
the run chooses a moment that has broken date-dependent code before: the second day of the
Spring Festival holiday at least a year ahead (a public holiday with adjusted working days
around it, in a year the installed calendar may not know), at 00:01 or 23:59 China time by
turn (at 00:01 the UTC date is still the day before). The Spring Festival's dates are the
lunar new year's, fixed by astronomy; past the table the run moves 400 days ahead.

    python tests/moved_clock/when.py [TODAY]   # TODAY as YYYY-MM-DD, default the real today
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from zoneinfo import ZoneInfo

CST = ZoneInfo("Asia/Shanghai")
SPRING_FESTIVAL = {
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
    2034: dt.date(2034, 2, 19),
    2035: dt.date(2035, 2, 8),
    2036: dt.date(2036, 1, 28),
}


def moved_at(today: dt.date) -> dt.datetime:
    late = today.toordinal() % 2 == 1  # by turn: 23:59 on odd days, 00:01 on even ones
    at = dt.time(23, 59) if late else dt.time(0, 1)
    ahead = [d for d in SPRING_FESTIVAL.values() if d >= today + dt.timedelta(days=365)]
    day = ahead[0] + dt.timedelta(days=1) if ahead else today + dt.timedelta(days=400)
    return dt.datetime.combine(day, at, tzinfo=CST)


def main() -> None:
    if os.environ.get("MOVED_AT"):
        when = dt.datetime.fromisoformat(os.environ["MOVED_AT"])
        if when.tzinfo is None:
            sys.exit("MOVED_AT needs its offset, e.g. 2027-02-08T10:00:00+08:00")
    else:
        today = dt.date.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else dt.datetime.now(CST).date()
        when = moved_at(today)
    print(when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"))
    print(f"moved clock: {when.isoformat()} ({when.astimezone(dt.UTC).isoformat()})", file=sys.stderr)


if __name__ == "__main__":
    main()
