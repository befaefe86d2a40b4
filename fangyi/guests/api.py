"""The REST API of fangyi.guests: hotel guest reports, registration and referral.

A hotel's staff POST the guests arriving; they read back their own hotel's reports with what
they typed, whether the rules flagged the guest and the status, not why nor what the police
did. The police, auxiliary police and supervisors read the reports of hotels in their
jurisdiction in full and register, refer or clear a flagged guest."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS
from fangyi.core.errors import DomainError
from fangyi.health.models import TempMethod
from fangyi.people.models import IdType

from . import selectors, services
from .models import GuestReport, GuestSettings

router = Router(tags=["guests"])

ID_TYPES = tuple(t for t in IdType.values if t != IdType.NONE)
METHODS = tuple(TempMethod.values)


class GuestReportOut(Schema):
    id: int
    place_id: int
    place_name: str = Field(..., examples=["北大路宾馆"])
    node_id: int
    reported_at: dt.datetime
    name: str = Field(..., examples=["陈志强"])
    id_type: str = Field(..., examples=["resident"])
    id_number: str = Field(..., examples=["420106198803090157"])
    phone: str = Field(..., examples=["13907712345"])
    from_where: str = Field(..., examples=["湖北省武汉市"])
    travel_since: dt.date | None
    arrived_on: dt.date
    room: str = Field(..., examples=["302"])
    flagged: bool
    status: str = Field(..., examples=["flagged"])
    flag_reason: str | None = Field(
        None,
        description="Why the rules flagged the guest (police, auxiliary police, supervisors).",
        examples=[
            "Coming from 湖北省武汉市 (risk area 湖北省), there on 2020-01-25, within 14 days"
        ],
    )
    person_id: int | None = Field(None, description="The registry person, once registered.")
    registered_at: dt.datetime | None = None
    placement_id: int | None = Field(None, description="The referral's placement.")
    site_id: int | None = None
    referred_at: dt.datetime | None = None
    confirm_by: dt.datetime | None = None
    overdue_at: dt.datetime | None = Field(
        None, description="When the referral was found not confirmed in time."
    )
    notes: str | None = None


class GuestReportIn(Schema):
    name: str = Field(..., max_length=50, examples=["陈志强"])
    id_type: Literal[ID_TYPES] = Field("resident", examples=["resident"])  # type: ignore[valid-type]
    id_number: str = Field(..., max_length=40, examples=["420106198803090157"])
    phone: str = Field("", max_length=30, examples=["13907712345"])
    from_where: str = Field(..., max_length=100, examples=["湖北省武汉市"])
    travel_since: dt.date | None = Field(
        None, description="The day the guest left there; not after arrived_on."
    )
    arrived_on: dt.date | None = Field(None, description="Defaults to today; not in the future.")
    room: str = Field("", max_length=20, examples=["302"])
    notes: str = Field("", max_length=1000)
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class RegisterIn(Schema):
    temperature: float = Field(..., examples=[36.6])
    temperature_method: Literal[METHODS] = Field("forehead")  # type: ignore[valid-type]
    name: str | None = Field(None, description="Corrected name; defaults to the report's.")
    id_type: Literal[ID_TYPES] | None = None  # type: ignore[valid-type]
    id_number: str | None = Field(None, description="Corrected document number.")
    phone: str | None = None
    client_id: uuid.UUID | None = None


class GuestReferIn(Schema):
    site_id: int = Field(..., description="A designated hotel with a free bed (quarantine site).")
    group: str | None = Field(
        None, description="Group code; defaults to hubei (Hubei, Wuhan) or risk_area."
    )
    transport: str = Field("", max_length=200, examples=["自行前往"])
    client_id: uuid.UUID | None = None


class ClearIn(Schema):
    reason: str = Field(..., max_length=300, examples=["经核实为本地居民,未去过武汉"])


class GuestSettingsOut(Schema):
    retention_days: int = Field(..., examples=[14])
    confirm_hours: int = Field(..., examples=[3])


class GuestSettingsIn(Schema):
    retention_days: int = Field(..., ge=1, le=365, examples=[14])
    confirm_hours: int = Field(..., ge=1, le=168, examples=[3])


def _out(user, report: GuestReport) -> dict:
    data = {
        "id": report.pk,
        "place_id": report.place_id,
        "place_name": report.place.name,
        "node_id": report.node_id,
        "reported_at": report.reported_at,
        "name": report.name,
        "id_type": report.id_type,
        "id_number": report.id_number,
        "phone": report.phone,
        "from_where": report.from_where,
        "travel_since": report.travel_since,
        "arrived_on": report.arrived_on,
        "room": report.room,
        "flagged": report.flagged,
        "status": report.status,
    }
    if access.can(user, "guest.handle"):
        placement = report.placement
        data.update(
            flag_reason=report.flag_reason,
            person_id=report.person_id,
            registered_at=report.registered_at,
            placement_id=report.placement_id,
            site_id=placement.site_id if placement is not None else None,
            referred_at=report.referred_at,
            confirm_by=report.confirm_by,
            overdue_at=report.overdue_at,
            notes=report.notes,
        )
    return data


class _Shown:
    """A queryset whose slices come out as the caller may see them (for the paginator)."""

    def __init__(self, user, qs):
        self.user, self.qs = user, qs

    def all(self):
        return self.qs

    def __getitem__(self, key):
        return [_out(self.user, r) for r in self.qs[key]]


@router.get("/guest-reports", response={200: list[GuestReportOut], **ERRORS})
@paginate(LimitOffsetPagination)
def report_list(request, status: str = "", todo: bool = False, day: str = ""):
    """Hotel staff: their own hotel's reports. Police, auxiliary police, supervisors: the
    reports of hotels in their jurisdiction, those to handle first. todo: only flagged guests
    not yet referred or cleared, and referrals not confirmed in time. day (YYYY-MM-DD): the
    guests arrived or reported that day."""
    user = request.user
    try:
        on = dt.date.fromisoformat(day) if day else None
    except ValueError:
        raise DomainError(_("Enter a date as YYYY-MM-DD."), field="day") from None
    qs = selectors.guest_list(user, status=status, todo=todo, day=on).select_related("placement")
    return _Shown(user, qs)


@router.post("/guest-reports", response={201: GuestReportOut, **ERRORS})
def report_create(request, payload: GuestReportIn):
    """A hotel's staff report an arriving guest; the risk rules flag a guest from a risk area
    within the observation days (the station's police see them on their day list). Each
    refused field is named in `errors` and nothing is stored."""
    user = request.user
    data = payload.dict(exclude={"client_id"})
    data["arrived_on"] = data.get("arrived_on") or timezone.localdate()
    report = services.guest_report(actor=user, data=data, client_id=payload.client_id)
    return Status(201, _out(user, report))


@router.get("/guest-reports/{report_id}", response={200: GuestReportOut, **ERRORS})
def report_get(request, report_id: int):
    user = request.user
    return _out(user, selectors.guest_get(user, report_id, via="api"))


@router.post("/guest-reports/{report_id}/register", response={200: GuestReportOut, **ERRORS})
def report_register(request, report_id: int, payload: RegisterIn):
    """Register the guest: found in the registry by the document or created at the hotel's
    node, the temperature recorded as a declaration with the journey."""
    user = request.user
    access.require(user, "guest.handle")
    report = selectors.guest_get(user, report_id)
    services.guest_register(actor=user, report=report, **payload.dict())
    return _out(user, selectors.guest_get(user, report_id))


@router.post("/guest-reports/{report_id}/refer", response={200: GuestReportOut, **ERRORS})
def report_refer(request, report_id: int, payload: GuestReferIn):
    """Refer a registered guest to a designated hotel: one of its free beds reserved; the
    designated hotel confirms the arrival within the configured hours. A full site, or one
    that does not take the group, is refused on `site_id`."""
    user = request.user
    access.require(user, "guest.handle")
    report = selectors.guest_get(user, report_id)
    try:
        services.guest_refer(
            actor=user,
            report=report,
            site=services.site_for_id(payload.site_id),
            group=payload.group,
            transport=payload.transport,
            client_id=payload.client_id,
        )
    except DomainError as exc:
        exc.errors = {("site_id" if k == "site" else k): v for k, v in exc.errors.items()}
        raise
    return _out(user, selectors.guest_get(user, report_id))


@router.post("/guest-reports/{report_id}/clear", response={200: GuestReportOut, **ERRORS})
def report_clear(request, report_id: int, payload: ClearIn):
    """Not a risk after all: cleared, with the reason."""
    user = request.user
    access.require(user, "guest.handle")
    report = selectors.guest_get(user, report_id)
    services.guest_clear(actor=user, report=report, reason=payload.reason)
    return _out(user, selectors.guest_get(user, report_id))


@router.get("/guest-settings", response={200: GuestSettingsOut, **ERRORS})
def settings_get(request):
    access.require(request.user, "guest.configure")
    return GuestSettings.get()


@router.put("/guest-settings", response={200: GuestSettingsOut, **ERRORS})
def settings_put(request, payload: GuestSettingsIn):
    return services.guest_settings_update(actor=request.user, data=payload.dict())
