"""The REST API of fangyi.quarantine: sites, rooms and beds, placements, the occupancy board."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS, StepsOut
from fangyi.core.errors import DomainError

from . import selectors, services
from .models import PlacementSource, Site

router = Router(tags=["quarantine"])

FIELDS = {"person": "person_id", "site": "site_id", "group": "group"}


def _api_fields(exc: DomainError) -> DomainError:
    exc.errors = {FIELDS.get(k, k): v for k, v in exc.errors.items()}
    return exc


# --- schemas -----------------------------------------------------------------------------------


class SiteOut(Schema):
    id: int
    place_id: int
    name: str = Field(..., alias="place.name", examples=["湖北籍旅客定点酒店"])
    kind: str = Field(..., alias="place.kind", examples=["designated_hotel"])
    address: str = Field(..., alias="place.address", examples=["西乡塘区明秀西路18号"])
    node_id: int
    groups: list[str] = Field(..., examples=[["hubei"]])
    latitude: Decimal | None = Field(None, examples=["22.836"])
    longitude: Decimal | None = Field(None, examples=["108.283"])
    active: bool
    free: int = 0
    reserved: int = 0
    occupied: int = 0
    cleaning: int = 0
    out_of_service: int = 0

    @staticmethod
    def resolve_groups(obj) -> list[str]:
        return [g.code for g in obj.groups.all()]


class SiteIn(Schema):
    groups: list[str] = Field(..., examples=[["hubei", "risk_area"]], description="Group codes.")
    latitude: Decimal | None = Field(None, examples=["22.836"])
    longitude: Decimal | None = Field(None, examples=["108.283"])


class RoomIn(Schema):
    number: str = Field(..., max_length=20, examples=["301"])
    floor: int | None = Field(None, examples=[3])
    beds: int = Field(2, examples=[2])


class RoomsIn(Schema):
    rooms: list[RoomIn]


class RoomsOut(Schema):
    rooms: int = Field(..., examples=[10])
    beds: int = Field(..., examples=[20])


class BedOut(Schema):
    id: int
    room: str = Field(..., alias="room.number", examples=["301"])
    label: str = Field(..., examples=["1"])
    state: str = Field(..., examples=["free"])
    changed_at: dt.datetime


class BedStateIn(Schema):
    state: str = Field(..., examples=["free"], description="free or out_of_service.")


class ChoiceOut(Schema):
    site_id: int
    name: str = Field(..., examples=["西乡塘区集中隔离点"])
    free: int = Field(..., examples=[112])
    distance_km: float | None = Field(None, description="Null when no coordinates are known.")


class PlacementOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(..., alias="person.name", examples=["陈志强"])
    kind: str = Field(..., examples=["site"])
    site_id: int | None
    bed_id: int | None
    bed: str = ""
    group: str | None = Field(None, examples=["hubei"])
    source: str = Field(..., examples=["decision"])
    decision_id: int | None
    observation_id: int | None
    previous_id: int | None
    status: str = Field(..., examples=["reserved"])
    transport: str = Field("", examples=["区卫健局转运车 桂A·12345"])
    expected_at: dt.datetime | None
    reserved_at: dt.datetime
    arrived_at: dt.datetime | None
    ended_at: dt.datetime | None

    @staticmethod
    def resolve_bed(obj) -> str:
        return str(obj.bed) if obj.bed_id else ""

    @staticmethod
    def resolve_group(obj) -> str | None:
        return obj.group.code if obj.group_id else None


class PlacementIn(Schema):
    person_id: int
    kind: str = Field("site", examples=["site"], description="site or home.")
    site_id: int | None = Field(None, description="Required for kind site.")
    group: str | None = Field(None, examples=["hubei"], description="Group code (kind site).")
    source: str = Field("decision", examples=["decision"])
    decision_id: int | None = None
    transport: str = Field("", max_length=200, examples=["区卫健局转运车"])
    expected_at: dt.datetime | None = None
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class PlacementArriveIn(Schema):
    at: dt.datetime | None = Field(None, description="When; defaults to now.")


class PlacementTransferIn(Schema):
    site_id: int
    transport: str = Field("", max_length=200)


class CancelIn(Schema):
    reason: str = Field(..., max_length=500, examples=["已转入定点医院"])


class OccupancyOut(Schema):
    site_id: int | None = Field(None, description="Null on the last row: the total.")
    name: str
    free: int
    reserved: int
    occupied: int
    cleaning: int
    out_of_service: int
    beds: int
    arrivals: int = Field(..., description="Reserved, expected today or earlier, not arrived.")
    releases: int = Field(..., description="In quarantine, observation ending today or before.")


# --- sites -------------------------------------------------------------------------------------


@router.get("/sites", response={200: list[SiteOut], **ERRORS})
def site_list(request):
    """The sites the caller may see (site staff: their own), with beds per state."""
    return list(selectors.site_list(request.user).prefetch_related("groups"))


@router.get("/sites/choices", response={200: list[ChoiceOut], **ERRORS})
def site_choices(request, group: str, person_id: int | None = None):
    """Sites that take the group and have a free bed: most free first, then nearest."""
    access.require(request.user, "placement.manage")
    grp = selectors.group_get(code=group, message=_("No such group."))
    if person_id is not None:
        selectors.placement_subject(request.user, person_id, person_field="person_id")
    return [
        {
            "site_id": c.site.pk,
            "name": c.site.place.name,
            "free": c.free,
            "distance_km": c.distance_km,
        }
        for c in services.site_choices(group=grp)
    ]


def _site_out(user, pk: int, via: str | None = None) -> Site:
    site = selectors.site_get(user, pk, via=via)
    return selectors.site_list(user).prefetch_related("groups").get(pk=site.pk)


@router.get("/sites/{site_id}", response={200: SiteOut, **ERRORS})
def site_get(request, site_id: int):
    return _site_out(request.user, site_id, via="api")


@router.put("/sites/{site_id}", response={200: SiteOut, **ERRORS})
def site_configure(request, site_id: int, payload: SiteIn):
    """Administrators: the groups a site takes and its coordinates."""
    access.require(request.user, "site.configure")
    site = selectors.site_get(request.user, site_id)
    services.site_configure(
        actor=request.user,
        site=site,
        groups=payload.groups,
        latitude=payload.latitude,
        longitude=payload.longitude,
    )
    return _site_out(request.user, site_id)


@router.post("/sites/{site_id}/rooms", response={201: RoomsOut, **ERRORS})
def rooms_add(request, site_id: int, payload: RoomsIn):
    """Administrators: add rooms, each with its number of beds (all free)."""
    access.require(request.user, "site.configure")
    site = selectors.site_get(request.user, site_id)
    rows = [(r.number, r.floor, r.beds) for r in payload.rooms]
    made = services.rooms_add(actor=request.user, site=site, rooms=rows)
    return Status(201, {"rooms": len(made), "beds": sum(r.beds for r in payload.rooms)})


@router.get("/sites/{site_id}/beds", response={200: list[BedOut], **ERRORS})
def site_beds(request, site_id: int):
    site = selectors.site_get(request.user, site_id)
    return list(site.beds.select_related("room").order_by("room__number", "label"))


@router.post("/beds/{bed_id}/state", response={200: BedOut, **ERRORS})
def bed_state(request, bed_id: int, payload: BedStateIn):
    """Site staff of the bed's site, or supervisors: cleaning → free, free ↔ out of service."""
    access.require(request.user, "bed.manage")
    bed = selectors.bed_get(request.user, bed_id)
    return services.bed_set_state(actor=request.user, bed=bed, state=payload.state)


# --- placements --------------------------------------------------------------------------------


@router.get("/placements", response={200: list[PlacementOut], **ERRORS})
@paginate(LimitOffsetPagination)
def placement_list(request, status: str = "", site_id: int | None = None):
    """Placements the caller may see (site staff: those at their site). status: one status."""
    site = selectors.site_get(request.user, site_id) if site_id is not None else None
    return selectors.placement_list(request.user, status=status, site=site)


@router.post("/placements", response={201: PlacementOut, **ERRORS})
def placement_create(request, payload: PlacementIn):
    """Place a person: at a site (a free bed reserved atomically) or at home."""
    user = request.user
    access.require(user, "placement.manage")
    person, decision = selectors.placement_subject(
        user,
        payload.person_id,
        payload.decision_id,
        person_field="person_id",
        decision_field="decision_id",
    )
    if payload.source not in PlacementSource.values:
        raise DomainError(_("Choose where the placement comes from."), field="source")
    try:
        if payload.kind == "home":
            placement = services.placement_home(
                actor=user,
                person=person,
                source=payload.source,
                decision=decision,
                client_id=payload.client_id,
            )
        elif payload.kind == "site":
            site = selectors.site_pick(payload.site_id)
            group = selectors.group_get(code=payload.group or "")
            placement = services.placement_reserve(
                actor=user,
                person=person,
                site=site,
                group=group,
                source=payload.source,
                decision=decision,
                transport=payload.transport,
                expected_at=payload.expected_at,
                client_id=payload.client_id,
            )
        else:
            raise DomainError(_("Choose site or home."), field="kind")
    except DomainError as exc:
        raise _api_fields(exc) from None
    return Status(201, selectors.placement_get(user, placement.pk))


@router.get("/placements/{placement_id}", response={200: PlacementOut, **ERRORS})
def placement_get(request, placement_id: int):
    return selectors.placement_get(request.user, placement_id, via="api")


@router.get("/placements/{placement_id}/steps", response={200: StepsOut, **ERRORS})
def placement_steps(request, placement_id: int):
    """The steps the caller may take on the placement now (arrive, transfer, release, cancel),
    from the placement's table: the page's buttons."""
    p = selectors.placement_get(request.user, placement_id)
    return {"status": p.status, "allowed_steps": services.placement_allowed_steps(request.user, p)}


def _placement(request, pk: int, action: str):
    access.require(request.user, action)
    return selectors.placement_get(request.user, pk)


@router.post("/placements/{placement_id}/arrive", response={200: PlacementOut, **ERRORS})
def placement_arrive(request, placement_id: int, payload: PlacementArriveIn | None = None):
    """The site confirms arrival (its staff, health staff or supervisors): bed occupied, the
    observation continues at the site. Another site's staff: 404."""
    p = _placement(request, placement_id, "placement.arrive")
    at = payload.at if payload else None
    if at is not None and timezone.is_naive(at):
        at = timezone.make_aware(at)
    services.placement_arrive(actor=request.user, placement=p, at=at)
    return selectors.placement_get(request.user, placement_id)


@router.post("/placements/{placement_id}/transfer", response={200: PlacementOut, **ERRORS})
def placement_transfer(request, placement_id: int, payload: PlacementTransferIn):
    """Move to another site: a new placement (returned) with a bed reserved there."""
    p = _placement(request, placement_id, "placement.manage")
    site = selectors.site_pick(payload.site_id, field="site_id")
    try:
        new = services.placement_transfer(
            actor=request.user, placement=p, site=site, transport=payload.transport
        )
    except DomainError as exc:
        raise _api_fields(exc) from None
    return selectors.placement_get(request.user, new.pk)


@router.post("/placements/{placement_id}/release", response={200: PlacementOut, **ERRORS})
def placement_release(request, placement_id: int):
    """Release on or after the observation's end date (else 400 on field `ends`)."""
    p = _placement(request, placement_id, "placement.manage")
    services.placement_release(actor=request.user, placement=p)
    return selectors.placement_get(request.user, placement_id)


@router.post("/placements/{placement_id}/cancel", response={200: PlacementOut, **ERRORS})
def placement_cancel(request, placement_id: int, payload: CancelIn):
    p = _placement(request, placement_id, "placement.manage")
    services.placement_cancel(actor=request.user, placement=p, reason=payload.reason)
    return selectors.placement_get(request.user, placement_id)


@router.get("/occupancy", response={200: list[OccupancyOut], **ERRORS})
def occupancy(request, day: dt.date | None = None):
    """Per site the caller may see, then the total (site_id null)."""
    rows = selectors.occupancy(request.user, day)
    return [{**r.__dict__, "beds": r.beds} for r in rows]
