"""The REST API of fangyi.observation: observations, follow-ups, alerts, the day list, the
board, and the public daily self-report.

No `from __future__ import annotations` here: django-ninja reads the parameters' annotations
as objects (module-level names such as `dt` would not resolve from strings)."""

import datetime as dt
import uuid
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.care import flows
from fangyi.core import access
from fangyi.core.api import ERRORS
from fangyi.core.errors import NotFound
from fangyi.health.public import given_name
from fangyi.health.services import selfreport_resolve
from fangyi.people.models import Place, PlaceKind
from fangyi.people.selectors import person_get

from . import selectors, services
from .forms import place_choices
from .models import (
    AlertKind,
    FollowUpStatus,
    ObservationKind,
    ObservationStatus,
)

router = Router(tags=["observation"])

# Choices as types, named at module level so that the schemas can resolve them.
WORKER_STATUS = Literal[tuple(s.value for s in services.WORKER_STATUSES)]  # type: ignore[valid-type]
KIND = Literal[tuple(ObservationKind.values)]  # type: ignore[valid-type]
KIND_Q = Literal[tuple(["", *ObservationKind.values])]  # type: ignore[valid-type]
STATUS_Q = Literal[tuple(["", *ObservationStatus.values])]  # type: ignore[valid-type]
FOLLOWUP_STATUS_Q = Literal[tuple(["", *FollowUpStatus.values])]  # type: ignore[valid-type]
ALERT_KIND_Q = Literal[tuple(["", *AlertKind.values])]  # type: ignore[valid-type]
TAB = Literal[tuple(selectors.TABS)]  # type: ignore[valid-type]


# --- schemas ---------------------------------------------------------------------------------


class ObservationOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(..., examples=["徐红心"])
    node_id: int
    decision_id: int | None
    kind: str = Field(..., examples=["home"])
    place_id: int | None
    status: str = Field(..., examples=["active"])
    starts: dt.date
    last_exposure: dt.date
    ends: dt.date = Field(..., description="Last day of observation: last exposure + the days.")
    per_day: int
    responsible_id: int | None
    missed_streak: int
    escalated: bool
    ended_at: dt.datetime | None
    ended_by_id: int | None
    end_note: str
    transferred_to_id: int | None

    @staticmethod
    def resolve_person_name(obj) -> str:
        return obj.person.name


class ObservationIn(Schema):
    person_id: int
    kind: KIND = Field(..., examples=["home"])
    place_id: int | None = Field(None, description="A quarantine point or designated hotel.")
    last_exposure: dt.date = Field(..., examples=["2020-02-01"])
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id creates nothing new."
    )


class ExtendIn(Schema):
    last_exposure: dt.date = Field(..., description="The new, later exposure.")


class ReleaseIn(Schema):
    note: str = Field("", examples=["14 days without fever or symptoms"])


class ObservationReferIn(Schema):
    note: str = Field(..., examples=["37.9 °C and a cough"])
    place_id: int | None = Field(None, description="The fever clinic, when known.")


class ObservationTransferIn(Schema):
    kind: KIND = Field(..., examples=["place"])
    place_id: int | None = None
    note: str = ""
    client_id: uuid.UUID | None = None


class FollowUpOut(Schema):
    id: int
    observation_id: int
    person_name: str
    node_id: int
    due: dt.date
    slot: int
    assignee_id: int | None
    status: str = Field(..., examples=["seen_well"])
    temperature: float | None = Field(None, examples=[36.6])
    symptoms: list[str] = Field(..., examples=[["cough"]])
    notes: str
    recorded_by_id: int | None
    recorded_at: dt.datetime | None

    @staticmethod
    def resolve_person_name(obj) -> str:
        return obj.observation.person.name

    @staticmethod
    def resolve_temperature(obj) -> float | None:
        return float(obj.temperature) if obj.temperature is not None else None


class SelfReportDailyOut(Schema):
    """What the public self-report answers: the given name and today's record, no ids."""

    given_name: str = Field(..., examples=["红心"])
    due: dt.date
    status: str = Field(..., examples=["self_reported"])
    temperature: float | None = Field(None, examples=[36.6])
    symptoms: list[str] = Field(..., examples=[["cough"]])

    @staticmethod
    def resolve_given_name(obj) -> str:

        return given_name(obj.observation.person.name)

    @staticmethod
    def resolve_temperature(obj) -> float | None:
        return float(obj.temperature) if obj.temperature is not None else None


class FollowUpIn(Schema):
    status: WORKER_STATUS = Field(..., examples=["seen_well"])
    temperature: float | None = Field(None, examples=[36.6], description="35.0 to 42.0 °C.")
    symptoms: list[str] = Field([], description="Symptom codes of the risk rules.")
    notes: str = ""
    client_id: uuid.UUID | None = None


class FollowUpSelfReportIn(Schema):
    temperature: float = Field(..., examples=[36.5], description="35.0 to 42.0 °C.")
    symptoms: list[str] = Field([], examples=[[]])
    notes: str = ""
    client_id: uuid.UUID | None = None


class AlertOut(Schema):
    id: int
    observation_id: int
    followup_id: int | None
    person_name: str
    node_id: int
    kind: str = Field(..., examples=["fever"])
    message: str
    proposal: str = Field(..., examples=["fever_clinic"])
    created: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by_id: int | None
    resolution: str

    @staticmethod
    def resolve_person_name(obj) -> str:
        return obj.observation.person.name


class AlertResolveIn(Schema):
    resolution: str = Field(..., examples=["Called: went to the fever clinic, tested"])
    refer: bool = Field(False, description="Also end the observation as a referral.")
    place_id: int | None = None


class DayItemOut(Schema):
    kind: str = Field(..., examples=["followup"])
    urgency: int
    title: str
    detail: str
    url: str = Field(..., description="The page of its form.")
    badge: str
    pk: int


class DayListOut(Schema):
    day: dt.date
    counts: dict[str, int]
    more: dict[str, int]
    items: list[DayItemOut]


class ObservationBoardOut(Schema):
    tab: str
    day: dt.date
    counts: dict[str, int] = Field(..., examples=[{"symptomatic": 1, "not_reporting": 2}])
    count: int
    items: list[ObservationOut]


# --- helpers ---------------------------------------------------------------------------------


def _place(request, pk: int | None, kinds=services.END_PLACE_KINDS) -> Place | None:
    if pk is None:
        return None
    place = place_choices(request.user, kinds).filter(pk=pk).first()
    if place is None:
        raise NotFound(_("No such place."), field="place_id")
    return place


def _observation(request, pk: int):
    return selectors.observation_get(request.user, pk)


# --- observations ----------------------------------------------------------------------------


@router.get("/observations", response={200: list[ObservationOut], **ERRORS})
@paginate(LimitOffsetPagination)
def observation_list(
    request,
    status: STATUS_Q = "",
    kind: KIND_Q = "",
    node_id: int | None = None,
    q: str = "",
):
    """Observations in the caller's jurisdiction; `q` searches the person as the people list."""
    access.require(request.user, "observation.view")
    node = access.node_get(request.user, node_id) if node_id else None
    return selectors.observation_list(request.user, status=status, kind=kind, node=node, q=q)


@router.post("/observations", response={201: ObservationOut, **ERRORS})
def observation_create(request, payload: ObservationIn):
    """Start an observation by hand (health staff, supervisors)."""
    access.require(request.user, "observation.manage")

    try:
        person = person_get(request.user, payload.person_id)
    except NotFound:
        raise NotFound(_("No such person."), field="person_id") from None
    obs = services.observation_start(
        actor=request.user,
        person=person,
        kind=payload.kind,
        place=_place(request, payload.place_id),
        last_exposure=payload.last_exposure,
        client_id=payload.client_id,
    )
    return Status(201, obs)


@router.get("/observations/{observation_id}", response={200: ObservationOut, **ERRORS})
def observation_get(request, observation_id: int):
    return selectors.observation_get(request.user, observation_id, via="api")


@router.post("/observations/{observation_id}/extend", response={200: ObservationOut, **ERRORS})
def observation_extend(request, observation_id: int, payload: ExtendIn):
    """A new exposure: the end date moves."""
    access.require(request.user, "observation.manage")
    obs = _observation(request, observation_id)
    return services.observation_extend(
        actor=request.user, observation=obs, last_exposure=payload.last_exposure
    )


@router.post("/observations/{observation_id}/release", response={200: ObservationOut, **ERRORS})
def observation_release(request, observation_id: int, payload: ReleaseIn):
    """Only on or after the end date, with a clean last follow-up."""
    access.require(request.user, "observation.manage")
    obs = _observation(request, observation_id)
    return services.observation_release(actor=request.user, observation=obs, note=payload.note)


@router.post("/observations/{observation_id}/refer", response={200: ObservationOut, **ERRORS})
def observation_refer(request, observation_id: int, payload: ObservationReferIn):
    access.require(request.user, "observation.manage")
    obs = _observation(request, observation_id)
    place = _place(request, payload.place_id, [PlaceKind.FEVER_CLINIC])
    return flows.observation_refer(
        actor=request.user, observation=obs, note=payload.note, place=place
    )


@router.post("/observations/{observation_id}/transfer", response={201: ObservationOut, **ERRORS})
def observation_transfer(request, observation_id: int, payload: ObservationTransferIn):
    """Ends this observation as transferred; answers with the next one."""
    access.require(request.user, "observation.manage")
    obs = _observation(request, observation_id)
    nxt = flows.observation_transfer(
        actor=request.user,
        observation=obs,
        kind=payload.kind,
        place=_place(request, payload.place_id),
        note=payload.note,
        client_id=payload.client_id,
    )
    return Status(201, nxt)


# --- follow-ups ------------------------------------------------------------------------------


@router.get("/followups", response={200: list[FollowUpOut], **ERRORS})
@paginate(LimitOffsetPagination)
def followup_list(
    request,
    due: dt.date | None = None,
    status: FOLLOWUP_STATUS_Q = "",
    mine: bool = False,
    observation_id: int | None = None,
):
    """Follow-ups in the caller's jurisdiction (site staff: of the people at their site);
    `mine` = assigned to the caller."""
    access.require(request.user, "followup.record")
    obs = _observation(request, observation_id) if observation_id else None
    if mine and due == timezone.localdate():
        services.followups_ensure(request.user, due)
    return selectors.followup_list(request.user, due=due, status=status, mine=mine, observation=obs)


@router.get("/followups/{followup_id}", response={200: FollowUpOut, **ERRORS})
def followup_get(request, followup_id: int):
    return selectors.followup_get(request.user, followup_id, via="api")


@router.post("/followups/{followup_id}/record", response={200: FollowUpOut, **ERRORS})
def followup_record(request, followup_id: int, payload: FollowUpIn):
    """Record a follow-up. A fever or a symptom raises an alert for health staff."""
    access.require(request.user, "followup.record")
    followup = selectors.followup_get(request.user, followup_id)
    services.followup_record(
        actor=request.user,
        followup=followup,
        status=payload.status,
        temperature=payload.temperature,
        symptoms=payload.symptoms,
        notes=payload.notes,
        client_id=payload.client_id,
    )
    return selectors.followup_get(request.user, followup_id)


# --- alerts ----------------------------------------------------------------------------------


@router.get("/alerts", response={200: list[AlertOut], **ERRORS})
@paginate(LimitOffsetPagination)
def alert_list(
    request,
    open: bool = True,  # noqa: A002 - the query parameter's name
    kind: ALERT_KIND_Q = "",
):
    """Alerts the caller acts on: fever and symptoms for health staff, all for supervisors."""
    return selectors.alert_list(request.user, open_only=open, kind=kind)


@router.post("/alerts/{alert_id}/resolve", response={200: AlertOut, **ERRORS})
def alert_resolve(request, alert_id: int, payload: AlertResolveIn):
    access.require(request.user, "alert.handle")
    alert = selectors.alert_get(request.user, alert_id)
    place = _place(request, payload.place_id, [PlaceKind.FEVER_CLINIC])
    return flows.alert_resolve(
        actor=request.user,
        alert=alert,
        resolution=payload.resolution,
        refer=payload.refer,
        place=place,
    )


# --- the day list and the board --------------------------------------------------------------


@router.get("/daylist", response={200: DayListOut, **ERRORS})
def daylist(request):
    """The caller's day, most urgent first; each item names the page of its form."""
    access.require(request.user, "observation.view")
    day = timezone.localdate()
    services.followups_ensure(request.user, day)
    return selectors.daylist(request.user, day)


@router.get("/board", response={200: ObservationBoardOut, **ERRORS})
def board(
    request,
    tab: TAB = "symptomatic",
    node_id: int | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
):
    """The observation board: counts of every tab, and the rows of one."""
    access.require(request.user, "board.view")
    node = access.node_get(request.user, node_id) if node_id else None
    data = selectors.board(request.user, tab, node=node)
    return {
        "tab": data.tab,
        "day": data.day,
        "counts": data.counts,
        "count": data.counts[tab],
        "items": list(data.rows[offset : offset + limit]),
    }


# --- the public daily self-report ------------------------------------------------------------


@router.post("/self-report/{token}/daily", response={200: SelfReportDailyOut, **ERRORS}, auth=None)
def self_report(request, token: str, payload: FollowUpSelfReportIn):
    """No account: the person observed at home reports today's temperature and symptoms with
    their personal link's token. An unknown, expired or revoked token answers 404."""

    link = selfreport_resolve(token)
    return services.followup_self_report(
        link=link,
        data=services.FollowUpInput(
            temperature=payload.temperature,
            symptoms=payload.symptoms,
            notes=payload.notes,
            client_id=payload.client_id,
        ),
    )
