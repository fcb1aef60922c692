"""The field worker's phone (``/m/``) and the unit's duty roster (``/duty/``).

Thin views: each posted form becomes one named action (``minsheng.field.actions``). The
pages are plain HTML with a few lines of JavaScript (position, retried uploads) so that
they load fast on a weak connection and still work, apart from the position, without it.
A request that asks for JSON (``Accept: application/json``, the page's script) gets a
small JSON answer instead of a redirect, so that the script can retry a failed upload.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.accounts.models import Role, Unit
from minsheng.cases.errors import CaseError, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.cases.scoping import visible_cases
from minsheng.core import clock
from minsheng.media.models import Photo

from . import actions
from .duty import on_duty
from .models import Arrival, DutyShift
from .tasks import Position, nav_links, order_nearest

POSITION_KEY = "field_last_position"


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _float(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if value == value else None  # NaN is not a position


def _position(request: HttpRequest, actor: Actor) -> Position | None:
    """The browser's position when it sent one (remembered for next time), else the last
    known: the session's, else the person's last arrival on a site."""
    lat, lng = _float(request.GET.get("lat")), _float(request.GET.get("lng"))
    if lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
        request.session[POSITION_KEY] = [lat, lng]
        return Position(lat, lng, "browser")
    saved = request.session.get(POSITION_KEY)
    if isinstance(saved, list) and len(saved) == 2:
        return Position(float(saved[0]), float(saved[1]), "last")
    last = Arrival.objects.filter(user=actor.user).order_by("-at", "-id").first()
    if last is not None:
        return Position(last.lat, last.lng, "arrival")
    return None


def _not_field(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "field/not_field.html", status=403)


@signed_in({Role.FIELD_WORKER}, refuse=_not_field)
def tasks(request: HttpRequest, actor: Actor) -> HttpResponse:
    """My open tasks, nearest first."""
    open_cases = list(
        visible_cases(actor)
        .filter(state__in=actions.ON_SITE_STATES)
        .select_related("place", "town", "matter")[:200]
    )
    where = _position(request, actor)
    rows = order_nearest(open_cases, where)
    return render(request, "field/tasks.html", {"rows": rows, "where": where})


def _task_case(actor: Actor, pk: int) -> Case:
    case = visible_cases(actor).select_related("place", "town", "matter", "owner_unit").filter(pk=pk).first()
    if case is None:
        raise Http404(_("No such case."))
    return case


@signed_in()
def task(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    return _task_page(request, actor, pk)


def _task_page(
    request: HttpRequest, actor: Actor, pk: int, *, error: CaseError | None = None, status: int = 200
) -> HttpResponse:
    """The task page, with the refusal of a posted form beside it when there is one."""
    case = _task_case(actor, pk)
    arrival = Arrival.objects.filter(case=case, user=actor.user).order_by("-at").first()
    context = {
        "case": case,
        "nav": nav_links(case),
        "arrival": arrival,
        "photos": Photo.objects.filter(case=case).order_by("created_at"),
        "on_site": case.state in actions.ON_SITE_STATES,
        "error": error,
        "posted": request.POST if error else None,
        "key_handle": uuid.uuid4().hex,
        "key_photo": uuid.uuid4().hex,
    }
    return render(request, "field/task.html", context, status=status)


def _answer(request: HttpRequest, pk: int, done: str, *, extra: dict | None = None) -> HttpResponse:
    url = reverse("field:task", args=[pk])
    messages.success(request, done)  # shown by the page the script or the redirect opens
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": done, "url": url, **(extra or {})})
    return redirect(url)


def _refuse(request: HttpRequest, actor: Actor, pk: int, exc: CaseError) -> HttpResponse:
    if isinstance(exc, NotFound):
        raise Http404(exc.message) from exc
    if _wants_json(request):
        return JsonResponse(
            {"ok": False, "message": exc.message, "field": getattr(exc, "field", "")}, status=exc.status
        )
    return _task_page(request, actor, pk, error=exc, status=exc.status)


@signed_in()
@require_POST
def arrive(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    try:
        arrival = actions.arrive(
            actor,
            pk,
            lat=request.POST.get("lat"),
            lng=request.POST.get("lng"),
            accuracy=request.POST.get("accuracy"),
        )
    except CaseError as exc:
        return _refuse(request, actor, pk, exc)
    request.session[POSITION_KEY] = [arrival.lat, arrival.lng]
    at = timezone.localtime(arrival.at).strftime("%H:%M")
    return _answer(request, pk, _("Arrival recorded at %(time)s.") % {"time": at})


@signed_in()
@require_POST
def handle(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    try:
        actions.handle_on_site(
            actor,
            pk,
            note=request.POST.get("note", ""),
            photo=request.FILES.get("photo"),
            client_key=request.POST.get("client_key", ""),
        )
    except CaseError as exc:
        return _refuse(request, actor, pk, exc)
    return _answer(request, pk, _("Marked handled. The unit will report the result."))


@signed_in()
@require_POST
def photo(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    upload = request.FILES.get("photo")
    try:
        if upload is None:
            raise Invalid("photo", _("Choose a photo first."))
        stored = actions.add_site_photo(
            actor, pk, photo=upload, client_key=request.POST.get("client_key", "")
        )
    except CaseError as exc:
        return _refuse(request, actor, pk, exc)
    return _answer(request, pk, _("Photo added."), extra={"photo": stored.pk})


# --- the duty roster ----------------------------------------------------------------


def _roster_unit(request: HttpRequest, actor: Actor) -> Unit | None:
    if actor.role == Role.ADMIN:
        raw = request.GET.get("unit") or request.POST.get("unit") or ""
        return Unit.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    return actor.unit


def _parse_start(day: str, time: str) -> dt.datetime | None:
    """The local (Asia/Shanghai) day and time a shift starts, as an aware datetime."""
    try:
        date = dt.date.fromisoformat(day)
        hour, minute = (int(x) for x in (time or "08:00").split(":")[:2])
        at = dt.time(hour, minute)
    except ValueError:
        return None
    return dt.datetime.combine(date, at, tzinfo=timezone.get_current_timezone())


@signed_in()
def roster(request: HttpRequest, actor: Actor) -> HttpResponse:
    """值班表: the unit's shifts from yesterday on, who is on duty now, and a form to
    add a shift (24 hours from 08:00 by default)."""
    unit = _roster_unit(request, actor)
    units = Unit.objects.filter(active=True).order_by("kind", "name") if actor.role == Role.ADMIN else None
    if unit is None or not actions.may_manage_roster(actor, unit):
        if actor.role == Role.ADMIN:
            return render(request, "field/roster.html", {"unit": None, "units": units})
        return render(request, "field/not_field.html", {"roster": True}, status=403)
    error: CaseError | None = None
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("remove"):
                actions.remove_shift(actor, int(request.POST["remove"]))
                messages.success(request, _("Shift removed."))
            else:
                starts = _parse_start(request.POST.get("day", ""), request.POST.get("time", ""))
                hours = _float(request.POST.get("hours")) or 24.0
                if starts is None:
                    raise Invalid("day", _("Give the day and time the shift starts."))
                user_raw = request.POST.get("user", "")
                actions.add_shift(
                    actor,
                    unit,
                    user_id=int(user_raw) if user_raw.isdigit() else 0,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=hours),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("Shift added."))
        except (CaseError, ValueError) as exc:
            error = exc if isinstance(exc, CaseError) else None
            status = getattr(error, "status", 422)
        else:
            target = reverse("field:roster")
            if actor.role == Role.ADMIN:
                target += f"?unit={unit.pk}"
            return redirect(target)
    now = clock.now()
    shifts = (
        DutyShift.objects.filter(unit=unit, ends_at__gt=now - dt.timedelta(days=1))
        .select_related("user__profile")
        .order_by("starts_at")[:200]
    )
    people = (
        get_user_model()
        .objects.filter(profile__unit=unit, is_active=True)
        .select_related("profile")
        .order_by("username")
    )
    today = timezone.localdate(now)
    return render(
        request,
        "field/roster.html",
        {
            "unit": unit,
            "units": units,
            "shifts": shifts,
            "people": people,
            "now_on_duty": on_duty(unit, now),
            "now": now,
            "error": error,
            "posted": request.POST if error else None,
            "default_day": (today + dt.timedelta(days=1)).isoformat(),
        },
        status=status,
    )
