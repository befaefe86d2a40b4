"""Shared view helpers: domain errors to forms and status pages, node choices."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.template.loader import render_to_string

from .errors import DomainError, Forbidden, NotFound


def form_add_domain_error(form: forms.Form, exc: DomainError, aliases: dict | None = None) -> None:
    """Show a service's errors on the form's fields; unknown fields go to the top."""
    aliases = aliases or {}
    for field, messages in exc.errors.items():
        name = aliases.get(field, field)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def form_submit(
    form: forms.Form, call: Callable[[dict], Any], *, aliases: dict | None = None
) -> tuple[Any, int]:
    """POST → service → field errors or the service's result, the one way every form page
    does it: an invalid form answers (None, 400) with Django's errors on it; a service that
    refuses (any DomainError) puts its errors on the form's fields (`aliases` maps a service
    field to the form's) and answers (None, its status); else (what `call` returned, 200).
    `call` gets the cleaned data. The page renders the form again with the status, or
    redirects on success:

        made, status = form_submit(form, lambda cd: services.rooms_add(...))
        if made is not None:
            return redirect(...)
    """
    if not form.is_valid():
        return None, 400
    try:
        return call(form.cleaned_data), 200
    except DomainError as exc:
        form_add_domain_error(form, exc, aliases)
        return None, exc.status


def staff_view(view):
    """Login required; a NotFound from a selector is a 404, a Forbidden a 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except Forbidden as exc:
            return HttpResponseForbidden(
                render_to_string("403.html", {"message": exc.message}, request=request)
            )

    return wrapped


class NodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "\u3000" * max(0, obj.depth - 1) + obj.name


def passive(view):
    """A view that pages poll on their own (a board, a progress bar): it does not count as the
    user's activity, so it neither renews the idle timeout nor writes the session."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.fangyi_passive = True
        return view(request, *args, **kwargs)

    return wrapped


class DivisionInput(forms.TextInput):
    """A place typed freely, with the divisions of GB/T 2260 offered as one types (宜昌,
    yichang, 4205): `static/divisions.js` fills the shared datalist from /divisions/options/.
    Without script it stays a text field, and the rules read what was typed all the same."""

    def __init__(self, attrs: dict | None = None):
        base = {
            "list": "divisions",
            "data-divisions": "1",
            "autocomplete": "off",
            "placeholder": "湖北省宜昌市 · yichang",
        }
        super().__init__({**base, **(attrs or {})})


def public_url(path: str, request=None) -> str:
    """An address the public opens (a notice's QR code, a resident's link): FANGYI_PUBLIC_URL
    and the path. Without it (development, tests) the request's own host, else the path."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL + path
    return request.build_absolute_uri(path) if request is not None else path
