"""Pages of the patrol part of fangyi.patrols, made for a phone on the street: start a patrol,
record its events with big buttons, end it; what an event leads to in one tap; the coverage
of the plans and the supervisor's plan form. Thin: forms in, services and selectors do the
work. The duty posts' pages are in views_posts.py."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangyi.core import access
from fangyi.core.errors import DomainError, Forbidden, NotFound
from fangyi.core.photos import photo_response
from fangyi.core.web import form_add_domain_error, form_submit, staff_view
from fangyi.tips.models import Resolution

from . import selectors, services
from .forms import EndForm, EventForm, PlanForm, ResolveForm, StartForm
from .models import Activity, EventKind, InspectionResult, Method, Outcome

# Which fields each kind of event asks for (the rest are not shown).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    EventKind.GATHERING: ("people", "activity", "statements", "outcome"),
    EventKind.PUBLICITY: ("methods", "reached", "materials"),
    EventKind.MASKS: ("people", "statements"),
    EventKind.INSPECTION: ("result",),
    EventKind.OTHER: (),
}
KIND_ICONS: dict[str, str] = {
    EventKind.GATHERING: "👥",
    EventKind.PUBLICITY: "📢",
    EventKind.MASKS: "😷",
    EventKind.INSPECTION: "🏪",
    EventKind.OTHER: "📝",
}


def _position(cd) -> services.Position:
    return services.Position(cd.get("latitude"), cd.get("longitude"), cd.get("accuracy"))


@staff_view
def patrol_list(request):
    user = request.user
    under_way = request.GET.get("under_way") == "1"
    patrols = selectors.patrol_list(user, under_way=True if under_way else None)[:100]
    mine = selectors.patrol_list(user, under_way=True, leader=user).first()
    return render(
        request,
        "patrols/patrol_list.html",
        {
            "patrols": patrols,
            "mine": mine,
            "under_way": under_way,
            "can_record": access.can(user, "patrol.record"),
            "can_plan": access.can(user, "patrol.plan"),
        },
    )


@staff_view
def patrol_start(request):
    user = request.user
    access.require(user, "patrol.record")
    areas = selectors.area_choices(user)
    chosen = None
    raw = request.POST.get("node") or request.GET.get("node")
    if raw:
        # A jurisdiction not one of the user's answers 404, as one that does not exist.
        chosen = access.node_get(user, int(raw) if raw.isdigit() and len(raw) <= 12 else 0)
    status = 200
    if request.method == "POST":
        form = StartForm(request.POST)

        def call(cd):
            node = services.nodes_for(user, [cd["node"]], field_name="node")[0]
            return services.patrol_start(
                actor=user,
                node=node,
                compounds=services.nodes_for(user, cd["compounds"], field_name="compounds"),
                companions=services.users_for(cd["companions"]),
                others=cd["others"],
                position=_position(cd),
                client_id=cd.get("client_id"),
            )

        patrol, status = form_submit(form, call)
        if patrol is not None:
            messages.success(request, _("Patrol started."))
            return redirect("patrol_detail", pk=patrol.pk)
    else:
        form = StartForm(initial={"node": chosen.pk if chosen else None})
    compounds = selectors.compounds_under(user, chosen) if chosen else []
    picked = set(form["compounds"].value() or []) if form.is_bound else set()
    return render(
        request,
        "patrols/patrol_start.html",
        {
            "form": form,
            "areas": areas,
            "chosen": chosen,
            "compounds": [(c, str(c.pk) in {str(p) for p in picked}) for c in compounds],
            "companions": services.companion_choices(chosen, user) if chosen else [],
            "running": selectors.patrol_list(user, under_way=True, leader=user).first(),
        },
        status=status,
    )


@staff_view
def patrol_detail(request, pk: int):
    user = request.user
    patrol = selectors.patrol_get(user, pk, via="ui")
    detail = selectors.patrol_detail(patrol)
    can = access.can(user, "patrol.record") and services.on_patrol(user, patrol)
    return render(
        request,
        "patrols/patrol_detail.html",
        {
            "patrol": patrol,
            **detail,
            "can_record": can and patrol.under_way,
            # the phone adds to the route only for those walking the patrol
            "tracks": can and patrol.under_way and services.walking(user, patrol),
            "kinds": [(k, label, KIND_ICONS[k]) for k, label in EventKind.choices],
            "end_form": EndForm(),
            "route_svg": _route_svg(detail["route"]),
        },
    )


def _route_svg(route) -> dict | None:
    """The route as an SVG polyline in a 100×100 box (north up), without a map: the positions
    the phone gave, in order. None with fewer than two."""
    if len(route) < 2:
        return None
    lats = [float(r[1]) for r in route]
    lons = [float(r[2]) for r in route]
    span = max(max(lats) - min(lats), max(lons) - min(lons), 1e-5)
    points = " ".join(
        f"{(lon - min(lons)) / span * 90 + 5:.1f},{95 - (lat - min(lats)) / span * 90:.1f}"
        for lat, lon in zip(lats, lons, strict=True)
    )
    metres = span * 111_000
    return {"points": points, "metres": round(metres)}


@staff_view
def event_create(request, pk: int):
    user = request.user
    access.require(user, "patrol.record")
    patrol = selectors.patrol_get(user, pk)
    kind = request.POST.get("kind") or request.GET.get("kind") or EventKind.GATHERING
    if kind not in EventKind.values:
        kind = EventKind.OTHER
    compounds = selectors.compounds_under(user, patrol.node)
    status = 200
    if request.method == "POST":
        form = EventForm(request.POST)
        if form.is_valid():
            cd = form.cleaned_data
            try:
                node = (
                    services.nodes_for(user, [cd["node"]], field_name="node")[0]
                    if cd.get("node")
                    else None
                )
                event = services.patrol_event_record(
                    actor=user,
                    patrol=patrol,
                    data=services.EventInput(
                        kind=cd["kind"],
                        node=node,
                        at=cd.get("at"),
                        address=cd["address"],
                        position=_position(cd),
                        people=cd.get("people"),
                        activity=cd.get("activity") or "",
                        statements=cd["statements"],
                        outcome=cd.get("outcome") or "",
                        methods=cd.get("methods") or [],
                        reached=cd.get("reached"),
                        materials=cd.get("materials"),
                        result=cd.get("result") or "",
                        notes=cd["notes"],
                    ),
                    photos=request.FILES.getlist("photos"),
                    client_id=cd.get("client_id"),
                )
                messages.success(
                    request, _("Recorded: %(what)s.") % {"what": event.get_kind_display()}
                )
                if event.outcome == "refused" or event.kind == EventKind.OTHER:
                    return redirect("patrol_event_detail", pk=event.pk)
                return redirect("patrol_detail", pk=patrol.pk)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
        else:
            status = 400
        if request.FILES:
            form.add_error(
                "photos", _("Choose the photos again: a form sent back does not keep them.")
            )
    else:
        initial = {"kind": kind}  # no time: the service takes the moment it is saved
        if len(compounds) == 1:
            initial["node"] = compounds[0].pk
        form = EventForm(initial=initial)
    return render(
        request,
        "patrols/event_form.html",
        {
            "patrol": patrol,
            "form": form,
            "kind": kind,
            "kind_label": EventKind(kind).label,
            "show": set(KIND_FIELDS[EventKind(kind)]),
            "compounds": compounds,
            "activities": Activity.choices,
            "outcomes": Outcome.choices,
            "methods": Method.choices,
            "results": InspectionResult.choices,
        },
        status=status,
    )


@staff_view
@require_POST
def patrol_end(request, pk: int):
    user = request.user
    patrol = selectors.patrol_get(user, pk)
    form = EndForm(request.POST)
    done, status = form_submit(
        form,
        lambda cd: services.patrol_end(
            actor=user,
            patrol=patrol,
            at=cd.get("at"),
            summary=cd["summary"],
            position=_position(cd),
        ),
    )
    if done is not None:
        messages.success(request, _("Patrol ended."))
        return redirect("patrol_detail", pk=pk)
    detail = selectors.patrol_detail(patrol)
    return render(
        request,
        "patrols/patrol_detail.html",
        {
            "patrol": patrol,
            **detail,
            "can_record": status != 403 and patrol.under_way,
            "tracks": False,
            "kinds": [(k, label, KIND_ICONS[k]) for k, label in EventKind.choices],
            "end_form": form,
            "route_svg": _route_svg(detail["route"]),
        },
        status=status,
    )


@staff_view
@require_POST
def patrol_route(request, pk: int):
    """The phone's positions (patrols.js posts them every few minutes while the page is open):
    JSON {"points": [{"at", "latitude", "longitude", "accuracy"}]}."""
    user = request.user
    access.require(user, "patrol.record")
    patrol = selectors.patrol_get(user, pk)
    try:
        body = json.loads(request.body or b"{}")
        points = body["points"] if isinstance(body, dict) else None
        if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
            raise ValueError
        parsed = []
        for p in points:
            at = dt.datetime.fromisoformat(str(p.get("at"))) if p.get("at") else None
            parsed.append((at, p.get("latitude"), p.get("longitude"), p.get("accuracy")))
    except (ValueError, KeyError, TypeError):
        return JsonResponse(
            {"detail": _('Send JSON: {"points": [...]}.'), "errors": []}, status=400
        )
    try:
        result = services.route_add(actor=user, patrol=patrol, points=parsed)
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    refused = [{"field": k, "message": m[0]} for k, m in result.refused.items()]
    return JsonResponse({"added": result.added, "refused": refused})


@staff_view
def event_detail(request, pk: int):
    user = request.user
    event = selectors.event_get(user, pk, via="ui")
    on = access.can(user, "patrol.record") and services.on_patrol(user, event.patrol)
    return render(
        request,
        "patrols/event_detail.html",
        {
            "event": event,
            "photo_ids": list(event.photos.values_list("pk", flat=True)),
            "can_act": on,
            "can_enforce": on and access.can(user, "enforcement.record"),
            "open_tips": selectors.open_tips_at(user, event) if on else [],
            "resolutions": [(k, v) for k, v in Resolution.choices if k != "duplicate"],
        },
    )


def _event_action(request, pk: int, action):
    """An event's one-tap action: the refusals of the policy and the jurisdiction answer 403
    and 404 as everywhere; any other refusal comes back to the event page as a message."""
    user = request.user
    access.require(user, "patrol.record")
    event = selectors.event_get(user, pk)
    if not services.on_patrol(user, event.patrol):
        raise Forbidden(_("Only the people on this patrol record on it."))
    try:
        return action(user, event)
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("patrol_event_detail", pk=pk)


@staff_view
@require_POST
def event_tip(request, pk: int):
    def act(user, event):
        tip = services.event_tip(actor=user, event=event)
        messages.success(request, _("Tip %(code)s raised.") % {"code": tip.code})
        return redirect("tip_detail", pk=tip.pk)

    return _event_action(request, pk, act)


@staff_view
@require_POST
def event_support(request, pk: int):
    def act(user, event):
        req = services.event_support(actor=user, event=event)
        messages.success(request, _("The police are asked for support."))
        return redirect("support_detail", pk=req.pk)

    return _event_action(request, pk, act)


@staff_view
@require_POST
def event_enforcement(request, pk: int):
    """One tap to the enforcement form, prefilled from the event (on the event's tip)."""

    def act(user, event):
        access.require(user, "enforcement.record")
        tip = services.event_tip(actor=user, event=event)
        query = urlencode({"tip": tip.pk, "patrol_event": event.pk})
        return redirect(f"/enforcement/new/?{query}")

    return _event_action(request, pk, act)


@staff_view
@require_POST
def event_resolve(request, pk: int):
    form = ResolveForm(request.POST)

    def act(user, event):
        if not form.is_valid():
            raise DomainError(_("Choose the tip and how it was resolved."), field="tip")
        tip = selectors.tip_for(user, form.cleaned_data["tip"], field="tip")
        services.event_resolves_tip(
            actor=user, event=event, tip=tip, resolution=form.cleaned_data["resolution"]
        )
        messages.success(request, _("Tip %(code)s resolved.") % {"code": tip.code})
        return redirect("patrol_event_detail", pk=pk)

    return _event_action(request, pk, act)


@staff_view
def photo(request, pk: int):
    return photo_response(selectors.photo_get(request.user, pk, via="ui"))


@staff_view
def coverage(request):
    user = request.user
    access.require(user, "patrol.view")
    node = None
    raw = request.GET.get("node", "")
    if raw.isdigit() and len(raw) <= 12:
        node = access.node_get(user, int(raw))
    rows, overdue, planned = selectors.coverage_page(user, node=node)
    return render(
        request,
        "patrols/coverage.html",
        {
            "rows": rows,
            "node": node,
            "overdue": overdue,
            "planned": planned,
            "can_plan": access.can(user, "patrol.plan"),
            "now": timezone.now(),
        },
    )


@staff_view
def plan_form(request):
    user = request.user
    access.require(user, "patrol.plan")
    status = 200
    if request.method == "POST":
        form = PlanForm(request.POST)

        def call(cd):
            node = services.nodes_for(user, [cd["node"]], field_name="node")[0]
            responsible = (
                services.users_for([cd["responsible"]], field_name="responsible")[0]
                if cd.get("responsible")
                else None
            )
            return services.plan_set(
                actor=user, node=node, times_per_day=cd["times_per_day"], responsible=responsible
            )

        n, status = form_submit(form, call)
        if n is not None:
            messages.success(request, _("Plan set for %(n)d compounds.") % {"n": n})
            return redirect("patrol_coverage")
    else:
        form = PlanForm(initial={"times_per_day": 2})
    return render(
        request,
        "patrols/plan_form.html",
        {
            "form": form,
            "nodes": selectors.plan_nodes(user),
            "people": selectors.responsible_choices(user),
        },
        status=status,
    )
