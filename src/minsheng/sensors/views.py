"""The sensor pages: the map of monitoring points, a device's page with its week of
readings and its commands, the panel the case page embeds for sensor cases, and the
command form (which calls :func:`actions.send_command` and nothing else)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import ANY_ROLE, signed_in
from minsheng.accounts.sessions import background
from minsheng.cases.errors import CaseError
from minsheng.cases.models import Case
from minsheng.cases.scoping import can_see
from minsheng.core import clock
from minsheng.places.models import TOWN_KINDS, Place

from . import actions, storage
from .models import UNITS, Alarm, Command, CommandAction, Device, DeviceEvent, Quantity
from .presenters import alarm_dict, command_dict, device_dict, devices_for_map

CHART_DAYS = 7
CASE_WINDOW = dt.timedelta(hours=6)


def _unknown(request: HttpRequest, actor: Actor) -> HttpResponse:
    raise Http404


# Staff with a role; to anyone else signed in the sensor pages do not exist.
staff_page = signed_in(ANY_ROLE, refuse=_unknown)


def _device(device_id: str) -> Device:
    d = devices_for_map().filter(device_id=device_id).first()
    if d is None:
        raise Http404
    return d


def _town_shapes() -> dict[str, Any]:
    """Town/street boundaries as GeoJSON, the map's background."""
    features = [
        {"type": "Feature", "properties": {"name": p.name, "code": p.code}, "geometry": p.boundary}
        for p in Place.objects.filter(kind__in=TOWN_KINDS).exclude(boundary=None)
    ]
    return {"type": "FeatureCollection", "features": features}


@staff_page
def device_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """``/sensors/``: the map of monitoring points and the list beside it."""
    devices = [device_dict(d, actor) for d in devices_for_map()]
    return render(
        request,
        "sensors/devices.html",
        {
            "actor": actor,
            "devices": devices,
            "map_cfg": {"shapes": _town_shapes(), "devices": devices, "url": reverse("sensors:map_data")},
        },
    )


@background  # polled every few seconds by the open map: not the person's activity
@staff_page
def map_data(request: HttpRequest, actor: Actor) -> JsonResponse:
    """The map's live data, fetched every few seconds."""
    return JsonResponse(
        {"devices": [device_dict(d, actor) for d in devices_for_map()], "at": clock.now().isoformat()}
    )


def _chart_context(d: Device, since: dt.datetime, until: dt.datetime, alarms: list[Alarm]) -> dict[str, Any]:
    quantities = d.reported_quantities() or [q for q in UNITS if q in d.last_values]
    return {
        "quantities": [
            {"code": q, "label": str(Quantity(q).label), "unit": UNITS[q], "range": d.ranges().get(q)}
            for q in quantities
        ],
        "since": int(since.timestamp() * 1000),
        "until": int(until.timestamp() * 1000),
        "series_url": reverse("sensors:series", args=[d.device_id]),
        "alarms": [alarm_dict(a) for a in alarms],
    }


@staff_page
def device_page(request: HttpRequest, actor: Actor, device_id: str) -> HttpResponse:
    """A device: what it is, its last values, its week of readings, alarms, commands."""
    d = _device(device_id)
    now = clock.now()
    since = now - dt.timedelta(days=CHART_DAYS)
    alarms = list(Alarm.objects.filter(device=d).select_related("case")[:50])
    commands = list(Command.objects.filter(device=d).select_related("device")[:20])
    events = list(
        DeviceEvent.objects.filter(device=d)
        .select_related("alarm", "command", "case")
        .order_by("-at", "-id")[:30]
    )
    chart = _chart_context(d, since, now, [a for a in alarms if (a.cleared_at or now) >= since])
    return render(
        request,
        "sensors/device.html",
        {
            "actor": actor,
            "device": d,
            "info": device_dict(d, actor),
            "alarms": alarms,
            "commands": commands,
            "events": events,
            "chart": chart,
            "actions": CommandAction.choices,
            "case": None,
        },
    )


@staff_page
def series(request: HttpRequest, actor: Actor, device_id: str) -> JsonResponse:
    """Chart data for ``[since, until)`` (epoch ms), by default the last 7 days."""
    d = _device(device_id)
    now = clock.now()

    def when(name: str, default: dt.datetime) -> dt.datetime:
        raw = request.GET.get(name, "")
        if raw.isdigit():
            return dt.datetime.fromtimestamp(int(raw) / 1000, tz=dt.UTC)
        return default

    until = when("until", now)
    since = when("since", until - dt.timedelta(days=CHART_DAYS))
    if until <= since or until - since > dt.timedelta(days=90):
        return JsonResponse({"detail": "bad range"}, status=400)
    data = storage.series(d.pk, since, until, d.reported_quantities() or None, max_points=1500)
    return JsonResponse(data)


def case_panel_context(actor: Actor, case: Case) -> dict[str, Any] | None:
    """What the case page shows for a sensor case: the device, its chart around the
    alarm, the alarms on the case, commands and the command form. ``None`` for a case no
    alarm is on."""
    alarms = list(Alarm.objects.filter(case=case).select_related("device").order_by("raised_at", "id"))
    if not alarms:
        return None
    d = _device(alarms[0].device.device_id)
    now = clock.now()
    first = min(a.condition_since for a in alarms)
    last = max((a.cleared_at or now) for a in alarms)
    since, until = first - CASE_WINDOW, min(now, last + CASE_WINDOW)
    if until <= since:
        until = since + dt.timedelta(hours=1)
    commands = Command.objects.filter(device=d).filter(case=case).select_related("device")
    return {
        "actor": actor,
        "case": case,
        "device": d,
        "info": device_dict(d, actor),
        "alarms": alarms,
        "chart": _chart_context(d, since, until, alarms),
        "commands": list(commands[:20]),
        "actions": CommandAction.choices,
    }


@staff_page
def case_panel(request: HttpRequest, actor: Actor, case_id: int) -> HttpResponse:
    """The sensor panel of a case, as a fragment for the case page (HTMX or include)."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or not can_see(actor, case):
        raise Http404
    context = case_panel_context(actor, case)
    if context is None:
        return HttpResponse("")
    return render(request, "sensors/_case_panel.html", context)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@staff_page
@require_POST
def send_command(request: HttpRequest, actor: Actor, device_id: str) -> HttpResponse:
    """The command form: one named action; a refusal is shown as a message."""
    back = _back(request, reverse("sensors:device", args=[device_id]))
    raw_position = (request.POST.get("position") or "").strip()
    raw_case = (request.POST.get("case_id") or "").strip()
    try:
        position = float(raw_position) if raw_position else None
    except ValueError:
        messages.error(request, _("Give a valve position from 0 to 100 (% open)."))
        return redirect(back)
    try:
        cmd = actions.send_command(
            actor,
            device_id,
            request.POST.get("action", ""),
            position=position,
            case_id=int(raw_case) if raw_case.isdigit() else None,
            note=request.POST.get("note", ""),
        )
    except CaseError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request,
        _("%(action)s queued for %(device)s; waiting for the device to acknowledge.")
        % {"action": cmd.get_action_display(), "device": cmd.device.name},
    )
    return redirect(back)


@staff_page
def command_status(request: HttpRequest, actor: Actor, command_id: str) -> JsonResponse:
    cmd = Command.objects.select_related("device").filter(command_id=command_id).first()
    if cmd is None:
        raise Http404
    return JsonResponse(command_dict(cmd))
