"""Forms of the patrol pages, made for a phone. Which nodes and colleagues an id names is the
service's to check; the forms only parse."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangyi.enforcement.forms import IdListField

from .models import Activity, EventKind, InspectionResult, Method, Outcome
from .services import MAX_PEOPLE, MAX_TIMES_PER_DAY


def _when(label, help_text="") -> forms.DateTimeField:
    """A time as the phone's datetime-local input sends it; empty means now."""
    return forms.DateTimeField(
        label=label,
        help_text=help_text,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )


class PositionForm(forms.Form):
    """The phone's position, filled in by patrols.js when the phone gives one."""

    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=12)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=12)
    accuracy = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _count(label):
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_PEOPLE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class StartForm(PositionForm):
    node = forms.IntegerField(label=_("Area"), min_value=1)
    compounds = IdListField(required=False, widget=forms.CheckboxSelectMultiple)
    companions = IdListField(required=False, widget=forms.CheckboxSelectMultiple)
    others = forms.CharField(
        label=_("Others with the patrol"),
        max_length=200,
        required=False,
        help_text=_("Volunteers and others not in Fangyi, e.g. “2 volunteers”."),
    )
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class EventForm(PositionForm):
    kind = forms.ChoiceField(choices=EventKind.choices, widget=forms.HiddenInput)
    node = forms.IntegerField(label=_("Compound"), required=False, min_value=1)
    at = _when(_("Time"), _("Leave empty for now."))
    address = forms.CharField(label=_("Where exactly"), max_length=200, required=False)
    people = _count(_("How many people"))
    activity = forms.ChoiceField(
        label=_("What they were doing"),
        choices=[("", "—"), *Activity.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    statements = forms.CharField(
        label=_("What people said"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome = forms.ChoiceField(
        label=pgettext_lazy("patrol event", "Outcome"),
        choices=[("", "—"), *Outcome.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    methods = forms.MultipleChoiceField(
        label=_("How"), choices=Method.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    reached = _count(_("People reached"))
    materials = _count(_("Materials handed out or posted"))
    result = forms.ChoiceField(
        label=_("Result"),
        choices=[("", "—"), *InspectionResult.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    photos = forms.Field(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class EndForm(PositionForm):
    at = _when(_("Ended"))
    summary = forms.CharField(
        label=_("Summary"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResolveForm(forms.Form):
    tip = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    resolution = forms.CharField(max_length=20)


class PlanForm(forms.Form):
    node = forms.IntegerField(label=_("Jurisdiction"), min_value=1)
    times_per_day = forms.IntegerField(
        label=_("Patrols a day"),
        min_value=0,
        max_value=MAX_TIMES_PER_DAY,
        initial=2,
        help_text=_("For every compound under it. 0 stops the plan."),
    )
    responsible = forms.IntegerField(label=_("Responsible officer"), required=False, min_value=1)
