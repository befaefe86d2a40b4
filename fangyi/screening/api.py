"""The REST API of fangyi.screening: sweeps, coverage, the households of a sweep, door visits."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.models import User
from fangyi.core.selectors import ancestor_paths
from fangyi.health.services import DeclarationInput
from fangyi.people.selectors import persons_visible

from . import selectors, services
from .models import DoorStatus

router = Router(tags=["screening"])

OUTCOME_VALUES = tuple(v for v in DoorStatus.values if v != DoorStatus.PENDING)


# --- schemas ---------------------------------------------------------------------------------


class SweepOut(Schema):
    id: int
    node_id: int
    node_name: str = Field(..., alias="node.name", examples=["机务社区"])
    purpose: str = Field(..., examples=["春节以来返邕人员排查"])
    starts: dt.date
    ends: dt.date
    status: str = Field(..., examples=["open"])
    created_by_id: int | None
    created: dt.datetime
    closed: dt.datetime | None
    households: int = Field(0, description="Households of the sweep in the caller's scope.")
    done: int = Field(0, description="Of those, visited or moved away.")


class SweepIn(Schema):
    node_id: int = Field(..., description="The jurisdiction to sweep: every household under it.")
    purpose: str = Field(..., max_length=200, examples=["全面入户排查"])
    starts: dt.date = Field(..., examples=["2020-02-03"])
    ends: dt.date = Field(..., examples=["2020-02-10"])


class CoverageRowOut(Schema):
    node_id: int | None = Field(..., description="None on the last row: the total.")
    node_name: str = Field("", examples=["机务第一网格"])
    kind: str = Field("", examples=["grid"])
    households: int
    visited: int
    pending: int
    nobody_home: int
    refused: int
    moved_away: int
    revisits_due: int
    needs_police: int
    percent: float = Field(..., description="Visited or moved away, over households, in %.")


class AssignmentOut(Schema):
    id: int
    sweep_id: int
    household_id: int
    address: str = Field(..., alias="household.address", examples=["机务小区3栋2单元501"])
    node_id: int
    grid_id: int | None
    assignee_id: int | None
    assignee_name: str = ""
    status: str = Field(..., examples=["nobody_home"])
    attempts: int
    last_attempt: dt.datetime | None
    revisit_due: dt.date | None
    needs_police: bool

    @staticmethod
    def resolve_assignee_name(obj) -> str:
        return obj.assignee.display_name if obj.assignee_id else ""


class ReassignIn(Schema):
    assignee_id: int = Field(..., description="An active field worker who holds the households.")
    assignment_ids: list[int] = Field(
        [], description="The households of the sweep to reassign; or give grid_id."
    )
    grid_id: int | None = Field(None, description="Every household of this grid in the sweep.")


class ReassignOut(Schema):
    reassigned: int


class DoorDeclarationIn(Schema):
    person_id: int
    declared_on: dt.date | None = Field(None, description="Defaults to the day of the visit.")
    temperature: Decimal | None = Field(None, examples=["36.6"])
    temperature_method: str = Field("", examples=["forehead"])
    symptoms: list[str] = Field([], examples=[["cough"]])
    travel_since: dt.date | None = None
    travel: list[dict] = Field(
        [],
        examples=[
            [{"place": "武汉市", "from": "2020-01-20", "to": "2020-01-24", "transport": "G1501"}]
        ],
    )
    contacts: list[dict] = Field(
        [], examples=[[{"kind": "confirmed", "who": "李某", "date": "2020-01-28", "place": "武汉"}]]
    )
    notes: str = ""


class DoorVisitIn(Schema):
    outcome: Literal[OUTCOME_VALUES] = Field(..., examples=["visited"])  # type: ignore[valid-type]
    at: dt.datetime | None = Field(None, description="When; defaults to now. Not in the future.")
    latitude: Decimal | None = Field(None, examples=["22.8170"])
    longitude: Decimal | None = Field(None, examples=["108.3669"])
    accuracy: int | None = Field(None, description="Metres, as the device reports it.")
    notes: str = ""
    declarations: list[DoorDeclarationIn] = Field(
        [], description="Declarations of the household's members, taken at a visited door."
    )
    client_id: uuid.UUID | None = Field(
        None, description="Client-generated id: a retry with the same id stores nothing new."
    )


class DoorVisitOut(Schema):
    id: int
    assignment_id: int
    household_id: int
    outcome: str
    at: dt.datetime
    by_id: int
    by_name: str = ""
    latitude: Decimal | None
    longitude: Decimal | None
    accuracy: int | None
    notes: str
    declaration_ids: list[int] = []

    @staticmethod
    def resolve_by_name(obj) -> str:
        return obj.by.display_name

    @staticmethod
    def resolve_declaration_ids(obj) -> list[int]:
        return sorted(d.pk for d in obj.declarations.all())


# --- helpers ---------------------------------------------------------------------------------


def _row_out(row: selectors.CoverageRow) -> dict:
    return {
        "node_id": row.node.pk if row.node else None,
        "node_name": row.node.name if row.node else "",
        "kind": row.node.kind if row.node else "",
        **{k: getattr(row, k) for k in (*selectors.COUNTS, "needs_police")},
        "percent": row.percent,
    }


def _assignee(actor: User, pk: int) -> User:
    """A field worker whose jurisdiction meets the actor's (inside it, or above it), else the
    answer of an id that does not exist: no names of workers elsewhere."""

    above = {p for path in access.user_paths(actor) for p in ancestor_paths(path)}
    user = (
        User.objects.filter(pk=pk, is_active=True, role__in=services.FIELD_ROLES)
        .filter(Q(nodes__in=access.nodes_visible(actor)) | Q(nodes__path__in=above))
        .distinct()
        .first()
    )
    if user is None:
        raise NotFound(_("No such field worker."), field="assignee_id")
    return user


def _declarations(request, assignment, visit_at, items: list[DoorDeclarationIn]):
    if not items:
        return []

    people = persons_visible(request.user, [d.person_id for d in items])
    day = timezone.localtime(visit_at).date() if visit_at else timezone.localdate()
    out = []
    for i, d in enumerate(items):
        person = people.get(d.person_id)
        if person is None:
            raise NotFound(_("No such person."), field=f"declarations[{i}].person_id")
        data = DeclarationInput(
            declared_on=d.declared_on or day,
            temperature=d.temperature,
            temperature_method=d.temperature_method,
            symptoms=list(d.symptoms),
            travel_since=d.travel_since,
            travel=list(d.travel),
            contacts=list(d.contacts),
            notes=d.notes,
        )
        out.append((person, data))
    return out


# --- sweeps ----------------------------------------------------------------------------------


@router.get("/sweeps", response={200: list[SweepOut], **ERRORS})
@paginate(LimitOffsetPagination)
def sweep_list(request, status: str = ""):
    """The sweeps over the caller's jurisdiction (or over a node that holds it), newest first."""
    return selectors.sweep_list(request.user, status=status)


@router.post("/sweeps", response={201: SweepOut, **ERRORS})
def sweep_create(request, payload: SweepIn):
    """Open a sweep: one household-in-sweep per household under the node, each assigned to the
    nearest grid worker (else police) of its grid."""
    access.require(request.user, "sweep.manage")
    node = access.nodes_visible(request.user).filter(pk=payload.node_id).first()
    if node is None:
        raise NotFound(_("No such jurisdiction."), field="node_id")
    sweep = services.sweep_open(
        actor=request.user,
        node=node,
        purpose=payload.purpose,
        starts=payload.starts,
        ends=payload.ends,
    )
    return Status(201, selectors.sweep_get(request.user, sweep.pk))


@router.get("/sweeps/{sweep_id}", response={200: SweepOut, **ERRORS})
def sweep_get(request, sweep_id: int):
    return selectors.sweep_get(request.user, sweep_id)


@router.post("/sweeps/{sweep_id}/close", response={200: SweepOut, **ERRORS})
def sweep_close(request, sweep_id: int):
    access.require(request.user, "sweep.manage")
    sweep = selectors.sweep_get(request.user, sweep_id)
    services.sweep_close(actor=request.user, sweep=sweep)
    return selectors.sweep_get(request.user, sweep_id)


@router.get("/sweeps/{sweep_id}/coverage", response={200: list[CoverageRowOut], **ERRORS})
def sweep_coverage(request, sweep_id: int, level: str = "grid"):
    """Coverage per grid, community, station or district; the last row (node_id null) is the
    total. Only the caller's share: a grid worker sees his grids."""
    sweep = selectors.sweep_get(request.user, sweep_id)
    return [_row_out(r) for r in selectors.coverage(request.user, sweep, level=level)]


@router.post("/sweeps/{sweep_id}/reassign", response={200: ReassignOut, **ERRORS})
def sweep_reassign(request, sweep_id: int, payload: ReassignIn):
    """Give households of the sweep (by id, or a whole grid) to another field worker."""
    access.require(request.user, "sweep.manage")
    sweep = selectors.sweep_get(request.user, sweep_id)
    assignee = _assignee(request.user, payload.assignee_id)
    if payload.assignment_ids:
        rows = services.doors_for(request.user, sweep, payload.assignment_ids)
        n = services.assignments_reassign(actor=request.user, assignee=assignee, assignments=rows)
    elif payload.grid_id:
        grid = access.nodes_visible(request.user).filter(pk=payload.grid_id).first()
        if grid is None:
            raise NotFound(_("No such grid."), field="grid_id")
        n = services.assignments_reassign(
            actor=request.user, assignee=assignee, sweep=sweep, grid=grid
        )
    else:
        raise DomainError(_("Give assignment_ids or grid_id."), field="assignment_ids")
    return {"reassigned": n}


# --- the households of a sweep ---------------------------------------------------------------


@router.get("/sweeps/{sweep_id}/assignments", response={200: list[AssignmentOut], **ERRORS})
@paginate(LimitOffsetPagination)
def assignment_list(
    request,
    sweep_id: int,
    status: str = "",
    grid_id: int | None = None,
    mine: bool = False,
):
    """The households of the sweep in the caller's scope. status: pending, nobody_home,
    refused, revisits (due today or before), done, visited, moved_away, open."""
    sweep = selectors.sweep_get(request.user, sweep_id)
    grid = access.node_get(request.user, grid_id) if grid_id else None
    return selectors.assignment_list(request.user, sweep, status=status, grid=grid, mine=mine)


@router.get("/assignments/{assignment_id}", response={200: AssignmentOut, **ERRORS})
def assignment_get(request, assignment_id: int):
    return selectors.assignment_get(request.user, assignment_id, via="api")


# --- door visits -----------------------------------------------------------------------------


@router.get("/assignments/{assignment_id}/visits", response={200: list[DoorVisitOut], **ERRORS})
def visit_list(request, assignment_id: int):
    """Every attempt at the door, latest first."""
    assignment = selectors.assignment_get(request.user, assignment_id)
    return list(selectors.visit_list(request.user, assignment).prefetch_related("declarations"))


@router.post("/assignments/{assignment_id}/visits", response={201: DoorVisitOut, **ERRORS})
def visit_create(request, assignment_id: int, payload: DoorVisitIn):
    """Record one attempt at the door. A closed sweep answers 409; the same client_id twice
    stores one visit (and answers with it)."""
    access.require(request.user, "visit.record")
    assignment = selectors.assignment_get(request.user, assignment_id)
    declarations = _declarations(request, assignment, payload.at, payload.declarations)
    visit = services.door_visit_record(
        actor=request.user,
        assignment=assignment,
        outcome=payload.outcome,
        at=payload.at,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy=payload.accuracy,
        notes=payload.notes,
        declarations=declarations,
        client_id=payload.client_id,
    )
    return Status(201, visit)
