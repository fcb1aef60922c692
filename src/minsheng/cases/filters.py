"""The one case search: every filter the search page and the API offer, in one FilterSet.

Entry points keep their own input (the page's query string, the API's typed query) and
their own scoping: they hand :class:`CaseFilter` the cases the person may see
(``visible_cases``) and the values asked for, and list ``.qs`` when it ``is_valid()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.phones import normalize_phone

from . import lists
from .lists import CappedCount, bounded_count, bounded_count_of
from .models import Case, CaseClock, case_overdue
from .search import indexed
from .states import OPEN_STATES, Channel, State


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (an id), not the decimal that ``NumberFilter`` accepts."""

    field_class = forms.IntegerField


class CaseFilter(django_filters.FilterSet):
    """Search (number, the request's text, address, or the requester's whole phone number), state, holding
    unit, category (matter code) and overdue (a running clock past its limit)."""

    q = django_filters.CharFilter(method="search", label=_("Number, title or address"))
    state = django_filters.ChoiceFilter(choices=State.choices, label=_("State"))
    unit = IntegerFilter(field_name="owner_unit_id", label=_("Unit"))
    category = django_filters.CharFilter(field_name="matter__code", label=_("Category"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", widget=django_filters.widgets.BooleanWidget, label=_("Overdue only")
    )
    # The command centre's figures drill down with these (a town, a channel, open only,
    # urgent, the local days a case was received on).
    town = IntegerFilter(field_name="town_id", label=_("Town / street"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    open = django_filters.BooleanFilter(
        method="filter_open", widget=django_filters.widgets.BooleanWidget, label=_("Open only")
    )
    urgent = django_filters.BooleanFilter(widget=django_filters.widgets.BooleanWidget, label=_("Urgent"))
    since = django_filters.DateFilter(method="filter_since", label=_("Received from"))
    until = django_filters.DateFilter(method="filter_until", label=_("Received until"))

    class Meta:
        model = Case
        fields: list[str] = []  # all declared above

    def search(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        value = value.strip()
        if not value:
            return queryset
        # The request's own words (its title is their first line), the number, the address.
        # The cases holding every bigram of the words are read off the search index
        # (cases.search: 窨井 too, on both databases), and the words matched exactly among
        # them; words with no bigram (one character) are found by the newest-first scan the
        # page stops early (and on PostgreSQL by the trigram indexes of migration 0008).
        match = Q(number__icontains=value) | Q(text__icontains=value) | Q(address__icontains=value)
        terms = indexed(value)
        if terms is not None:
            match &= terms
        try:
            phone = normalize_phone(value)
        except ValueError:
            phone = ""
        if phone:
            # The requester's number, found through its keyed hash (it is stored encrypted).
            match |= Q(requester_phone=phone)
        return queryset.filter(match)

    def filter_overdue(self, queryset: QuerySet[Case], name: str, value: bool | None) -> QuerySet[Case]:
        if value is None:
            return queryset
        late = case_overdue()
        return queryset.filter(late if value else ~late)

    def count(self, cap: int | None = None, parts: Sequence[QuerySet[Case]] = ()) -> CappedCount:
        """How many cases match (``.qs``), exactly up to the cap.

        Overdue ones only are counted from the running clocks past their limit, one per
        case (``clock_running_case``), each probing its case for the other conditions: from
        the cases' side every case is probed, the newest (not late yet) first, and a count
        stops only at the cap. Within a scope given as ``parts`` (``visible_parts``: a
        unit's own cases, its joint groups'), from each part's open cases instead, off its
        unit's index: PostgreSQL probes the scope's ``OR`` by walking every case by its key."""
        if self.is_valid() and self.form.cleaned_data.get("overdue") is True:
            cap = lists.COUNT_CAP if cap is None else cap
            if len(parts) > 1:
                opened = [
                    self.filter_queryset(p).filter(state__in=[s.value for s in OPEN_STATES]) for p in parts
                ]
                return bounded_count_of(opened, cap)
            clocks = CaseClock.objects.overdue()
            others = self.queryset.all()
            for name, value in self.form.cleaned_data.items():
                if name != "overdue":
                    others = self.filters[name].filter(others, value)
            if others.query.has_filters():  # the other conditions, a probe of each clock's case
                clocks = clocks.filter(Exists(others.order_by().filter(pk=OuterRef("case_id"))))
            n = clocks.order_by().values("case_id").distinct()[: cap + 1].count()
            return CappedCount(min(n, cap), n > cap)
        return bounded_count(self.qs) if cap is None else bounded_count(self.qs, cap)

    def filter_open(self, queryset: QuerySet[Case], name: str, value: bool | None) -> QuerySet[Case]:
        if value is None:
            return queryset
        states = [s.value for s in OPEN_STATES]
        return queryset.filter(state__in=states) if value else queryset.exclude(state__in=states)

    def filter_since(self, queryset: QuerySet[Case], name: str, value: dt.date | None) -> QuerySet[Case]:
        """Received on or after this local day (``TIME_ZONE``)."""
        return queryset.filter(created_at__gte=_local_midnight(value)) if value else queryset

    def filter_until(self, queryset: QuerySet[Case], name: str, value: dt.date | None) -> QuerySet[Case]:
        """Received on or before this local day."""
        if not value:
            return queryset
        return queryset.filter(created_at__lt=_local_midnight(value + dt.timedelta(days=1)))

    def error_list(self) -> list[dict[str, Any]]:
        """The refused values, each naming its filter: ``{"field", "label", "messages"}``."""
        return [
            {
                "field": name,
                "label": self.form[name].label if name in self.form.fields else "",
                "messages": list(errors),
            }
            for name, errors in self.errors.items()
        ]
