from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from fangyi.core import access
from fangyi.core.models import Node, NodeKind
from fangyi.core.web import NodeChoiceField

from .models import IdType, PlaceKind, Sex


def _nodes(user, kinds=None):
    qs = access.nodes_visible(user)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("path")


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=50)
    id_type = forms.ChoiceField(
        label=_("Document type"), choices=IdType.choices, initial=IdType.RESIDENT
    )
    id_number = forms.CharField(
        label=_("Document number"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", _("From the ID number")), *Sex.choices]
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Filled from a resident ID number when left empty."),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    household = forms.IntegerField(required=False, widget=forms.HiddenInput)
    node = NodeChoiceField(
        label=_("Jurisdiction"),
        queryset=Node.objects.none(),
        required=False,
        help_text=_("Not needed when the person joins a household."),
    )
    relation = forms.CharField(label=_("Relation to the household"), max_length=20, required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    confirm_new = forms.BooleanField(
        label=_("These are different people: save anyway"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = _nodes(user)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class HouseholdForm(forms.Form):
    node = NodeChoiceField(label=_("Compound or grid"), queryset=Node.objects.none())
    address = forms.CharField(label=_("Address"), max_length=200)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = _nodes(user, [NodeKind.COMPOUND, NodeKind.GRID])
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class PlaceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PlaceKind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    node = NodeChoiceField(label=_("Jurisdiction"), queryset=Node.objects.none())
    address = forms.CharField(label=_("Address"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    capacity = forms.IntegerField(label=_("Beds"), required=False, min_value=0, max_value=100000)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = _nodes(user)


class MergeForm(forms.Form):
    other = forms.IntegerField(label=_("Record number of the duplicate"), min_value=1)
    confirm = forms.BooleanField(label=_("I have checked that both records are the same person."))
