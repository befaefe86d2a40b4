"""The REST API of the duty posts (tag "posts"): posts, their shifts, checking in, the
counters of the shift log, a person registered at a post with a declaration, the handover.

Posts and planned shifts are the supervisors' (post.manage); whoever is on a shift keeps its
log (shift.record). Field submissions take a client-generated `client_id`: the same one twice
stores one record and answers with it. A post or shift outside the caller's jurisdiction
answers 404, as one that does not exist does.

No `from __future__ import annotations` here: django-ninja reads the query parameters'
annotations as objects (`dt.datetime` would not resolve from a string)."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS
from fangyi.core.errors import DomainError, NotFound
from fangyi.health.api import DeclarationFields
from fangyi.people.selectors import person_get
from fangyi.people.services import PersonInput

from . import posts
from .models import PostKind, Tally

router = Router(tags=["posts"])

KINDS = tuple(PostKind.values)
TALLIES = tuple(Tally.values)
# The services' field names, as the API calls them.
API_FIELDS = {
    "node": "node_id",
    "person": "person_id",
    "staff": "staff_ids",
    "next_shift": "next_shift_id",
}


def _renamed(exc: DomainError) -> DomainError:
    exc.errors = {API_FIELDS.get(k, k): v for k, v in exc.errors.items()}
    return exc


# --- schemas ---------------------------------------------------------------------------------


class PostOut(Schema):
    id: int
    node_id: int
    node_name: str = Field(..., alias="node.name", examples=["北大路沿街"])
    name: str = Field(..., examples=["北大路卡点"])
    kind: str = Field(..., examples=["road"])
    address: str = Field(..., examples=["北大路与大学路交叉口"])
    latitude: Decimal | None
    longitude: Decimal | None
    staffed_from: dt.time = Field(..., examples=["07:00:00"])
    staffed_to: dt.time = Field(
        ..., examples=["22:00:00"], description="Before staffed_from: over midnight; equal: 24 h."
    )
    active: bool
    created_by_id: int
    created_at: dt.datetime


class PostIn(Schema):
    node_id: int = Field(..., description="A community, grid or compound of yours.")
    name: str = Field(..., max_length=100, examples=["北大路卡点"])
    kind: Literal[KINDS] = Field(..., examples=["road"])  # type: ignore[valid-type]
    address: str = Field("", max_length=200, examples=["北大路与大学路交叉口"])
    latitude: Decimal | None = Field(None, examples=["22.8362"])
    longitude: Decimal | None = Field(None, examples=["108.2846"])
    staffed_from: dt.time = Field(dt.time(7, 0), examples=["07:00"])
    staffed_to: dt.time = Field(dt.time(22, 0), examples=["22:00"])
    active: bool = True


class ShiftOut(Schema):
    id: int
    post_id: int
    post_name: str = Field(..., alias="post.name", examples=["北大路卡点"])
    node_id: int
    starts: dt.datetime
    ends: dt.datetime
    staff_ids: list[int]
    taken_at: dt.datetime | None
    taken_by_id: int | None
    ended_at: dt.datetime | None
    handover_note: str
    escalated_at: dt.datetime | None
    created_by_id: int
    created_at: dt.datetime

    @staticmethod
    def resolve_staff_ids(obj) -> list[int]:
        return sorted(u.pk for u in obj.staff.all())


class ShiftCountsOut(Schema):
    persons: int = Field(..., examples=[86])
    vehicles: int = Field(..., examples=[23])
    temperatures: int = Field(..., examples=[86])
    turned_back: int = Field(..., examples=[4])
    outsiders: int = Field(..., examples=[1])


class ShiftDetailOut(ShiftOut):
    counts: ShiftCountsOut
    unstaffed: bool = Field(..., description="Unstaffed now: see the posts part's rule.")


class ShiftIn(Schema):
    starts: dt.datetime = Field(..., examples=["2020-02-03T08:00:00+08:00"])
    ends: dt.datetime = Field(..., examples=["2020-02-03T14:00:00+08:00"])
    staff_ids: list[int] = Field([], description="Who is on duty: people who may stand there.")
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class ShiftTakeIn(Schema):
    at: dt.datetime | None = Field(None, description="When; defaults to now. Not in the future.")


class ShiftTallyIn(Schema):
    kind: Literal[TALLIES] = Field(..., examples=["persons"])  # type: ignore[valid-type]
    delta: int = Field(
        1,
        examples=[1],
        description="+1 for a tap, a number typed in, or a negative one to correct (the counter "
        f"never goes below 0); at most {posts.MAX_DELTA} either way.",
    )
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retried tap counts once."
    )


class ShiftTallyOut(Schema):
    id: int
    shift_id: int
    kind: str
    delta: int
    at: dt.datetime
    by_id: int
    counts: ShiftCountsOut


class ShiftNewPersonIn(Schema):
    name: str = Field(..., examples=["陈某"])
    id_type: str = Field("resident", examples=["resident"])
    id_number: str = Field("", examples=["420102198802150012"])
    sex: Literal["", "male", "female"] = ""
    birth_date: dt.date | None = None
    phone: str = Field("", examples=["13800000017"])


class ShiftRegistrationIn(DeclarationFields):
    person_id: int | None = Field(None, description="A person of the registry; or `person`.")
    person: ShiftNewPersonIn | None = Field(
        None, description="A person not in the registry, registered at the post's place."
    )
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class ShiftRegistrationOut(Schema):
    id: int
    shift_id: int
    node_id: int
    person_id: int
    person_name: str = Field(..., alias="person.name")
    declaration_id: int | None
    proposal: str = Field(..., examples=["central"])
    proposal_reason: str = Field(..., examples=["与确诊病例密切接触(2020-01-31)"])
    at: dt.datetime
    by_id: int

    @staticmethod
    def resolve_proposal(obj) -> str:
        return obj.declaration.proposal if obj.declaration_id else ""

    @staticmethod
    def resolve_proposal_reason(obj) -> str:
        return obj.declaration.proposal_reason if obj.declaration_id else ""


class ShiftHandoverIn(Schema):
    note: str = Field("", max_length=2000, examples=["体温枪2把交接,口罩剩一箱"])
    next_shift_id: int | None = Field(None, description="The next shift at the same post.")


# --- helpers ---------------------------------------------------------------------------------


def _post_input(request, payload: PostIn) -> posts.PostInput:
    try:
        node = access.node_get(request.user, payload.node_id)
    except NotFound:
        raise NotFound(_("This jurisdiction is not one of yours."), field="node_id") from None
    return posts.PostInput(
        node=node,
        name=payload.name,
        kind=payload.kind,
        address=payload.address,
        latitude=payload.latitude,
        longitude=payload.longitude,
        staffed_from=payload.staffed_from,
        staffed_to=payload.staffed_to,
        active=payload.active,
    )


def _detail(user, shift_id: int):
    """The shift with its counters and whether it is unstaffed now (ShiftDetailOut)."""
    shift = posts.shift_get(user, shift_id)
    prefetch_related_objects([shift], "staff")
    setattr(shift, "counts", posts.shift_counts(shift))  # noqa: B010 - read by the schema
    setattr(  # noqa: B010
        shift,
        "unstaffed",
        posts.is_unstaffed(shift, timezone.now(), staffed=bool(shift.staff.all())),
    )
    return shift


def _shift_for_write(request, shift_id: int):
    access.require(request.user, "shift.record")
    return posts.shift_get(request.user, shift_id)


# --- posts -----------------------------------------------------------------------------------


@router.get("/duty-posts", response={200: list[PostOut], **ERRORS})
@paginate(LimitOffsetPagination)
def post_list(request, node_id: int | None = None, active: bool | None = None):
    """The duty posts in the caller's jurisdiction, in tree order."""
    user = request.user
    access.require(user, "post.view")
    node = access.node_get(user, node_id) if node_id is not None else None
    return posts.post_list(user, node=node, active=active)


@router.post("/duty-posts", response={201: PostOut, **ERRORS})
def post_create(request, payload: PostIn):
    """Supervisors set up a post at a community, grid or compound of theirs."""
    access.require(request.user, "post.manage")
    try:
        return Status(
            201, posts.post_create(actor=request.user, data=_post_input(request, payload))
        )
    except DomainError as exc:
        raise _renamed(exc) from None


@router.get("/duty-posts/{post_id}", response={200: PostOut, **ERRORS})
def post_get(request, post_id: int):
    return posts.post_get(request.user, post_id)


@router.put("/duty-posts/{post_id}", response={200: PostOut, **ERRORS})
def post_update(request, post_id: int, payload: PostIn):
    """Change a post; `active: false` retires it (its shifts stay)."""
    access.require(request.user, "post.manage")
    post = posts.post_get(request.user, post_id)
    try:
        return posts.post_update(actor=request.user, post=post, data=_post_input(request, payload))
    except DomainError as exc:
        raise _renamed(exc) from None


# --- shifts ----------------------------------------------------------------------------------


@router.get("/duty-shifts", response={200: list[ShiftOut], **ERRORS})
@paginate(LimitOffsetPagination)
def shift_list(
    request,
    post_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    mine: bool = False,
):
    """Shifts at posts in the caller's jurisdiction, earliest first; `since`/`until` keep the
    ones running at some time between them, `mine` the caller's own."""
    user = request.user
    access.require(user, "post.view")
    post = posts.post_get(user, post_id, field="post_id") if post_id is not None else None
    return posts.shift_list(user, post=post, since=since, until=until, mine=mine).prefetch_related(
        "staff"
    )


@router.post("/duty-posts/{post_id}/shifts", response={201: ShiftOut, **ERRORS})
def shift_create(request, post_id: int, payload: ShiftIn):
    """Supervisors plan a shift: from–to (at most 24 hours) and who is on duty; nobody may be
    on two shifts at once."""
    user = request.user
    access.require(user, "post.manage")
    post = posts.post_get(user, post_id)
    try:
        staff = posts.staff_for(post, payload.staff_ids, field_name="staff_ids")
        shift = posts.shift_plan(
            actor=user,
            post=post,
            starts=payload.starts,
            ends=payload.ends,
            staff=staff,
            client_id=payload.client_id,
        )
    except DomainError as exc:
        raise _renamed(exc) from None
    return Status(201, posts.shift_get(user, shift.pk))


@router.get("/duty-shifts/{shift_id}", response={200: ShiftDetailOut, **ERRORS})
def shift_get(request, shift_id: int):
    """One shift with its counters (sums of its taps) and whether it is unstaffed now."""
    return _detail(request.user, shift_id)


@router.post("/duty-shifts/{shift_id}/take", response={200: ShiftDetailOut, **ERRORS})
def shift_take(request, shift_id: int, payload: ShiftTakeIn):
    """Check in: from an hour before the shift starts until it ends; the caller joins its
    staff. Taking it again answers it unchanged."""
    shift = _shift_for_write(request, shift_id)
    posts.shift_take(actor=request.user, shift=shift, at=payload.at)
    return _detail(request.user, shift_id)


@router.post("/duty-shifts/{shift_id}/tallies", response={201: ShiftTallyOut, **ERRORS})
def shift_tally(request, shift_id: int, payload: ShiftTallyIn):
    """One tap on a counter (or a number typed in, or a correction), by one on the shift; the
    answer carries the shift's counters. The same client_id twice counts once."""
    shift = _shift_for_write(request, shift_id)
    tap, counts = posts.shift_tally(
        actor=request.user,
        shift=shift,
        kind=payload.kind,
        delta=payload.delta,
        client_id=payload.client_id,
    )
    return Status(
        201,
        {
            "id": tap.pk,
            "shift_id": tap.shift_id,
            "kind": tap.kind,
            "delta": tap.delta,
            "at": tap.at,
            "by_id": tap.by_id,
            "counts": counts,
        },
    )


@router.get(
    "/duty-shifts/{shift_id}/registrations",
    response={200: list[ShiftRegistrationOut], **ERRORS},
)
def registration_list(request, shift_id: int):
    """The people registered on the shift, newest first, with the rules' proposals."""
    shift = posts.shift_get(request.user, shift_id)
    access.require(request.user, "person.view")
    return posts.shift_registrations(shift, request.user, via="api")


@router.post(
    "/duty-shifts/{shift_id}/registrations", response={201: ShiftRegistrationOut, **ERRORS}
)
def registration_create(request, shift_id: int, payload: ShiftRegistrationIn):
    """A person found at the post (from a risk area, with a fever...): `person_id` of the
    registry, or `person` to register at the post's place, with the declaration taken there.
    The rules' proposal is in the answer; health staff decide as after any declaration. Counts
    one outsider on the shift. Every refused field is named; nothing is stored."""
    user = request.user
    shift = _shift_for_write(request, shift_id)
    person = None
    if payload.person_id is not None:
        try:
            person = person_get(user, payload.person_id)
        except NotFound:
            raise NotFound(_("No such person."), field="person_id") from None
    new = None
    if payload.person is not None:
        p = payload.person
        new = PersonInput(
            name=p.name,
            id_type=p.id_type,
            id_number=p.id_number,
            sex=p.sex,
            birth_date=p.birth_date,
            phone=p.phone,
        )
    try:
        reg = posts.registration_record(
            actor=user,
            shift=shift,
            person=person,
            new_person=new,
            declaration=payload.to_input(),
            client_id=payload.client_id,
        )
    except DomainError as exc:
        raise _renamed(exc) from None
    return Status(201, posts.registration_get(user, reg.pk))


@router.post("/duty-shifts/{shift_id}/handover", response={200: ShiftDetailOut, **ERRORS})
def shift_handover(request, shift_id: int, payload: ShiftHandoverIn):
    """Hand the shift over: it ends now, with the note (and, optionally, the next shift at the
    same post, which shows it)."""
    user = request.user
    shift = _shift_for_write(request, shift_id)
    nxt = None
    if payload.next_shift_id is not None:
        nxt = posts.shift_get(user, payload.next_shift_id, field="next_shift_id")
    try:
        posts.shift_handover(actor=user, shift=shift, note=payload.note, next_shift=nxt)
    except DomainError as exc:
        raise _renamed(exc) from None
    return _detail(user, shift_id)
