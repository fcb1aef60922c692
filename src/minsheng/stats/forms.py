"""The statistics page's filters: a period (today, this week, this month, or two dates)
and optionally a unit, a town, a matter and a channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit
from minsheng.cases.states import Channel
from minsheng.catalog.models import Matter
from minsheng.places.models import TOWN_KINDS, Place

from .measures import NO_UNIT, Filters

PERIODS = (
    ("today", _("Today")),
    ("week", _("This week")),
    ("month", _("This month")),
    ("custom", _("Custom")),
)
# A custom period longer than this is refused: the page is for management periods, and the
# rollups answer years, but nobody needs a decade on one screen.
MAX_DAYS = 3 * 366


def preset_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if period == "today":
        return today, today
    if period == "week":
        return today - dt.timedelta(days=today.weekday()), today
    return today.replace(day=1), today


class StatsForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    unit = forms.TypedChoiceField(label=_("Unit"), required=False, coerce=int, empty_value=None)
    town = forms.TypedChoiceField(label=_("Town / street"), required=False, coerce=int, empty_value=None)
    matter = forms.TypedChoiceField(label=_("Matter"), required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(label=_("Channel"), required=False)

    def __init__(self, data: Any, *, actor: Actor, today: dt.date) -> None:
        super().__init__(data)
        self.actor = actor
        self.today = today
        own = actor.unit if actor.role == Role.HANDLER else None
        if own is not None:
            self._choice_field("unit").choices = [(own.pk, own.name)]
        else:
            units = Unit.objects.filter(active=True).order_by("kind", "code").values_list("pk", "name")
            self._choice_field("unit").choices = [("", _("All units")), *units, (NO_UNIT, _("No unit yet"))]
        towns = Place.objects.filter(kind__in=TOWN_KINDS).order_by("code").values_list("pk", "name")
        self._choice_field("town").choices = [("", _("All towns")), *towns]
        matters = Matter.objects.order_by("code").values_list("pk", "name")
        self._choice_field("matter").choices = [("", _("All matters")), *matters]
        self._choice_field("channel").choices = [("", _("All channels")), *Channel.choices]

    def _choice_field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        period = data.get("period") or "month"
        data["period"] = period
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError(_("Give both dates of a custom period."))
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("Choose at most three years."))
        else:
            data["start"], data["end"] = preset_bounds(period, self.today)
        return data

    def filters(self) -> Filters:
        """The filters asked for, or this month's when the form is not valid."""
        if not self.is_valid():
            start, end = preset_bounds("month", self.today)
            own = self.actor.unit.pk if self.actor.role == Role.HANDLER and self.actor.unit else None
            return Filters(start=start, end=end, unit=own)
        d = self.cleaned_data
        unit = d.get("unit")
        if self.actor.role == Role.HANDLER and self.actor.unit is not None:
            unit = self.actor.unit.pk
        return Filters(
            start=d["start"],
            end=d["end"],
            unit=unit,
            town=d.get("town"),
            matter=d.get("matter"),
            channel=d.get("channel") or None,
        )


def filter_params(f: Filters) -> dict[str, str]:
    """The query string of exactly these filters (periods as explicit dates)."""
    params = {"period": "custom", "start": f.start.isoformat(), "end": f.end.isoformat()}
    for key in ("unit", "town", "matter", "channel"):
        value = getattr(f, key)
        if value is not None and value != "":
            params[key] = str(value)
    return params
