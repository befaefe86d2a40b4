"""The REST API of fangyi.linkage: support requests, their steps, the dispatch board, the
response targets."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS, StepsOut
from fangyi.core.errors import DomainError
from fangyi.core.models import User
from fangyi.core.scoping import scoped_get
from fangyi.people.models import Household, Person
from fangyi.screening.models import Assignment
from fangyi.tips.models import Tip

from . import selectors, services
from .models import Agency, SupportRequest, Urgency

router = Router(tags=["linkage"])

# The services name the subject; the API's fields carry _id.
FIELDS = {
    "household": "household_id",
    "person": "person_id",
    "tip": "tip_id",
    "assignment": "assignment_id",
    "target_user": "target_user_id",
}


def _api_fields(exc: DomainError) -> DomainError:
    exc.errors = {FIELDS.get(k, k): v for k, v in exc.errors.items()}
    return exc


# --- schemas ---------------------------------------------------------------------------------


class SupportOut(Schema):
    id: int
    node_id: int = Field(..., description="Where the support is needed; scopes the request.")
    node_name: str = Field(..., alias="node.name", examples=["机务小区"])
    from_node_id: int | None = Field(None, description="The requester's own node above it.")
    agency: str = Field(..., examples=["police"])
    target_user_id: int | None
    target_user_name: str = ""
    requested_by_id: int
    requested_by_name: str = ""
    requester_agency: str = Field("", examples=["community"])
    household_id: int | None
    person_id: int | None
    tip_id: int | None
    assignment_id: int | None = Field(None, description="The refused door it was asked from.")
    need: str = Field(..., examples=["住户拒不开门,请民警协助入户排查"])
    urgency: str = Field(..., examples=["high"])
    target_minutes: int = Field(..., examples=[30])
    status: str = Field(..., examples=["open"])
    created_at: dt.datetime
    due_at: dt.datetime
    accepted_at: dt.datetime | None
    accepted_by_id: int | None
    declined_at: dt.datetime | None
    decline_reason: str
    arrived_at: dt.datetime | None
    done_at: dt.datetime | None
    outcome: str
    cancelled_at: dt.datetime | None
    escalated_at: dt.datetime | None
    seconds_elapsed: int = Field(
        0, description="Since asked (or since its last step, once closed)."
    )
    seconds_left: int | None = Field(
        None, description="Until due while running; negative once overdue; null otherwise."
    )
    overdue: bool = False

    @staticmethod
    def resolve_target_user_name(obj) -> str:
        return obj.target_user.display_name if obj.target_user_id else ""

    @staticmethod
    def resolve_requested_by_name(obj) -> str:
        return obj.requested_by.display_name

    @staticmethod
    def resolve_seconds_elapsed(obj) -> int:
        return selectors.request_timer(obj)["elapsed"]

    @staticmethod
    def resolve_seconds_left(obj) -> int | None:
        return selectors.request_timer(obj)["left"]

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return selectors.request_timer(obj)["overdue"]


class SupportIn(Schema):
    agency: Literal[tuple(Agency.values)] = Field(..., examples=["police"])  # type: ignore[valid-type]
    urgency: Literal[tuple(Urgency.values)] = Field("high", examples=["urgent"])  # type: ignore[valid-type]
    need: str = Field(
        "",
        max_length=1000,
        examples=["住户拒不开门,请民警协助入户排查"],
        description="Required, except from a refused door (filled in from the sweep).",
    )
    target_user_id: int | None = Field(None, description="Only with agency 'user'.")
    household_id: int | None = Field(None, description="Exactly one of the four subjects.")
    person_id: int | None = None
    tip_id: int | None = None
    assignment_id: int | None = Field(None, description="A refused door of a sweep.")
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class DeclineIn(Schema):
    reason: str = Field(..., max_length=500, examples=["本所警力正在处置聚集,请联系北湖派出所"])


class SupportArriveIn(Schema):
    at: dt.datetime | None = Field(None, description="When; defaults to now.")


class DoneIn(Schema):
    outcome: str = Field(..., max_length=1000, examples=["已陪同网格员入户,完成登记"])
    at: dt.datetime | None = Field(None, description="When; defaults to now.")


class BoardTipOut(Schema):
    id: int
    code: str = Field(..., examples=["K7Q2MX9P"])
    category: str = Field(..., examples=["聚集聚餐"])
    place: str = Field(..., examples=["南铁北四区"])
    address: str
    status: str
    urgent: bool
    received_at: dt.datetime
    due_at: dt.datetime | None
    seconds_elapsed: int
    seconds_left: int | None
    overdue: bool


class BoardRequestOut(Schema):
    id: int
    agency: str
    urgency: str
    status: str
    need: str
    place: str = Field(..., examples=["机务小区3栋2单元501"])
    requested_by: str
    accepted_by: str
    assignment_id: int | None
    created_at: dt.datetime
    due_at: dt.datetime
    escalated_at: dt.datetime | None
    seconds_elapsed: int
    seconds_left: int | None
    overdue: bool


class BoardRowOut(Schema):
    label: str = Field(..., examples=["北大路卡点"])
    detail: str
    url: str
    badge: str
    problem: bool = Field(..., description="Something to act on (nobody on duty, overdue).")


class BoardPanelOut(Schema):
    key: str = Field(..., examples=["posts"])
    title: str
    count: int
    rows: list[BoardRowOut]


class DispatchBoardOut(Schema):
    station_id: int
    station_name: str = Field(..., examples=["五里亭派出所"])
    now: dt.datetime
    tips: list[BoardTipOut]
    tips_count: int = Field(..., description="All open tips; the list holds the most urgent.")
    requests: list[BoardRequestOut]
    requests_count: int
    panels: list[BoardPanelOut] = Field(
        ..., description="The other apps' parts of the board: patrols under way, duty posts."
    )


class TargetOut(Schema):
    urgency: str = Field(..., examples=["urgent"])
    minutes: int = Field(..., examples=[10])


class TargetsIn(Schema):
    urgent: int | None = Field(None, examples=[10])
    high: int | None = Field(None, examples=[30])
    normal: int | None = Field(None, examples=[120])


# --- helpers -----------------------------------------------------------------------------------


def _subject(user: User, payload: SupportIn) -> dict:

    found = {}
    for key, model, related in (
        ("household", Household, ("node",)),
        ("person", Person, ("node",)),
        ("tip", Tip, ("node",)),
        ("assignment", Assignment, ("node", "household", "sweep")),
    ):
        pk = getattr(payload, f"{key}_id")
        if pk is None:
            continue
        found[key] = scoped_get(
            model,
            user,
            pk,
            related=related,
            field=f"{key}_id",
            message=_("This place is not in your jurisdiction."),
        )
    return found


def _board_out(board: selectors.Board) -> dict:
    return {
        "station_id": board.station.pk,
        "station_name": board.station.name,
        "now": board.now,
        "tips": [
            {
                "id": t["pk"],
                "code": t["code"],
                "category": t["category__name"],
                "place": t["node__name"],
                "address": t["address"],
                "status": t["status"],
                "urgent": t["urgent"],
                "received_at": t["received_at"],
                "due_at": t["due_at"],
                "seconds_elapsed": t["elapsed"],
                "seconds_left": t["left"],
                "overdue": t["overdue"],
            }
            for t in board.tips
        ],
        "tips_count": board.tips_count,
        "requests": [
            {
                "id": r["pk"],
                "agency": r["agency"],
                "urgency": r["urgency"],
                "status": r["status"],
                "need": r["need"],
                "place": r["place"],
                "requested_by": r["requested_by"],
                "accepted_by": r["accepted_by"],
                "assignment_id": r["assignment_id"],
                "created_at": r["created_at"],
                "due_at": r["due_at"],
                "escalated_at": r["escalated_at"],
                "seconds_elapsed": r["elapsed"],
                "seconds_left": r["left"],
                "overdue": r["overdue"],
            }
            for r in board.requests
        ],
        "requests_count": board.requests_count,
        "panels": [
            {
                "key": p.key,
                "title": p.title,
                "count": p.count,
                "rows": [
                    {
                        "label": r["label"],
                        "detail": r["detail"],
                        "url": r["url"],
                        "badge": r["badge"],
                        "problem": r.get("badge_css") == "warn",
                    }
                    for r in p.rows
                ],
            }
            for p in board.panels
        ],
    }


# --- support requests --------------------------------------------------------------------------


@router.get("/support-requests", response={200: list[SupportOut], **ERRORS})
@paginate(LimitOffsetPagination)
def support_list(request, status: str = "", mine: bool = False, to_me: bool = False):
    """The requests the caller may see: their place in his jurisdiction, asked by him, or asked
    from his side. Running first, closest due first. status: active, overdue, closed, or one
    status; mine: asked by me; to_me: addressed to me or my agency."""
    return selectors.support_list(request.user, status=status, mine=mine, to_me=to_me)


@router.post("/support-requests", response={201: SupportOut, **ERRORS})
def support_create(request, payload: SupportIn):
    """Ask an agency (police, health, community) or a named user for support on exactly one
    household, person, tip or refused door. The target time comes from the response targets."""
    access.require(request.user, "support.request")
    subject = _subject(request.user, payload)
    target = None
    if payload.target_user_id is not None:
        target = User.objects.filter(pk=payload.target_user_id).first() or User(
            pk=payload.target_user_id
        )
    try:
        support = services.support_request_create(
            actor=request.user,
            agency=payload.agency,
            need=payload.need,
            urgency=payload.urgency,
            target_user=target,
            client_id=payload.client_id,
            **subject,
        )
    except DomainError as exc:
        raise _api_fields(exc) from None
    return Status(201, selectors.support_get(request.user, support.pk))


@router.get("/support-requests/{request_id}", response={200: SupportOut, **ERRORS})
def support_get(request, request_id: int):
    return selectors.support_get(request.user, request_id, via="api")


@router.get("/support-requests/{request_id}/steps", response={200: StepsOut, **ERRORS})
def support_steps(request, request_id: int):
    """The steps the caller may take on the request now (accept, decline, arrive, done,
    cancel), from the request's table: the page's buttons."""
    support = selectors.support_get(request.user, request_id)
    allowed = services.support_request_allowed_steps(request.user, support)
    return {"status": support.status, "allowed_steps": allowed}


def _answer(request, request_id: int, action: str) -> SupportRequest:
    access.require(request.user, action)
    return selectors.support_get(request.user, request_id)


@router.post("/support-requests/{request_id}/accept", response={200: SupportOut, **ERRORS})
def support_accept(request, request_id: int):
    """Accept: by the agency asked (in whose jurisdiction the place lies), the named user, or a
    supervisor above the place. Anyone else: 403 "This request is addressed to the ..."."""
    support = _answer(request, request_id, "support.respond")
    services.support_accept(actor=request.user, request=support)
    return selectors.support_get(request.user, request_id)


@router.post("/support-requests/{request_id}/decline", response={200: SupportOut, **ERRORS})
def support_decline(request, request_id: int, payload: DeclineIn):
    support = _answer(request, request_id, "support.respond")
    services.support_decline(actor=request.user, request=support, reason=payload.reason)
    return selectors.support_get(request.user, request_id)


@router.post("/support-requests/{request_id}/arrive", response={200: SupportOut, **ERRORS})
def support_arrive(request, request_id: int, payload: SupportArriveIn | None = None):
    """On scene; after accepting."""
    support = _answer(request, request_id, "support.respond")
    at = payload.at if payload is not None else None
    services.support_arrive(actor=request.user, request=support, at=at)
    return selectors.support_get(request.user, request_id)


@router.post("/support-requests/{request_id}/done", response={200: SupportOut, **ERRORS})
def support_done(request, request_id: int, payload: DoneIn):
    """Done, with the outcome; after arriving."""
    support = _answer(request, request_id, "support.respond")
    services.support_done(
        actor=request.user, request=support, outcome=payload.outcome, at=payload.at
    )
    return selectors.support_get(request.user, request_id)


@router.post("/support-requests/{request_id}/cancel", response={200: SupportOut, **ERRORS})
def support_cancel(request, request_id: int):
    """Cancel a running request: the one who asked, or a supervisor."""
    support = _answer(request, request_id, "support.request")
    services.support_cancel(actor=request.user, request=support)
    return selectors.support_get(request.user, request_id)


# --- the dispatch board ------------------------------------------------------------------------


@router.get("/dispatch/{station_id}", response={200: DispatchBoardOut, **ERRORS})
def dispatch_board(request, station_id: int):
    """A station's live board: open tips and active support requests (the most urgent 50 of
    each, and how many in all) with their timers in seconds."""
    station = selectors.board_station_get(request.user, station_id)
    return _board_out(selectors.board(request.user, station, now=timezone.now()))


# --- configuration -----------------------------------------------------------------------------


def _targets() -> list[dict]:
    current = selectors.response_targets()
    return [
        {"urgency": u, "minutes": current.get(u) or services.target_minutes(u)}
        for u in Urgency.values
    ]


@router.get("/response-targets", response={200: list[TargetOut], **ERRORS})
def targets_get(request):
    """Minutes each urgency may take until the help arrives (configuration, no personal data:
    anyone logged in may read it)."""
    return _targets()


@router.put("/response-targets", response={200: list[TargetOut], **ERRORS})
def targets_put(request, payload: TargetsIn):
    """Administrators: set the minutes of the urgencies given."""
    access.require(request.user, "linkage.configure")
    given = {k: v for k, v in payload.dict().items() if v is not None}
    services.response_targets_set(actor=request.user, minutes=given)
    return _targets()
