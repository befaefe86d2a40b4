"""Forms of the screening pages: opening a sweep, recording an attempt, reassigning."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from fangyi.core import access
from fangyi.core.models import Node, NodeKind
from fangyi.core.web import NodeChoiceField

from .models import VISIT_OUTCOMES

PURPOSES = [_("Full household sweep"), "全面入户排查", "春节以来返邕人员排查"]


class SweepForm(forms.Form):
    node = NodeChoiceField(
        label=_("Jurisdiction"),
        queryset=Node.objects.none(),
        help_text=_("Every household under it is to be visited."),
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=200,
        widget=forms.TextInput(attrs={"list": "purposes", "placeholder": "全面入户排查"}),
    )
    starts = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = (
            access.nodes_visible(user).exclude(kind=NodeKind.CITY).order_by("path")
        )


class VisitForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=VISIT_OUTCOMES)
    notes = forms.CharField(
        label=_("Notes"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Filled by the page's script from navigator.geolocation when the device gives a position.
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
    accuracy = forms.CharField(required=False, widget=forms.HiddenInput)
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class ReassignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Give to"), coerce=int, choices=())

    def __init__(self, *args, workers, **kwargs):
        super().__init__(*args, **kwargs)
        self.workers = {w.pk: w for w in workers}
        self.fields["assignee"].choices = [
            (w.pk, f"{w.display_name} · {w.get_role_display()}") for w in workers
        ]
