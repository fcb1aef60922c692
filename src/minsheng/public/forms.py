"""Forms of the public pages: they parse what a person typed; the rules are the actions'."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import Unit, UnitKind

from .models import PartnerKind


class ReportForm(forms.Form):
    text = forms.CharField(
        label=_("What is the problem?"),
        max_length=5000,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "placeholder": _("For example: the manhole cover at the corner of the street is broken."),
            }
        ),
    )
    address = forms.CharField(label=_("Where (address or landmark)"), required=False, max_length=200)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    name = forms.CharField(
        label=_("Your name"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("Your phone"),
        required=False,
        max_length=32,
        help_text=_("To be called back and to follow the case with its last four digits."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    anonymous = forms.BooleanField(
        label=_("Report anonymously"),
        required=False,
        help_text=_("No name or phone is kept; you follow the case with the secret link."),
    )
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    wait = forms.CharField(widget=forms.HiddenInput, required=False, max_length=400)
    # Left empty by people (it is hidden from them); filled by naive form-filling scripts.
    website = forms.CharField(required=False, max_length=200, label=_("Leave this empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["key"] = uuid.uuid4().hex

    def clean(self):
        data = super().clean()
        if data.get("anonymous"):
            data["name"] = ""
            data["phone"] = ""
        if (data.get("lat") is None) != (data.get("lng") is None):
            data["lat"] = data["lng"] = None
        return data


def partner_units() -> list[tuple[str, object]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for u in (
        Unit.objects.filter(active=True, kind__in=(UnitKind.SUBCENTRE, UnitKind.GRASSROOTS))
        .select_related("parent")
        .order_by("kind", "name")
    ):
        groups.setdefault(str(u.get_kind_display()), []).append((u.pk, u.name))
    return [("", _("(not sure)")), *groups.items()]


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=64)
    phone = forms.CharField(
        label=_("Your phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    kind = forms.ChoiceField(label=_("You are a"), choices=PartnerKind.choices)
    station = forms.CharField(label=_("Station, company or grid"), max_length=100)
    unit = forms.TypedChoiceField(
        label=_("Community or street you report to"), required=False, coerce=int, empty_value=None
    )
    website = forms.CharField(required=False, max_length=200, label=_("Leave this empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = partner_units()
