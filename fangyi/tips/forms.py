"""Forms of the tips pages: the public report, the staff's entry, the steps on a tip, and the
categories' configuration."""

from __future__ import annotations

import json
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from fangyi.core.access import FIELD_ROLES
from fangyi.core.models import Node, NodeKind, Role

from .models import Resolution, TipSource, VisitAction

QUESTION_TYPES = ("text", "number", "yes_no", "choice")


class ClientIdMixin:
    def _client_id(self):
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


def compound_choices(nodes) -> list:
    """Compounds grouped by their community: [(community, [(pk, name), ...]), ...]."""
    groups: dict[str, list] = {}
    by_path = {}
    nodes = list(nodes)
    parents = {n.path: n for n in Node.objects.filter(kind=NodeKind.COMMUNITY).only("path", "name")}
    for node in nodes:
        by_path[node.pk] = node
        community = next((c for p, c in parents.items() if node.path.startswith(p)), None)
        label = community.name if community else ""
        groups.setdefault(label, []).append((node.pk, node.name))
    return [("", "—")] + [(label, items) for label, items in groups.items()]


class TipForm(ClientIdMixin, forms.Form):
    """What a resident (or staff for him) tells: the category is chosen before the form."""

    description = forms.CharField(
        label=_("What is happening"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    node = forms.TypedChoiceField(
        label=_("Compound"), required=False, coerce=int, empty_value=None, choices=()
    )
    address = forms.CharField(
        label=_("Address or landmark"),
        max_length=200,
        required=False,
        help_text=_("Building, unit, or what is nearby. Needed when the compound is not listed."),
    )
    reporter_name = forms.CharField(label=_("Your name (optional)"), max_length=50, required=False)
    reporter_phone = forms.CharField(
        label=_("Your phone (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("Only staff handling the report see it, to call you back if needed."),
    )
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, nodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = compound_choices(nodes)
        self._client_id()


class PublicTipForm(TipForm):
    # A honeypot: hidden by CSS, left empty by people, filled by bots.
    website = forms.CharField(label=_("Website"), required=False, max_length=200)


class StaffTipForm(TipForm):
    source = forms.ChoiceField(
        label=_("Received"),
        choices=[
            (TipSource.PHONE, TipSource.PHONE.label),
            (TipSource.IN_PERSON, TipSource.IN_PERSON.label),
            (TipSource.PATROL, TipSource.PATROL.label),
        ],
    )
    household = forms.IntegerField(
        label=_("Household (optional)"), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reporter_name"].label = _("Reporter's name")
        self.fields["reporter_phone"].label = _("Reporter's phone")
        self.fields["reporter_phone"].help_text = ""
        self.fields["node"].label = _("Compound or grid")


class VisitForm(ClientIdMixin, forms.Form):
    at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    found = forms.CharField(
        label=_("What was found"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    actions = forms.MultipleChoiceField(
        label=_("What was done"),
        choices=VisitAction.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    people = forms.IntegerField(label=_("People reached"), required=False, min_value=0)
    notices = forms.IntegerField(label=_("Notices posted"), required=False, min_value=0)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # The files come in request.FILES (the page renders its own multiple input); this field
    # only carries the photos' errors next to the input.
    photos = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._client_id()


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(v, label) for v, label in Resolution.choices if v != Resolution.DUPLICATE],
    )
    note = forms.CharField(
        label=_("Note for staff"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer to the reporter"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the reporter's tracking page. No names or phone numbers."),
    )


class ReopenForm(forms.Form):
    note = forms.CharField(
        label=_("What happened again"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AssignForm(forms.Form):
    users = forms.TypedMultipleChoiceField(
        label=_("Assign to"), coerce=int, choices=(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, workers, **kwargs):
        super().__init__(*args, **kwargs)
        self.workers = {w.pk: w for w in workers}
        self.fields["users"].choices = [
            (w.pk, f"{w.display_name} · {w.get_role_display()}") for w in workers
        ]


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    questions = forms.CharField(
        label=_("Questions (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=_(
            'A list of {"code", "label", "type": text|number|yes_no|choice, "choices", "required"}.'
        ),
    )
    route_roles = forms.MultipleChoiceField(
        label=_("Routed to"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    response_minutes = forms.IntegerField(
        label=_("Target time on scene (minutes)"), min_value=1, max_value=10080
    )
    duplicate_hours = forms.IntegerField(
        label=_("Duplicate window (hours)"), min_value=0, max_value=720
    )
    active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["route_roles"].choices = [
            (v, label) for v, label in Role.choices if v in FIELD_ROLES
        ]

    def clean_questions(self):
        raw = self.cleaned_data.get("questions") or "[]"
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(e)s") % {"e": exc}) from None
