"""The screen (大屏) at ``/command/`` and the small endpoints it polls. Each translates the
request, reads ``queries`` and the registered tiles and feed sources, and answers; nothing
here decides who sees what (``visible_cases`` does, through the queries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.accounts.models import Role
from minsheng.accounts.sessions import background
from minsheng.cases.scoping import remembering_subtrees, visible_cases
from minsheng.core import clock

from . import queries, registry, sources
from .kept import kept, scope_key
from .registry import ScreenContext

# Who keeps the screen open: as the statistics page (its figures are the stats' own).
SCREEN_ROLES = frozenset(
    {Role.LEADER, Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN, Role.HANDLER}
)
FEED_POLL_S = 3
# The figures and the map: kept per scope for MINSHENG_COMMAND_CACHE_S and refreshed behind
# the request (``kept.py``); polled every 30 s, a change reaches the screen within a minute.
PANELS_POLL_S = 30
MAP_POLL_S = 30


def _forbidden(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "command/forbidden.html", {"actor": actor}, status=403)


screen_page: Callable = signed_in(SCREEN_ROLES, refuse=_forbidden)


def _context(actor: Actor) -> ScreenContext:
    now = clock.now()
    today = queries.local_date(now)
    return ScreenContext(actor=actor, now=now, today=today, month_start=today.replace(day=1))


def _tiles(ctx: ScreenContext) -> list[dict[str, Any]]:
    out = []
    for tile in registry.tiles():
        values = tile.values(ctx)
        out.append(
            {
                "key": tile.key,
                "label": str(tile.label),
                "hint": str(tile.hint),
                "values": {p: v.__dict__ for p, v in values.items()},
            }
        )
    return out


def _panels(actor: Actor) -> dict[str, Any]:
    """Everything on the screen but the map and the feed (kept per scope, ``kept.py``)."""
    return kept(f"panels:{scope_key(actor)}", lambda: _read_panels(actor))


def _read_panels(actor: Actor) -> dict[str, Any]:
    with remembering_subtrees():  # a sub-centre's units read once, not per figure
        return _compute_panels(actor)


def _compute_panels(actor: Actor) -> dict[str, Any]:
    ctx = _context(actor)
    where = queries.territory(actor)
    cases = visible_cases(actor)  # THE scoping rule, worked out once for every part
    got = queries.received(actor, cases, ctx.today, ctx.month_start)
    stock = queries.open_stock(cases, ctx.today)
    return {
        "as_of": ctx.now.isoformat(),
        "today": ctx.today.isoformat(),
        "month_start": ctx.month_start.isoformat(),
        "territory": {"level": where.level, "name": where.name},
        "tiles": _tiles(ctx),
        "open": queries.open_count(stock),
        "channels": queries.channels(got, ctx.today, ctx.month_start),
        "trend": queries.trend(got, stock, ctx.today),
        "heat": queries.heat(got, where, ctx.month_start),
    }


@never_cache
@screen_page
def screen(request: HttpRequest, actor: Actor) -> HttpResponse:
    data = _panels(actor)
    where = queries.territory(actor)
    frame = None
    if where.place is not None and where.place.center_lat is not None:
        frame = [where.place.center_lat, where.place.center_lng]
    return render(
        request,
        "command/screen.html",
        {
            "actor": actor,
            "d": data,
            "feed": sources.feed(actor, clock.now()),
            "cfg": {
                "map": reverse("command:map"),
                "base": reverse("public:map"),
                "data": reverse("command:data"),
                "frame": frame,
                "boundary": where.place.boundary if where.place and where.level != "city" else None,
                "trend": data["trend"],
                "panelsPoll": PANELS_POLL_S,
                "mapPoll": MAP_POLL_S,
            },
            "feed_poll": FEED_POLL_S,
            "panels_poll": PANELS_POLL_S,
        },
    )


@background
@never_cache
@screen_page
def data(request: HttpRequest, actor: Actor) -> JsonResponse:
    """The screen's figures as JSON (tiles, channels, trend, heat table), for the reader."""
    return JsonResponse(_panels(actor), json_dumps_params={"ensure_ascii": False})


@background
@never_cache
@screen_page
def panels(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The tiles, channels and heat table as HTML, swapped in every minute."""
    return render(request, "command/_panels.html", {"d": _panels(actor)})


def _zoom_and_box(request: HttpRequest) -> tuple[int, tuple[float, float, float, float] | None]:
    try:
        zoom = int(request.GET.get("zoom", "12"))
    except ValueError:
        zoom = 12
    box = None
    raw = request.GET.get("bbox", "")
    if raw:
        try:
            south, west, north, east = (float(x) for x in raw.split(","))
            box = (south, west, north, east)
        except ValueError:
            box = None
    return zoom, box


@background
@never_cache
@screen_page
def map_data(request: HttpRequest, actor: Actor) -> JsonResponse:
    """Open cases in grid cells for the map's zoom (and box), devices, field workers."""
    zoom, box = _zoom_and_box(request)
    answer = kept(f"map:{scope_key(actor)}:{zoom}:{box}", lambda: _map(actor, zoom, box))
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})


def _map(actor: Actor, zoom: int, box: tuple[float, float, float, float] | None) -> dict[str, Any]:
    with remembering_subtrees():
        where = queries.territory(actor)
        return {
            "zoom": zoom,
            "cells": queries.open_case_cells(visible_cases(actor), zoom, box),
            "devices": queries.devices(actor, where),
            "workers": queries.workers(where, clock.now()),
            "states": queries.STATE_LABELS,
        }


def _since(request: HttpRequest) -> dt.datetime | None:
    raw = request.GET.get("since", "")
    value = parse_datetime(raw) if raw else None
    return value if value is not None and value.tzinfo is not None else None


@background
@never_cache
@screen_page
def feed(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The live feed: new cases, breaches and alarms (every registered source), newest
    first; HTML for the screen (polled every few seconds), JSON with ``?format=json``."""
    with remembering_subtrees():
        items = sources.feed(actor, clock.now(), _since(request))
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"items": [{**i.__dict__, "at": i.at.isoformat()} for i in items]},
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, "command/_feed.html", {"feed": items})
