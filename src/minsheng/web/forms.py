"""Forms of the pages. They only parse what a person typed; the rules live in the
named actions, whose ``Invalid`` errors are put back next to the field they name."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.cases.presenters import matter_groups
from minsheng.cases.states import Channel, Rating


def matter_choices(blank_label: str) -> list[tuple[str, object]]:
    return [("", blank_label), *matter_groups()]


class IntakeForm(forms.Form):
    """受理登记. Latitude and longitude are typed for now; a map pin will fill them later."""

    text = forms.CharField(
        label=_("What the requester says"),
        widget=forms.Textarea(attrs={"rows": 4, "autofocus": True}),
        max_length=20_000,
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.HOTLINE)
    category = forms.ChoiceField(label=_("Category"), required=False)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    lat = forms.FloatField(
        label=_("Latitude"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    lng = forms.FloatField(
        label=_("Longitude"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    requester_name = forms.CharField(label=_("Requester name"), required=False, max_length=64)
    requester_phone = forms.CharField(
        label=_("Requester phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_("Neither name nor phone is stored; the requester cannot be called back."),
    )
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    # Makes a double click or a resubmitted form return the case made the first time.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = matter_choices(str(_("Not yet classified")))
        if not self.is_bound:
            self.initial["idempotency_key"] = uuid.uuid4().hex


# The actions' field names (``Invalid.field``) mapped to the form's.
INTAKE_FIELD_FOR = {"requester.phone": "requester_phone", "requester.name": "requester_name"}


class TrackForm(forms.Form):
    """The public follow page: the case number and the last four digits of the phone."""

    number = forms.CharField(
        label=_("Case number"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    digits = forms.RegexField(
        label=_("Last four digits of your phone"),
        regex=r"^\d{4}$",
        error_messages={"invalid": _("Enter four digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": "4", "autocomplete": "off"}),
    )

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip().upper()


class RatingForm(forms.Form):
    rating = forms.ChoiceField(label=_("Your rating"), choices=Rating.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Anything to add (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
