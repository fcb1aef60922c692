"""The screen's built-in tiles and feed: the measures the city is judged by (read through
``stats``, exactly as the statistics page computes them), and new cases, breaches and
alarms read from the case log."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy

from minsheng.accounts.actors import Actor
from minsheng.cases.models import CaseEvent
from minsheng.cases.scoping import visible_cases
from minsheng.stats.measures import MEASURE_BY_KEY, Filters, Tally
from minsheng.stats.report import Row, build_report

from . import registry
from .registry import FeedItem, FeedSource, ScreenContext, Tile, TileValue

# The screen's tiles, in the words the city is judged by, and the measure each one reads.
MEASURE_TILES = (
    ("sign", gettext_lazy("1-minute sign rate")),
    ("dispatch", gettext_lazy("5-minute dispatch rate")),
    ("feedback", gettext_lazy("24-hour feedback rate")),
    ("response", gettext_lazy("15-minute sensor response")),
    ("satisfaction", gettext_lazy("Satisfaction")),
    ("direct_answer", gettext_lazy("Direct-answer rate")),
)
LOW = 0.9  # a rate under 90 % is shown red, as on the statistics page


def period_total(ctx: ScreenContext, period: str) -> Row:
    """The statistics page's total for today or this month, computed once a request. The
    month is the days before today (rollups) plus today's report: today is read (or counted
    live) once for both tiles, not twice. The sums are the month's report's own: the
    rollups are sums, and every count is by the day it belongs to."""

    def today() -> Row:
        return build_report(ctx.actor, Filters(start=ctx.today, end=ctx.today), ctx.now).total

    def month() -> Row:
        total = Row(None, "", Tally(), is_total=True)
        total.tally.absorb(period_total(ctx, "today").tally)
        if ctx.month_start < ctx.today:
            before = Filters(start=ctx.month_start, end=ctx.today - dt.timedelta(days=1))
            total.tally.absorb(build_report(ctx.actor, before, ctx.now).total.tally)
        return total

    return ctx.once(f"total:{period}", today if period == "today" else month)


def audit_url(measure: str, start: dt.date, end: dt.date) -> str:
    """The cases behind a figure: the statistics page's audit list of its denominator."""
    query = {"period": "custom", "start": start.isoformat(), "end": end.isoformat(), "measure": measure}
    return reverse("stats:audit") + "?" + urlencode({**query, "part": "den"})


def measure_tile(key: str):
    def values(ctx: ScreenContext) -> dict[str, TileValue]:
        out = {}
        for period, start in (("today", ctx.today), ("month", ctx.month_start)):
            fig = period_total(ctx, period).figure(key)
            value = fig.value
            text = "—" if value is None else f"{value * 100:.1f}%"
            out[period] = TileValue(
                text=text,
                url=audit_url(key, start, ctx.today),
                value=value,
                numerator=fig.numerator,
                denominator=fig.denominator,
                low=value is not None and value < LOW,
            )
        return out

    return values


# --- the feed -------------------------------------------------------------------------------

# Case-log entries the feed shows, and the word for each.
FEED_KINDS = {
    "accept": ("case", gettext_lazy("New case")),
    "clock_breach": ("breach", gettext_lazy("Limit passed")),
    "alarm_raised": ("alarm", gettext_lazy("Sensor alarm")),
    "alarm_attached": ("alarm", gettext_lazy("Sensor alarm")),
    "supervise": ("breach", gettext_lazy("Supervised")),
}
FEED_WINDOW = dt.timedelta(hours=24)


def case_log_items(actor: Actor, now: dt.datetime, since: dt.datetime | None, limit: int) -> list[FeedItem]:
    """The newest entries of the kinds above, of cases the reader may see (one query)."""
    events = CaseEvent.objects.filter(action__in=tuple(FEED_KINDS), at__gte=since or now - FEED_WINDOW)
    if since is not None:
        events = events.filter(at__gt=since)
    scoped = visible_cases(actor)
    if scoped.query.where:  # a city-wide reader sees every case: no subquery
        events = events.filter(case__in=scoped.values("pk"))
    rows = events.order_by("-at", "-id").values_list(
        "pk", "at", "action", "note", "case_id", "case__number", "case__title"
    )[:limit]
    out = []
    for pk, at, action, note, case_id, number, title in rows:
        kind, label = FEED_KINDS[action]
        what = f"{label} · {number}"
        if action != "accept" and note:
            what += f" · {note[:40]}"
        out.append(
            FeedItem(
                at=at,
                kind=kind,
                label=what,
                title=title,
                url=reverse("web:case", args=[case_id]),
                key=f"event:{pk}",
            )
        )
    return out


def register_builtin() -> None:
    for key, label in MEASURE_TILES:
        registry.register_tile(Tile(key, label, measure_tile(key), hint=MEASURE_BY_KEY[key].definition))
    registry.register_feed(FeedSource("case_log", case_log_items))
    from . import warnings  # early warning's tile and feed (a module beside this one)

    warnings.register()


def feed(actor: Actor, now: dt.datetime, since: dt.datetime | None = None, limit: int = 30) -> list[FeedItem]:
    """Every registered source's items, newest first."""
    items: list[FeedItem] = []
    for source in registry.feeds():
        items += source.items(actor, now, since, limit)
    items.sort(key=lambda i: (i.at, i.key), reverse=True)
    return items[:limit]


__all__ = ["LOW", "MEASURE_TILES", "case_log_items", "feed", "register_builtin"]
