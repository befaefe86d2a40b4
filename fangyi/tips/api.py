"""The REST API of fangyi.tips: the public intake and tracking (no account), and the staff's
tips, visits and lifecycle."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import JsonResponse
from django.http.request import split_domain_port, validate_host
from django.urls import reverse
from django.utils.http import is_same_domain
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ValidationError as PydanticValidationError

from fangyi.core import access
from fangyi.core.api import ERRORS, ErrorOut, StepsOut
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.middleware import client_ip
from fangyi.core.models import Node
from fangyi.core.photos import photo_response
from fangyi.core.scoping import scoped_get
from fangyi.people.models import Household

from . import selectors, services
from .models import Tip, TipCategory, TipSource

router = Router(tags=["tips"])

PUBLIC_ERRORS = {**ERRORS, 429: ErrorOut}
PUBLIC_POST_ERRORS = {**PUBLIC_ERRORS, 415: ErrorOut}


# --- schemas -----------------------------------------------------------------------------------


class QuestionOut(Schema):
    code: str = Field(..., examples=["kind"])
    label: str = Field(..., examples=["什么家禽"])
    type: str = Field("text", examples=["choice"])
    choices: list[str] = Field([], examples=[["鸡", "鸭", "鹅", "其他"]])
    required: bool = False


class CategoryOut(Schema):
    id: int
    code: str = Field(..., examples=["poultry"])
    name: str = Field(..., examples=["散养家禽"])
    description: str
    questions: list[QuestionOut]


class CategoryStaffOut(CategoryOut):
    route_roles: list[str] = Field(..., examples=[["community_staff", "police"]])
    urgent: bool
    response_minutes: int
    duplicate_hours: int
    active: bool


class CategoryIn(Schema):
    name: str = Field(..., max_length=100, examples=["散养家禽"])
    description: str = ""
    questions: list[dict] = Field(
        [],
        examples=[[{"code": "kind", "label": "什么家禽", "type": "choice", "choices": ["鸡"]}]],
    )
    route_roles: list[str] = Field([], examples=[["community_staff", "police"]])
    urgent: bool = False
    response_minutes: int = Field(120, examples=[240])
    duplicate_hours: int = Field(24, examples=[72])
    active: bool = True


class PublicTipIn(Schema):
    category: str = Field(..., description="The category's code.", examples=["poultry"])
    description: str = Field(..., max_length=2000, examples=["小区3栋旁有人散养鸡鸭"])
    node_id: int | None = Field(None, description="The compound, from the public page's list.")
    address: str = Field("", examples=["机务小区3栋"])
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    answers: dict[str, Any] = Field({}, examples=[{"kind": "鸡"}])
    reporter_name: str = Field("", description="Optional.")
    reporter_phone: str = Field("", description="Optional.")
    website: str = Field("", description="Leave empty (a field for bots to fill).")
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class PublicTipDone(Schema):
    code: str = Field(..., examples=["K7QX4M9PRT"])
    status: str = Field(..., examples=["assigned"])
    track_url: str = Field(..., examples=["/track/K7QX4M9PRT/"])


class PublicEventOut(Schema):
    status: str
    label: str
    at: dt.datetime


class PublicTipOut(Schema):
    """All a reporter sees: never a description, name, phone or note."""

    code: str
    category: str = Field(..., examples=["散养家禽"])
    received_at: dt.datetime
    place: str = Field(..., examples=["机务小区"])
    status: str = Field(..., examples=["answered"])
    status_label: str
    answer: str
    answered_at: dt.datetime | None
    merged: bool = Field(..., description="Handled together with an earlier report.")
    events: list[PublicEventOut]


class TipIn(Schema):
    category: str = Field(..., examples=["gathering"])
    description: str = Field(..., max_length=2000, examples=["南铁北四区7栋有人聚餐"])
    node_id: int | None = Field(None, description="A compound or grid of the caller's.")
    household_id: int | None = None
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    answers: dict[str, Any] = Field({}, examples=[{"people": 12, "masks": False}])
    reporter_name: str = ""
    reporter_phone: str = ""
    source: str = Field("phone", examples=["phone"], description="phone, in_person or patrol")
    client_id: uuid.UUID | None = None


class TipOut(Schema):
    id: int
    code: str
    category_id: int
    category: str = Field(..., alias="category.code")
    category_name: str = Field(..., alias="category.name")
    node_id: int
    node_name: str = Field(..., alias="node.name", examples=["机务小区"])
    household_id: int | None
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    description: str
    answers: dict
    reporter_name: str
    reporter_phone: str
    source: str
    status: str = Field(..., examples=["in_progress"])
    resolution: str
    answer: str
    urgent: bool
    assignee_ids: list[int] = []
    duplicate_of_id: int | None
    reopened: int
    received_at: dt.datetime
    due_at: dt.datetime | None
    accepted_at: dt.datetime | None
    on_scene_at: dt.datetime | None
    resolved_at: dt.datetime | None
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_assignee_ids(obj) -> list[int]:
        return sorted(u.pk for u in obj.assignees.all())


class TipListOut(Schema):
    id: int
    code: str
    category: str = Field(..., alias="category.code")
    category_name: str = Field(..., alias="category.name")
    node_id: int
    node_name: str = Field(..., alias="node.name")
    status: str
    urgent: bool
    received_at: dt.datetime
    due_at: dt.datetime | None


class TipDuplicateOut(Schema):
    id: int
    code: str
    status: str
    received_at: dt.datetime


class AssignIn(Schema):
    user_ids: list[int] = Field(..., examples=[[3, 5]])


class OnSceneIn(Schema):
    at: dt.datetime | None = Field(None, description="Defaults to now; not in the future.")


class ResolveIn(Schema):
    resolution: str = Field(
        ..., examples=["rectified"], description="rectified, educated, warned, referred, unfounded"
    )
    note: str = ""


class AnswerIn(Schema):
    answer: str = Field(..., max_length=2000, examples=["经社区和派出所三次上门劝导,已整改。"])


class ReopenIn(Schema):
    note: str = Field(..., examples=["又见散养"])


class TipMergeIn(Schema):
    into_id: int = Field(..., description="The main tip: same category, in scope.")


class TipVisitIn(Schema):
    at: dt.datetime | None = Field(None, description="Defaults to now; not in the future.")
    found: str = Field(..., max_length=2000, examples=["3栋旁空地有鸡约十只"])
    actions: list[str] = Field([], examples=[["persuaded", "notices"]])
    people: int | None = Field(None, examples=[2])
    notices: int | None = Field(None, examples=[3])
    notes: str = ""
    client_id: uuid.UUID | None = None


class TipPhotoOut(Schema):
    id: int
    content_type: str
    size: int
    width: int
    height: int
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/tip-photos/{obj.pk}"


class TipVisitOut(Schema):
    id: int
    tip_id: int
    at: dt.datetime
    by_id: int
    by_name: str = ""
    found: str
    actions: list[str]
    people: int | None
    notices: int | None
    notes: str
    photos: list[TipPhotoOut] = []

    @staticmethod
    def resolve_by_name(obj) -> str:
        return obj.by.display_name

    @staticmethod
    def resolve_photos(obj) -> list:
        return list(obj.photos.all())


# --- helpers -------------------------------------------------------------------------------------


def _category(code: str, field: str = "category") -> TipCategory:
    category = services.categories_active().filter(code=code).first()
    if category is None:
        raise DomainError(_("Choose what you are reporting."), field=field)
    return category


def _tip(request, tip_id: int, via: str | None = None) -> Tip:
    return selectors.tip_get(request.user, tip_id, via=via)


def _out(request, tip_id: int) -> Tip:
    """The tip as the API answers it, read again through the caller's scope."""
    return selectors.tip_out(request.user, tip_id)


# --- public ------------------------------------------------------------------------------------


def _origin_allowed(origin: str) -> bool:
    """One of the trusted origins, or an origin on one of the site's own host names."""
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    scheme, _sep, netloc = origin.partition("://")
    if not netloc or scheme not in ("http", "https"):
        return False  # "null" (a sandboxed frame, a file) and anything that is not a web page
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        t_scheme, _sep, t_netloc = trusted.partition("://")
        if t_scheme == scheme and "*" in t_netloc and is_same_domain(netloc, t_netloc[1:]):
            return True
    host, _port = split_domain_port(netloc)
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


def _refusal(status: int, message: str) -> JsonResponse:
    return JsonResponse(
        {"detail": message, "errors": [{"field": "__all__", "message": message}]}, status=status
    )


def same_site_json(run):
    """A public write has no session and so no CSRF token: a JSON body sent as text/plain by
    another site's page needs no preflight, so any page could make its visitors' browsers file
    reports. Only application/json is read (the browser asks before sending that cross-site),
    and a browser that says the request comes from another site is refused."""

    @functools.wraps(run)
    def wrapper(request, *args, **kwargs):
        if request.content_type != "application/json":
            return _refusal(415, _("Send the report as JSON (Content-Type: application/json)."))
        origin = request.headers.get("Origin")
        if request.headers.get("Sec-Fetch-Site") == "cross-site" or (
            origin is not None and not _origin_allowed(origin)
        ):
            return _refusal(
                403,
                _("Reports are accepted from this site's own report page, not from other sites."),
            )
        return run(request, *args, **kwargs)

    return wrapper


@router.get("/public/tip-categories", response={200: list[CategoryOut], **ERRORS}, auth=None)
def public_categories(request):
    """What residents can report, with each category's questions."""
    return list(services.categories_active())


@router.post("/public/tips", response={201: PublicTipDone, **PUBLIC_POST_ERRORS}, auth=None)
@decorate_view(same_site_json)
def public_tip_create(request, payload: PublicTipIn):
    """A resident's report, no account. At most FANGYI_TIPS_PER_ADDRESS per address in the
    window: then 429. Answers the tracking code. The body is JSON (else 415); a request another
    site's page makes (Sec-Fetch-Site cross-site, or a foreign Origin) answers 403."""
    if payload.website:
        code = services.new_code()
        return Status(201, {"code": code, "status": "assigned", "track_url": f"/track/{code}/"})
    category = _category(payload.category)
    node = None
    if payload.node_id is not None:
        node = Node.objects.filter(pk=payload.node_id, kind__in=services.PLACE_KINDS).first()
        if node is None:
            raise NotFound(_("No such compound."), field="node_id")
    tip = services.tip_submit_public(
        data=services.TipInput(
            category=category,
            description=payload.description,
            node=node,
            address=payload.address,
            latitude=payload.latitude,
            longitude=payload.longitude,
            answers=payload.answers,
            reporter_name=payload.reporter_name,
            reporter_phone=payload.reporter_phone,
        ),
        ip=client_ip(request),
        client_id=payload.client_id,
    )
    view = selectors.public_view(tip)
    return Status(
        201,
        {
            "code": tip.code,
            "status": view.status,
            "track_url": reverse("track_detail", args=[tip.code]),
        },
    )


@router.get("/public/tips/{code}", response={200: PublicTipOut, **ERRORS}, auth=None)
def public_tip_get(request, code: str):
    """The reporter's view: the same as the tracking page. Unknown and malformed codes answer
    the same 404."""
    tip = selectors.tip_public(code)
    view = selectors.public_view(tip)
    if view.answer:
        services.tip_answer_read(tip.duplicate_of or tip)
    return view


# --- staff: tips ---------------------------------------------------------------------------------


@router.get("/tips", response={200: list[TipListOut], **ERRORS})
@paginate(LimitOffsetPagination)
def tip_list(
    request,
    status: str = "",
    category: str = "",
    node_id: int | None = None,
    q: str = "",
    mine: bool = False,
):
    """Tips of the caller's jurisdiction: open first, urgent first, the earliest due first.
    status may be "open"."""
    node = None
    if node_id is not None:
        node = access.nodes_visible(request.user).filter(pk=node_id).first()
        if node is None:
            raise NotFound(_("No such jurisdiction."), field="node_id")
    cat = selectors.category_by_code(category)
    return selectors.tip_list(request.user, status=status, category=cat, node=node, q=q, mine=mine)


@router.post("/tips", response={201: TipOut, **ERRORS})
def tip_create(request, payload: TipIn):
    """A tip taken by staff (phone, in person, patrol)."""
    access.require(request.user, "tip.record")
    category = _category(payload.category)
    node = household = None
    if payload.node_id is not None:
        node = access.nodes_visible(request.user).filter(pk=payload.node_id).first()
        if node is None:
            raise NotFound(_("No such jurisdiction."), field="node_id")
    if payload.household_id is not None:
        household = scoped_get(
            Household,
            request.user,
            payload.household_id,
            related=("node",),
            field="household_id",
            message=_("No such household."),
        )
    if payload.source not in (TipSource.PHONE, TipSource.IN_PERSON, TipSource.PATROL):
        raise DomainError(_("Unknown source."), field="source")
    tip = services.tip_record(
        actor=request.user,
        data=services.TipInput(
            category=category,
            description=payload.description,
            node=node,
            address=payload.address,
            household=household,
            latitude=payload.latitude,
            longitude=payload.longitude,
            answers=payload.answers,
            reporter_name=payload.reporter_name,
            reporter_phone=payload.reporter_phone,
        ),
        source=payload.source,
        client_id=payload.client_id,
    )
    return Status(201, _out(request, tip.pk))


@router.get("/tips/{tip_id}", response={200: TipOut, **ERRORS})
def tip_get(request, tip_id: int):
    _tip(request, tip_id, via="api")
    return _out(request, tip_id)


@router.get("/tips/{tip_id}/steps", response={200: StepsOut, **ERRORS})
def tip_steps(request, tip_id: int):
    tip = _tip(request, tip_id)
    return {"status": tip.status, "allowed_steps": services.tip_allowed_steps(request.user, tip)}


@router.get("/tips/{tip_id}/duplicates", response={200: list[TipDuplicateOut], **ERRORS})
def tip_duplicates(request, tip_id: int):
    """Likely duplicates: same place and category within the category's window."""
    return selectors.tip_duplicates(request.user, _tip(request, tip_id))


def _step(request, tip_id: int, action: str, run) -> Tip:
    access.require(request.user, action)
    tip = _tip(request, tip_id)
    run(tip)
    return _out(request, tip_id)


@router.post("/tips/{tip_id}/assign", response={200: TipOut, **ERRORS})
def tip_assign(request, tip_id: int, payload: AssignIn):
    """Give the tip to active field users whose jurisdiction holds its place."""

    def run(tip):
        users = list(services.assignable_users(tip).filter(pk__in=payload.user_ids))
        if len(users) != len(set(payload.user_ids)):
            raise NotFound(_("No such field worker here."), field="user_ids")
        services.tip_assign(actor=request.user, tip=tip, users=users)

    return _step(request, tip_id, "tip.manage", run)


@router.post("/tips/{tip_id}/accept", response={200: TipOut, **ERRORS})
def tip_accept(request, tip_id: int):
    return _step(
        request, tip_id, "tip.handle", lambda t: services.tip_accept(actor=request.user, tip=t)
    )


@router.post("/tips/{tip_id}/on-scene", response={200: TipOut, **ERRORS})
def tip_on_scene(request, tip_id: int, payload: OnSceneIn | None = None):
    at = payload.at if payload else None
    return _step(
        request,
        tip_id,
        "tip.handle",
        lambda t: services.tip_on_scene(actor=request.user, tip=t, at=at),
    )


@router.post("/tips/{tip_id}/resolve", response={200: TipOut, **ERRORS})
def tip_resolve(request, tip_id: int, payload: ResolveIn):
    return _step(
        request,
        tip_id,
        "tip.handle",
        lambda t: services.tip_resolve(
            actor=request.user, tip=t, resolution=payload.resolution, note=payload.note
        ),
    )


@router.post("/tips/{tip_id}/answer", response={200: TipOut, **ERRORS})
def tip_answer(request, tip_id: int, payload: AnswerIn):
    """The final answer, shown on the reporter's tracking page."""
    return _step(
        request,
        tip_id,
        "tip.handle",
        lambda t: services.tip_answer(actor=request.user, tip=t, answer=payload.answer),
    )


@router.post("/tips/{tip_id}/answer/correct", response={200: TipOut, **ERRORS})
def tip_answer_correct(request, tip_id: int, payload: AnswerIn):
    """A wrong answer corrected, until the reporter has opened it (409 after)."""
    return _step(
        request,
        tip_id,
        "tip.handle",
        lambda t: services.tip_answer_correct(actor=request.user, tip=t, answer=payload.answer),
    )


@router.post("/tips/{tip_id}/close", response={200: TipOut, **ERRORS})
def tip_close(request, tip_id: int):
    return _step(
        request, tip_id, "tip.manage", lambda t: services.tip_close(actor=request.user, tip=t)
    )


@router.post("/tips/{tip_id}/reopen", response={200: TipOut, **ERRORS})
def tip_reopen(request, tip_id: int, payload: ReopenIn):
    return _step(
        request,
        tip_id,
        "tip.manage",
        lambda t: services.tip_reopen(actor=request.user, tip=t, note=payload.note),
    )


@router.post("/tips/{tip_id}/merge", response={200: TipOut, **ERRORS})
def tip_merge(request, tip_id: int, payload: TipMergeIn):
    """Merge this tip into a main tip of the same category."""

    def run(tip):
        into = selectors.tip_list(request.user).filter(pk=payload.into_id).first()
        if into is None:
            raise NotFound(_("No such tip."), field="into_id")
        services.tip_merge(actor=request.user, tip=tip, into=into)

    return _step(request, tip_id, "tip.manage", run)


# --- staff: visits -------------------------------------------------------------------------------

VISIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": TipVisitIn.json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["found"],
                    "properties": {
                        **{
                            k: {"type": "string"}
                            for k in ("at", "found", "people", "notices", "notes", "client_id")
                        },
                        "actions": {"type": "array", "items": {"type": "string"}},
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "JPEG, PNG or WebP, at most 6.",
                        },
                    },
                }
            },
        },
    }
}


def _visit_payload(request) -> tuple[TipVisitIn, list]:
    content_type = request.content_type or ""
    try:
        if content_type.startswith("multipart/"):
            data = {k: v for k, v in request.POST.items() if k != "actions"}
            data["actions"] = request.POST.getlist("actions")
            for k in ("people", "notices", "at", "client_id"):
                if data.get(k) == "":
                    data[k] = None
            return TipVisitIn(**data), request.FILES.getlist("photos")
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise DomainError(_("Send JSON or a multipart form.")) from None
        if not isinstance(data, dict):
            raise DomainError(_("Send JSON or a multipart form."))
        return TipVisitIn(**data), []
    except PydanticValidationError as exc:
        raise NinjaValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
        ) from None


@router.post(
    "/tips/{tip_id}/visits", response={201: TipVisitOut, **ERRORS}, openapi_extra=VISIT_BODY
)
def visit_create(request, tip_id: int):
    """Record a visit: JSON, or multipart/form-data with photos (field "photos", repeated)."""
    access.require(request.user, "tip.handle")
    tip = _tip(request, tip_id)
    payload, photos = _visit_payload(request)
    visit = services.tip_visit_record(
        actor=request.user,
        tip=tip,
        at=payload.at,
        found=payload.found,
        actions=payload.actions,
        people=payload.people,
        notices=payload.notices,
        notes=payload.notes,
        photos=photos,
        client_id=payload.client_id,
    )
    return Status(201, selectors.visit_out(request.user, visit.pk))


@router.get("/tips/{tip_id}/visits", response={200: list[TipVisitOut], **ERRORS})
def visit_list(request, tip_id: int):
    return selectors.visit_list(request.user, _tip(request, tip_id, via="api"))


@router.get(
    "/tip-photos/{photo_id}",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The photo's bytes.",
                "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
            }
        }
    },
)
def photo_get(request, photo_id: int):
    """A visit's photo (the read is logged)."""
    return photo_response(selectors.photo_get(request.user, photo_id, via="api"))


# --- configuration -------------------------------------------------------------------------------


@router.get("/tip-categories", response={200: list[CategoryStaffOut], **ERRORS})
def category_list(request):
    """Every category with its routing: configuration, for anyone logged in (the public
    list shows the active ones without the routing)."""
    return selectors.category_list()


@router.put("/tip-categories/{category_id}", response={200: CategoryStaffOut, **ERRORS})
def category_update(request, category_id: int, payload: CategoryIn):
    access.require(request.user, "tipcategory.configure")
    category = selectors.category_get(category_id)
    return services.tipcategory_update(actor=request.user, category=category, **payload.dict())
