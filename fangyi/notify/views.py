"""Pages of the in-app inbox: the inbox, the bell that every page polls, the user's own
preferences and the administrator's page of the kinds. Thin: forms in, selectors and the
preferences module do the work."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from fangyi.core import access
from fangyi.core.web import form_submit, passive, staff_view

from . import preferences, selectors
from .services import TemplateError
from .services import render as render_message

PER_PAGE = 30
# How often the bell asks for the count (seconds); FANGYI_BELL_SECONDS overrides it.
BELL_SECONDS = 60


class PreferenceForm(forms.Form):
    sms = forms.BooleanField(label=gettext_lazy("SMS for urgent events"), required=False)
    email = forms.BooleanField(label=gettext_lazy("E-mail for urgent events"), required=False)
    digest = forms.BooleanField(label=gettext_lazy("A daily digest of the rest"), required=False)
    quiet_from = forms.TimeField(
        label=gettext_lazy("Quiet from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_to = forms.TimeField(
        label=gettext_lazy("Quiet until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=gettext_lazy("Local time. SMS and e-mail wait until then; the inbox does not."),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language of SMS and e-mail"), choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = preferences.languages()  # type: ignore[attr-defined]


class KindForm(forms.Form):
    key = forms.CharField(max_length=40, widget=forms.HiddenInput)
    enabled = forms.BooleanField(required=False)
    urgent = forms.BooleanField(required=False)
    roles = forms.MultipleChoiceField(
        required=False,
        choices=[(v, v) for v in access.R.values],
        widget=forms.CheckboxSelectMultiple,
    )


def _item(note) -> dict:
    try:
        text = render_message(note.message, note.params)
    except TemplateError:
        text = note.message
    return {"note": note, "text": text}


@staff_view
@require_GET
def notification_list(request):
    user = request.user
    order = request.GET.get("order")
    order = order if order in selectors.ORDERS else selectors.UNREAD_FIRST
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.notification_list(user, unread=True if unread_only else None, order=order)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/inbox.html",
        {
            "page": page,
            "items": [_item(n) for n in page.object_list],
            "order": order,
            "unread_only": unread_only,
            "unread": selectors.unread_count(user),
        },
    )


def _safe(url: str, request) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


@staff_view
@require_POST
def notification_open(request, pk: int):
    """Mark the notification read and go to its record (the inbox when its link is not ours)."""
    note = selectors.notification_read(request.user, pk)
    return redirect(_safe(note.url, request) or "notification_list")


@staff_view
@require_POST
def notification_read_all(request):
    n = selectors.notification_read_all(request.user)
    if n:
        messages.success(request, _("All notifications marked read."))
    return redirect("notification_list")


@passive
@staff_view
@require_GET
def notification_bell(request):
    """The bell alone, with the unread count: every page polls it. It writes nothing and does
    not count as the user's activity (core.web.passive)."""
    return render(request, "notify/_bell.html", bell_context(request.user))


def bell_context(user) -> dict:
    return {
        "unread": selectors.unread_count(user),
        "every": int(getattr(settings, "FANGYI_BELL_SECONDS", BELL_SECONDS)),
    }


def _preference_initial(pref) -> dict:
    return {name: getattr(pref, name) for name in preferences.FIELDS}


@staff_view
def notification_settings(request):
    user = request.user
    pref = preferences.preference_get(user)
    status = 200
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        saved, status = form_submit(
            form,
            lambda cd: preferences.preference_update(
                actor=user,
                sms=cd["sms"],
                email=cd["email"],
                digest=cd["digest"],
                quiet_from=cd.get("quiet_from"),
                quiet_to=cd.get("quiet_to"),
                language=cd["language"],
            ),
        )
        if saved is not None:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notification_settings")
    else:
        form = PreferenceForm(initial=_preference_initial(pref))
    return render(
        request,
        "notify/settings.html",
        {
            "form": form,
            "required": preferences.sms_required_kinds(user),
            "no_phone": not user.phone,
            "no_email": not user.email,
        },
        status=status,
    )


@staff_view
def notification_kinds(request):
    user = request.user
    access.require(user, "notify.configure")
    status = 200
    failed: dict[str, KindForm] = {}
    if request.method == "POST":
        form = KindForm(request.POST)
        saved, status = form_submit(
            form,
            lambda cd: preferences.kind_configure(
                actor=user,
                key=cd["key"],
                enabled=cd["enabled"],
                roles=cd["roles"],
                urgent=cd["urgent"],
            ),
        )
        if saved is not None:
            messages.success(request, _("Saved."))
            return redirect(f"{request.path}#kind-{saved.key}")
        failed[str(request.POST.get("key", ""))] = form
    kinds = preferences.kind_list(user)
    return render(
        request,
        "notify/kinds.html",
        {"kinds": [(k, failed.get(k.key)) for k in kinds], "errors": bool(failed)},
        status=status,
    )
