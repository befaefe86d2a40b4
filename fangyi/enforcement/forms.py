"""Forms of the enforcement pages: a record (made for a phone), its follow-up check, a legal
basis. Which tip, persons and officers an id names is the service's to check."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LegalBasis, Measure


class IdListField(forms.Field):
    """Ids sent as repeated hidden inputs (or checkboxes): a list of positive integers."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        out = []
        for raw in value:
            raw = str(raw).strip()
            if not raw:
                continue
            if not raw.isdigit() or len(raw) > 12:
                raise forms.ValidationError(_("Choose from the list."))
            out.append(int(raw))
        return list(dict.fromkeys(out))


class RecordForm(forms.Form):
    tip = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    person = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    measure = forms.ChoiceField(
        label=_("Measure"), choices=Measure.choices, widget=forms.RadioSelect
    )
    legal_bases = forms.ModelMultipleChoiceField(
        label=_("Legal basis"),
        queryset=LegalBasis.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every measure but education cites at least one."),
    )
    at = forms.DateTimeField(
        label=_("Time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    location = forms.CharField(label=_("Where"), max_length=200, required=False)
    persons = IdListField(required=False)
    described_people = forms.CharField(
        label=_("Other people involved"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("People not in the registry: how many, and a description of each."),
    )
    statements = forms.CharField(
        label=_("What they said"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    facts = forms.CharField(
        label=_("What happened and what was done"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    officers = IdListField(required=False, widget=forms.CheckboxSelectMultiple)
    followup_on = forms.DateField(
        label=_("Follow-up check on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("It lands on the officers' day list on that day. Leave empty for none."),
    )
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # The files are read from request.FILES; the field is here for its errors to show beside
    # the file input.
    photos = forms.Field(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["legal_bases"].queryset = LegalBasis.objects.filter(active=True).order_by(
            "order", "id"
        )
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()


class FollowupForm(forms.Form):
    notes = forms.CharField(
        label=_("What the check found"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LegalBasisForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    issuer = forms.CharField(label=_("Issued by"), max_length=100, required=False)
    reference = forms.CharField(label=_("Reference number"), max_length=100, required=False)
    issued_on = forms.DateField(
        label=_("Issued on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What it says, in a sentence or two: officers read it on the form."),
    )
    url = forms.CharField(label=_("Link"), max_length=200, required=False)
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Only active ones can be cited on new records."),
    )
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, initial=0)
