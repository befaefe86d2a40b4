"""API for the people registry: persons, households, places."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS, AuditOut
from fangyi.core.errors import NotFound
from fangyi.core.models import Node

from . import selectors, services
from .models import IdType, PlaceKind

router = Router(tags=["people"])


# --- schemas ---------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: dt.date | None
    id_type: str
    id_number: str
    phone: str
    household_id: int | None
    relation: str
    node_id: int
    notes: str
    created: dt.datetime
    updated: dt.datetime


class PersonIn(Schema):
    name: str = Field(..., description="Full name, up to 50 characters.")
    id_type: Literal[tuple(IdType.values)] = IdType.RESIDENT  # type: ignore[valid-type]
    id_number: str = ""
    sex: Literal["M", "F", ""] = ""
    birth_date: dt.date | None = None
    phone: str = ""
    household_id: int | None = None
    node_id: int | None = None
    relation: str = ""
    notes: str = ""
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id creates nothing new."
    )
    allow_duplicates: bool = Field(
        False,
        description="Save even when likely duplicates (same name and birth date, or same "
        "phone) exist; without it such a request answers 409 with them.",
    )


class PersonDuplicateOut(Schema):
    id: int
    name: str
    birth_date: dt.date | None
    phone: str
    household_id: int | None


class DuplicatesIn(Schema):
    name: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    exclude_id: int | None = None


class PersonMergeIn(Schema):
    other_id: int = Field(..., description="The person folded into this one and then deleted.")


class HouseholdOut(Schema):
    id: int
    node_id: int
    address: str
    notes: str
    member_count: int = 0


class HouseholdIn(Schema):
    node_id: int
    address: str
    notes: str = ""
    client_id: uuid.UUID | None = None


class PlaceOut(Schema):
    id: int
    kind: str
    name: str
    node_id: int
    address: str
    phone: str
    capacity: int | None
    notes: str
    is_active: bool


class PlaceIn(Schema):
    kind: Literal[tuple(PlaceKind.values)]  # type: ignore[valid-type]
    name: str
    node_id: int
    address: str
    phone: str = ""
    capacity: int | None = None
    notes: str = ""
    is_active: bool = True


# --- helpers ---------------------------------------------------------------------------------


def _node(request, pk: int | None, field: str = "node_id") -> Node | None:
    if pk is None:
        return None
    # Scoped like every read: a node outside the user's jurisdiction is "not there".
    node = access.nodes_visible(request.user).filter(pk=pk).first()
    if node is None:
        raise NotFound(_("No such jurisdiction."), field=field)
    return node


def _person_input(request, payload: PersonIn) -> services.PersonInput:
    household = None
    if payload.household_id:
        try:
            household = selectors.household_get(request.user, payload.household_id)
        except NotFound:
            raise NotFound(_("No such household."), field="household_id") from None
    return services.PersonInput(
        name=payload.name,
        id_type=payload.id_type,
        id_number=payload.id_number,
        sex=payload.sex,
        birth_date=payload.birth_date,
        phone=payload.phone,
        household=household,
        node=_node(request, payload.node_id),
        relation=payload.relation,
        notes=payload.notes,
        client_id=payload.client_id,
    )


# --- persons ---------------------------------------------------------------------------------


@router.get("/persons", response=list[PersonOut])
@paginate(LimitOffsetPagination)
def person_list(request, q: str = "", node_id: int | None = None, household_id: int | None = None):
    """Search persons by name, pinyin or initials, ID number or its last digits, phone."""
    access.require(request.user, "person.view")
    node = access.node_get(request.user, node_id) if node_id else None
    household = selectors.household_get(request.user, household_id) if household_id else None
    return selectors.person_list(request.user, q=q, node=node, household=household)


@router.post("/persons", response={201: PersonOut, **ERRORS})
def person_create(request, payload: PersonIn):
    # The role is checked before any lookup, so a refused role gets 403, not 404.
    access.require(request.user, "person.edit")
    return Status(
        201,
        services.person_create(
            actor=request.user,
            data=_person_input(request, payload),
            allow_duplicates=payload.allow_duplicates,
        ),
    )


@router.post("/persons/duplicates", response=list[PersonDuplicateOut])
def person_duplicates(request, payload: DuplicatesIn):
    """Likely duplicates of what is about to be saved: same name and birth date, or phone."""
    return services.person_duplicates(
        request.user,
        name=payload.name,
        birth_date=payload.birth_date,
        phone=payload.phone,
        exclude_pk=payload.exclude_id,
    )


@router.get("/persons/{person_id}", response={200: PersonOut, **ERRORS})
def person_get(request, person_id: int):
    return selectors.person_get(request.user, person_id, via="api")


@router.put("/persons/{person_id}", response={200: PersonOut, **ERRORS})
def person_update(request, person_id: int, payload: PersonIn):
    access.require(request.user, "person.edit")
    person = selectors.person_get(request.user, person_id)
    return services.person_update(
        actor=request.user, person=person, data=_person_input(request, payload)
    )


@router.delete("/persons/{person_id}", response={204: None, **ERRORS})
def person_delete(request, person_id: int):
    person = selectors.person_get(request.user, person_id)
    services.person_delete(actor=request.user, person=person)
    return Status(204, None)


@router.post("/persons/{person_id}/merge", response={200: PersonOut, **ERRORS})
def person_merge(request, person_id: int, payload: PersonMergeIn):
    keep = selectors.person_get(request.user, person_id)
    remove = selectors.person_get(request.user, payload.other_id)
    return services.person_merge(actor=request.user, keep=keep, remove=remove)


@router.get("/persons/{person_id}/history", response={200: list[AuditOut], **ERRORS})
def person_history(request, person_id: int):
    person = selectors.person_get(request.user, person_id)
    return list(selectors.record_history(request.user, person)[:200])


# --- households ------------------------------------------------------------------------------


@router.get("/households", response=list[HouseholdOut])
@paginate(LimitOffsetPagination)
def household_list(request, q: str = "", node_id: int | None = None):
    access.require(request.user, "household.view")
    node = access.node_get(request.user, node_id) if node_id else None
    return selectors.household_list(request.user, q=q, node=node)


@router.post("/households", response={201: HouseholdOut, **ERRORS})
def household_create(request, payload: HouseholdIn):
    access.require(request.user, "household.edit")
    household = services.household_create(
        actor=request.user,
        node=_node(request, payload.node_id),
        address=payload.address,
        notes=payload.notes,
        client_id=payload.client_id,
    )
    return Status(201, selectors.household_get(request.user, household.pk))


@router.get("/households/{household_id}", response={200: HouseholdOut, **ERRORS})
def household_get(request, household_id: int):
    return selectors.household_get(request.user, household_id, via="api")


@router.put("/households/{household_id}", response={200: HouseholdOut, **ERRORS})
def household_update(request, household_id: int, payload: HouseholdIn):
    access.require(request.user, "household.edit")
    household = selectors.household_get(request.user, household_id)
    services.household_update(
        actor=request.user,
        household=household,
        node=_node(request, payload.node_id),
        address=payload.address,
        notes=payload.notes,
    )
    return selectors.household_get(request.user, household_id)


@router.delete("/households/{household_id}", response={204: None, **ERRORS})
def household_delete(request, household_id: int):
    household = selectors.household_get(request.user, household_id)
    services.household_delete(actor=request.user, household=household)
    return Status(204, None)


@router.get("/households/{household_id}/members", response={200: list[PersonOut], **ERRORS})
def household_members(request, household_id: int):
    household = selectors.household_get(request.user, household_id)
    return list(selectors.person_list(request.user, household=household))


# --- places ----------------------------------------------------------------------------------


@router.get("/places", response=list[PlaceOut])
@paginate(LimitOffsetPagination)
def place_list(request, kind: str = ""):
    return selectors.place_list(request.user, kind=kind)


@router.post("/places", response={201: PlaceOut, **ERRORS})
def place_create(request, payload: PlaceIn):
    access.require(request.user, "place.edit")
    data = payload.dict()
    data["node"] = _node(request, data.pop("node_id"))
    return Status(201, services.place_create(actor=request.user, data=data))


@router.get("/places/{place_id}", response={200: PlaceOut, **ERRORS})
def place_get(request, place_id: int):
    return selectors.place_get(request.user, place_id)


@router.put("/places/{place_id}", response={200: PlaceOut, **ERRORS})
def place_update(request, place_id: int, payload: PlaceIn):
    access.require(request.user, "place.edit")
    place = selectors.place_get(request.user, place_id)
    data = payload.dict()
    data["node"] = _node(request, data.pop("node_id"))
    return services.place_update(actor=request.user, place=place, data=data)
