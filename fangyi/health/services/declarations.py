"""Declarations: the input, its validation (`declaration_clean`) and the one-at-a-time writes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record, created, diff, snapshot
from fangyi.core.errors import (
    Conflict,
    DomainError,
    FieldErrors,
    NotFound,
    client_id_taken,
)
from fangyi.core.idempotency import create_once, replay
from fangyi.core.models import User
from fangyi.core.validators import check_length
from fangyi.people.models import Person

from .. import notices
from ..models import (
    Declaration,
    DeclarationSource,
    DeclarationStatus,
)
from .rules import (
    CONTACT_KINDS,
    MAX_ROWS,
    SOURCES,
    TEMP_MAX,
    TEMP_METHODS,
    TEMP_MIN,
    Proposal,
    RulesConfig,
    _as_date,
    rules_config,
    rules_evaluate,
)


@dataclass
class DeclarationInput:
    """One person's declaration as typed. `travel` rows are {"place", "from", "to",
    "transport"} (dates as date objects or ISO strings; `to` defaults to `from`), `contacts`
    rows {"kind": "confirmed"|"suspected", "who", "date", "place"}, `symptoms` codes."""

    declared_on: dt.date | None = None
    temperature: Decimal | float | str | None = None
    temperature_method: str = ""
    symptoms: list[str] = field(default_factory=list)
    travel_since: dt.date | None = None
    travel: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    notes: str = ""


def _temperature(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = (
            value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
        )
    except InvalidOperation:
        raise DomainError(
            _("Enter the temperature as a number, e.g. 36.5."), field="temperature"
        ) from None
    if not number.is_finite() or not (TEMP_MIN <= number <= TEMP_MAX):
        raise DomainError(
            _("A body temperature is between %(min)s and %(max)s °C: %(value)s is not one.")
            % {"min": TEMP_MIN, "max": TEMP_MAX, "value": value},
            field="temperature",
        )
    return number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _date_field(e: FieldErrors, value: Any, name: str, *, required: bool) -> dt.date | None:
    if value is None or value == "":
        if required:
            e.add(name, _("This date is required."))
        return None
    day = _as_date(value)
    if day is None:
        e.add(name, _("Enter a date as YYYY-MM-DD."))
    elif day.year < 1900:
        e.add(name, _("This date is too far in the past."))
        return None
    return day


def _text(e: FieldErrors, value: Any, name: str, maximum: int, *, required: bool = False) -> str:
    if not value and not required:
        return ""
    if value is not None and not isinstance(value, str):
        value = str(value)
    return e.run(check_length, value or "", name, maximum, required=required) or ""


def declaration_clean(
    data: DeclarationInput, *, today: dt.date | None = None, config: RulesConfig | None = None
) -> DeclarationInput:
    """Validate and normalise a declaration; DomainError with every field error at once.

    Field names follow the input: `temperature`, `temperature_method`, `symptoms`,
    `travel.0.from`, `contacts.1.date`, ... Dates come out as date objects for
    `declared_on` and `travel_since`, and as ISO strings inside the travel and contact rows
    (that is how they are stored)."""
    today = today or timezone.localdate()
    config = config if config is not None else rules_config()
    e = FieldErrors()

    declared_on = _date_field(e, data.declared_on, "declared_on", required=False) or today
    if declared_on > today:
        e.add("declared_on", _("This date is in the future."))
    data.declared_on = declared_on

    data.temperature = e.run(_temperature, data.temperature)
    data.temperature_method = _clean_method(e, data.temperature, data.temperature_method)
    data.symptoms = _clean_symptoms(e, data.symptoms, config)
    since = _date_field(e, data.travel_since, "travel_since", required=False)
    if since is not None and since > min(today, declared_on):
        e.add("travel_since", _("This date is in the future."))
    data.travel_since = since
    data.travel = _clean_travel(e, data.travel, declared_on)
    data.contacts = _clean_contacts(e, data.contacts, min(today, declared_on))
    data.notes = _text(e, data.notes, "notes", 2000)
    e.raise_if_any()
    return data


def _clean_method(e: FieldErrors, temperature, method: str | None) -> str:
    method = (method or "").strip()
    if temperature is not None and not method:
        e.add("temperature_method", _("Say how the temperature was taken."))
    elif method and method not in TEMP_METHODS:
        e.add("temperature_method", _("Unknown way of taking the temperature."))
    return method if temperature is not None else ""


def _clean_symptoms(e: FieldErrors, codes, config: RulesConfig) -> list[str]:
    symptoms: list[str] = []
    for code in codes or []:
        code = str(code).strip()
        if not code or code in symptoms:
            continue
        if code not in config.symptoms:
            e.add("symptoms", _("Unknown symptom: %(code)s.") % {"code": code})
        symptoms.append(code)
    return symptoms


def _clean_travel(e: FieldErrors, rows, declared_on: dt.date) -> list[dict]:
    travel = list(rows or [])
    if len(travel) > MAX_ROWS:
        e.add("travel", _("At most %(n)d journeys.") % {"n": MAX_ROWS})
        travel = travel[:MAX_ROWS]
    clean = []
    for i, row in enumerate(travel):
        if not isinstance(row, dict):
            e.add(f"travel.{i}", _("A journey has a place and dates."))
            continue
        p = f"travel.{i}."
        place = _text(e, row.get("place"), p + "place", 100, required=True)
        start = _date_field(e, row.get("from"), p + "from", required=True)
        end = _date_field(e, row.get("to"), p + "to", required=False) or start
        transport = _text(e, row.get("transport"), p + "transport", 50)
        if start and start > declared_on:
            e.add(p + "from", _("This date is after the declaration's date."))
        if end and end > declared_on:
            e.add(p + "to", _("This date is after the declaration's date."))
        if start and end and start > end:
            e.add(p + "to", _("The journey ends before it starts."))
        clean.append(
            {
                "place": place,
                "from": start.isoformat() if start else "",
                "to": end.isoformat() if end else "",
                "transport": transport,
            }
        )
    return clean


def _clean_contacts(e: FieldErrors, rows, latest: dt.date) -> list[dict]:
    contacts = list(rows or [])
    if len(contacts) > MAX_ROWS:
        e.add("contacts", _("At most %(n)d contacts.") % {"n": MAX_ROWS})
        contacts = contacts[:MAX_ROWS]
    clean = []
    for i, row in enumerate(contacts):
        if not isinstance(row, dict):
            e.add(f"contacts.{i}", _("A contact has a kind and a date."))
            continue
        p = f"contacts.{i}."
        kind = (row.get("kind") or "").strip()
        if kind not in CONTACT_KINDS:
            e.add(p + "kind", _("Choose a confirmed or a suspected case."))
        who = _text(e, row.get("who"), p + "who", 50)
        day = _date_field(e, row.get("date"), p + "date", required=True)
        if day and day > latest:
            e.add(p + "date", _("This date is in the future."))
        place = _text(e, row.get("place"), p + "place", 100)
        clean.append(
            {"kind": kind, "who": who, "date": day.isoformat() if day else "", "place": place}
        )
    return clean


def _evaluate(data: DeclarationInput, config: RulesConfig) -> Proposal:
    return rules_evaluate(
        declared_on=data.declared_on,  # type: ignore[arg-type]
        temperature=data.temperature,  # type: ignore[arg-type]
        symptoms=data.symptoms,
        travel=data.travel,
        contacts=data.contacts,
        config=config,
    )


DECLARATION_FIELDS = [
    "person",
    "node",
    "visit",
    "source",
    "status",
    "declared_on",
    "temperature",
    "temperature_method",
    "symptoms",
    "travel_since",
    "travel",
    "contacts",
    "notes",
    "proposal",
    "proposal_reason",
    "last_exposure",
]


def _decl_snapshot(decl: Declaration) -> dict[str, Any]:
    values = snapshot(decl, DECLARATION_FIELDS)
    if values.get("temperature") is not None:
        values["temperature"] = str(values["temperature"])
    return values


def _created_changes(decl: Declaration) -> dict:
    """The audit changes of a new declaration: every value given (empty lists left out)."""
    return {k: v for k, v in created(_decl_snapshot(decl)).items() if v[1] != []}


def _visible_person(actor: User, person: Person) -> None:
    if not access.path_visible(actor, person.node.path):
        raise NotFound(_("No such person."), field="person")


def _check_visit(person: Person, visit) -> None:
    if visit is not None and (
        person.household_id is None or person.household_id != visit.household_id
    ):
        raise DomainError(
            _("%(name)s is not a member of the visited household.") % {"name": person.name},
            field="person",
        )


def _insert(decl: Declaration) -> Declaration:
    decl.save()
    return decl


def _store(
    *,
    actor: User | None,
    person: Person,
    data: DeclarationInput,
    visit,
    source: str,
    client_id: uuid.UUID | None,
    config: RulesConfig,
    same: Callable[[Declaration], bool],
    refuse: Callable[[], DomainError] = client_id_taken,
) -> Declaration:
    """Evaluate and insert; a concurrent retry of the same client id gets the stored one
    (if `same` accepts it)."""
    proposal = _evaluate(data, config)
    now = timezone.now()
    pending = source == DeclarationSource.SELF
    decl = Declaration(
        person=person,
        node_id=person.node_id,
        visit=visit,
        source=source,
        status=DeclarationStatus.PENDING if pending else DeclarationStatus.CONFIRMED,
        declared_on=data.declared_on,
        temperature=data.temperature,
        temperature_method=data.temperature_method,
        symptoms=data.symptoms,
        travel_since=data.travel_since,
        travel=data.travel,
        contacts=data.contacts,
        notes=data.notes,
        proposal=proposal.outcome,
        proposal_reason=proposal.reason,
        last_exposure=proposal.last_exposure,
        recorded_by=actor,
        recorded_at=now,
        confirmed_by=None if pending else actor,
        confirmed_at=None if pending else now,
        client_id=client_id,
    )
    stored = create_once(Declaration, client_id, same, lambda: _insert(decl), refuse=refuse)
    if stored is not decl:
        return stored  # the same submission landed in between: hand back the stored one
    audit_record(
        actor,
        "fangyi.declaration.created",
        decl,
        node_path=person.node.path,
        changes=_created_changes(decl),
    )
    notices.decision_needed(decl, person.node.path, person.name, now)
    return decl


def declaration_propose(
    *, actor: User, person: Person, data: DeclarationInput, visit=None
) -> Proposal:
    """What the rules would propose for this declaration, storing nothing: the form shows it
    before the worker saves, so a mistyped 38.5 is corrected before it starts an observation.
    The same checks as `declaration_record` (scope, visit, every field)."""
    access.require(actor, "declaration.record")
    _visible_person(actor, person)
    _check_visit(person, visit)
    config = rules_config()
    declaration_clean(data, config=config)
    return _evaluate(data, config)


@transaction.atomic
def declaration_record(
    *,
    actor: User,
    person: Person,
    data: DeclarationInput,
    visit=None,
    source: str = DeclarationSource.VISIT,
    client_id: uuid.UUID | None = None,
) -> Declaration:
    """Store one person's declaration with the rules' proposal; audited.

    The person must be visible to the actor (else NotFound on `person`, as for one that does
    not exist); with a `visit`, the person must be a member of the visited household. The
    same `client_id` twice stores one declaration and answers with it."""
    access.require(actor, "declaration.record")

    def same(done: Declaration) -> bool:
        return done.person_id == person.pk and access.path_visible(actor, done.node.path)

    if (done := replay(Declaration, client_id, same)) is not None:
        return done
    if source not in SOURCES:
        raise DomainError(_("Unknown source."), field="source")
    _visible_person(actor, person)
    _check_visit(person, visit)
    config = rules_config()
    declaration_clean(data, config=config)
    return _store(
        actor=actor,
        person=person,
        data=data,
        visit=visit,
        source=source,
        client_id=client_id,
        config=config,
        same=same,
    )


@transaction.atomic
def declaration_confirm(
    *, actor: User, declaration: Declaration, data: DeclarationInput | None = None
) -> Declaration:
    """A worker confirms a self-report (PENDING), optionally correcting it first; the rules
    are evaluated again on what is confirmed."""
    access.require(actor, "declaration.record")
    if not access.path_visible(actor, declaration.node.path):
        raise NotFound(_("No such declaration."))
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    if declaration.status != DeclarationStatus.PENDING:
        raise Conflict(_("This declaration is already confirmed."), field="status")
    before = _decl_snapshot(declaration)
    if data is not None:
        config = rules_config()
        declaration_clean(data, config=config)
        proposal = _evaluate(data, config)
        for f in (
            "declared_on",
            "temperature",
            "temperature_method",
            "symptoms",
            "travel_since",
            "travel",
            "contacts",
            "notes",
        ):
            setattr(declaration, f, getattr(data, f))
        declaration.proposal = proposal.outcome
        declaration.proposal_reason = proposal.reason
        declaration.last_exposure = proposal.last_exposure
    declaration.status = DeclarationStatus.CONFIRMED
    declaration.confirmed_by = actor
    declaration.confirmed_at = timezone.now()
    declaration.save()
    audit_record(
        actor,
        "fangyi.declaration.confirmed",
        declaration,
        node_path=declaration.node.path,
        changes=diff(before, _decl_snapshot(declaration)),
    )
    notices.decision_needed(
        declaration, declaration.node.path, declaration.person.name, declaration.confirmed_at
    )
    return declaration
