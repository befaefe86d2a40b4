"""Forms of the linkage pages: they parse and show errors; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Agency, Urgency


class SupportForm(forms.Form):
    agency = forms.ChoiceField(label=_("Ask"), choices=Agency.choices, initial=Agency.POLICE)
    target_user = forms.TypedChoiceField(
        label=_("Named person"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[],
        help_text=_("Only when asking a named person."),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.HIGH)
    need = forms.CharField(
        label=_("What is needed"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    household = forms.IntegerField(required=False, widget=forms.HiddenInput)
    person = forms.IntegerField(required=False, widget=forms.HiddenInput)
    tip = forms.IntegerField(required=False, widget=forms.HiddenInput)
    door = forms.IntegerField(required=False, widget=forms.HiddenInput)
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_user"].choices = [("", "—")] + [
            (u.pk, f"{u.display_name} ({u.get_role_display()})") for u in people
        ]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, required=False, widget=forms.Textarea({"rows": 2})
    )


class DoneForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"), max_length=1000, required=False, widget=forms.Textarea({"rows": 3})
    )


class TargetsForm(forms.Form):
    def __init__(self, *args, targets: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in Urgency.choices:
            self.fields[value] = forms.IntegerField(
                label=label,
                min_value=1,
                max_value=7 * 24 * 60,
                initial=targets.get(value),
                help_text=_("Minutes"),
            )
