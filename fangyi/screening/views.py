"""Pages of the door-to-door sweeps. Thin: forms in, services and selectors do the work."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.models import NodeKind
from fangyi.core.web import form_add_domain_error, passive, staff_view
from fangyi.linkage.views import door_support_context
from fangyi.people.selectors import household_get, person_list

from . import selectors, services
from .forms import PURPOSES, ReassignForm, SweepForm, VisitForm
from .models import DoorStatus, SweepStatus

PAGE_SIZE = 40
LEVELS = [
    ("grid", NodeKind.GRID.label),
    ("community", NodeKind.COMMUNITY.label),
    ("station", NodeKind.STATION.label),
    ("district", NodeKind.DISTRICT.label),
]
POLL_SECONDS = 15


def _level(request) -> str:
    level = request.GET.get("level", "grid")
    return level if level in selectors.LEVELS else "grid"


# --- sweeps ----------------------------------------------------------------------------------


@staff_view
def sweep_list(request):
    access.require(request.user, "sweep.view")
    sweeps = list(selectors.sweep_list(request.user))
    return render(
        request,
        "screening/sweep_list.html",
        {
            "open": [s for s in sweeps if s.status == SweepStatus.OPEN],
            "closed": [s for s in sweeps if s.status == SweepStatus.CLOSED],
            "today": timezone.localdate(),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def sweep_create(request):
    access.require(request.user, "sweep.manage")
    if request.method == "POST":
        form = SweepForm(request.POST, user=request.user)
        if form.is_valid():
            cd = form.cleaned_data
            try:
                sweep = services.sweep_open(
                    actor=request.user,
                    node=cd["node"],
                    purpose=cd["purpose"],
                    starts=cd["starts"],
                    ends=cd["ends"],
                )
                messages.success(
                    request,
                    _("Sweep opened: %(n)d households to visit.") % {"n": sweep.household_count},
                )
                return redirect("sweep_detail", pk=sweep.pk)
            except DomainError as exc:
                form_add_domain_error(form, exc)
    else:
        today = timezone.localdate()
        form = SweepForm(
            user=request.user,
            initial={"starts": today, "ends": today + dt.timedelta(days=7)},
        )
    return render(request, "screening/sweep_form.html", {"form": form, "purposes": PURPOSES})


def _coverage_context(request, sweep) -> dict:
    level = _level(request)
    rows = selectors.coverage(request.user, sweep, level=level)
    assignees = selectors.grid_assignees(request.user, sweep) if level == "grid" else {}
    for row in rows:
        row.assignees = assignees.get(row.node.pk, []) if row.node else []
    return {
        "sweep": sweep,
        "rows": rows[:-1],
        "total": rows[-1],
        "level": level,
        "levels": LEVELS,
        "poll": POLL_SECONDS,
        "now": timezone.localtime(),
    }


@staff_view
def sweep_detail(request, pk: int):
    sweep = selectors.sweep_get(request.user, pk)
    return render(request, "screening/sweep_detail.html", _coverage_context(request, sweep))


@staff_view
@passive
def sweep_coverage(request, pk: int):
    """The coverage table alone: the detail page polls it."""
    sweep = selectors.sweep_get(request.user, pk)
    return render(request, "screening/_coverage.html", _coverage_context(request, sweep))


@staff_view
@require_POST
def sweep_close(request, pk: int):
    access.require(request.user, "sweep.manage")
    sweep = selectors.sweep_get(request.user, pk)
    try:
        services.sweep_close(actor=request.user, sweep=sweep)
        messages.success(request, _("Sweep closed."))
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    return redirect("sweep_detail", pk=pk)


@staff_view
@require_http_methods(["GET", "POST"])
def sweep_reassign(request, pk: int):
    """Give a grid's households of the sweep to another worker."""
    access.require(request.user, "sweep.manage")
    sweep = selectors.sweep_get(request.user, pk)
    raw = request.POST.get("grid") or request.GET.get("grid") or ""
    grid = access.nodes_visible(request.user).filter(pk=raw).first() if raw.isdigit() else None
    if grid is None:
        raise NotFound(_("No such grid."))
    workers = selectors.assignee_choices(request.user, grid)
    form = ReassignForm(request.POST or None, workers=workers)
    if request.method == "POST" and form.is_valid():
        try:
            n = services.assignments_reassign(
                actor=request.user,
                assignee=form.workers[form.cleaned_data["assignee"]],
                sweep=sweep,
                grid=grid,
            )
            messages.success(
                request,
                _("%(n)d households of %(grid)s given to %(name)s.")
                % {
                    "n": n,
                    "grid": grid.name,
                    "name": form.workers[form.cleaned_data["assignee"]].display_name,
                },
            )
            return redirect("sweep_detail", pk=pk)
        except DomainError as exc:
            if isinstance(exc, NotFound) and not exc.errors.get("assignee"):
                raise
            form_add_domain_error(form, exc)
    return render(
        request,
        "screening/reassign.html",
        {
            "sweep": sweep,
            "target": grid,
            "form": form,
            "action": reverse("sweep_reassign", args=[pk]),
            "grid": grid,
            "back": reverse("sweep_detail", args=[pk]),
        },
    )


# --- the households of a sweep ---------------------------------------------------------------

# Lazy: the module may load (reverse() loads every view) before any language is active.
FILTERS = [
    ("", gettext_lazy("All")),
    ("pending", DoorStatus.PENDING.label),
    ("revisits", gettext_lazy("Revisits due")),
    ("nobody_home", DoorStatus.NOBODY_HOME.label),
    ("refused", gettext_lazy("Refused (needs police)")),
    ("done", gettext_lazy("Done")),
]


@staff_view
def sweep_doors(request, pk: int):
    sweep = selectors.sweep_get(request.user, pk)
    status = request.GET.get("status", "")
    if status not in dict(FILTERS):
        status = ""
    mine = request.GET.get("mine") == "1"
    qs = selectors.assignment_list(request.user, sweep, status=status, mine=mine)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.doors_summary(request.user, sweep)
    return render(
        request,
        "screening/sweep_doors.html",
        {
            "sweep": sweep,
            "page": page,
            "status": status,
            "mine": mine,
            "filters": [(key, label, counts["all" if not key else key]) for key, label in FILTERS],
            "counts": counts,
            "today": timezone.localdate(),
        },
    )


# --- one door --------------------------------------------------------------------------------


def _door_context(request, assignment, form) -> dict:
    visits = list(selectors.visit_list(request.user, assignment))
    latest = visits[0] if visits else None
    members = list(person_list(request.user, household=assignment.household))
    declared: set[int] = set()
    if latest is not None and latest.outcome == DoorStatus.VISITED:
        declared = set(latest.declarations.values_list("person_id", flat=True))

    return {
        **door_support_context(request.user, assignment),
        "door": assignment,
        "sweep": assignment.sweep,
        "visits": visits,
        "latest": latest,
        "members": members,
        "declared": declared,
        "form": form,
        "outcomes": [
            (DoorStatus.VISITED, DoorStatus.VISITED.label),
            (DoorStatus.NOBODY_HOME, DoorStatus.NOBODY_HOME.label),
            (DoorStatus.REFUSED, DoorStatus.REFUSED.label),
            (DoorStatus.MOVED_AWAY, DoorStatus.MOVED_AWAY.label),
        ],
        "can_record": access.can(request.user, "visit.record")
        and assignment.sweep.status == SweepStatus.OPEN,
        "today": timezone.localdate(),
    }


@staff_view
@require_http_methods(["GET", "POST"])
def door_detail(request, pk: int):
    """One household in a sweep: its members, every attempt, and the form for the next one."""
    if request.method == "POST":
        access.require(request.user, "visit.record")
        assignment = selectors.assignment_get(request.user, pk)
        form = VisitForm(request.POST)
        status = 400
        if form.is_valid():
            cd = form.cleaned_data
            try:
                visit = services.door_visit_record(
                    actor=request.user,
                    assignment=assignment,
                    outcome=cd["outcome"],
                    latitude=cd["latitude"] or None,
                    longitude=cd["longitude"] or None,
                    accuracy=cd["accuracy"] or None,
                    notes=cd["notes"],
                    client_id=cd.get("client_id"),
                )
                messages.success(
                    request,
                    _("Recorded: %(outcome)s.") % {"outcome": visit.get_outcome_display()},
                )
                return redirect("door_detail", pk=pk)
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise
                form_add_domain_error(form, exc)
                status = exc.status
        # The page comes back with the household's members: a read like the GET's.
        access_record(request.user, assignment.household, node_path=assignment.node.path, via="ui")
        return render(
            request,
            "screening/door_detail.html",
            _door_context(request, assignment, form),
            # htmx swaps only successful answers: the form with its errors comes back as 200.
            status=200 if request.htmx else status,
        )
    assignment = selectors.assignment_get(request.user, pk, via="ui")
    return render(
        request, "screening/door_detail.html", _door_context(request, assignment, VisitForm())
    )


@staff_view
@require_http_methods(["GET", "POST"])
def door_reassign(request, pk: int):
    """Give one household of a sweep to another worker."""
    access.require(request.user, "sweep.manage")
    assignment = selectors.assignment_get(request.user, pk)
    workers = selectors.assignee_choices(request.user, assignment.node)
    form = ReassignForm(request.POST or None, workers=workers)
    if request.method == "POST" and form.is_valid():
        worker = form.workers[form.cleaned_data["assignee"]]
        try:
            services.assignments_reassign(
                actor=request.user, assignee=worker, assignments=[assignment]
            )
            messages.success(
                request, _("Household given to %(name)s.") % {"name": worker.display_name}
            )
            return redirect("door_detail", pk=pk)
        except DomainError as exc:
            if isinstance(exc, NotFound) and not exc.errors.get("assignee"):
                raise
            form_add_domain_error(form, exc)
    return render(
        request,
        "screening/reassign.html",
        {
            "sweep": assignment.sweep,
            "target": assignment.household,
            "door": assignment,
            "form": form,
            "action": reverse("door_reassign", args=[pk]),
            "back": reverse("door_detail", args=[pk]),
        },
    )


@staff_view
def household_doors(request, pk: int):
    """The household page's panel (loaded with HTMX): its doors in sweeps, one tap each."""

    household = household_get(request.user, pk)
    doors = selectors.household_doors(request.user, household)
    return render(request, "screening/_household_doors.html", {"doors": doors})
