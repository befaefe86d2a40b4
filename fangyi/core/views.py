"""Login and two-factor, the home page, the jurisdiction tree, users, audit, API tokens."""

from __future__ import annotations

import base64

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangyi.observation.services import END_PLACE_KINDS
from fangyi.observation.views import daylist_page
from fangyi.people.models import PlaceKind
from fangyi.people.selectors import place_list, registry_counts
from fangyi.quarantine.services import site_for_place

from . import access, divisions, selectors, services
from .errors import DomainError
from .middleware import OTP_PENDING
from .models import NODE_CHILD_KINDS, Node, NodeKind, Role
from .web import NodeChoiceField, form_add_domain_error, staff_view


def lockout(request, credentials=None, *args, **kwargs):
    """django-axes calls this when an address or username has failed too often."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    form = LoginForm(initial={"username": (credentials or {}).get("username", "")})
    message = ngettext(
        "Too many failed logins. Try again in %(minutes)d minute.",
        "Too many failed logins. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    return render(request, "core/login.html", {"form": form, "lockout": message}, status=429)


class LoginForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OtpForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}):
        return nxt
    return "/"


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            user = authenticate(
                request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
            if hasattr(request, "axes_locked_out") and request.axes_locked_out:
                return lockout(request, form.cleaned_data)
            if user is None:
                form.add_error(None, _("Wrong username or password."))
            else:
                login(request, user)
                if any(True for _d in devices_for_user(user, confirmed=True)):
                    request.session[OTP_PENDING] = True
                    return redirect(f"/login/otp/?next={_next_url(request)}")
                return redirect(_next_url(request))
    else:
        form = LoginForm()
        if request.GET.get("expired"):
            messages.info(request, _("Your session ended. Please log in again."))
    return render(request, "core/login.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def otp_verify(request):
    if not request.user.is_authenticated:
        return redirect("login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip()
        for device in devices_for_user(request.user, confirmed=True):
            if device.verify_token(token):
                otp_login(request, device)
                request.session.pop(OTP_PENDING, None)
                return redirect(_next_url(request))
        form.add_error("token", _("This code is not right, or has expired."))
    return render(request, "core/otp_verify.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Enrol a TOTP device: show the secret as a QR code, confirm it with one code."""
    if not request.user.is_authenticated:
        return redirect("login")
    if request.user.is_verified():
        messages.info(request, _("Two-factor authentication is already on."))
        return redirect("account")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="default", confirmed=False)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            request.session.pop(OTP_PENDING, None)
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("home")
        form.add_error("token", _("This code is not right, or has expired."))
    qr = segno.make(device.config_url, error="m")
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "core/otp_setup.html",
        {"form": form, "qr_svg": qr.svg_inline(scale=4), "secret": secret},
    )


@require_GET
def division_options(request):
    """The picker's <option>s for what was typed (`q`): public, as the list is, so that the
    resident's own declaration form offers them too."""
    q = request.GET.get("q", "")[:50]
    html = "".join(
        format_html('<option value="{}">{}</option>', d.full_name, f"{d.code} · {d.pinyin}")
        for d in divisions.search(q, 12)
    )
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


@staff_view
def home(request):
    user = request.user
    if user.role == Role.SITE_STAFF:
        # Site staff of a quarantine point or designated hotel land on their site's page,
        # hotel staff on their guest reports.

        place = user.place
        if place is not None and place.kind in END_PLACE_KINDS:
            return redirect("site_detail", pk=site_for_place(place).pk)
        if place is not None and place.kind == PlaceKind.HOTEL:
            return redirect("/guests/")
        return redirect("place_list")
    if user.role in access.FIELD_ROLES:
        # Field roles start their day with the day list (fangyi.observation).

        return daylist_page(request)
    nodes = list(user.nodes.order_by("path"))
    children = []
    if access.can(user, "household.view"):
        kids = list(Node.objects.filter(parent__in=nodes).order_by("path"))
        counts = registry_counts(user, kids)
        children = [{"node": k, **counts[k.pk]} for k in kids]
    # Those who watch the observation board get a link to it above the registry counts.
    template = "observation/home.html" if access.can(user, "board.view") else "core/home.html"
    return render(request, template, {"nodes": nodes, "children": children})


# --- the jurisdiction tree -------------------------------------------------------------------


class NodeForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    code = forms.CharField(label=gettext_lazy("Code"), max_length=32, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=NodeKind.choices, required=False)


class MoveForm(forms.Form):
    parent = NodeChoiceField(label=gettext_lazy("New parent"), queryset=Node.objects.none())


@staff_view
def tree(request):
    access.require(request.user, "node.view")
    nodes = selectors.node_list(request.user).annotate(n_households=Count("households"))
    return render(request, "core/tree.html", {"nodes": nodes})


@staff_view
@require_http_methods(["GET", "POST"])
def node_edit(request, pk: int):
    access.require(request.user, "node.edit")
    node = access.node_get(request.user, pk)
    form = NodeForm(
        request.POST or None, initial={"name": node.name, "code": node.code, "kind": node.kind}
    )
    child_form = NodeForm(prefix="child")
    move_form = MoveForm(prefix="move")
    move_form.fields["parent"].queryset = access.nodes_visible(request.user).exclude(
        path__startswith=node.path
    )
    if request.method == "POST":
        action = request.POST.get("action", "rename")
        try:
            if action == "rename" and form.is_valid():
                services.node_update(
                    actor=request.user,
                    node=node,
                    name=form.cleaned_data["name"],
                    code=form.cleaned_data["code"],
                )
                messages.success(request, _("Saved."))
                return redirect("node_edit", pk=node.pk)
            if action == "child":
                form = NodeForm(initial={"name": node.name, "code": node.code})
                child_form = NodeForm(request.POST, prefix="child")
                if child_form.is_valid():
                    child = services.node_create(
                        actor=request.user,
                        kind=child_form.cleaned_data["kind"],
                        name=child_form.cleaned_data["name"],
                        code=child_form.cleaned_data["code"],
                        parent=node,
                    )
                    messages.success(request, _("Added %(name)s.") % {"name": child.name})
                    return redirect("node_edit", pk=child.pk)
            if action == "move":
                form = NodeForm(initial={"name": node.name, "code": node.code})
                move_form = MoveForm(request.POST, prefix="move")
                move_form.fields["parent"].queryset = access.nodes_visible(request.user)
                if move_form.is_valid():
                    services.node_move(
                        actor=request.user, node=node, new_parent=move_form.cleaned_data["parent"]
                    )
                    messages.success(request, _("Moved."))
                    return redirect("node_edit", pk=node.pk)
        except DomainError as exc:
            target = {"child": child_form, "move": move_form}.get(action, form)
            form_add_domain_error(target, exc)

    child_form.fields["kind"].choices = [
        (k.value, k.label) for k in NODE_CHILD_KINDS[NodeKind(node.kind)]
    ]
    return render(
        request,
        "core/node_edit.html",
        {
            "node": node,
            "form": form,
            "child_form": child_form,
            "move_form": move_form,
            "ancestors": node.ancestors(),
            "children": node.children.order_by("path"),
        },
    )


# --- users -----------------------------------------------------------------------------------


class UserForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    first_name = forms.CharField(label=gettext_lazy("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Family name"), max_length=150, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    nodes = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Jurisdictions"), queryset=Node.objects.none(), required=False
    )
    place = forms.ModelChoiceField(
        label=gettext_lazy("Place (hotel and site staff)"),
        queryset=Node.objects.none(),
        required=False,
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["nodes"].queryset = access.nodes_visible(user)
        self.fields["place"].queryset = place_list(user)
        if editing:
            del self.fields["username"]
            del self.fields["password"]


@staff_view
def user_list(request):
    users = selectors.user_list(request.user, q=request.GET.get("q", ""))
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "core/user_list.html", {"page": page, "q": request.GET.get("q", "")})


@staff_view
@require_http_methods(["GET", "POST"])
def user_form(request, pk: int | None = None):
    access.require(request.user, "user.manage")
    target = selectors.user_get(request.user, pk) if pk else None
    if request.method == "POST":
        form = UserForm(request.POST, user=request.user, editing=bool(target))
        if form.is_valid():
            cd = form.cleaned_data
            try:
                if target is None:
                    target = services.user_create(
                        actor=request.user,
                        username=cd["username"],
                        password=cd["password"],
                        role=cd["role"],
                        nodes=list(cd["nodes"]),
                        place=cd["place"],
                        first_name=cd["first_name"],
                        last_name=cd["last_name"],
                        phone=cd["phone"],
                    )
                else:
                    services.user_update(
                        actor=request.user,
                        user=target,
                        role=cd["role"],
                        nodes=list(cd["nodes"]),
                        place=cd["place"],
                        first_name=cd["first_name"],
                        last_name=cd["last_name"],
                        phone=cd["phone"],
                        is_active=cd["is_active"],
                    )
                messages.success(request, _("Saved."))
                return redirect("user_list")
            except DomainError as exc:
                form_add_domain_error(form, exc)
    else:
        initial = {}
        if target:
            initial = {
                "first_name": target.first_name,
                "last_name": target.last_name,
                "phone": target.phone,
                "role": target.role,
                "nodes": list(target.nodes.all()),
                "place": target.place_id,
                "is_active": target.is_active,
            }
        form = UserForm(user=request.user, editing=bool(target), initial=initial)
    return render(request, "core/user_form.html", {"form": form, "target": target})


# --- audit -----------------------------------------------------------------------------------


@staff_view
def audit(request):
    access.require(request.user, "audit.view")
    tab = request.GET.get("tab", "changes")
    if tab == "reads":
        qs = selectors.access_log_list(request.user)
    else:
        qs = selectors.audit_list(request.user, action=request.GET.get("action", ""))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"page": page, "tab": tab})


# --- account: API tokens, two-factor, language -----------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def account(request):
    new_token = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                services.token_revoke(actor=request.user, pk=int(request.POST["token"]))
                messages.success(request, _("Token revoked."))
                return redirect("account")
            _token, new_token = services.token_create(
                actor=request.user, name=request.POST.get("name", "")
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        except (KeyError, ValueError):
            messages.error(request, _("No such token."))
    has_device = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    return render(
        request,
        "core/account.html",
        {
            "tokens": selectors.token_list(request.user),
            "new_token": new_token,
            "has_device": has_device,
            "otp_required": services.otp_required(request.user),
        },
    )
