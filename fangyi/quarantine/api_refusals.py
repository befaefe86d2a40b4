"""The REST API of refusals, persuasion attempts and the quarantine notice."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError
from fangyi.enforcement.services import legal_bases_for
from fangyi.health.public import link_url

from . import refusals, selectors
from .models import PersuasionOutcome, RefusalStatus

router = Router(tags=["refusals"])


# --- schemas ---------------------------------------------------------------------------------


class AttemptOut(Schema):
    id: int
    at: dt.datetime
    by_id: int
    by_name: str = ""
    explained: str = Field(..., examples=["讲解了《传染病防治法》和隔离点的生活安排"])
    outcome: str = Field(..., examples=["still_refuses"])

    @staticmethod
    def resolve_by_name(obj) -> str:
        return obj.by.display_name


class RefusalOut(Schema):
    id: int
    placement_id: int
    person_id: int
    person_name: str = Field("", examples=["黄秀英"])
    node_id: int
    site_id: int | None = None
    site_name: str = ""
    reason: str = Field(..., examples=["家中有老人需要照顾,不愿去隔离点"])
    at: dt.datetime
    by_id: int
    status: str = Field(..., examples=["open"])
    ended_at: dt.datetime | None
    ended_by_id: int | None
    outcome_note: str
    new_placement_id: int | None
    support_request_id: int | None
    support_status: str | None = Field(None, description="The police support request's status.")
    enforcement_record_id: int | None

    @staticmethod
    def resolve_person_name(obj) -> str:
        return obj.person.name

    @staticmethod
    def resolve_site_id(obj) -> int | None:
        return obj.placement.site_id

    @staticmethod
    def resolve_site_name(obj) -> str:
        return obj.placement.site.place.name if obj.placement.site_id else ""

    @staticmethod
    def resolve_support_status(obj) -> str | None:
        return obj.support_request.status if obj.support_request_id else None


class RefusalDetailOut(RefusalOut):
    attempts: list[AttemptOut] = Field(default_factory=list, description="Oldest first.")

    @staticmethod
    def resolve_attempts(obj) -> list:
        return refusals.attempts_of(obj)


class RefusalIn(Schema):
    reason: str = Field(..., max_length=1000, examples=["家中有老人需要照顾,不愿去隔离点"])
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class AttemptIn(Schema):
    at: dt.datetime = Field(..., description="When; not in the future.")
    explained: str = Field(..., max_length=2000, examples=["讲解了潜伏期和隔离的必要"])
    outcome: Literal[tuple(PersuasionOutcome.values)] = Field(  # type: ignore[valid-type]
        ..., examples=["still_refuses"]
    )
    client_id: uuid.UUID | None = None


class AgreeIn(Schema):
    site_id: int | None = Field(None, description="Another site when the first one is full.")


class HomeIn(Schema):
    reason: str = Field(..., max_length=1000, examples=["独居老人,居家条件符合要求"])


class RefusalReferIn(Schema):
    measure: Literal[refusals.REFER_MEASURES] = Field(..., examples=["order_isolate"])  # type: ignore[valid-type]
    legal_basis_ids: list[int] = Field(default_factory=list, examples=[[1]])
    facts: str = Field("", max_length=4000, description="Filled in from the refusal when empty.")
    client_id: uuid.UUID | None = None


class CallIn(Schema):
    urgency: Literal["urgent", "high", "normal"] = Field("high", examples=["high"])
    client_id: uuid.UUID | None = None


class PlacementRef(Schema):
    id: int
    kind: str = Field(..., examples=["site"])
    site_id: int | None
    status: str = Field(..., examples=["reserved"])


class SupportRef(Schema):
    id: int
    status: str = Field(..., examples=["open"])
    due_at: dt.datetime


class EnforcementRef(Schema):
    id: int
    measure: str = Field(..., examples=["order_isolate"])


class BasisOut(Schema):
    id: int
    title: str = Field(..., examples=["《中华人民共和国传染病防治法》"])
    reference: str


class NoticeOut(Schema):
    placement_id: int
    name: str = Field(..., examples=["黄秀英"])
    id_number: str = Field(
        ..., description="Masked but the last four.", examples=["**************1234"]
    )
    address: str
    at_home: bool
    place_name: str = Field(..., examples=["西乡塘区集中隔离点"])
    place_address: str
    starts: dt.date | None
    ends: dt.date | None
    legal_bases: list[BasisOut]
    office: str = Field(..., examples=["五里亭派出所"])
    health_office: str = Field(..., examples=["西乡塘区卫生健康局"])
    number: str = Field(..., examples=["隔字〔2020〕第000123号"])
    contact_phone: str = Field(..., examples=["13907710000"])
    issued_on: dt.date
    selfreport_url: str = Field(..., description="The new self-report link (older ones revoked).")


# --- operations ------------------------------------------------------------------------------


@router.post("/placements/{placement_id}/refusals", response={201: RefusalOut, **ERRORS})
def refusal_create(request, placement_id: int, payload: RefusalIn):
    """Record that the person refuses this reserved placement; the bed is freed at once."""
    placement = refusals.placement_for(request.user, placement_id, action="refusal.record")
    refusal = refusals.refusal_record(
        actor=request.user, placement=placement, reason=payload.reason, client_id=payload.client_id
    )
    return Status(201, refusals.refusal_get(request.user, refusal.pk))


@router.get("/refusals", response={200: list[RefusalOut], **ERRORS})
@paginate(LimitOffsetPagination)
def refusal_list(request, status: str = ""):
    """The refusals in the caller's area, open ones first."""
    if status and status not in RefusalStatus.values:
        raise DomainError(_("Unknown status filter."), field="status")
    return refusals.refusal_list(request.user, status=status).select_related(
        "support_request", "placement__site__place"
    )


@router.get("/refusals/{refusal_id}", response={200: RefusalDetailOut, **ERRORS})
def refusal_get(request, refusal_id: int):
    """One refusal with every persuasion attempt (who, when, what was explained, outcome)."""
    return refusals.refusal_get(request.user, refusal_id, via="api")


@router.post("/refusals/{refusal_id}/attempts", response={201: AttemptOut, **ERRORS})
def attempt_create(request, refusal_id: int, payload: AttemptIn):
    """Record a persuasion attempt. "agreed" does not place the person: /agree does."""
    refusal = refusals.refusal_get(request.user, refusal_id)
    attempt = refusals.persuasion_record(
        actor=request.user,
        refusal=refusal,
        at=payload.at,
        explained=payload.explained,
        outcome=payload.outcome,
        client_id=payload.client_id,
    )
    return Status(201, attempt)


@router.post("/refusals/{refusal_id}/agree", response={200: PlacementRef, **ERRORS})
def refusal_agree(request, refusal_id: int, payload: AgreeIn):
    """The person agrees: a new placement for the same group, at the same site or another."""
    access.require(request.user, "refusal.record")
    refusal = refusals.refusal_get(request.user, refusal_id)
    site = None
    if payload.site_id is not None:
        site = selectors.site_pick(payload.site_id, message=_("Choose the site from the list."))
    return refusals.refusal_agree(actor=request.user, refusal=refusal, site=site)


@router.post("/refusals/{refusal_id}/allow-home", response={200: PlacementRef, **ERRORS})
def refusal_allow_home(request, refusal_id: int, payload: HomeIn):
    """Health staff allow quarantine at home instead."""
    access.require(request.user, "decision.make")
    refusal = refusals.refusal_get(request.user, refusal_id)
    return refusals.refusal_allow_home(actor=request.user, refusal=refusal, reason=payload.reason)


@router.post("/refusals/{refusal_id}/refer", response={200: EnforcementRef, **ERRORS})
def refusal_refer(request, refusal_id: int, payload: RefusalReferIn):
    """Police refer the refusal for enforcement (an order to isolate, or a penalty)."""
    access.require(request.user, "enforcement.record")
    refusal = refusals.refusal_get(request.user, refusal_id)

    return refusals.refusal_refer(
        actor=request.user,
        refusal=refusal,
        measure=payload.measure,
        legal_bases=legal_bases_for(payload.legal_basis_ids, field_name="legal_basis_ids"),
        facts=payload.facts,
        client_id=payload.client_id,
    )


@router.post("/refusals/{refusal_id}/call-police", response={200: SupportRef, **ERRORS})
def refusal_call_police(request, refusal_id: int, payload: CallIn):
    """Ask police for support; while a request is running, answers that one."""
    access.require(request.user, "refusal.record")
    refusal = refusals.refusal_get(request.user, refusal_id)
    return refusals.refusal_call_police(
        actor=request.user, refusal=refusal, urgency=payload.urgency, client_id=payload.client_id
    )


@router.post("/placements/{placement_id}/notice", response={200: NoticeOut, **ERRORS})
def notice_issue(request, placement_id: int):
    """Issue the quarantine notice: its data and a new self-report URL (the person's older
    links are revoked). The printable page is /placements/{id}/notice/."""
    placement = refusals.placement_for(request.user, placement_id, action="notice.print")
    access.require(request.user, "selfreport.issue")
    access_record(request.user, placement, node_path=placement.node.path, via="api")
    notice, token = refusals.notice_issue(actor=request.user, placement=placement)

    return {
        "placement_id": placement.pk,
        "name": notice.name,
        "id_number": notice.id_number,
        "address": notice.address,
        "at_home": notice.at_home,
        "place_name": notice.place_name,
        "place_address": notice.place_address,
        "starts": notice.starts,
        "ends": notice.ends,
        "legal_bases": [
            {"id": b.pk, "title": b.title, "reference": b.reference} for b in notice.legal_bases
        ],
        "office": notice.office,
        "health_office": notice.health_office,
        "number": notice.number,
        "contact_phone": notice.contact_phone,
        "issued_on": notice.issued_on,
        "selfreport_url": link_url(request, token),
    }
