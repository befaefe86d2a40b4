"""Forms of the quarantine pages: they parse and show errors; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BedState, Group, PlacementSource


class PlacementForm(forms.Form):
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=Group.objects.all(), required=False, empty_label="—"
    )
    where = forms.ChoiceField(
        label=_("Where"),
        choices=[("site", _("At a site")), ("home", _("At home"))],
        initial="site",
        widget=forms.RadioSelect,
    )
    site = forms.IntegerField(label=_("Site"), required=False, widget=forms.RadioSelect)
    # A transfer is made from the placement's page, never typed here.
    source = forms.ChoiceField(
        label=_("Comes from"),
        choices=[c for c in PlacementSource.choices if c[0] != PlacementSource.TRANSFER],
        required=False,
        initial=PlacementSource.DECISION,
    )
    transport = forms.CharField(
        label=_("Transport"),
        required=False,
        max_length=200,
        help_text=_("Who brings the person, in which vehicle."),
    )
    expected_at = forms.DateTimeField(
        label=_("Expected arrival"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    person = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.IntegerField(required=False, widget=forms.HiddenInput)
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].widget.choices = [(c.site.pk, c.site.place.name) for c in choices]


class TransferForm(forms.Form):
    site = forms.IntegerField(label=_("Transfer to"))
    transport = forms.CharField(label=_("Transport"), required=False, max_length=200)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=500, required=False)


class BedStateForm(forms.Form):
    state = forms.ChoiceField(
        choices=[
            (BedState.FREE, BedState.FREE.label),
            (BedState.OUT_OF_SERVICE, BedState.OUT_OF_SERVICE.label),
        ]
    )


class SiteSetupForm(forms.Form):
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups taken"),
        queryset=Group.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    latitude = forms.DecimalField(label=_("Latitude"), required=False, max_digits=9)
    longitude = forms.DecimalField(label=_("Longitude"), required=False, max_digits=10)


class RoomsForm(forms.Form):
    first = forms.IntegerField(label=_("First room number"), min_value=1, max_value=99999)
    count = forms.IntegerField(label=_("Rooms"), min_value=1, max_value=500)
    beds = forms.IntegerField(label=_("Beds per room"), min_value=1, max_value=20, initial=2)
    floor = forms.IntegerField(label=_("Floor"), required=False)
