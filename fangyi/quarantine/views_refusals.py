"""Pages of refusals: record a refusal of a placement, the list, one refusal with its persuasion
attempts and the ways it ends, and the printable quarantine notice. Thin: forms in, the
services in fangyi.quarantine.refusals do the work."""

from __future__ import annotations

import uuid

import segno
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.enforcement.models import Measure
from fangyi.enforcement.selectors import legalbasis_list
from fangyi.enforcement.services import legal_bases_for
from fangyi.health.public import link_url
from fangyi.linkage.selectors import request_timer

from . import refusals, selectors, services
from .models import PersuasionOutcome, RefusalStatus

PAGE_SIZE = 40


# --- forms -----------------------------------------------------------------------------------


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason given"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)


class AttemptForm(forms.Form):
    at = forms.DateTimeField(
        label=gettext_lazy("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    explained = forms.CharField(
        label=gettext_lazy("What was explained"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=PersuasionOutcome.choices,
        initial=PersuasionOutcome.STILL_REFUSES,
        required=False,
    )
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)


class AgreeForm(forms.Form):
    site = forms.TypedChoiceField(
        label=gettext_lazy("Site"), coerce=int, empty_value=None, required=False, choices=[]
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", gettext_lazy("The same site"))] + list(choices)


class HomeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why home quarantine is allowed"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReferForm(forms.Form):
    measure = forms.ChoiceField(label=gettext_lazy("Measure"), choices=[], required=False)
    legal_bases = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Legal basis"),
        coerce=int,
        required=False,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
    )
    facts = forms.CharField(
        label=gettext_lazy("What happened"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        labels = dict(Measure.choices)
        self.fields["measure"].choices = [(m, labels[m]) for m in refusals.REFER_MEASURES]
        self.fields["legal_bases"].choices = [
            (b.pk, b.title) for b in legalbasis_list(active_only=True)
        ]


# --- recording a refusal -------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def placement_refuse(request, pk: int):
    user = request.user
    placement = refusals.placement_for(user, pk, action="refusal.record", via="ui")
    status = 200
    if request.method == "POST":
        form = RefuseForm(request.POST)
        if form.is_valid():
            try:
                refusal = refusals.refusal_record(
                    actor=user,
                    placement=placement,
                    reason=form.cleaned_data["reason"],
                    client_id=form.cleaned_data.get("client_id"),
                )
                messages.success(request, _("Refusal recorded: the bed is free again."))
                return redirect("refusal_detail", pk=refusal.pk)
            except (NotFound, Forbidden):
                raise
            except DomainError as exc:
                form_add_domain_error(form, exc, {"placement": None})
                status = exc.status
        else:
            status = 400
    else:
        form = RefuseForm(initial={"client_id": uuid.uuid4()})
    return render(
        request,
        "quarantine/refusal_form.html",
        {"form": form, "p": placement},
        status=status,
    )


# --- the list --------------------------------------------------------------------------------

STATUS_TABS = [("open", gettext_lazy("Refusing")), ("any", gettext_lazy("All"))]


@staff_view
def refusal_list(request):
    user = request.user
    status = request.GET.get("status", "any")
    if status not in dict(STATUS_TABS):
        status = "any"
    qs = refusals.refusal_list(user, status=RefusalStatus.OPEN if status == "open" else "")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "quarantine/refusal_list.html",
        {"page": page, "status": status, "statuses": STATUS_TABS},
    )


# --- one refusal -----------------------------------------------------------------------------


def _site_choices(refusal) -> list[tuple[int, str]]:
    """Sites that take the group and have a free bed (the sites part's site_choices)."""

    fn = getattr(services, "site_choices", None)
    if fn is None:
        return []
    try:
        rows = fn(group=refusal.placement.group, near=refusal.node)
    except TypeError:
        rows = fn(group=refusal.placement.group)
    out = []
    for row in rows:
        site = getattr(row, "site", row)
        free = getattr(row, "free", None)
        label = site.place.name if free is None else f"{site.place.name} ({free})"
        out.append((site.pk, label))
    return out


def _context(request, refusal, **forms_) -> dict:
    user = request.user
    is_open = refusal.status == RefusalStatus.OPEN
    now = timezone.localtime()
    support = refusal.support_request
    timer = None
    if support is not None:
        timer = request_timer(support)
    # While the police request runs, the page shows it instead of a second call.
    can_call = is_open and (timer is None or not timer["running"])
    return {
        "r": refusal,
        "p": refusal.placement,
        "attempts": refusals.attempts_of(refusal),
        "open": is_open,
        "support": support,
        "timer": timer,
        "can_call": can_call,
        "can_home": is_open and access.can(user, "decision.make"),
        "can_refer": is_open and access.can(user, "enforcement.record"),
        "attempt_form": forms_.get("attempt")
        or AttemptForm(initial={"at": now.strftime("%Y-%m-%dT%H:%M"), "client_id": uuid.uuid4()}),
        "agree_form": forms_.get("agree") or AgreeForm(choices=_site_choices(refusal)),
        "home_form": forms_.get("home") or HomeForm(),
        "refer_form": forms_.get("refer") or ReferForm(initial={"client_id": uuid.uuid4()}),
        "call_id": uuid.uuid4(),
    }


@staff_view
def refusal_detail(request, pk: int):
    refusal = refusals.refusal_get(request.user, pk, via="ui")
    return render(request, "quarantine/refusal_detail.html", _context(request, refusal))


def _again(request, refusal, exc, **forms_):
    """The refusal page again, with the errors next to their fields."""
    refusal = refusals.refusal_get(request.user, refusal.pk, via="ui")
    return render(
        request,
        "quarantine/refusal_detail.html",
        _context(request, refusal, **forms_),
        status=exc.status if exc else 400,
    )


@staff_view
@require_POST
def refusal_attempt(request, pk: int):
    user = request.user
    refusal = refusals.refusal_get(user, pk)
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return _again(request, refusal, None, attempt=form)
    cd = form.cleaned_data
    try:
        refusals.persuasion_record(
            actor=user,
            refusal=refusal,
            at=cd.get("at"),
            explained=cd.get("explained", ""),
            outcome=cd.get("outcome") or "",
            client_id=cd.get("client_id"),
        )
    except (NotFound, Forbidden):
        raise
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("refusal_detail", pk=pk)
    except DomainError as exc:
        form_add_domain_error(form, exc)
        return _again(request, refusal, exc, attempt=form)
    messages.success(request, _("Persuasion attempt recorded."))
    return redirect("refusal_detail", pk=pk)


@staff_view
@require_POST
def refusal_agree(request, pk: int):
    user = request.user
    access.require(user, "refusal.record")
    refusal = refusals.refusal_get(user, pk)
    form = AgreeForm(request.POST, choices=_site_choices(refusal))
    site = None
    raw = request.POST.get("site", "").strip()
    if raw:
        if not raw.isdigit():
            form.add_error(None, _("Choose the site from the list."))
            return _again(request, refusal, None, agree=form)
        try:
            site = selectors.site_pick(int(raw), message=_("Choose the site from the list."))
        except DomainError as exc:
            form.add_error(None, exc.message)
            return _again(request, refusal, exc, agree=form)
    try:
        placement = refusals.refusal_agree(actor=user, refusal=refusal, site=site)
    except (NotFound, Forbidden):
        raise
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("refusal_detail", pk=pk)
    except DomainError as exc:
        form.is_valid()
        form_add_domain_error(form, exc)
        return _again(request, refusal, exc, agree=form)
    messages.success(
        request,
        _("Agreed: a bed is reserved at %(site)s.") % {"site": placement.site.place.name},
    )
    return redirect("refusal_detail", pk=pk)


@staff_view
@require_POST
def refusal_home(request, pk: int):
    user = request.user
    access.require(user, "decision.make")
    refusal = refusals.refusal_get(user, pk)
    form = HomeForm(request.POST)
    form.is_valid()
    try:
        refusals.refusal_allow_home(
            actor=user, refusal=refusal, reason=form.cleaned_data.get("reason", "")
        )
    except (NotFound, Forbidden):
        raise
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("refusal_detail", pk=pk)
    except DomainError as exc:
        form_add_domain_error(form, exc)
        return _again(request, refusal, exc, home=form)
    messages.success(request, _("Home quarantine allowed."))
    return redirect("refusal_detail", pk=pk)


@staff_view
@require_POST
def refusal_refer(request, pk: int):
    user = request.user
    access.require(user, "enforcement.record")
    refusal = refusals.refusal_get(user, pk)
    form = ReferForm(request.POST)
    if not form.is_valid():
        return _again(request, refusal, None, refer=form)
    cd = form.cleaned_data

    try:
        record = refusals.refusal_refer(
            actor=user,
            refusal=refusal,
            measure=cd.get("measure") or "",
            legal_bases=legal_bases_for(cd.get("legal_bases") or []),
            facts=cd.get("facts", ""),
            client_id=cd.get("client_id"),
        )
    except (NotFound, Forbidden):
        raise
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("refusal_detail", pk=pk)
    except DomainError as exc:
        form_add_domain_error(form, exc)
        return _again(request, refusal, exc, refer=form)
    messages.success(request, _("Referred for enforcement (record %(pk)s).") % {"pk": record.pk})
    return redirect("refusal_detail", pk=pk)


@staff_view
@require_POST
def refusal_call_police(request, pk: int):
    user = request.user
    access.require(user, "refusal.record")
    refusal = refusals.refusal_get(user, pk)
    raw = request.POST.get("client_id", "")
    try:
        client_id = uuid.UUID(raw) if raw else None
    except ValueError:
        client_id = None
    try:
        before = refusal.support_request_id
        support = refusals.refusal_call_police(actor=user, refusal=refusal, client_id=client_id)
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("refusal_detail", pk=pk)
    if before == support.pk:
        messages.info(request, _("Police support was already asked for: see its status below."))
    else:
        messages.success(request, _("Police support asked for."))
    return redirect("refusal_detail", pk=pk)


# --- the notice ------------------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def placement_notice(request, pk: int):
    """GET: the notice without its QR code, with a button to issue it. POST "Issue notice": a
    new self-report link (the older one is revoked), the notice with its QR code, to print."""
    user = request.user
    placement = refusals.placement_for(user, pk, action="notice.print")
    if request.method == "POST":
        # Site staff see their site's notices but may not issue self-report links.
        access.require(user, "selfreport.issue")
    access_record(user, placement, node_path=placement.node.path, via="ui")
    url = qr = ""
    if request.method == "POST":
        notice, token = refusals.notice_issue(actor=user, placement=placement)

        url = link_url(request, token)
        qr = segno.make(url, error="m").svg_inline(scale=3)
        notice.url, notice.qr = url, qr
    else:
        notice = refusals.notice_data(placement)
    return render(
        request,
        "quarantine/notice.html",
        {
            "n": notice,
            "p": placement,
            "issued": bool(url),
            "can_issue": access.can(user, "selfreport.issue"),
        },
    )
