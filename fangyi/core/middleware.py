"""Session timeouts, the two-factor requirement, and the request's address for the audit trail."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .audit import current_ip
from .services import otp_required

SESSION_STARTED = "fangyi_login_at"

# Paths a user who still owes a second factor may open.
OTP_EXEMPT_PREFIXES = (
    "/login",
    "/logout",
    "/account/2fa",
    "/static/",
    "/i18n/",
    "/report",
    "/track",
    "/api/",
)


def client_ip(request) -> str | None:
    # Behind one reverse proxy, the deployment sets FANGYI_TRUST_X_FORWARDED_FOR
    # (docs/operations.md). The proxy appends the address it saw to whatever the client sent,
    # so only the last entry is to be trusted: the first ones are the client's to invent (and
    # the public tip intake's rate limit counts per address).
    if getattr(settings, "FANGYI_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class SessionTimeoutMiddleware:
    """Ends a session a fixed time after login, however active it has been.

    The inactivity timeout is the session's age, renewed by every request a person makes, but
    not by the polls a page makes on its own (views marked with `core.web.passive`): a board left
    open on a desk is not activity, and a poll that writes nothing keeps SQLite's write lock free
    for the people entering data. An HTMX request that the login page would answer makes the
    whole page go there instead of swapping the login form into a fragment."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                started = request.session.get(SESSION_STARTED)
                now = time.time()
                if started is None:
                    request.session[SESSION_STARTED] = now
                elif now - started > settings.FANGYI_SESSION_ABSOLUTE_SECONDS:
                    logout(request)
                    return redirect(f"{reverse('login')}?expired=1")
            response = self.get_response(request)
            user = getattr(request, "user", None)
            session = getattr(request, "session", None)
            if (
                user is not None
                and user.is_authenticated
                and session is not None
                and not getattr(request, "fangyi_passive", False)
                and not session.is_empty()
            ):
                session.modified = True  # saved by SessionMiddleware: the idle timer restarts
            if (
                request.headers.get("HX-Request")
                and response.status_code == 302
                and response.get("Location", "").startswith(reverse("login"))
            ):
                location = response["Location"]
                response = HttpResponse(status=204)
                response["HX-Redirect"] = location
            return response
        finally:
            current_ip.reset(token)


OTP_PENDING = "fangyi_otp_pending"


def needs_second_factor(request) -> str | None:
    """ "verify" when the user has a device and has not used it in this session, "setup" when
    the role requires a device and the user has none yet, else None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_verified():
        return None
    if request.session.get(OTP_PENDING):
        return "verify"
    if otp_required(user):
        return "setup"
    return None


class TwoFactorRequiredMiddleware:
    """Until the second factor is done, a user reaches nothing but the 2FA pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        step = needs_second_factor(request)
        if step and not request.path.startswith(OTP_EXEMPT_PREFIXES):
            return redirect(reverse("otp_verify" if step == "verify" else "otp_setup"))
        return self.get_response(request)
