"""Pages of fangyi.quarantine: sites with their beds, placements, the occupancy board. Thin:
forms in, services and selectors do the work."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import Conflict, DomainError, NotFound
from fangyi.core.web import form_add_domain_error, form_submit, passive, staff_view
from fangyi.people.models import Person

from . import selectors, services
from .forms import BedStateForm, CancelForm, PlacementForm, RoomsForm, SiteSetupForm, TransferForm
from .models import BedState, PlacementKind, PlacementSource, PlacementStatus, Site

PAGE_SIZE = 40
POLL_SECONDS = 30


def _pk(raw) -> int | None:
    raw = str(raw or "").strip()
    return int(raw) if raw.isdigit() else None


# --- sites -------------------------------------------------------------------------------------


@staff_view
def site_list(request):
    sites = list(selectors.site_list(request.user))
    if len(sites) == 1 and services.is_site_staff(request.user):
        return redirect("site_detail", pk=sites[0].pk)
    return render(request, "quarantine/site_list.html", {"sites": sites})


def _site_context(request, site: Site) -> dict:
    user = request.user
    today = timezone.localdate()
    people = selectors.in_quarantine(site, today)
    arrivals = selectors.expected_arrivals(site)
    return {
        "site": site,
        "rooms": selectors.site_beds(site),
        "arrivals": arrivals,
        "overdue_arrivals": sum(1 for p in arrivals if getattr(p, "overdue", False)),
        "people": people,
        "releases": [p for p in people if p.release_due],
        "groups": list(site.groups.all()),
        # Who is in quarantine is for those who may see placements; an administrator who
        # sets the site up (site.view only) sees the counts and the beds, not the names.
        "names": access.can(user, "placement.view"),
        "can_beds": access.can(user, "bed.manage"),
        "can_arrive": access.can(user, "placement.arrive"),
        "can_followup": access.can(user, "followup.record"),
        "can_configure": access.can(user, "site.configure"),
        "today": today,
        "states": BedState.choices,
    }


@staff_view
def site_detail(request, pk: int):
    site = selectors.site_get(request.user, pk, via="ui")
    return render(request, "quarantine/site_detail.html", _site_context(request, site))


@staff_view
@require_POST
def bed_state(request, pk: int):
    user = request.user
    access.require(user, "bed.manage")
    bed = selectors.bed_get(user, pk)
    form = BedStateForm(request.POST)
    state = form.data.get("state", "")
    try:
        if state == BedState.OUT_OF_SERVICE and request.POST.get("confirm") != "1":
            # One stray tap must not take a bed away: the page asks for a tick first.
            raise DomainError(_("Tick the box to take the bed out of service."), field="confirm")
        services.bed_set_state(actor=user, bed=bed, state=state)
        messages.success(
            request,
            _("Bed %(bed)s: %(state)s.") % {"bed": str(bed), "state": BedState(state).label},
        )
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return render(
            request,
            "quarantine/site_detail.html",
            _site_context(request, bed.site),
            status=exc.status,
        )
    return redirect("site_detail", pk=bed.site_id)


@staff_view
@require_http_methods(["GET", "POST"])
def site_setup(request, pk: int):
    user = request.user
    access.require(user, "site.configure")
    site = selectors.site_get(user, pk)
    initial = {
        "groups": list(site.groups.all()),
        "latitude": site.latitude,
        "longitude": site.longitude,
    }
    setup, rooms = SiteSetupForm(initial=initial), RoomsForm(initial={"beds": 2})
    status = 200
    if request.method == "POST":
        if request.POST.get("form") == "rooms":
            rooms = RoomsForm(request.POST)

            def add(cd):
                rows = [
                    (str(cd["first"] + i), cd.get("floor"), cd["beds"]) for i in range(cd["count"])
                ]
                return services.rooms_add(actor=user, site=site, rooms=rows)

            made, status = form_submit(rooms, add, aliases={"rooms": "first"})
            if made is not None:
                messages.success(request, _("%(n)d rooms added.") % {"n": len(made)})
                return redirect("site_setup", pk=site.pk)
        else:
            setup = SiteSetupForm(request.POST)

            def configure(cd):
                return services.site_configure(
                    actor=user,
                    site=site,
                    groups=list(cd["groups"]),
                    latitude=cd.get("latitude"),
                    longitude=cd.get("longitude"),
                )

            _site, status = form_submit(setup, configure)
            if status == 200:
                messages.success(request, _("Site saved."))
                return redirect("site_setup", pk=site.pk)
    counts = site.rooms.count(), site.beds.count()
    return render(
        request,
        "quarantine/site_setup.html",
        {"site": site, "setup": setup, "rooms_form": rooms, "counts": counts},
        status=status,
    )


# --- placements --------------------------------------------------------------------------------

STATUS_TABS = [("holding", _("Current")), *PlacementStatus.choices, ("any", _("Any"))]


@staff_view
def placement_list(request):
    user = request.user
    status = request.GET.get("status", "holding")
    if status not in dict(STATUS_TABS):
        status = "holding"
    qs = selectors.placement_list(
        user,
        status="" if status in ("any", "holding") else status,
        holding=status == "holding",
        person=_person_filter(user, request.GET.get("person")),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "quarantine/placement_list.html",
        {
            "page": page,
            "status": status,
            "statuses": STATUS_TABS,
            "person": request.GET.get("person", ""),
        },
    )


def _person_filter(user, raw):

    pk = _pk(raw)
    if pk is None:
        return None
    return Person(pk=pk)


@staff_view
@require_http_methods(["GET", "POST"])
def placement_create(request):
    user = request.user
    access.require(user, "placement.manage")
    data = request.POST if request.method == "POST" else request.GET
    person, decision = selectors.placement_subject(
        user, _pk(data.get("person")), _pk(data.get("decision"))
    )
    # The decision implies the group (a close contact, a traveller from Hubei...) and may name
    # the site: both come preset, and health staff change them only when they must.
    group = selectors.group_find(pk=_pk(data.get("group")))
    implied = selectors.group_implied(decision) if group is None and "group" not in data else None
    group = group or implied
    choices = services.site_choices(group=group) if group else []
    current = services.placement_holding(person)
    status = 200
    if request.method == "POST":
        form = PlacementForm(request.POST, choices=choices)
        if form.is_valid():
            cd = form.cleaned_data
            try:
                source = cd.get("source") or PlacementSource.DECISION
                if cd["where"] == "home":
                    placement = services.placement_home(
                        actor=user,
                        person=person,
                        source=source,
                        decision=decision,
                        client_id=cd.get("client_id"),
                    )
                else:
                    placement = services.placement_reserve(
                        actor=user,
                        person=person,
                        site=selectors.site_pick(cd.get("site")),
                        group=cd.get("group"),
                        source=source,
                        decision=decision,
                        transport=cd.get("transport", ""),
                        expected_at=cd.get("expected_at"),
                        client_id=cd.get("client_id"),
                    )
                messages.success(request, _("Placement recorded."))
                return redirect("placement_detail", pk=placement.pk)
            except Conflict as exc:
                if exc.details.get("id"):
                    messages.info(request, exc.message)
                    return redirect("placement_detail", pk=exc.details["id"])
                form_add_domain_error(form, exc)
                status = exc.status
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
        else:
            status = 400
    else:
        initial = {
            "person": person.pk,
            "decision": decision.pk if decision else None,
            "client_id": uuid.uuid4(),
            "group": group,
            "where": "site",
            "source": data.get("source") or PlacementSource.DECISION,
        }
        chosen = selectors.site_of_decision(decision)
        if chosen is not None and any(c.site.pk == chosen.pk for c in choices):
            initial["site"] = chosen.pk
        elif choices:
            initial["site"] = choices[0].site.pk
        form = PlacementForm(initial=initial, choices=choices)
    return render(
        request,
        "quarantine/placement_form.html",
        {
            "form": form,
            "person": person,
            "decision": decision,
            "group": group,
            "group_implied": implied is not None,
            "groups": selectors.groups_all(),
            "choices": choices,
            "current": current,
        },
        status=status,
    )


def _detail_context(request, p, transfer=None, cancel=None) -> dict:
    user = request.user
    manage = access.can(user, "placement.manage")
    holding = p.status in (PlacementStatus.RESERVED, PlacementStatus.ACTIVE)
    at_site = p.kind == PlacementKind.SITE
    others = []
    if manage and holding and at_site and p.group_id:
        others = [c for c in services.site_choices(group=p.group) if c.site.pk != p.site_id]
    # The buttons: the steps the placement's table lets this user take now.
    allowed = services.placement_allowed_steps(user, p)
    return {
        "p": p,
        "allowed_steps": allowed,
        **{f"can_{name}": name in allowed for name in services.PLACEMENT_STEPS.steps},
        "can_refuse": access.can(user, "refusal.record") and p.status == PlacementStatus.RESERVED,
        "can_notice": access.can(user, "notice.print") and holding,
        "others": others,
        "transfer_form": transfer or TransferForm(),
        "cancel_form": cancel or CancelForm(),
    }


@staff_view
def placement_detail(request, pk: int):
    p = selectors.placement_get(request.user, pk, via="ui")
    return render(request, "quarantine/placement_detail.html", _detail_context(request, p))


def _step(request, pk: int, step: str):
    user = request.user
    access.require(user, "placement.arrive" if step == "arrive" else "placement.manage")
    p = selectors.placement_get(user, pk)
    transfer, cancel = TransferForm(), CancelForm()
    target = None
    try:
        if step == "arrive":
            services.placement_arrive(actor=user, placement=p)
            messages.success(request, _("Arrival confirmed: %(name)s.") % {"name": p.person.name})
            if services.is_site_staff(user) and p.site_id:
                return redirect("site_detail", pk=p.site_id)
        elif step == "transfer":
            transfer = TransferForm(request.POST)
            transfer.is_valid()
            new = services.placement_transfer(
                actor=user,
                placement=p,
                site=selectors.site_pick(_pk(request.POST.get("site"))),
                transport=request.POST.get("transport", ""),
            )
            messages.success(request, _("Transferred: a bed is reserved at the new site."))
            target = new.pk
        elif step == "release":
            services.placement_release(actor=user, placement=p)
            messages.success(request, _("Released: the bed goes to cleaning."))
        elif step == "cancel":
            cancel = CancelForm(request.POST)
            cancel.is_valid()
            services.placement_cancel(
                actor=user, placement=p, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Placement cancelled: the bed is free again."))
        return redirect("placement_detail", pk=target or pk)
    except NotFound:
        raise
    except DomainError as exc:
        form = {"transfer": transfer, "cancel": cancel}.get(step)
        if form is not None and form.is_bound:
            form_add_domain_error(form, exc)
        if form is None or not form.errors:
            messages.error(request, exc.message)
        p = selectors.placement_get(user, pk)
        access_record(user, p, node_path=p.node.path, via="ui")
        return render(
            request,
            "quarantine/placement_detail.html",
            _detail_context(request, p, transfer=transfer, cancel=cancel),
            status=exc.status,
        )


@staff_view
@require_POST
def placement_arrive(request, pk: int):
    return _step(request, pk, "arrive")


@staff_view
@require_POST
def placement_transfer(request, pk: int):
    return _step(request, pk, "transfer")


@staff_view
@require_POST
def placement_release(request, pk: int):
    return _step(request, pk, "release")


@staff_view
@require_POST
def placement_cancel(request, pk: int):
    return _step(request, pk, "cancel")


# --- the occupancy board -----------------------------------------------------------------------


def _board(request) -> dict:
    rows = selectors.occupancy(request.user, timezone.localdate())
    return {"rows": rows[:-1], "total": rows[-1], "now": timezone.now(), "poll": POLL_SECONDS}


@staff_view
def occupancy(request):
    return render(request, "quarantine/occupancy.html", _board(request))


@staff_view
@passive
def occupancy_live(request):
    return render(request, "quarantine/_occupancy_live.html", _board(request))
