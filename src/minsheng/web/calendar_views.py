"""The holiday schedule pages (节假日安排): which years the city's limits are counted on,
and the box where the centre enters a year's schedule as the State Council publishes it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.accounts.actors import Actor
from minsheng.core import clock, holidays, workdays
from minsheng.core.models import HolidaySchedule

from .roles import CALENDAR_EDITORS
from .views import render_page, workbench


class ScheduleForm(forms.Form):
    notice = forms.CharField(label=gettext_lazy("Notice"), max_length=200, required=False)
    days = forms.CharField(
        label=gettext_lazy("Days"), widget=forms.Textarea(attrs={"rows": 18}), max_length=5000
    )


@workbench("calendar")
def calendar_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    this_year = clock.now().astimezone(workdays.CITY_TZ).year
    entered = {s.year: s for s in HolidaySchedule.objects.all()}
    years = sorted({this_year - 1, this_year, this_year + 1, *entered}, reverse=True)
    rows = [{"year": y, "source": workdays.source_of(y), "schedule": entered.get(y)} for y in years]
    return render_page(
        request,
        actor,
        "web/calendar.html",
        {"rows": rows, "may_edit": actor.role in CALENDAR_EDITORS, "notices": holidays.notices()},
    )


@workbench("calendar")
def calendar_year(request: HttpRequest, actor: Actor, year: int) -> HttpResponse:
    if not 2000 <= year <= 2100:
        raise Http404
    may_edit = actor.role in CALENDAR_EDITORS
    schedule = HolidaySchedule.objects.filter(year=year).first()
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        form = ScheduleForm(request.POST)
        if form.is_valid():
            try:
                days = holidays.parse_text(form.cleaned_data["days"])
                _saved, moved = holidays.save_schedule(
                    year,
                    days,
                    notice=form.cleaned_data["notice"],
                    source=HolidaySchedule.Source.PAGE,
                    by=actor.label,
                )
            except holidays.ScheduleError as exc:
                for where, msg in exc.errors:
                    form.add_error("days", f"{where}: {msg}")
            else:
                messages.success(
                    request,
                    _("The %(year)d schedule is saved; %(n)d running limits were recounted.")
                    % {"year": year, "n": moved},
                )
                return redirect("web:calendar_year", year=year)
        status = 422
    else:
        if schedule is not None:
            initial = {"notice": schedule.notice, "days": holidays.as_text(schedule)}
        else:
            initial = {"days": holidays.days_as_text(holidays.package_days(year))}
        form = ScheduleForm(initial=initial)
        status = 200
    return render_page(
        request,
        actor,
        "web/calendar_year.html",
        {
            "year": year,
            "schedule": schedule,
            "source": workdays.source_of(year),
            "form": form,
            "may_edit": may_edit,
        },
        status=status,
    )
