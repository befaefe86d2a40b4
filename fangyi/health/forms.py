from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from fangyi.core.web import DivisionInput

from .models import Outcome, TempMethod

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _WithClientId(forms.Form):
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class DeclarationForm(_WithClientId):
    """The fixed part of a declaration; travel and contact rows are read from the POST lists
    (see views._rows) so a row can be added on the phone without a round trip."""

    declared_on = forms.DateField(label=_("Date"), required=False, widget=DATE)
    temperature = forms.CharField(
        label=_("Temperature (°C)"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "36.5"}),
    )
    temperature_method = forms.ChoiceField(
        label=_("Measured at"),
        required=False,
        choices=[("", "—"), *TempMethod.choices],
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"), required=False, widget=forms.CheckboxSelectMultiple
    )
    travel_since = forms.DateField(
        label=_("Travel since"),
        required=False,
        widget=DATE,
        help_text=_("Every journey since this day, e.g. since the Spring Festival."),
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, symptoms: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["symptoms"].choices = list(symptoms.items())


class DecisionForm(_WithClientId):
    outcome = forms.ChoiceField(label=_("Decision"), choices=Outcome.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the decision differs from the proposal."),
    )
    last_exposure = forms.DateField(label=_("Last exposure"), required=False, widget=DATE)
    place = forms.ModelChoiceField(
        label=_("Quarantine point or designated hotel"),
        queryset=None,
        required=False,
        help_text=_("For centralised observation."),
    )

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class RiskAreaForm(forms.Form):
    division = forms.CharField(
        label=_("Division"),
        max_length=100,
        required=False,
        widget=DivisionInput(),
        help_text=_(
            "A province, prefecture or county (type 湖北 or hubei and pick): every place under "
            "it is covered. Leave empty for a place that is no division."
        ),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=50,
        required=False,
        help_text=_("Taken from the division when left empty."),
    )
    aliases = forms.CharField(
        label=_("Other names"),
        max_length=300,
        required=False,
        help_text=_("Separated by commas, in either script, e.g. 湖北, 武漢, 武汉."),
    )
    counts_from = forms.DateField(label=_("Counts from"), widget=DATE)
    counts_until = forms.DateField(label=_("Counts until"), required=False, widget=DATE)
    is_active = forms.BooleanField(label=_("In force"), required=False, initial=True)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SymptomForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=30, help_text=_("e.g. dry_cough"))
    name = forms.CharField(label=_("Name"), max_length=50)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=999, initial=0)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class SettingsForm(forms.Form):
    observation_days = forms.IntegerField(label=_("Observation days"), min_value=1, max_value=60)
    fever_threshold = forms.DecimalField(
        label=_("Fever threshold (°C)"), max_digits=3, decimal_places=1
    )
    followups_per_day = forms.IntegerField(label=_("Follow-ups a day"), min_value=1, max_value=2)
    missed_escalation = forms.IntegerField(
        label=_("Missed follow-ups in a row that go to a supervisor"), min_value=1, max_value=10
    )
    self_report_days = forms.IntegerField(
        label=_("Days a self-report link is valid"), min_value=1, max_value=60
    )
    travel_since = forms.DateField(label=_("Ask for travel since"), required=False, widget=DATE)
