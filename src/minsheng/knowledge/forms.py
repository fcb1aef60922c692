"""Parsing the knowledge pages' forms into the actions' input."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases.errors import Invalid
from minsheng.catalog.models import Matter

from .actions import ANSWER_MAX, TITLE_MAX, ArticleIn, clean_keywords
from .models import ArticleState


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    answer = forms.CharField(
        label=_("Answer"),
        max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the operator reads out or sends by SMS."),
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        help_text=_("Separated by commas or spaces."),
    )
    valid_until = forms.DateField(label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}))
    matter = forms.ModelChoiceField(label=_("Matter"), queryset=Matter.objects.none(), required=False)
    owner_unit = forms.ModelChoiceField(label=_("Owner unit"), queryset=Unit.objects.none(), required=False)
    note = forms.CharField(label=_("What changed"), max_length=500, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, choose_owner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["matter"]).queryset = Matter.objects.filter(
            active=True
        ).order_by("code")
        if choose_owner:
            cast(forms.ModelChoiceField, self.fields["owner_unit"]).queryset = Unit.objects.filter(
                active=True, kind__in=(UnitKind.CENTRE, UnitKind.DEPARTMENT)
            ).order_by("name")
            self.fields["owner_unit"].required = True
        else:
            del self.fields["owner_unit"]

    def clean_keywords(self) -> list[str]:
        try:
            return clean_keywords(self.cleaned_data.get("keywords") or "")
        except Invalid as exc:
            raise forms.ValidationError(exc.message) from exc

    def article_in(self) -> ArticleIn:
        d = self.cleaned_data
        owner = d.get("owner_unit")
        matter = d.get("matter")
        return ArticleIn(
            title=d["title"],
            answer=d["answer"],
            keywords=d["keywords"],
            valid_until=d["valid_until"],
            matter_id=matter.pk if matter else None,
            owner_unit_id=owner.pk if owner else None,
        )


class ArticleFilter(forms.Form):
    """The list's filters: state, owner unit, matter, text, and expiring soon."""

    q = forms.CharField(required=False, max_length=100)
    state = forms.ChoiceField(required=False, choices=[("", ""), *ArticleState.choices])
    owner = forms.IntegerField(required=False)
    matter = forms.IntegerField(required=False)
    expiring = forms.BooleanField(required=False)

    def expiring_by(self, today: dt.date, days: int) -> dt.date | None:
        return today + dt.timedelta(days=days) if self.cleaned_data.get("expiring") else None
