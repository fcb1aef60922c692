"""The one case search: every filter the search page and the API offer, in one FilterSet.

Entry points keep their own input (the page's query string, the API's typed query) and
their own scoping: they hand :class:`CaseFilter` the cases the person may see
(``visible_cases``) and the values asked for, and list ``.qs`` when it ``is_valid()``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from minsheng.core.phones import normalize_phone

from .models import Case, case_overdue
from .states import State


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

    class Meta:
        model = Case
        fields: list[str] = []  # all declared above

    def search(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        value = value.strip()
        if not value:
            return queryset
        # The request's own words (its title is their first line), the number, the address:
        # on PostgreSQL each has a trigram index for three characters or more (migration
        # 0008); shorter words are found by the newest-first scan the page stops early.
        match = Q(number__icontains=value) | Q(text__icontains=value) | Q(address__icontains=value)
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
