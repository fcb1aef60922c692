"""Forms of the pages. They only parse what a person typed; the rules live in the
named actions, whose ``Invalid`` errors are put back next to the field they name."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _

from minsheng.accounts import second_factor
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


class SeatForm(IntakeForm):
    """The intake form of the operator's seat (话务坐席): the map pin fills latitude and
    longitude, and a call taken at the seat links the case to it (``call_id``)."""

    call_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].widget.attrs.update({"rows": 3, "aria-keyshortcuts": "Enter"})
        self.fields["address"].widget.attrs.update(
            {"autocomplete": "off", "role": "combobox", "aria-autocomplete": "list", "aria-expanded": "false"}
        )


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


class SignInForm(AuthenticationForm):
    """The sign-in page: user name and password (checked through django-axes' lockout), and
    the second factor's code for a person who turned it on. A wrong code counts as a failed
    sign-in, toward the lock, like a wrong password."""

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.get_user()
        device = second_factor.device_of(user) if user is not None else None
        if device is None:
            return cleaned
        code = cleaned.get("otp_token") or ""
        if not code:
            raise forms.ValidationError(
                _("Your account has a second factor: enter the code from your authenticator app."),
                code="otp_required",
            )
        if not second_factor.check_code(device, code):
            user_login_failed.send(
                sender=type(self), credentials={"username": user.get_username()}, request=self.request
            )
            raise forms.ValidationError(
                _("That code is not right. Check the time on your phone and try again."), code="otp_invalid"
            )
        user.otp_device = device  # type: ignore[attr-defined]  # django-otp marks the session verified when it signs in
        return cleaned


class CodeForm(forms.Form):
    """A code from the authenticator app, on the second factor's page."""

    step = forms.ChoiceField(choices=[("verify", "verify"), ("confirm", "confirm"), ("remove", "remove")])
    code = forms.CharField(max_length=8)
