"""Pages of fangyi.linkage: support requests, their steps, the response targets, the dispatch
board of a station. Thin: forms in, services and selectors do the work."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import User
from fangyi.core.scoping import scoped_get
from fangyi.core.selectors import nearest_workers
from fangyi.core.web import form_add_domain_error, passive, staff_view
from fangyi.people.models import Household, Person
from fangyi.screening.models import Assignment, DoorStatus, SweepStatus
from fangyi.tips.models import Tip

from . import selectors, services
from .forms import DeclineForm, DoneForm, SupportForm, TargetsForm
from .models import RUNNING, Agency, RequestStatus, Urgency
from .templatetags.linkage_tags import ago_text, left_text

PAGE_SIZE = 40
POLL_SECONDS = 5
TABS = [
    ("to_me", _("To me")),
    ("mine", _("Asked by me")),
    ("all", _("All")),
]
STATUS_TABS = [
    ("active", _("Open")),
    ("overdue", _("Overdue")),
    ("closed", _("Closed")),
    ("any", _("Any")),
]


def _with_timers(requests, now=None):
    now = now or timezone.now()
    for r in requests:
        r.timer = selectors.request_timer(r, now)
    return requests


# --- the list ----------------------------------------------------------------------------------


@staff_view
def support_list(request):
    user = request.user
    access.require(user, "support.view")
    tab = request.GET.get("tab", "")
    if tab not in dict(TABS):
        tab = "to_me" if access.can(user, "support.respond") else "all"
    status = request.GET.get("status", "active")
    if status not in dict(STATUS_TABS):
        status = "active"
    qs = selectors.support_list(
        user,
        status="" if status == "any" else status,
        mine=tab == "mine",
        to_me=tab == "to_me",
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_timers(page.object_list)
    return render(
        request,
        "linkage/support_list.html",
        {
            "page": page,
            "tab": tab,
            "tabs": TABS,
            "status": status,
            "statuses": STATUS_TABS,
            "now": timezone.now(),
        },
    )


# --- asking ------------------------------------------------------------------------------------


def _pk(raw) -> int | None:
    raw = str(raw or "").strip()
    return int(raw) if raw.isdigit() else None


def _subject(user: User, data) -> dict:
    """The subject a form or query string names, among the records the user may see; NotFound
    for one outside the jurisdiction, as for one that does not exist."""

    found: dict = {}
    roads = {
        "household": (Household, ("node",), _("No such household.")),
        "person": (Person, ("node", "household"), _("No such person.")),
        "tip": (Tip, ("node", "category"), _("No such tip.")),
        "door": (Assignment, ("node", "household", "sweep"), _("No such household in this sweep.")),
    }
    for key, (model, related, missing) in roads.items():
        raw = data.get(key)
        if raw in (None, ""):
            continue
        obj = scoped_get(model, user, _pk(raw) or None, related=related, field=key, message=missing)
        found["assignment" if key == "door" else key] = obj
    return found


def _subject_text(subject: dict) -> str:
    if "assignment" in subject:
        a = subject["assignment"]
        return _("Refused door: %(address)s (%(purpose)s)") % {
            "address": a.household.address,
            "purpose": a.sweep.purpose,
        }
    if "household" in subject:
        return _("Household: %(address)s") % {"address": subject["household"].address}
    if "person" in subject:
        return _("Person: %(name)s") % {"name": subject["person"].name}
    if "tip" in subject:
        t = subject["tip"]
        return _("Tip %(code)s: %(category)s") % {"code": t.code, "category": t.category.name}
    return ""


def _people(subject: dict) -> list[User]:
    if len(subject) != 1 and "assignment" not in subject:
        return []
    obj = subject.get("assignment") or next(iter(subject.values()), None)
    if obj is None:
        return []
    return nearest_workers(obj.node, tuple(access.FIELD_ROLES))


@staff_view
@require_http_methods(["GET", "POST"])
def support_create(request):
    user = request.user
    access.require(user, "support.request")
    data = request.POST if request.method == "POST" else request.GET
    subject = _subject(user, data)
    people = _people(subject)
    status = 200
    if request.method == "POST":
        form = SupportForm(request.POST, people=people)
        # The one tap from a refused door sends door and agency only.
        if "assignment" in subject:
            form.fields["urgency"].required = False
        if form.is_valid():
            cd = form.cleaned_data
            target = next((u for u in people if u.pk == cd.get("target_user")), None)
            if cd.get("target_user") and target is None:
                target = User(pk=cd["target_user"])  # refused by the service, without a name
            try:
                support = services.support_request_create(
                    actor=user,
                    agency=cd["agency"],
                    need=cd["need"],
                    urgency=cd["urgency"] or Urgency.HIGH,
                    target_user=target,
                    client_id=cd.get("client_id"),
                    **{k: subject.get(k) for k in ("household", "person", "tip", "assignment")},
                )
                messages.success(
                    request,
                    _("Support asked of the %(agency)s.")
                    % {"agency": support.get_agency_display()},
                )
                return redirect("support_detail", pk=support.pk)
            except Conflict as exc:
                if exc.details.get("id"):
                    messages.info(request, exc.message)
                    return redirect("support_detail", pk=exc.details["id"])
                form_add_domain_error(form, exc, {"assignment": "door"})
                status = exc.status
            except NotFound:
                raise
            except DomainError as exc:
                form_add_domain_error(form, exc, {"assignment": "door", "subject": None})
                status = exc.status
        else:
            status = 400
    else:
        initial = {
            k: v for k, v in request.GET.items() if k in ("household", "person", "tip", "door")
        }
        initial["client_id"] = uuid.uuid4()
        if "assignment" in subject:
            initial.update(agency=Agency.POLICE, urgency=Urgency.HIGH)
        form = SupportForm(initial=initial, people=people)
    return render(
        request,
        "linkage/support_form.html",
        {
            "form": form,
            "subject": subject,
            "subject_text": _subject_text(subject),
            "targets": (targets := selectors.response_targets()),
            "target_labels": [(Urgency(u).label, m) for u, m in targets.items()],
        },
        status=status,
    )


# --- one request -------------------------------------------------------------------------------


STEP_NAMES = [
    ("created_at", _("Asked")),
    ("accepted_at", _("Accepted")),
    ("arrived_at", _("Arrived")),
    ("done_at", _("Done")),
    ("declined_at", _("Declined")),
    ("cancelled_at", _("Cancelled")),
    ("escalated_at", _("Overdue: supervisors told")),
]


def _detail_context(request, support, decline=None, done=None) -> dict:
    user = request.user
    steps = [(label, getattr(support, f)) for f, label in STEP_NAMES if getattr(support, f)]
    steps.sort(key=lambda s: s[1])
    allowed = services.support_request_allowed_steps(user, support)
    return {
        "s": support,
        "steps": steps,
        "timer": selectors.request_timer(support),
        "running": support.status in RUNNING,
        "can_answer": services.may_answer(user, support),
        # The buttons: the steps the request's table lets this user take now.
        "allowed_steps": allowed,
        **{f"can_{name}": name in allowed for name in services.SUPPORT_STEPS.steps},
        "decline_form": decline or DeclineForm(),
        "done_form": done or DoneForm(),
        "now": timezone.now(),
    }


@staff_view
def support_detail(request, pk: int):
    support = selectors.support_get(request.user, pk, via="ui")
    return render(request, "linkage/support_detail.html", _detail_context(request, support))


def _step_view(request, pk: int, step: str):
    user = request.user
    access.require(user, services.SUPPORT_STEPS.steps[step].action)
    support = selectors.support_get(user, pk)
    decline, done = DeclineForm(), DoneForm()
    try:
        if step == "accept":
            services.support_accept(actor=user, request=support)
            messages.success(request, _("Accepted: the timer runs until you arrive."))
        elif step == "decline":
            decline = DeclineForm(request.POST)
            decline.is_valid()
            services.support_decline(
                actor=user, request=support, reason=decline.cleaned_data.get("reason", "")
            )
            messages.success(request, _("Declined."))
        elif step == "arrive":
            services.support_arrive(actor=user, request=support)
            messages.success(request, _("Arrival recorded."))
        elif step == "done":
            done = DoneForm(request.POST)
            done.is_valid()
            services.support_done(
                actor=user, request=support, outcome=done.cleaned_data.get("outcome", "")
            )
            messages.success(request, _("Done: the request is closed."))
        elif step == "cancel":
            services.support_cancel(actor=user, request=support)
            messages.success(request, _("Request cancelled."))
        return redirect("support_detail", pk=pk)
    except (NotFound, Forbidden):
        raise
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("support_detail", pk=pk)
    except DomainError as exc:
        form = decline if step == "decline" else done
        form_add_domain_error(form, exc)
        support.refresh_from_db()
        access_record(user, support, node_path=support.node.path, via="ui")
        return render(
            request,
            "linkage/support_detail.html",
            _detail_context(request, support, decline=decline, done=done),
            status=exc.status,
        )


@staff_view
@require_POST
def support_accept(request, pk: int):
    return _step_view(request, pk, "accept")


@staff_view
@require_POST
def support_decline(request, pk: int):
    return _step_view(request, pk, "decline")


@staff_view
@require_POST
def support_arrive(request, pk: int):
    return _step_view(request, pk, "arrive")


@staff_view
@require_POST
def support_done(request, pk: int):
    return _step_view(request, pk, "done")


@staff_view
@require_POST
def support_cancel(request, pk: int):
    return _step_view(request, pk, "cancel")


# --- configuration -----------------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def targets(request):
    access.require(request.user, "linkage.configure")
    current = selectors.response_targets()
    for value in Urgency.values:
        current.setdefault(value, services.target_minutes(value))
    form = TargetsForm(request.POST or None, targets=current)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.response_targets_set(actor=request.user, minutes=form.cleaned_data)
                messages.success(request, _("Response targets saved."))
                return redirect("support_targets")
            except DomainError as exc:
                form_add_domain_error(form, exc)
        status = 400
    return render(request, "linkage/targets.html", {"form": form}, status=status)


# --- the dispatch board ------------------------------------------------------------------------


@staff_view
def dispatch_choose(request):
    stations = selectors.board_stations(request.user)
    if len(stations) == 1:
        return redirect("dispatch_board", pk=stations[0].pk)
    return render(request, "linkage/dispatch_choose.html", {"stations": stations})


def _timer_fields(row: dict, start, due) -> None:
    """What the board's row shows of its timer, worked out once here rather than by template
    tags per row (the fragment is polled by every board every few seconds)."""
    running = due is not None and row["left"] is not None
    row["due_ts"] = int(due.timestamp()) if running else ""
    row["since_ts"] = int(start.timestamp())
    row["timer_css"] = (" over" if row["overdue"] else "") if running else " done"
    if running:
        row["timer_text"] = left_text(row["left"])
    else:
        row["timer_text"] = ago_text(row["elapsed"])


def _board_context(request, pk: int) -> dict:
    station = selectors.board_station_get(request.user, pk)
    board = selectors.board(request.user, station)
    for t in board.tips:
        _timer_fields(t, t["received_at"], t["due_at"])
    for r in board.requests:
        _timer_fields(r, r["since"], r["due_at"])
        r["need_short"] = r["need"] if len(r["need"]) <= 140 else r["need"][:139] + "…"
    return {
        "board": board,
        "poll": POLL_SECONDS,
        "live_url": reverse("dispatch_live", args=[station.pk]),
    }


@staff_view
def dispatch_board(request, pk: int):
    return render(request, "linkage/dispatch_board.html", _board_context(request, pk))


@staff_view
@passive
def dispatch_live(request, pk: int):
    """The board's lists alone: the page polls this every few seconds."""
    return render(request, "linkage/_board_live.html", _board_context(request, pk))


# --- panels of other apps' pages ---------------------------------------------------------------


@staff_view
def tip_support(request, pk: int):
    """The tip page's panel (loaded with HTMX): the tip's support requests and a link to ask."""

    user = request.user
    access.require(user, "support.view")
    tip = scoped_get(Tip, user, pk, related=("node",), message=_("No such tip."))
    requests = _with_timers(selectors.tip_support(user, tip))
    access_record(user, tip, node_path=tip.node.path, via="panel")
    return render(
        request,
        "linkage/_tip_panel.html",
        {"tip": tip, "requests": requests, "now": timezone.now()},
    )


def door_support_context(user: User, assignment) -> dict:
    """What the door page of a sweep shows about police support (templates/linkage/
    _door_support.html): the latest request made from this door with its status and timer, or
    the one-tap button when the door was refused and nothing was asked yet (or the last request
    was declined or cancelled)."""

    support = selectors.door_support(user, assignment)
    refused = assignment.needs_police or assignment.status == DoorStatus.REFUSED
    may = (
        refused
        and access.can(user, "support.request")
        and assignment.sweep.status == SweepStatus.OPEN
    )
    ended = (RequestStatus.DECLINED, RequestStatus.CANCELLED)
    return {
        "door_support": support,
        "door_support_timer": selectors.request_timer(support) if support else None,
        "door_support_offer": may and support is None,
        "door_support_again": may and support is not None and support.status in ended,
        "door_support_key": uuid.uuid4(),
        "support_now": timezone.now(),
    }
