"""The REST API of fangyi.enforcement: records, legal bases, evidence photos.

A record is created by POST /api/enforcement-records either as JSON (no photos) or as
multipart/form-data with the same fields and up to six files in `photos` (ids as repeated
fields or comma-separated). Only police roles and supervisors read or write records."""

from __future__ import annotations

import datetime as dt
import json
import uuid
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
from .models import EnforcementRecord, Measure

router = Router(tags=["enforcement"])

MEASURES = tuple(Measure.values)


# --- schemas ---------------------------------------------------------------------------------


class LegalBasisOut(Schema):
    id: int
    title: str = Field(..., examples=["西乡塘区公安分局关于严禁聚集聚餐的通告"])
    issuer: str = Field(..., examples=["南宁市公安局西乡塘分局"])
    reference: str = Field(..., examples=["第三十九条"])
    issued_on: dt.date | None
    summary: str = Field(..., examples=["多人聚集聚餐、不听劝阻的,一律依法行政拘留。"])
    url: str
    active: bool
    order: int


class LegalBasisIn(Schema):
    title: str = Field(..., max_length=200, examples=["西乡塘区公安分局关于严禁聚集聚餐的通告"])
    issuer: str = Field("", max_length=100, examples=["南宁市公安局西乡塘分局"])
    reference: str = Field("", max_length=100)
    issued_on: dt.date | None = Field(None, examples=["2020-02-03"])
    summary: str = Field("", max_length=2000)
    url: str = Field("", max_length=200)
    active: bool = True
    order: int = Field(0, ge=0, le=32767)


class EnforcementPhotoOut(Schema):
    id: int
    url: str = Field(..., description="GET it with the same credentials to see the photo.")
    content_type: str = Field(..., examples=["image/jpeg"])
    size: int
    width: int
    height: int
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/enforcement-photos/{obj.pk}"


class BasisRef(Schema):
    id: int
    title: str


class RecordOut(Schema):
    id: int
    node_id: int
    node_name: str = Field(..., alias="node.name", examples=["南铁北四区"])
    tip_id: int | None
    person_id: int | None
    measure: str = Field(..., examples=["education"])
    at: dt.datetime
    location: str = Field(..., examples=["南铁北四区7栋302"])
    legal_bases: list[BasisRef]
    person_ids: list[int] = Field(..., description="Registry persons involved.")
    described_people: str = Field(..., examples=["聚餐人员6名,均未佩戴口罩"])
    statements: str = Field(..., examples=["组织者表示疫情期间不再组织聚餐"])
    facts: str
    officer_ids: list[int]
    followup_on: dt.date | None
    followup_done_at: dt.datetime | None
    followup_by_id: int | None
    followup_notes: str
    recorded_by_id: int
    recorded_at: dt.datetime
    photos: list[EnforcementPhotoOut]

    @staticmethod
    def resolve_legal_bases(obj) -> list[dict]:
        return [{"id": b.pk, "title": b.title} for b in obj.legal_bases.all()]

    @staticmethod
    def resolve_person_ids(obj) -> list[int]:
        return sorted(p.pk for p in obj.persons.all())

    @staticmethod
    def resolve_officer_ids(obj) -> list[int]:
        return sorted(u.pk for u in obj.officers.all())

    @staticmethod
    def resolve_photos(obj) -> list:
        return list(obj.photos.all())


class RecordIn(Schema):
    tip_id: int | None = Field(None, description="The tip it is about; or person_id, or both.")
    person_id: int | None = Field(None, description="The person it is about.")
    measure: Literal[MEASURES] = Field(..., examples=["education"])  # type: ignore[valid-type]
    at: dt.datetime | None = Field(None, description="When; defaults to now. Not in the future.")
    location: str = Field("", examples=["南铁北四区7栋302"])
    legal_basis_ids: list[int] = Field(
        [], description="Active legal bases cited; required for every measure but education."
    )
    person_ids: list[int] = Field([], description="Registry persons involved.")
    described_people: str = Field(
        "", description="People not in the registry.", examples=["聚餐人员6名,均未佩戴口罩"]
    )
    statements: str = Field("", examples=["组织者当场表示疫情期间不再组织聚餐"])
    facts: str = Field(..., examples=["现场6人聚餐饮酒,经一小时说服教育后散去"])
    officer_ids: list[int] = Field(
        [], description="Police or supervisors of the place; defaults to the caller."
    )
    followup_on: dt.date | None = Field(None, description="The follow-up check: today or later.")
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class FollowupIn(Schema):
    notes: str = Field(..., examples=["回访:该户未再组织聚餐"])


LIST_FIELDS = ("legal_basis_ids", "person_ids", "officer_ids")


def _record_doc() -> dict:
    schema = RecordIn.model_json_schema()
    multipart = json.loads(json.dumps(schema))
    multipart["properties"]["photos"] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "description": "Evidence photos: JPEG, PNG or WebP, at most six.",
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


def _record_in(request) -> tuple[RecordIn, list]:
    """The submission as JSON or as multipart/form-data (with photos)."""
    if request.content_type == "multipart/form-data":
        raw: dict = {}
        for key in request.POST:
            if key in LIST_FIELDS:
                values = []
                for v in request.POST.getlist(key):
                    values.extend(x.strip() for x in v.split(",") if x.strip())
                raw[key] = values
            else:
                value = request.POST.get(key)
                raw[key] = value if value != "" else None
        for key in ("location", "described_people", "statements", "facts"):
            if raw.get(key) is None and key in raw:
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
        return RecordIn.model_validate(raw), files
    except pydantic.ValidationError as exc:
        raise NinjaValidationError([dict(e) for e in exc.errors()]) from None


def _prefetched(user, pk: int, via: str | None = None) -> EnforcementRecord:
    return selectors.record_get(user, pk, via=via, full=True)


# --- records ---------------------------------------------------------------------------------


@router.get("/enforcement-records", response={200: list[RecordOut], **ERRORS})
@paginate(LimitOffsetPagination)
def record_list(
    request,
    measure: str = "",
    tip_id: int | None = None,
    person_id: int | None = None,
    node_id: int | None = None,
    followup: str = "",
):
    """The records at places in the caller's jurisdiction, newest first. followup: due (a
    check planned for today or before, not done), open (planned, not done), done."""
    user = request.user
    access.require(user, "enforcement.view")
    tip = services.tip_for(user, tip_id, field_name="tip_id")
    person = services.person_for(user, person_id, field_name="person_id")
    node = access.node_get(user, node_id) if node_id is not None else None
    return selectors.record_list(
        user, measure=measure, tip=tip, person=person, node=node, followup=followup
    ).prefetch_related("legal_bases", "persons", "officers", "photos")


@router.post(
    "/enforcement-records",
    response={201: RecordOut, **ERRORS},
    openapi_extra=_record_doc(),
)
def record_create(request):
    """Record an enforcement measure on a tip or a person: JSON, or multipart/form-data with
    the same fields and the photos in `photos`. Each refused field is named in `errors`
    (photos too) and nothing is stored; the same client_id twice stores one record."""
    user = request.user
    access.require(user, "enforcement.record")
    payload, files = _record_in(request)
    tip = services.tip_for(user, payload.tip_id, field_name="tip_id")
    person = services.person_for(user, payload.person_id, field_name="person_id")
    data = services.EnforcementInput(
        tip=tip,
        person=person,
        measure=payload.measure,
        at=payload.at,
        location=payload.location,
        legal_bases=services.legal_bases_for(payload.legal_basis_ids, field_name="legal_basis_ids"),
        persons=services.persons_for(user, payload.person_ids, field_name="person_ids"),
        described_people=payload.described_people,
        statements=payload.statements,
        facts=payload.facts,
        officers=services.officers_for(payload.officer_ids, field_name="officer_ids"),
        followup_on=payload.followup_on,
    )
    try:
        record = services.enforcement_record(
            actor=user, data=data, photos=files, client_id=payload.client_id
        )
    except DomainError as exc:
        # The API's fields are named by their ids.
        renamed = {
            {
                "tip": "tip_id",
                "person": "person_id",
                "legal_bases": "legal_basis_ids",
                "persons": "person_ids",
                "officers": "officer_ids",
            }.get(k, k): v
            for k, v in exc.errors.items()
        }
        exc.errors = renamed
        raise
    return Status(201, _prefetched(user, record.pk))


@router.get("/enforcement-records/{record_id}", response={200: RecordOut, **ERRORS})
def record_get(request, record_id: int):
    return _prefetched(request.user, record_id, via="api")


@router.post("/enforcement-records/{record_id}/followup", response={200: RecordOut, **ERRORS})
def record_followup(request, record_id: int, payload: FollowupIn):
    """The follow-up check done: by one of the record's officers or a supervisor."""
    user = request.user
    access.require(user, "enforcement.record")
    record = selectors.record_get(user, record_id)
    services.enforcement_followup(actor=user, record=record, notes=payload.notes)
    return _prefetched(user, record_id)


@router.get(
    "/enforcement-photos/{photo_id}",
    response={200: None, **ERRORS},
    openapi_extra=PHOTO_RESPONSE_DOC,
)
def photo_get(request, photo_id: int):
    """An evidence photo of a record in the caller's jurisdiction; the read is logged."""
    return photo_response(selectors.photo_get(request.user, photo_id, via="api"))


# --- legal bases -----------------------------------------------------------------------------


@router.get("/legal-bases", response={200: list[LegalBasisOut], **ERRORS})
def legalbasis_list(request, active: bool | None = None):
    """The public notices and laws that records cite (public texts: anyone logged in)."""
    qs = selectors.legalbasis_list()
    if active is not None:
        qs = qs.filter(active=active)
    return list(qs)


@router.post("/legal-bases", response={201: LegalBasisOut, **ERRORS})
def legalbasis_create(request, payload: LegalBasisIn):
    """Administrators add a legal basis."""
    return Status(201, services.legalbasis_save(actor=request.user, data=payload.dict()))


@router.put("/legal-bases/{basis_id}", response={200: LegalBasisOut, **ERRORS})
def legalbasis_update(request, basis_id: int, payload: LegalBasisIn):
    """Administrators change one; `active: false` retires it (records keep citing it)."""
    access.require(request.user, "legalbasis.configure")
    basis = selectors.legalbasis_get(request.user, basis_id)
    return services.legalbasis_save(actor=request.user, data=payload.dict(), basis=basis)
