"""The REST API of the patrol part of fangyi.patrols: patrols (start, route, end), their events
(JSON, or multipart/form-data with photos), what an event leads to (a tip, a support request, a
tip resolved), the patrol plans and their coverage. The duty posts are in api_posts.py."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Literal

import pydantic
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS
from fangyi.core.errors import DomainError
from fangyi.core.photos import PHOTO_RESPONSE_DOC, photo_response

from . import selectors, services
from .models import Activity, EventKind, InspectionResult, Method, Outcome

router = Router(tags=["patrols"])

KINDS = tuple(EventKind.values)
METHODS = tuple(Method.values)


# --- schemas ----------------------------------------------------------------------------------


class PatrolPositionIn(Schema):
    latitude: Decimal | None = Field(None, ge=-90, le=90, examples=["22.817000"])
    longitude: Decimal | None = Field(None, ge=-180, le=180, examples=["108.366000"])
    accuracy: int | None = Field(None, ge=0, le=100_000, description="Metres.")


class PatrolStartIn(PatrolPositionIn):
    node_id: int = Field(..., description="The area: a community, grid or compound.")
    compound_ids: list[int] = Field([], description="Compounds to cover, inside the area.")
    companion_ids: list[int] = Field([], description="Colleagues on the patrol.")
    others: str = Field("", max_length=200, examples=["志愿者2名"])
    at: dt.datetime | None = Field(None, description="The phone's start time; now if left out.")
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id starts nothing new."
    )


class PatrolEndIn(PatrolPositionIn):
    at: dt.datetime | None = Field(None, description="The phone's end time; now if left out.")
    summary: str = Field("", max_length=2000, examples=["机务小区巡逻一圈,劝散打牌老人4人"])


class PatrolPointIn(Schema):
    at: dt.datetime
    latitude: Decimal = Field(..., ge=-90, le=90)
    longitude: Decimal = Field(..., ge=-180, le=180)
    accuracy: int | None = Field(None, ge=0, le=100_000)


class PatrolRouteIn(Schema):
    points: list[PatrolPointIn] = Field(..., max_length=services.MAX_POINTS)


class PatrolRefusedPointOut(Schema):
    field: str = Field(..., examples=["points.3.latitude"])
    message: str


class PatrolRouteOut(Schema):
    added: int = Field(..., description="Points new to the route (a repeat counts once).")
    refused: list[PatrolRefusedPointOut] = Field(
        ..., description="Points kept out, by index and field; the others were stored."
    )


class PatrolEventIn(PatrolPositionIn):
    kind: Literal[KINDS] = Field(..., examples=["gathering"])  # type: ignore[valid-type]
    node_id: int | None = Field(
        None, description="The compound; the patrol's only compound when left out."
    )
    at: dt.datetime | None = Field(None, description="The phone's time; now if left out.")
    address: str = Field("", max_length=200, examples=["机务小区3栋楼下"])
    people: int | None = Field(None, ge=0, le=services.MAX_PEOPLE, examples=[4])
    activity: Literal[tuple(Activity.values) + ("",)] = ""  # type: ignore[valid-type]
    statements: str = Field("", max_length=2000, examples=["老人表示马上回家"])
    outcome: Literal[tuple(Outcome.values) + ("",)] = ""  # type: ignore[valid-type]
    methods: list[Literal[METHODS]] = Field([], examples=[["talk", "leaflets"]])  # type: ignore[valid-type]
    reached: int | None = Field(None, ge=0, le=services.MAX_PEOPLE)
    materials: int | None = Field(None, ge=0, le=services.MAX_PEOPLE)
    result: Literal[tuple(InspectionResult.values) + ("",)] = ""  # type: ignore[valid-type]
    notes: str = Field("", max_length=2000)
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class PatrolPhotoOut(Schema):
    id: int
    url: str
    content_type: str
    size: int
    width: int
    height: int

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/patrol-photos/{obj.pk}"


class PatrolEventOut(Schema):
    id: int
    patrol_id: int
    node_id: int
    node_name: str = Field(..., alias="node.name", examples=["机务小区"])
    kind: str
    at: dt.datetime
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    people: int | None
    activity: str
    statements: str
    outcome: str
    methods: list[str]
    reached: int | None
    materials: int | None
    result: str
    notes: str
    tip_id: int | None
    enforcement_id: int | None
    support_id: int | None
    resolved_tip_id: int | None
    recorded_by_id: int
    photos: list[PatrolPhotoOut]

    @staticmethod
    def resolve_photos(obj) -> list:
        return list(obj.photos.all())


class PatrolPointOut(Schema):
    at: dt.datetime
    latitude: Decimal
    longitude: Decimal


class PatrolOut(Schema):
    id: int
    node_id: int
    node_name: str = Field(..., alias="node.name", examples=["机务小区"])
    leader_id: int
    companion_ids: list[int]
    compound_ids: list[int]
    others: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    under_way: bool
    summary: str

    @staticmethod
    def resolve_companion_ids(obj) -> list[int]:
        return sorted(u.pk for u in obj.companions.all())

    @staticmethod
    def resolve_compound_ids(obj) -> list[int]:
        return sorted(n.pk for n in obj.compounds.all())


class PatrolDetailOut(PatrolOut):
    events: list[PatrolEventOut]
    route: list[PatrolPointOut]

    @staticmethod
    def resolve_events(obj) -> list:
        return list(obj.events.select_related("node").prefetch_related("photos"))

    @staticmethod
    def resolve_route(obj) -> list:
        return list(obj.route.all())


class PatrolTipIn(Schema):
    category_id: int | None = Field(None, description="The tip's category; from the event's kind.")


class PatrolTipOut(Schema):
    tip_id: int
    code: str


class PatrolSupportIn(Schema):
    need: str = Field("", max_length=2000, description="Written from the event when empty.")


class PatrolSupportOut(Schema):
    support_request_id: int


class PatrolResolveIn(Schema):
    tip_id: int
    resolution: str = Field(..., examples=["educated"])
    note: str = Field("", max_length=2000)


class PatrolCoverageOut(Schema):
    node_id: int
    name: str
    times_per_day: int
    responsible: str
    responsible_id: int | None
    last_at: dt.datetime | None
    today: int = Field(..., description="Patrols begun there today.")
    due_at: dt.datetime
    overdue: bool


class PatrolPlanIn(Schema):
    node_id: int = Field(..., description="A compound, or a node whose compounds all get it.")
    times_per_day: int = Field(..., ge=0, le=services.MAX_TIMES_PER_DAY, examples=[2])
    responsible_id: int | None = Field(
        None, description="The officer who answers; each compound's nearest when left out."
    )


class PatrolPlanOut(Schema):
    compounds: int


# --- helpers ----------------------------------------------------------------------------------

RENAME = {"node": "node_id", "compounds": "compound_ids", "companions": "companion_ids"}


def _renamed(exc: DomainError) -> DomainError:
    exc.errors = {RENAME.get(k, k): v for k, v in exc.errors.items()}
    return exc


def _position(p) -> services.Position:
    return services.Position(p.latitude, p.longitude, p.accuracy)


def _event_doc() -> dict:
    schema = PatrolEventIn.model_json_schema()
    multipart = json.loads(json.dumps(schema))
    multipart["properties"]["photos"] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "description": "Photos: JPEG, PNG or WebP, at most six.",
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "multipart/form-data": {"schema": multipart},
            },
        }
    }


def _event_in(request) -> tuple[PatrolEventIn, list]:
    """The event as JSON or as multipart/form-data (with photos)."""
    if request.content_type == "multipart/form-data":
        raw: dict = {}
        for key in request.POST:
            if key == "methods":
                values: list[str] = []
                for v in request.POST.getlist(key):
                    values.extend(x.strip() for x in v.split(",") if x.strip())
                raw[key] = values
            else:
                value = request.POST.get(key)
                raw[key] = value if value != "" else None
        for key in ("address", "statements", "notes", "activity", "outcome", "result"):
            if key in raw and raw[key] is None:
                raw[key] = ""
        files = request.FILES.getlist("photos")
    else:
        try:
            raw = json.loads(request.body or b"{}")
        except ValueError:
            raise DomainError(_("Send JSON or multipart/form-data."), field="__all__") from None
        if not isinstance(raw, dict):
            raise DomainError(_("Send a JSON object."), field="__all__")
        files = []
    try:
        return PatrolEventIn.model_validate(raw), files
    except pydantic.ValidationError as exc:
        raise NinjaValidationError([dict(e) for e in exc.errors()]) from None


def _detail(user, pk: int, via: str | None = None):
    return selectors.patrol_get(user, pk, via=via)


# --- patrols -----------------------------------------------------------------------------------


@router.get("/patrols", response={200: list[PatrolOut], **ERRORS})
@paginate(LimitOffsetPagination)
def patrol_list(request, under_way: bool | None = None, node_id: int | None = None):
    """Patrols over the caller's jurisdiction, newest first."""
    user = request.user
    access.require(user, "patrol.view")
    node = access.node_get(user, node_id) if node_id is not None else None
    return selectors.patrol_list(user, under_way=under_way, node=node).prefetch_related(
        "companions", "compounds"
    )


@router.post("/patrols", response={201: PatrolDetailOut, **ERRORS})
def patrol_start(request, payload: PatrolStartIn):
    """Start a patrol over a community, grid or compound with the colleagues who go along.
    A leader has one patrol under way at a time (409 for a second)."""
    user = request.user
    access.require(user, "patrol.record")
    node = services.nodes_for(user, [payload.node_id], field_name="node_id")[0]
    try:
        patrol = services.patrol_start(
            actor=user,
            node=node,
            compounds=services.nodes_for(user, payload.compound_ids, field_name="compounds"),
            companions=services.users_for(payload.companion_ids),
            others=payload.others,
            at=payload.at,
            position=_position(payload),
            client_id=payload.client_id,
        )
    except DomainError as exc:
        raise _renamed(exc) from None
    return Status(201, _detail(user, patrol.pk))


@router.get("/patrols/{patrol_id}", response={200: PatrolDetailOut, **ERRORS})
def patrol_get(request, patrol_id: int):
    """One patrol with its events and route."""
    return _detail(request.user, patrol_id, via="api")


@router.post("/patrols/{patrol_id}/route", response={200: PatrolRouteOut, **ERRORS})
def patrol_route(request, patrol_id: int, payload: PatrolRouteIn):
    """The phone's positions while the patrol page is open (every few minutes)."""
    user = request.user
    patrol = selectors.patrol_get(user, patrol_id)
    result = services.route_add(
        actor=user,
        patrol=patrol,
        points=[(p.at, p.latitude, p.longitude, p.accuracy) for p in payload.points],
    )
    refused = [{"field": k, "message": m[0]} for k, m in result.refused.items()]
    return {"added": result.added, "refused": refused}


@router.post("/patrols/{patrol_id}/end", response={200: PatrolDetailOut, **ERRORS})
def patrol_end(request, patrol_id: int, payload: PatrolEndIn):
    """End the patrol (after its start and its last event)."""
    user = request.user
    patrol = selectors.patrol_get(user, patrol_id)
    services.patrol_end(
        actor=user,
        patrol=patrol,
        at=payload.at,
        summary=payload.summary,
        position=_position(payload),
    )
    return _detail(user, patrol_id)


@router.post(
    "/patrols/{patrol_id}/events",
    response={201: PatrolEventOut, **ERRORS},
    openapi_extra=_event_doc(),
)
def patrol_event(request, patrol_id: int):
    """Record an event of the patrol: JSON, or multipart/form-data with photos in `photos`.
    Which fields are required depends on `kind` (see docs/patrols.md)."""
    user = request.user
    access.require(user, "patrol.record")
    patrol = selectors.patrol_get(user, patrol_id)
    payload, files = _event_in(request)
    node = None
    if payload.node_id is not None:
        node = services.nodes_for(user, [payload.node_id], field_name="node_id")[0]
    data = services.EventInput(
        kind=payload.kind,
        node=node,
        at=payload.at,
        address=payload.address,
        position=_position(payload),
        people=payload.people,
        activity=payload.activity,
        statements=payload.statements,
        outcome=payload.outcome,
        methods=list(payload.methods),
        reached=payload.reached,
        materials=payload.materials,
        result=payload.result,
        notes=payload.notes,
    )
    try:
        event = services.patrol_event_record(
            actor=user, patrol=patrol, data=data, photos=files, client_id=payload.client_id
        )
    except DomainError as exc:
        raise _renamed(exc) from None
    return Status(201, selectors.event_get(user, event.pk))


@router.get("/patrol-events/{event_id}", response={200: PatrolEventOut, **ERRORS})
def event_get(request, event_id: int):
    return selectors.event_get(request.user, event_id, via="api")


@router.post("/patrol-events/{event_id}/tip", response={200: PatrolTipOut, **ERRORS})
def event_tip(request, event_id: int, payload: PatrolTipIn):
    """The event becomes a tip (staff entry, found on patrol); the same tip when it has one."""
    user = request.user
    event = selectors.event_get(user, event_id)
    category = selectors.category_get(payload.category_id) if payload.category_id else None
    tip = services.event_tip(actor=user, event=event, category=category)
    return {"tip_id": tip.pk, "code": tip.code}


@router.post("/patrol-events/{event_id}/support", response={200: PatrolSupportOut, **ERRORS})
def event_support(request, event_id: int, payload: PatrolSupportIn):
    """A refused gathering: ask the police for urgent support, in one call."""
    user = request.user
    event = selectors.event_get(user, event_id)
    req = services.event_support(actor=user, event=event, need=payload.need)
    return {"support_request_id": req.pk}


@router.post("/patrol-events/{event_id}/resolve-tip", response={200: PatrolTipOut, **ERRORS})
def event_resolve_tip(request, event_id: int, payload: PatrolResolveIn):
    """The event settles a tip already open at the same compound."""
    user = request.user
    event = selectors.event_get(user, event_id)
    tip = selectors.tip_for(user, payload.tip_id)
    tip = services.event_resolves_tip(
        actor=user, event=event, tip=tip, resolution=payload.resolution, note=payload.note
    )
    return {"tip_id": tip.pk, "code": tip.code}


@router.get(
    "/patrol-photos/{photo_id}",
    response={200: None, **ERRORS},
    openapi_extra=PHOTO_RESPONSE_DOC,
)
def photo_get(request, photo_id: int):
    """A photo of a patrol event in the caller's jurisdiction; the read is logged."""
    return photo_response(selectors.photo_get(request.user, photo_id, via="api"))


# --- plans and coverage --------------------------------------------------------------------------


@router.get("/patrol-coverage", response={200: list[PatrolCoverageOut], **ERRORS})
def coverage(request, node_id: int | None = None):
    """Each planned compound: last patrolled, patrols today, next due, overdue first."""
    user = request.user
    access.require(user, "patrol.view")
    node = access.node_get(user, node_id) if node_id is not None else None
    return [r.__dict__ for r in selectors.coverage(user, node=node)]


@router.put("/patrol-plans", response={200: PatrolPlanOut, **ERRORS})
def plan_set(request, payload: PatrolPlanIn):
    """Supervisors: every compound under node_id is to be patrolled times_per_day times a day
    (0 stops it); the responsible officer is named or each compound's nearest."""
    user = request.user
    access.require(user, "patrol.plan")
    node = services.nodes_for(user, [payload.node_id], field_name="node_id")[0]
    responsible = (
        services.users_for([payload.responsible_id], field_name="responsible_id")[0]
        if payload.responsible_id is not None
        else None
    )
    try:
        n = services.plan_set(
            actor=user, node=node, times_per_day=payload.times_per_day, responsible=responsible
        )
    except DomainError as exc:
        exc.errors = {
            {"node": "node_id", "responsible": "responsible_id"}.get(k, k): v
            for k, v in exc.errors.items()
        }
        raise
    return {"compounds": n}
