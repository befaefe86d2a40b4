"""Forms of fangyi.observation: thin, the services validate."""

from __future__ import annotations

import uuid

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangyi.core import access
from fangyi.core.models import User
from fangyi.health.models import Symptom
from fangyi.people.models import END_PLACE_KINDS, Place, PlaceKind

from .models import WORKER_STATUSES, ObservationKind


def place_choices(user: User, kinds=END_PLACE_KINDS):
    """Active places of those kinds inside the user's jurisdiction or above it: a district's
    quarantine point serves every station beneath."""
    above: set[str] = set()
    for path in access.user_paths(user):
        above |= {path[:i] for i in range(8, len(path) + 1, 8)}
    return (
        Place.objects.filter(kind__in=kinds, is_active=True)
        .filter(Place.objects.scope_q(user) | Q(node__path__in=above))
        .order_by("kind", "name")
    )


class _ClientId(forms.Form):
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class PlaceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.get_kind_display()})"


class ObservationForm(_ClientId):
    kind = forms.ChoiceField(
        label=_("Where"), choices=ObservationKind.choices, widget=forms.RadioSelect
    )
    place = PlaceField(
        label=_("Quarantine point or designated hotel"),
        queryset=Place.objects.none(),
        required=False,
    )
    last_exposure = forms.DateField(
        label=_("Last exposure"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = place_choices(user)


class ExtendForm(forms.Form):
    last_exposure = forms.DateField(
        label=_("New exposure on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ReleaseForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReferForm(forms.Form):
    place = PlaceField(label=_("Fever clinic"), queryset=Place.objects.none(), required=False)
    note = forms.CharField(
        label=_("Why"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = place_choices(user, [PlaceKind.FEVER_CLINIC])


class TransferForm(_ClientId):
    kind = forms.ChoiceField(
        label=_("Continue"), choices=ObservationKind.choices, widget=forms.RadioSelect
    )
    place = PlaceField(
        label=_("Quarantine point or designated hotel"),
        queryset=Place.objects.none(),
        required=False,
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = place_choices(user)


def _symptom_choices():
    return [(s.code, s.name) for s in Symptom.objects.filter(is_active=True)]


class _Reading(_ClientId):
    temperature = forms.CharField(
        label=_("Temperature (°C)"),
        required=False,
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "placeholder": "36.5", "autocomplete": "off"}
        ),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["symptoms"].choices = _symptom_choices()


class FollowUpForm(_Reading):
    status = forms.ChoiceField(
        label=_("What happened"),
        choices=[(s.value, s.label) for s in WORKER_STATUSES],
        widget=forms.RadioSelect,
    )
    field_order = ["status", "temperature", "symptoms", "notes"]


class SelfReportForm(_Reading):
    pass


class AlertForm(forms.Form):
    resolution = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    refer = forms.BooleanField(
        label=_("Refer to the fever clinic (ends the observation)"), required=False
    )
    place = PlaceField(label=_("Fever clinic"), queryset=Place.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = place_choices(user, [PlaceKind.FEVER_CLINIC])
