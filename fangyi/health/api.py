"""The REST API of fangyi.health: risk rules, declarations, decisions, self-report links, and
the public self-report endpoints (no account: the personal link's token is the key)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.care import flows
from fangyi.core import access
from fangyi.core.api import ERRORS
from fangyi.core.errors import DomainError, NotFound
from fangyi.observation.selectors import observed_now
from fangyi.people import selectors as people
from fangyi.screening.selectors import door_visit_get

from . import selectors, services
from .models import DeclarationStatus, Outcome, RiskSettings, TempMethod
from .public import daily_path, given_name, link_url

router = Router(tags=["health"])


# --- schemas ---------------------------------------------------------------------------------


class RiskAreaOut(Schema):
    id: int
    name: str
    division: str
    aliases: str
    counts_from: dt.date
    counts_until: dt.date | None
    is_active: bool
    notes: str


class RiskAreaIn(Schema):
    name: str = Field("", examples=["湖北省"], description="Taken from the division when empty.")
    division: str = Field(
        "",
        examples=["420000"],
        description="GB/T 2260 code (see /api/divisions): every place under it is covered.",
    )
    aliases: str = Field("", examples=["湖北疫区"])
    counts_from: dt.date = Field(..., examples=["2020-01-10"])
    counts_until: dt.date | None = None
    is_active: bool = True
    notes: str = ""


class SymptomOut(Schema):
    id: int
    code: str
    name: str
    order: int
    is_active: bool


class SymptomIn(Schema):
    code: str = Field(..., examples=["dry_cough"])
    name: str = Field(..., examples=["干咳"])
    order: int = 0
    is_active: bool = True


class SettingsOut(Schema):
    observation_days: int
    fever_threshold: Decimal
    followups_per_day: int
    missed_escalation: int
    self_report_days: int
    travel_since: dt.date | None


class SettingsIn(Schema):
    observation_days: int = Field(14, examples=[14])
    fever_threshold: Decimal = Field(Decimal("37.3"), examples=["37.3"])
    followups_per_day: int = 1
    missed_escalation: int = 2
    self_report_days: int = 21
    travel_since: dt.date | None = Field(None, examples=["2020-01-10"])


class TravelIn(Schema):
    place: str = Field(..., examples=["武汉市"])
    from_: dt.date = Field(..., alias="from", examples=["2020-01-20"])
    to: dt.date | None = Field(None, examples=["2020-02-01"])
    transport: str = Field("", examples=["高铁 G1234"])


class ContactIn(Schema):
    kind: Literal["confirmed", "suspected"]
    who: str = Field("", examples=["同事王某"])
    date: dt.date = Field(..., examples=["2020-02-03"])
    place: str = ""


class DeclarationFields(Schema):
    declared_on: dt.date | None = Field(None, description="Defaults to today.")
    temperature: Decimal | None = Field(None, examples=["36.6"], description="35.0 to 42.0 °C.")
    temperature_method: Literal[tuple(TempMethod.values) + ("",)] = ""  # type: ignore[valid-type]
    symptoms: list[str] = Field([], examples=[["dry_cough"]], description="Symptom codes.")
    travel_since: dt.date | None = Field(None, examples=["2020-01-10"])
    travel: list[TravelIn] = []
    contacts: list[ContactIn] = []
    notes: str = ""

    def to_input(self) -> services.DeclarationInput:
        return services.DeclarationInput(
            declared_on=self.declared_on,
            temperature=self.temperature,
            temperature_method=self.temperature_method,
            symptoms=list(self.symptoms),
            travel_since=self.travel_since,
            travel=[t.model_dump(by_alias=True) for t in self.travel],
            contacts=[c.model_dump() for c in self.contacts],
            notes=self.notes,
        )


class DeclarationIn(DeclarationFields):
    person_id: int
    visit_id: int | None = None
    source: Literal["visit", "staff", "import"] | None = Field(
        None, description='Defaults to "visit" with a visit_id, else "staff".'
    )
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class ConfirmIn(Schema):
    correction: DeclarationFields | None = Field(
        None, description="What the worker corrects before confirming; omit to confirm as sent."
    )


class DeclarationOut(Schema):
    id: int
    person_id: int
    node_id: int
    visit_id: int | None
    source: str
    status: str
    declared_on: dt.date
    temperature: Decimal | None
    temperature_method: str
    symptoms: list[str]
    travel_since: dt.date | None
    travel: list[dict]
    contacts: list[dict]
    notes: str
    proposal: str
    proposal_reason: str
    last_exposure: dt.date | None
    recorded_by_id: int | None
    recorded_at: dt.datetime
    confirmed_by_id: int | None
    confirmed_at: dt.datetime | None


class DecisionIn(Schema):
    person_id: int
    declaration_id: int | None = None
    outcome: Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
    reason: str = Field("", description="Required when the outcome differs from the proposal.")
    last_exposure: dt.date | None = None
    place_id: int | None = Field(None, description="Quarantine point or designated hotel.")
    client_id: uuid.UUID | None = None


class DecisionOut(Schema):
    id: int
    person_id: int
    node_id: int
    declaration_id: int | None
    proposal: str
    outcome: str
    reason: str
    last_exposure: dt.date | None
    place_id: int | None
    decided_by_id: int
    decided_at: dt.datetime


class LinkIn(Schema):
    person_id: int


class LinkOut(Schema):
    id: int
    person_id: int
    url: str = Field(..., description="The personal link, shown this once and never again.")
    expires: dt.datetime


class SymptomChoice(Schema):
    code: str
    name: str


class SelfReportOut(Schema):
    given_name: str
    symptoms: list[SymptomChoice]
    temperature_methods: list[str]
    travel_since: dt.date | None
    under_observation: bool
    daily_url: str | None


class DeclarationSelfReportIn(DeclarationFields):
    client_id: uuid.UUID | None = None


class SelfReportDone(Schema):
    id: int
    status: str


# --- risk rules ------------------------------------------------------------------------------


@router.get("/risk-areas", response=list[RiskAreaOut])
@paginate(LimitOffsetPagination)
def risk_area_list(request):
    return selectors.risk_area_list(request.user)


@router.post("/risk-areas", response={201: RiskAreaOut, **ERRORS})
def risk_area_create(request, payload: RiskAreaIn):
    return Status(201, services.risk_area_create(actor=request.user, data=payload.dict()))


@router.put("/risk-areas/{area_id}", response={200: RiskAreaOut, **ERRORS})
def risk_area_update(request, area_id: int, payload: RiskAreaIn):
    access.require(request.user, "risk.configure")
    area = selectors.risk_area_get(request.user, area_id)
    return services.risk_area_update(actor=request.user, area=area, data=payload.dict())


@router.delete("/risk-areas/{area_id}", response={204: None, **ERRORS})
def risk_area_delete(request, area_id: int):
    access.require(request.user, "risk.configure")
    area = selectors.risk_area_get(request.user, area_id)
    services.risk_area_delete(actor=request.user, area=area)
    return Status(204, None)


@router.get("/symptoms", response=list[SymptomOut])
@paginate(LimitOffsetPagination)
def symptom_list(request):
    return selectors.symptom_list(request.user)


@router.post("/symptoms", response={201: SymptomOut, **ERRORS})
def symptom_create(request, payload: SymptomIn):
    return Status(201, services.symptom_create(actor=request.user, data=payload.dict()))


@router.put("/symptoms/{symptom_id}", response={200: SymptomOut, **ERRORS})
def symptom_update(request, symptom_id: int, payload: SymptomIn):
    access.require(request.user, "risk.configure")
    symptom = selectors.symptom_get(request.user, symptom_id)
    return services.symptom_update(actor=request.user, symptom=symptom, data=payload.dict())


@router.get("/risk-settings", response={200: SettingsOut, **ERRORS})
def settings_get(request):
    access.require(request.user, "risk.view")
    return RiskSettings.current()


@router.put("/risk-settings", response={200: SettingsOut, **ERRORS})
def settings_update(request, payload: SettingsIn):
    return services.settings_update(actor=request.user, data=payload.dict())


# --- declarations ----------------------------------------------------------------------------


@router.get("/declarations", response=list[DeclarationOut])
@paginate(LimitOffsetPagination)
def declaration_list(
    request,
    status: str = "",
    person_id: int | None = None,
    awaiting: str = "",
    proposal: str = "",
):
    """Declarations in the caller's jurisdiction, newest first. `status` is pending or
    confirmed; `awaiting=decision` is health staff's to-do, `awaiting=confirmation` the
    self-reports to confirm; `proposal` one of the outcomes."""
    access.require(request.user, "declaration.view")
    for name, value, allowed in (
        ("status", status, DeclarationStatus.values),
        ("awaiting", awaiting, ["decision", "confirmation"]),
        ("proposal", proposal, Outcome.values),
    ):
        if value and value not in allowed:
            raise DomainError(
                _("Unknown value; one of: %(values)s.") % {"values": ", ".join(allowed)},
                field=name,
            )
    person = people.person_get(request.user, person_id) if person_id else None
    return selectors.declaration_list(
        request.user, status=status, person=person, awaiting=awaiting, proposal=proposal
    )


def _visit(request, visit_id: int | None):
    if visit_id is None:
        return None
    return door_visit_get(request.user, visit_id, field="visit_id")


def _person(request, person_id: int):
    try:
        return people.person_get(request.user, person_id)
    except NotFound:
        raise NotFound(_("No such person."), field="person_id") from None


@router.post("/declarations", response={201: DeclarationOut, **ERRORS})
def declaration_create(request, payload: DeclarationIn):
    """Record a declaration; the answer carries the rules' proposal and its reason."""
    access.require(request.user, "declaration.record")
    visit = _visit(request, payload.visit_id)
    return Status(
        201,
        services.declaration_record(
            actor=request.user,
            person=_person(request, payload.person_id),
            data=payload.to_input(),
            visit=visit,
            source=payload.source or ("visit" if visit is not None else "staff"),
            client_id=payload.client_id,
        ),
    )


class ProposalOut(Schema):
    proposal: str = Field(..., examples=["home"])
    proposal_label: str = Field(..., examples=["Observation at home"])
    reason: str = Field(..., examples=["back from 湖北省宜昌市 on 2020-01-25, within 14 days"])
    last_exposure: dt.date | None


@router.post("/declarations/propose", response={200: ProposalOut, **ERRORS})
def declaration_propose(request, payload: DeclarationIn):
    """What the rules would propose for this declaration, storing nothing (the same checks as
    POST /declarations): show it, let the worker correct a mistyped value, then post it."""
    access.require(request.user, "declaration.record")
    proposal = services.declaration_propose(
        actor=request.user,
        person=_person(request, payload.person_id),
        data=payload.to_input(),
        visit=_visit(request, payload.visit_id),
    )
    return {
        "proposal": proposal.outcome,
        "proposal_label": str(Outcome(proposal.outcome).label),
        "reason": proposal.reason,
        "last_exposure": proposal.last_exposure,
    }


@router.get("/declarations/{declaration_id}", response={200: DeclarationOut, **ERRORS})
def declaration_get(request, declaration_id: int):
    return selectors.declaration_get(request.user, declaration_id, via="api")


@router.post("/declarations/{declaration_id}/confirm", response={200: DeclarationOut, **ERRORS})
def declaration_confirm(request, declaration_id: int, payload: ConfirmIn):
    """Confirm a self-report, optionally with the worker's corrections."""
    access.require(request.user, "declaration.record")
    declaration = selectors.declaration_get(request.user, declaration_id)
    data = payload.correction.to_input() if payload.correction else None
    return services.declaration_confirm(actor=request.user, declaration=declaration, data=data)


# --- decisions -------------------------------------------------------------------------------


@router.get("/decisions", response=list[DecisionOut])
@paginate(LimitOffsetPagination)
def decision_list(request, person_id: int | None = None):
    access.require(request.user, "declaration.view")
    person = people.person_get(request.user, person_id) if person_id else None
    return selectors.decision_list(request.user, person=person)


@router.post("/decisions", response={201: DecisionOut, **ERRORS})
def decision_create(request, payload: DecisionIn):
    """Health staff confirm or change a proposal; home or central observation starts it."""
    access.require(request.user, "decision.make")
    person = _person(request, payload.person_id)
    declaration = None
    if payload.declaration_id is not None:
        try:
            declaration = selectors.declaration_get(request.user, payload.declaration_id)
        except NotFound:
            raise NotFound(_("No such declaration."), field="declaration_id") from None
    place = None
    if payload.place_id is not None:
        try:
            place = people.place_get(request.user, payload.place_id)
        except NotFound:
            raise NotFound(_("No such place."), field="place_id") from None
    return Status(
        201,
        flows.decision_make(
            actor=request.user,
            person=person,
            outcome=payload.outcome,
            reason=payload.reason,
            declaration=declaration,
            last_exposure=payload.last_exposure,
            place=place,
            client_id=payload.client_id,
        ),
    )


# --- self-report links -----------------------------------------------------------------------


@router.post("/self-report-links", response={201: LinkOut, **ERRORS})
def link_create(request, payload: LinkIn):
    """A personal link for a resident to declare without an account. The URL is answered this
    once; a new link replaces the person's older one."""
    access.require(request.user, "selfreport.issue")
    person = _person(request, payload.person_id)
    link, token = services.selfreport_link_create(actor=request.user, person=person)
    return Status(
        201,
        {
            "id": link.pk,
            "person_id": person.pk,
            "url": link_url(request, token),
            "expires": link.expires,
        },
    )


@router.get("/self-report/{token}", response={200: SelfReportOut, **ERRORS}, auth=None)
def self_report_get(request, token: str):
    """Public: what the self-report form needs. Only the person's given name is shown."""
    link = services.selfreport_resolve(token)
    config = services.rules_config()
    observed = observed_now(link.person)
    return {
        "given_name": given_name(link.person.name),
        "symptoms": [{"code": c, "name": n} for c, n in config.symptoms.items()],
        "temperature_methods": list(TempMethod.values),
        "travel_since": config.travel_since,
        "under_observation": observed,
        "daily_url": daily_path(token) if observed else None,
    }


@router.post("/self-report/{token}", response={201: SelfReportDone, **ERRORS}, auth=None)
def self_report_post(request, token: str, payload: DeclarationSelfReportIn):
    """Public: a resident's declaration, stored for a worker to confirm."""
    link = services.selfreport_resolve(token)
    declaration = services.selfreport_declare(
        link=link, data=payload.to_input(), client_id=payload.client_id
    )
    return Status(201, {"id": declaration.pk, "status": declaration.status})
