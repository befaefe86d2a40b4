"""Pages of fangyi.guests. Thin: forms in, services and selectors do the work.

/guests/ is a hotel's staff's home: the report form (made for a phone at the front desk) and
today's reports with their status. The police, auxiliary police and supervisors see the
reports of hotels in their jurisdiction there, those that need action first, and register,
refer or clear a guest on the guest's page."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.core import access
from fangyi.core.errors import DomainError
from fangyi.core.validators import parse_resident_id
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.health.services import id_region_signal
from fangyi.people.models import IdType, Sex

from . import selectors, services
from .forms import ClearForm, ReferForm, RegisterForm, ReportForm, SettingsForm
from .models import GuestSettings, GuestStatus

PAGE_SIZE = 30


def _report_data(cd: dict) -> dict:
    return {k: cd.get(k) for k in ReportForm.base_fields if k != "client_id"}


@staff_view
@require_http_methods(["GET", "POST"])
def guest_home(request):
    """Hotel staff: report an arriving guest, and today's reports. Police: the list."""
    user = request.user
    if request.method == "POST" or access.can(user, "guest.report"):
        return _hotel_home(request)
    access.require(user, "guest.view")
    status = request.GET.get("status", "")
    todo = request.GET.get("todo") == "1"
    qs = selectors.guest_list(user, status=status, todo=todo)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "guests/list.html",
        {
            "page": page,
            "status": status if status in GuestStatus.values else "",
            "todo": todo,
            "statuses": GuestStatus.choices,
        },
    )


def _hotel_home(request):
    user = request.user
    access.require(user, "guest.report")
    services.hotel_of(user)  # 403 for the staff of a designated hotel or quarantine point
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            try:
                report = services.guest_report(
                    actor=user,
                    data=_report_data(form.cleaned_data),
                    client_id=form.cleaned_data.get("client_id"),
                )
                if report.flagged:
                    messages.warning(
                        request,
                        _("%(name)s reported: flagged. The station's police have been notified.")
                        % {"name": report.name},
                    )
                else:
                    messages.success(
                        request, _("%(name)s reported: not flagged.") % {"name": report.name}
                    )
                return redirect("guest_home")
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
        else:
            status = 400
    else:
        form = ReportForm(initial={"arrived_on": timezone.localdate(), "id_type": "resident"})
    today = timezone.localdate()
    reports = list(selectors.guest_list(user, day=today)[:100])
    return render(
        request,
        "guests/hotel.html",
        {"form": form, "reports": reports, "today": today, "hotel": user.place},
        status=status,
    )


@staff_view
def guest_check_id(request):
    """HTMX: as the hotel's clerk types a resident ID number, whether it is valid (the check
    digit, the birth date in it). The registry is not looked up: the hotel sees no one's
    records."""
    access.require(request.user, "guest.report")
    number = request.GET.get("id_number", "").strip()[:40]
    context: dict = {"number": number}
    if number and request.GET.get("id_type", "resident") == "resident":
        try:
            rid = parse_resident_id(number)
            context["rid"] = rid
            context["sex_label"] = Sex(rid.sex).label
        except DomainError as exc:
            context["error"] = exc.message
    return render(request, "guests/_id_check.html", context)


def _detail_context(request, report, **forms) -> dict:
    user = request.user
    can_handle = access.can(user, "guest.handle")
    ctx = {"report": report, "can_handle": can_handle, "hotel_view": not can_handle}
    if can_handle and report.id_type == IdType.RESIDENT:
        ctx["id_signal"] = id_region_signal(report.id_number)
    if can_handle:
        if report.status in (GuestStatus.FLAGGED, GuestStatus.REPORTED):
            ctx["register_form"] = forms.get("register") or RegisterForm(
                initial={
                    "name": report.name,
                    "id_type": report.id_type,
                    "id_number": report.id_number,
                    "phone": report.phone,
                }
            )
        if report.status == GuestStatus.REGISTERED:
            choices = services.refer_choices(report)
            ctx["choices"] = choices
            ctx["refer_form"] = forms.get("refer") or ReferForm(
                choices=_site_choices(choices),
                initial={"site": choices[0].site.pk} if choices else {},
            )
        if report.status in services.OPEN:
            ctx["clear_form"] = forms.get("clear") or ClearForm()
    return ctx


def _site_choices(choices) -> list:
    out = []
    for c in choices:
        free, km = services.choice_numbers(c)
        label = _("%(site)s · %(n)d free beds") % {"site": c.site.place.name, "n": free}
        if km is not None:
            label += f" · {km:.1f} km"
        out.append((c.site.pk, label))
    return out


@staff_view
def guest_detail(request, pk: int):
    user = request.user
    access.require(user, "guest.view")
    report = selectors.guest_get(user, pk, via="ui")
    return render(request, "guests/detail.html", _detail_context(request, report))


@staff_view
@require_POST
def guest_register(request, pk: int):
    user = request.user
    access.require(user, "guest.handle")
    report = selectors.guest_get(user, pk)
    form = RegisterForm(request.POST)
    status = 400
    if form.is_valid():
        cd = form.cleaned_data
        try:
            services.guest_register(
                actor=user,
                report=report,
                temperature=cd["temperature"],
                temperature_method=cd["temperature_method"],
                # Left empty: as the hotel reported it.
                name=cd["name"] or None,
                id_type=cd["id_type"] or None,
                id_number=cd["id_number"] or None,
                phone=cd["phone"] if "phone" in request.POST else None,
                client_id=cd.get("client_id"),
            )
            messages.success(request, _("Registered, temperature recorded."))
            return redirect("guest_detail", pk=report.pk)
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
            report.refresh_from_db()
    return render(
        request,
        "guests/detail.html",
        _detail_context(request, report, register=form),
        status=status,
    )


@staff_view
@require_POST
def guest_refer(request, pk: int):
    user = request.user
    access.require(user, "guest.handle")
    report = selectors.guest_get(user, pk)
    choices = services.refer_choices(report) if report.status == GuestStatus.REGISTERED else []
    form = ReferForm(request.POST, choices=_site_choices(choices))
    status = 400
    if form.is_valid():
        cd = form.cleaned_data
        try:
            services.guest_refer(
                actor=user,
                report=report,
                site=services.site_for_id(cd["site"]),
                transport=cd["transport"],
                client_id=cd.get("client_id"),
            )
            messages.success(request, _("Referred: the designated hotel is to confirm arrival."))
            return redirect("guest_detail", pk=report.pk)
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
            report.refresh_from_db()
    return render(
        request, "guests/detail.html", _detail_context(request, report, refer=form), status=status
    )


@staff_view
@require_POST
def guest_clear(request, pk: int):
    user = request.user
    access.require(user, "guest.handle")
    report = selectors.guest_get(user, pk)
    form = ClearForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.guest_clear(actor=user, report=report, reason=form.cleaned_data["reason"])
            messages.success(request, _("Cleared."))
            return redirect("guest_detail", pk=report.pk)
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
            report.refresh_from_db()
    return render(
        request, "guests/detail.html", _detail_context(request, report, clear=form), status=status
    )


@staff_view
@require_http_methods(["GET", "POST"])
def guest_settings(request):
    user = request.user
    access.require(user, "guest.configure")
    current = GuestSettings.get()
    status = 200
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.guest_settings_update(actor=user, data=form.cleaned_data)
                messages.success(request, _("Settings saved."))
                return redirect("guest_settings")
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
        else:
            status = 400
    else:
        form = SettingsForm(
            initial={
                "retention_days": current.retention_days,
                "confirm_hours": current.confirm_hours,
            }
        )
    return render(request, "guests/settings.html", {"form": form}, status=status)
