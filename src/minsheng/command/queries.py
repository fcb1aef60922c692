"""What the screen reads, each over the cases the reader may see (``visible_cases``, THE
scoping rule; the view works it out once and hands each query its ``cases``): the
territory (city, town or village), the open cases on the map in grid cells, devices and
field workers on the map, intake by channel, the 30-day trend and the matter × town table.
Each part is a fixed number of queries, whatever the number of cases (tests guard it)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Avg,
    Count,
    F,
    FloatField,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as When_
from django.db.models.functions import Floor
from django.urls import reverse
from django.utils import timezone

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Profile, Role
from minsheng.cases.models import Case
from minsheng.cases.scoping import CITY_WIDE, unit_subtree_ids
from minsheng.cases.states import OPEN_STATES, Channel, State
from minsheng.catalog.models import Matter
from minsheng.field.models import Arrival
from minsheng.places.models import TOWN_KINDS, Place, PlaceKind
from minsheng.sensors.presenters import device_dict, devices_for_map
from minsheng.stats import report as stats_report

TREND_DAYS = 30
HEAT_MATTERS = 12
OPEN = tuple(s.value for s in OPEN_STATES)
WORKER_DAYS = 7  # a field worker's last position older than this is not shown


def local_date(at: dt.datetime) -> dt.date:
    return at.astimezone(timezone.get_default_timezone()).date()


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def cases_url(**params: Any) -> str:
    """The case search (``/cases/``, :class:`minsheng.cases.filters.CaseFilter`) with these filters."""
    clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return reverse("web:cases") + ("?" + urlencode(clean) if clean else "")


# --- the territory --------------------------------------------------------------------------


@dataclass(frozen=True)
class Territory:
    """The screen's level: the city, a town/street (a sub-centre), or one unit's own (a
    village/community or a department). Derived from the reader exactly as ``visible_cases``
    scopes them; it names the screen and picks the map's frame, it grants nothing."""

    level: str  # "city" | "town" | "unit"
    name: str
    place: Place | None  # the town or village, for the map's frame
    units: frozenset[int] | None  # None: every unit


def territory(actor: Actor) -> Territory:
    if actor.is_system or actor.role in CITY_WIDE:
        city = Place.objects.filter(kind=PlaceKind.CITY).order_by("pk").first()
        return Territory("city", city.name if city else "", city, None)
    unit = actor.unit
    if actor.role == Role.SUBCENTRE_DISPATCHER and unit is not None:
        place = unit.place
        return Territory("town", place.name if place else unit.name, place, frozenset(unit_subtree_ids(unit)))
    if unit is not None:
        return Territory("unit", unit.name, unit.place, frozenset({unit.pk}))
    return Territory("unit", "", None, frozenset())


# --- the map --------------------------------------------------------------------------------

MAX_ZOOM = 18
CELL_PX = 48  # a cluster cell on screen, in pixels (256-pixel tiles)


def cell_degrees(zoom: int) -> float:
    return 360.0 / (2**zoom) * CELL_PX / 256


def open_case_cells(
    cases: QuerySet[Case], zoom: int, bbox: tuple[float, float, float, float] | None = None
) -> list[dict[str, Any]]:
    """Open cases with a point, in grid cells of about ``CELL_PX`` pixels at ``zoom``: per
    cell the count, the urgent ones, the count per state, the mean point, and a single
    case's id when the cell holds one. One grouped query."""
    size = cell_degrees(max(0, min(MAX_ZOOM, zoom)))
    qs = cases.filter(state__in=OPEN, lat__isnull=False, lng__isnull=False)
    if bbox is not None:
        south, west, north, east = bbox
        qs = qs.filter(lat__gte=south, lat__lte=north, lng__gte=west, lng__lte=east)
    states = {s: Count("pk", filter=Q(state=s)) for s in OPEN}
    rows = (
        qs.order_by()
        .annotate(
            cy=Floor(F("lat") / size, output_field=FloatField()),
            cx=Floor(F("lng") / size, output_field=FloatField()),
        )
        .values("cy", "cx")
        .annotate(
            n=Count("pk"),
            urgent=Count("pk", filter=Q(urgent=True)),
            lat=Avg("lat"),
            lng=Avg("lng"),
            one=Min("pk"),
            **{f"s_{s}": c for s, c in states.items()},
        )
    )
    out = []
    for r in rows:
        by_state = {s: r[f"s_{s}"] for s in OPEN if r[f"s_{s}"]}
        cell: dict[str, Any] = {
            "lat": round(r["lat"], 6),
            "lng": round(r["lng"], 6),
            "n": r["n"],
            "urgent": r["urgent"],
            "states": by_state,
        }
        if r["n"] == 1:
            cell["url"] = reverse("web:case", args=[r["one"]])
        out.append(cell)
    return out


def devices(actor: Actor, where: Territory) -> list[dict[str, Any]]:
    """The sensor devices of the territory with their alarm state (the sensors app's own
    presenter): the city sees every one; a town the devices placed in it or owned by its
    units; a unit those it owns or placed in its village. Two queries."""
    qs = devices_for_map()
    if where.units is not None:
        q = Q(owner_unit_id__in=where.units)
        if where.place is not None:
            q |= Q(place=where.place) | Q(place__parent=where.place)
        qs = qs.filter(q)
    out = []
    for d in qs.order_by("device_id"):
        item = device_dict(d, actor)
        out.append(
            {
                "id": item["device_id"],
                "name": item["name"],
                "lat": item["lat"],
                "lng": item["lng"],
                "status": item["status"],
                "status_label": item["status_label"],
                "alarms": [a["message"] for a in item.get("alarms", [])],
                "url": reverse("sensors:device", args=[d.device_id]),
            }
        )
    return out


def workers(where: Territory, now: dt.datetime) -> list[dict[str, Any]]:
    """Field workers' last reported positions: the place of each one's latest arrival on
    site (``field.Arrival``; the phone reports a position only on arrival), within
    ``WORKER_DAYS``, for workers of the territory's units. One query."""
    latest = Arrival.objects.filter(user=OuterRef("user")).order_by("-at", "-id").values("pk")[:1]
    profiles = Profile.objects.filter(role=Role.FIELD_WORKER)
    if where.units is not None:
        profiles = profiles.filter(unit_id__in=where.units)
    rows = (
        Arrival.objects.filter(
            at__gte=now - dt.timedelta(days=WORKER_DAYS),
            user__in=profiles.values("user"),
            pk=Subquery(latest),
        )
        .order_by("user_id")
        .values("lat", "lng", "at", "user__profile__display_name", "user__username", "case__number")
    )
    return [
        {
            "name": r["user__profile__display_name"] or r["user__username"],
            "lat": r["lat"],
            "lng": r["lng"],
            "at": r["at"].isoformat(),
            "case": r["case__number"],
        }
        for r in rows
    ]


# --- counts ---------------------------------------------------------------------------------
#
# Cases received (channels, the trend, the heat table) are read for past days from the
# statistics' day rollups (``stats.report.daily_counts``: the ``intake`` rows, one per case's
# ``accept`` entry, kept by the worker) and counted live only from the first day they do not
# hold (today, normally): so their cost follows a day's intake, not the month's. What is
# still open changes every minute and is counted live, in one pass over the open cases.


def received_day(first: dt.date, days: int) -> When_:
    """The local day a case was received on, as its offset from ``first`` (``None`` before
    it): comparisons against local midnights, newest first. Exact in any time zone, and
    cheap on both databases (SQLite's date functions are Python called once per row)."""
    whens = [
        When(created_at__gte=local_midnight(first + dt.timedelta(days=i)), then=Value(i))
        for i in reversed(range(days))
    ]
    return When_(*whens, default=Value(None), output_field=IntegerField())


@dataclass
class Received:
    """Cases received, for the screen's periods: per local day of the trend's window, per
    channel today and this month, per (matter, town) this month."""

    per_day: dict[dt.date, int]
    channel_today: dict[str, int]
    channel_month: dict[str, int]
    matter_town: dict[tuple[int, int | None], int]


def received(
    actor: Actor, cases: QuerySet[Case], today: dt.date, month_start: dt.date, days: int = TREND_DAYS
) -> Received:
    """Four queries (two rollup reads with their state, one live count) whatever the number
    of cases."""
    first = min(today - dt.timedelta(days=days - 1), month_start)
    yesterday = today - dt.timedelta(days=1)
    out = Received({}, {}, {}, {})

    def add(day: dt.date, channel: str, matter: int | None, town: int | None, n: int, *, heat: bool) -> None:
        out.per_day[day] = out.per_day.get(day, 0) + n
        if day >= month_start:
            out.channel_month[channel] = out.channel_month.get(channel, 0) + n
        if day == today:
            out.channel_today[channel] = out.channel_today.get(channel, 0) + n
        if heat and matter is not None:
            out.matter_town[(matter, town)] = out.matter_town.get((matter, town), 0) + n

    rows, live_from = stats_report.daily_counts(actor, "intake", first, yesterday, ("channel",))
    for day, channel, n in rows:
        add(day, channel, None, None, n, heat=False)
    cells, heat_live_from = stats_report.daily_counts(
        actor, "intake", month_start, yesterday, ("matter_id", "town_id"), per_day=False
    )
    for matter, town, n in cells:
        if matter:
            key = (matter, town or None)
            out.matter_town[key] = out.matter_town.get(key, 0) + n
    live = (
        cases.filter(created_at__gte=local_midnight(live_from))
        .order_by()
        .values("channel", "matter_id", "town_id", d=received_day(live_from, (today - live_from).days + 1))
        .annotate(n=Count("pk"))
    )
    for r in live:
        day = live_from + dt.timedelta(days=r["d"])
        add(day, r["channel"], r["matter_id"], r["town_id"], r["n"], heat=day >= heat_live_from)
    return out


@dataclass
class OpenStock:
    """Open cases now: how many, the urgent ones, and per local day they were received in
    the trend's window."""

    n: int
    urgent: int
    per_day: dict[dt.date, int]


def open_stock(cases: QuerySet[Case], today: dt.date, days: int = TREND_DAYS) -> OpenStock:
    """One pass over the open cases (state, urgent and received moment: the
    ``case_state_queue`` index holds all three)."""
    first = today - dt.timedelta(days=days - 1)
    offset = received_day(first, days)
    rows = cases.filter(state__in=OPEN).order_by().values("urgent", d=offset).annotate(n=Count("*"))
    out = OpenStock(0, 0, {})
    for r in rows:
        out.n += r["n"]
        if r["urgent"]:
            out.urgent += r["n"]
        if r["d"] is not None:
            day = first + dt.timedelta(days=r["d"])
            out.per_day[day] = out.per_day.get(day, 0) + r["n"]
    return out


def channels(got: Received, today: dt.date, month_start: dt.date) -> list[dict[str, Any]]:
    """Cases received today and this month, per channel."""
    out = []
    for value, label in Channel.choices:
        out.append(
            {
                "channel": value,
                "label": str(label),
                "today": got.channel_today.get(value, 0),
                "month": got.channel_month.get(value, 0),
                "today_url": cases_url(channel=value, since=today),
                "month_url": cases_url(channel=value, since=month_start),
            }
        )
    return out


def trend(got: Received, stock: OpenStock, today: dt.date, days: int = TREND_DAYS) -> list[dict[str, Any]]:
    """Cases received per local day over the last ``days`` days (today included), and how
    many of them are still open."""
    first = today - dt.timedelta(days=days - 1)
    out = []
    for i in range(days):
        d = first + dt.timedelta(days=i)
        out.append(
            {
                "day": d.isoformat(),
                "received": got.per_day.get(d, 0),
                "open": stock.per_day.get(d, 0),
                "url": cases_url(since=d, until=d),
                "open_url": cases_url(since=d, until=d, open=1),
            }
        )
    return out


def heat(got: Received, where: Territory, month_start: dt.date) -> dict[str, Any]:
    """Cases received this month by matter × town: the ``HEAT_MATTERS`` matters with the
    most cases, the territory's towns as columns. Two queries (towns, matters)."""
    cells = got.matter_town
    per_matter: dict[int, int] = {}
    for (m, _t), n in cells.items():
        per_matter[m] = per_matter.get(m, 0) + n
    top = sorted(per_matter, key=lambda m: (-per_matter[m], m))[:HEAT_MATTERS]
    towns_q = Place.objects.filter(kind__in=TOWN_KINDS)
    if where.level != "city":
        seen = {t for (_m, t), n in cells.items() if t and n}
        if where.place is not None:
            town = where.place if where.place.kind in TOWN_KINDS else where.place.parent
            if town is not None:
                seen.add(town.pk)
        towns_q = towns_q.filter(pk__in=seen)
    towns = list(towns_q.order_by("code").values_list("pk", "name"))
    matters = {
        pk: (name, code)
        for pk, name, code in Matter.objects.filter(pk__in=top).values_list("pk", "name", "code")
    }
    peak = max([cells.get((m, t), 0) for m in top for t, _ in towns] or [0])
    table = []
    for m in top:
        name, code = matters.get(m, ("", None))
        line = []
        for t, _name in towns:
            n = cells.get((m, t), 0)
            line.append(
                {
                    "n": n,
                    "level": 0 if not n or not peak else min(5, 1 + math.floor(5 * n / (peak + 1))),
                    "url": cases_url(category=code, town=t, since=month_start),
                }
            )
        table.append(
            {
                "matter": name,
                "total": per_matter[m],
                "url": cases_url(category=code, since=month_start),
                "cells": line,
            }
        )
    return {
        "towns": [{"id": t, "name": n, "url": cases_url(town=t, since=month_start)} for t, n in towns],
        "rows": table,
    }


def open_count(stock: OpenStock) -> dict[str, Any]:
    """Open cases and the urgent ones among them."""
    return {
        "n": stock.n,
        "urgent": stock.urgent,
        "url": cases_url(open=1),
        "urgent_url": cases_url(open=1, urgent=1),
    }


STATE_LABELS = {s.value: str(s.label) for s in State}
