from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from fangyi.screening.models import Sweep


class SweepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.purpose} · {obj.node.name} · {obj.starts:%Y-%m-%d}–{obj.ends:%Y-%m-%d}"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Screening sheet"),
        help_text=_("An Excel workbook (.xlsx) or a CSV file (.csv) in the template's columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    sweep = SweepChoiceField(
        label=_("Sweep"),
        queryset=Sweep.objects.none(),
        required=False,
        empty_label=_("No sweep: store the people and their declarations only"),
        help_text=_(
            "With a sweep, each row also records the door visit, and rows whose household is "
            "not in the sweep come back with an error."
        ),
    )

    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, sweeps=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("client_id"):
            self.initial["client_id"] = uuid.uuid4()
        if sweeps is not None:
            self.fields["sweep"].queryset = sweeps
