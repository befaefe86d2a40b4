"""Forms of the guest pages: the hotel's report (made for a phone at the front desk), the
officer's registration, referral and clearing, the settings. The services validate."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangyi.core.web import DivisionInput
from fangyi.health.models import TempMethod
from fangyi.people.models import IdType

ID_CHOICES = [(k, v) for k, v in IdType.choices if k != IdType.NONE]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _Submission(forms.Form):
    """A form whose submission carries a client id: a retry of the same send stores one."""

    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class ReportForm(_Submission):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=50, required=False)
    id_type = forms.ChoiceField(label=_("Document type"), choices=ID_CHOICES)
    id_number = forms.CharField(
        label=_("Document number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    from_where = forms.CharField(
        label=_("Coming from"),
        max_length=100,
        required=False,
        widget=DivisionInput(),
        help_text=_("The city or province the guest comes from: type 宜昌 or yichang and pick."),
    )
    travel_since = forms.DateField(
        label=_("Travelling since"),
        required=False,
        widget=DATE,
        help_text=_("The day the guest left there."),
    )
    arrived_on = forms.DateField(label=_("Arrived on"), required=False, widget=DATE)
    room = forms.CharField(label=_("Room"), max_length=20, required=False)


class RegisterForm(_Submission):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=50, required=False)
    id_type = forms.ChoiceField(label=_("Document type"), choices=ID_CHOICES)
    id_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    temperature = forms.CharField(
        label=_("Temperature (°C)"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "36.5"}),
    )
    temperature_method = forms.ChoiceField(
        label=_("Measured at"), choices=TempMethod.choices, initial=TempMethod.FOREHEAD
    )


class ReferForm(_Submission):
    site = forms.IntegerField(
        label=_("Designated hotel"), required=False, min_value=1, widget=forms.RadioSelect
    )
    transport = forms.CharField(
        label=_("Transport"),
        max_length=200,
        required=False,
        help_text=_("How the guest gets there; empty: on their own (自行前往)."),
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].widget.choices = choices


class ClearForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the guest is not a risk"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SettingsForm(forms.Form):
    retention_days = forms.IntegerField(label=_("Days a guest not flagged is kept"))
    confirm_hours = forms.IntegerField(
        label=_("Hours the designated hotel has to confirm an arrival")
    )
