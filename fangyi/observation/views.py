"""Pages of medical observation: the day list, observations, follow-ups, the board, alerts,
the person page's panel and the public daily self-report."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.care import flows
from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.health.public import given_name
from fangyi.health.selectors import symptom_names
from fangyi.health.services import selfreport_resolve
from fangyi.people.selectors import person_get

from . import selectors, services
from .forms import (
    AlertForm,
    ExtendForm,
    FollowUpForm,
    ObservationForm,
    ReferForm,
    ReleaseForm,
    SelfReportForm,
    TransferForm,
)
from .models import FollowUpStatus, ObservationKind, ObservationStatus

PAGE_SIZE = 30


# --- the day list ----------------------------------------------------------------------------


def daylist_page(request):
    """The home page of field roles (called by core.views.home)."""
    day = timezone.localdate()
    services.followups_ensure(request.user, day)
    data = selectors.daylist(request.user, day)
    return render(request, "observation/daylist.html", {"daylist": data})


# --- observations ----------------------------------------------------------------------------


@staff_view
def observation_list(request):
    access.require(request.user, "observation.view")
    status = request.GET.get("status", "")
    if status not in ObservationStatus.values:
        status = ""
    kind = request.GET.get("kind", "")
    if kind not in ObservationKind.values:
        kind = ""
    q = request.GET.get("q", "").strip()
    node = None
    if request.GET.get("node", "").isdigit():
        node = access.node_get(request.user, int(request.GET["node"]))
    qs = selectors.observation_list(request.user, status=status, node=node, q=q, kind=kind)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "observation/observation_list.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "q": q,
            "node": node,
            "statuses": ObservationStatus.choices,
            "kinds": ObservationKind.choices,
            "nodes": access.nodes_visible(request.user).filter(depth__lte=6).order_by("path"),
            "query": query.urlencode(),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def observation_create(request):
    access.require(request.user, "observation.manage")

    pid = request.GET.get("person") or request.POST.get("person") or ""
    if not pid.isdigit():
        raise NotFound(_("No such person."))
    person = person_get(request.user, int(pid))
    form = ObservationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            obs = services.observation_start(
                actor=request.user,
                person=person,
                kind=cd["kind"],
                place=cd["place"],
                last_exposure=cd["last_exposure"],
                client_id=cd["client_id"],
            )
            messages.success(
                request,
                _("%(name)s is under observation until %(date)s.")
                % {"name": person.name, "date": obs.ends.isoformat()},
            )
            return redirect("observation_detail", pk=obs.pk)
        except DomainError as exc:
            form_add_domain_error(form, exc)
    return render(request, "observation/observation_form.html", {"form": form, "person": person})


def _detail(request, obs, status=200, **forms):
    user = request.user
    manage = access.can(user, "observation.manage")
    followups = list(selectors.followup_list(user, observation=obs).order_by("-due", "-slot"))
    names = symptom_names()
    for f in followups:
        f.symptom_names = [names.get(c, c) for c in f.symptoms]
    context = {
        "obs": obs,
        "followups": followups,
        "alerts": obs.alerts.select_related("resolved_by").order_by("-created"),
        "manage": manage and obs.status == ObservationStatus.ACTIVE,
        "handle": access.can(user, "alert.handle"),
        "today": timezone.localdate(),
        "transferred_from": selectors.observation_list(user).filter(transferred_to=obs).first(),
    }
    if context["manage"]:
        context["extend_form"] = forms.get("extend") or ExtendForm()
        context["release_form"] = forms.get("release") or ReleaseForm()
        context["refer_form"] = forms.get("refer") or ReferForm(user=user)
        context["transfer_form"] = forms.get("transfer") or TransferForm(user=user)
        context["open_form"] = next(iter(forms), "")
    return render(request, "observation/observation_detail.html", context, status=status)


@staff_view
def observation_detail(request, pk: int):
    obs = selectors.observation_get(request.user, pk, via="ui")
    return _detail(request, obs)


def _action(request, pk: int, name: str, form, run):
    access.require(request.user, "observation.manage")
    obs = selectors.observation_get(request.user, pk)
    if form.is_valid():
        try:
            result = run(obs, form.cleaned_data)
            return redirect("observation_detail", pk=result.pk)
        except DomainError as exc:
            form_add_domain_error(form, exc, {"ends": None, "followups": None})
    # The form comes back on the whole page: a read like any other.
    access_record(request.user, obs, node_path=obs.node.path, via="ui")
    return _detail(request, obs, **{name: form})


@staff_view
@require_POST
def observation_extend(request, pk: int):
    def run(obs, cd):
        services.observation_extend(
            actor=request.user, observation=obs, last_exposure=cd["last_exposure"]
        )
        messages.success(request, _("Observation extended until %(date)s.") % {"date": obs.ends})
        return obs

    return _action(request, pk, "extend", ExtendForm(request.POST), run)


@staff_view
@require_POST
def observation_release(request, pk: int):
    def run(obs, cd):
        services.observation_release(actor=request.user, observation=obs, note=cd["note"])
        messages.success(request, _("%(name)s is released.") % {"name": obs.person.name})
        return obs

    return _action(request, pk, "release", ReleaseForm(request.POST), run)


@staff_view
@require_POST
def observation_refer(request, pk: int):
    def run(obs, cd):
        flows.observation_refer(
            actor=request.user, observation=obs, note=cd["note"], place=cd["place"]
        )
        messages.success(request, _("%(name)s is referred.") % {"name": obs.person.name})
        return obs

    return _action(request, pk, "refer", ReferForm(request.POST, user=request.user), run)


@staff_view
@require_POST
def observation_transfer(request, pk: int):
    def run(obs, cd):
        nxt = flows.observation_transfer(
            actor=request.user,
            observation=obs,
            kind=cd["kind"],
            place=cd["place"],
            note=cd["note"],
            client_id=cd["client_id"],
        )
        messages.success(request, _("Transferred."))
        return nxt

    return _action(request, pk, "transfer", TransferForm(request.POST, user=request.user), run)


# --- follow-ups ------------------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def followup_form(request, pk: int):
    followup = selectors.followup_get(request.user, pk, via="ui")
    access.require(request.user, "followup.record")
    obs = followup.observation
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            services.followup_record(
                actor=request.user,
                followup=followup,
                status=cd["status"],
                temperature=cd["temperature"],
                symptoms=cd["symptoms"],
                notes=cd["notes"],
                client_id=cd["client_id"],
            )
            followup.refresh_from_db()
            if followup.status == FollowUpStatus.SEEN_UNWELL:
                messages.warning(request, _("Saved. Health staff have been alerted."))
            else:
                messages.success(request, _("Saved."))
            return redirect("home")
        except DomainError as exc:
            form_add_domain_error(form, exc)
    return render(
        request,
        "observation/followup_form.html",
        {
            "followup": followup,
            "obs": obs,
            "form": form,
            "recorded": followup.status not in selectors.OPEN,
            "symptom_names": list(symptom_names(followup.symptoms).values()),
            "previous": selectors.followup_list(request.user, observation=obs)
            .exclude(pk=followup.pk)
            .exclude(status=FollowUpStatus.DUE)
            .order_by("-due", "-slot")[:3],
        },
    )


# --- the board -------------------------------------------------------------------------------


@staff_view
def board(request):
    access.require(request.user, "board.view")
    tab = request.GET.get("tab", "symptomatic")
    if tab not in selectors.TABS:
        tab = "symptomatic"
    node = None
    if request.GET.get("node", "").isdigit():
        node = access.node_get(request.user, int(request.GET["node"]))
    data = selectors.board(request.user, tab, node=node)
    page = Paginator(data.rows, 50).get_page(request.GET.get("page"))
    context = {
        "board": data,
        "page": page,
        "nodes": access.nodes_visible(request.user).filter(depth__lte=6).order_by("path"),
        # An HTMX tab switch also updates the tab the area filter sends (out of band).
        "oob": bool(request.htmx),
    }
    template = "observation/_board_tab.html" if request.htmx else "observation/board.html"
    return render(request, template, context)


# --- alerts ----------------------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def alert_detail(request, pk: int):
    alert = selectors.alert_get(request.user, pk, via="ui")
    form = AlertForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            flows.alert_resolve(
                actor=request.user,
                alert=alert,
                resolution=cd["resolution"],
                refer=cd["refer"],
                place=cd["place"],
            )
            messages.success(request, _("Alert handled."))
            return redirect("observation_detail", pk=alert.observation_id)
        except DomainError as exc:
            form_add_domain_error(form, exc, {"note": "resolution"})
    return render(request, "observation/alert.html", {"alert": alert, "form": form})


# --- the person page's panel -----------------------------------------------------------------


@staff_view
def person_panel(request, pk: int):

    access.require(request.user, "observation.view")
    person = person_get(request.user, pk)
    # The panel shows the person's observation data: a read of its own, told apart from the page.
    access_record(request.user, person, node_path=person.node.path, via="panel")
    context = selectors.person_observations(request.user, person)
    context["person"] = person
    return render(request, "observation/_person_panel.html", context)


# --- the public daily self-report ------------------------------------------------------------


@csrf_protect
@require_http_methods(["GET", "POST"])
def selfreport_daily(request, token: str):
    """No login: the observed person reports today's temperature and symptoms by their link.
    An unknown, expired or replaced link answers health's "link not valid" page (404), exactly
    as /r/<token>/ does. Only the given name shows."""

    try:
        link = selfreport_resolve(token)
    except NotFound:
        return render(request, "health/public_invalid.html", status=404)
    day = timezone.localdate()
    person = link.person
    running = person.observations.filter(status=ObservationStatus.ACTIVE).first()
    done = services.today_selfreport_followup(person.pk, day) if running else None
    form = SelfReportForm(request.POST or None)
    if request.method == "POST" and running and form.is_valid():
        cd = form.cleaned_data
        try:
            followup = services.followup_self_report(
                link=link,
                data=services.FollowUpInput(
                    temperature=cd["temperature"],
                    symptoms=cd["symptoms"],
                    notes=cd["notes"],
                    client_id=cd["client_id"],
                ),
            )
            return render(
                request,
                "observation/selfreport_daily.html",
                {
                    "given_name": given_name(person.name),
                    "obs": running,
                    "done": followup,
                    "thanks": True,
                },
            )
        except NotFound:
            running = None
        except DomainError as exc:
            form_add_domain_error(form, exc)
    return render(
        request,
        "observation/selfreport_daily.html",
        {
            "given_name": given_name(person.name),
            "obs": running,
            "done": done,
            "form": form,
            "day": day,
        },
    )
