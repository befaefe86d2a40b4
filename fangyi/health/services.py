"""Risk rules, declarations, decisions and personal self-report links: every write, and the
rules' evaluation. The UI, the API, the import and the benchmark all call these.

The rules (`rules_evaluate`) are a pure function of a declaration and a `RulesConfig` read
once from the database (`rules_config`), so the bulk path evaluates a hundred thousand
declarations without a query each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fangyi.core import access
from fangyi.core.audit import audit_record, created, current_ip, diff, snapshot
from fangyi.core.bulk import insert_many
from fangyi.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    client_id_taken,
)
from fangyi.core.models import AuditEntry, User
from fangyi.core.validators import check_length
from fangyi.people.models import Person, Place, PlaceKind
from fangyi.people.services import _Errors, normalize_name

from .models import (
    Decision,
    Declaration,
    DeclarationSource,
    DeclarationStatus,
    Outcome,
    RiskArea,
    RiskSettings,
    SelfReportLink,
    Symptom,
    TempMethod,
)

TEMP_MIN, TEMP_MAX = Decimal("35.0"), Decimal("42.0")
TEMP_METHODS = frozenset(TempMethod.values)
SOURCES = frozenset(DeclarationSource.values)
OUTCOMES = frozenset(Outcome.values)
CONTACT_KINDS = ("confirmed", "suspected")
MAX_ROWS = 20  # travel rows and contact rows per declaration
CENTRAL_PLACE_KINDS = (PlaceKind.QUARANTINE_SITE, PlaceKind.DESIGNATED_HOTEL)

# Outcomes from strongest to mildest: the proposal is the strongest that any rule finds.
STRENGTH = [
    Outcome.FEVER_CLINIC,
    Outcome.CENTRAL,
    Outcome.HOME,
    Outcome.ASSESSMENT,
    Outcome.CLEARED,
]

# ---------------------------------------------------------------------------------------------
# the configuration, read once

_ALIAS_SPLIT = re.compile(r"[,，、;；/\s]+")


def area_keys(name: str, aliases: str) -> tuple[str, ...]:
    """The normalised (simplified, no spaces, lower case) names a travel place is matched
    against: the area's name and each alias, in whichever script they were typed."""
    keys = {normalize_name(k) for k in [name, *_ALIAS_SPLIT.split(aliases or "")] if k.strip()}
    return tuple(sorted(k for k in keys if k))


@dataclass(frozen=True)
class AreaRule:
    name: str
    keys: tuple[str, ...]
    counts_from: dt.date
    counts_until: dt.date | None = None

    def matches(self, place: str) -> bool:
        """Does a travel place as typed ("湖北省武漢市", "武汉", "Wuhan") name this area?

        A key of two characters or more matches inside the place (湖北 in 湖北省武漢市); a
        one-character key only matches the whole place."""
        norm = normalize_name(place or "")
        if not norm:
            return False
        return any((k in norm) if len(k) >= 2 else (k == norm) for k in self.keys)


@dataclass(frozen=True)
class RulesConfig:
    observation_days: int = 14
    fever_threshold: Decimal = Decimal("37.3")
    travel_since: dt.date | None = None
    areas: tuple[AreaRule, ...] = ()
    symptoms: dict[str, str] = field(default_factory=dict)  # active code -> name
    # Translated reason templates, filled on first use: the bulk path evaluates many rows.
    texts: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def text(self, msgid: str) -> str:
        found = self.texts.get(msgid)
        if found is None:
            found = self.texts[msgid] = _(msgid)
        return found


def rules_config() -> RulesConfig:
    """The settings, the risk areas in force and the symptoms in use, read once."""
    settings = RiskSettings.current()
    areas = tuple(
        AreaRule(a.name, area_keys(a.name, a.aliases), a.counts_from, a.counts_until)
        for a in RiskArea.objects.filter(is_active=True).order_by("name")
    )
    symptoms = dict(
        Symptom.objects.filter(is_active=True).order_by("order", "code").values_list("code", "name")
    )
    return RulesConfig(
        observation_days=settings.observation_days,
        fever_threshold=settings.fever_threshold,
        travel_since=settings.travel_since,
        areas=areas,
        symptoms=symptoms,
    )


# ---------------------------------------------------------------------------------------------
# the rules

# The reasons, in words (translated once per configuration, see RulesConfig.text).
R_FEVER = gettext_noop("temperature %(t)s °C, at or above %(limit)s °C")
R_SYMPTOMS = gettext_noop("symptoms: %(names)s")
R_CONFIRMED_WHO = gettext_noop(
    "close contact with a confirmed case (%(who)s) on %(date)s, within %(days)d days"
)
R_CONFIRMED = gettext_noop("close contact with a confirmed case on %(date)s, within %(days)d days")
R_SUSPECTED_WHO = gettext_noop(
    "contact with a suspected case (%(who)s) on %(date)s, within %(days)d days"
)
R_SUSPECTED = gettext_noop("contact with a suspected case on %(date)s, within %(days)d days")
R_TRAVEL = gettext_noop("back from %(place)s on %(date)s, within %(days)d days")
R_NO_TEMPERATURE = gettext_noop("travelled, and no temperature was taken")
R_CLEARED = gettext_noop(
    "no fever, no symptoms, no travel to a risk area and no contact with a case "
    "within %(days)d days"
)


@dataclass(frozen=True)
class Proposal:
    outcome: str
    reason: str
    last_exposure: dt.date | None = None


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def rules_evaluate(
    *,
    declared_on: dt.date,
    temperature: Decimal | float | None,
    symptoms: Iterable[str],
    travel: Iterable[dict],
    contacts: Iterable[dict],
    config: RulesConfig | None = None,
) -> Proposal:
    """What the configured rules propose for one declaration. Pure: no query when `config` is
    given (else it is read with `rules_config()`).

    From the strongest outcome to the mildest:

    * fever clinic: a temperature at or above the fever threshold, or any symptom;
    * centralised observation: contact with a confirmed case on a day within
      `observation_days` of the declaration (day 14 counts, day 15 does not);
    * observation at home: travel to or through a risk area in force, with a day of the stay
      on or after the area's `counts_from` (and on or before its `counts_until`, inclusive),
      whose last such day is within `observation_days`; or contact with a *suspected* case
      within `observation_days` (we chose home observation over an assessment: a suspected
      case may become confirmed within the incubation period, and health staff can still
      lower it);
    * health assessment needed: no temperature was taken although the person travelled
      (any travel row: a door visit must measure whoever has been away);
    * cleared: none of the above.

    `reason` gives every finding in words, strongest first, with places and dates ("back from
    武漢市 on 2020-02-01, within 14 days"); `last_exposure` is the latest day of a qualifying
    travel or contact, whatever the outcome.
    """
    config = config if config is not None else rules_config()
    days = config.observation_days
    findings: dict[str, list[str]] = {}
    exposures: list[dt.date] = []

    def within(day: dt.date) -> bool:
        return day <= declared_on and (declared_on - day).days <= days

    if (
        temperature is not None
        and (temperature if isinstance(temperature, Decimal) else Decimal(str(temperature)))
        >= config.fever_threshold
    ):
        findings.setdefault(Outcome.FEVER_CLINIC, []).append(
            config.text(R_FEVER) % {"t": temperature, "limit": config.fever_threshold}
        )
    symptom_list = [s for s in symptoms if s]
    if symptom_list:
        names = "、".join(config.symptoms.get(code, code) for code in symptom_list)
        findings.setdefault(Outcome.FEVER_CLINIC, []).append(
            config.text(R_SYMPTOMS) % {"names": names}
        )

    for contact in contacts:
        day = _as_date(contact.get("date"))
        if day is None or not within(day):
            continue
        exposures.append(day)
        who = (contact.get("who") or "").strip()
        values = {"date": day.isoformat(), "days": days, "who": who}
        if contact.get("kind") == "confirmed":
            text = config.text(R_CONFIRMED_WHO if who else R_CONFIRMED)
            findings.setdefault(Outcome.CENTRAL, []).append(text % values)
        else:
            text = config.text(R_SUSPECTED_WHO if who else R_SUSPECTED)
            findings.setdefault(Outcome.HOME, []).append(text % values)

    travel_rows = [t for t in travel if t]
    best: tuple[dt.date, str] | None = None
    for row in travel_rows:
        start = _as_date(row.get("from"))
        end = _as_date(row.get("to")) or start
        if start is None or end is None:
            continue
        place = (row.get("place") or "").strip()
        for area in config.areas:
            if not area.matches(place):
                continue
            first = max(start, area.counts_from)
            last = min(end, area.counts_until) if area.counts_until else end
            if first > last or not within(last):
                continue
            if best is None or last > best[0]:
                best = (last, place)
    if best is not None:
        exposures.append(best[0])
        findings.setdefault(Outcome.HOME, []).append(
            config.text(R_TRAVEL) % {"place": best[1], "date": best[0].isoformat(), "days": days}
        )

    if temperature is None and travel_rows:
        findings.setdefault(Outcome.ASSESSMENT, []).append(config.text(R_NO_TEMPERATURE))

    outcome = next((o for o in STRENGTH if o in findings), Outcome.CLEARED)
    if outcome == Outcome.CLEARED:
        reason = config.text(R_CLEARED) % {"days": days}
    else:
        reason = "; ".join(text for o in STRENGTH for text in findings.get(o, []))
    return Proposal(str(outcome), reason, max(exposures) if exposures else None)


# ---------------------------------------------------------------------------------------------
# declarations: input and validation


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


def _date_field(e: _Errors, value: Any, name: str, *, required: bool) -> dt.date | None:
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


def _text(e: _Errors, value: Any, name: str, maximum: int, *, required: bool = False) -> str:
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
    e = _Errors()

    declared_on = _date_field(e, data.declared_on, "declared_on", required=False) or today
    if declared_on > today:
        e.add("declared_on", _("This date is in the future."))
    data.declared_on = declared_on

    data.temperature = e.run(_temperature, data.temperature)
    method = (data.temperature_method or "").strip()
    if data.temperature is not None and not method:
        e.add("temperature_method", _("Say how the temperature was taken."))
    elif method and method not in TEMP_METHODS:
        e.add("temperature_method", _("Unknown way of taking the temperature."))
    data.temperature_method = method if data.temperature is not None else ""

    symptoms: list[str] = []
    for code in data.symptoms or []:
        code = str(code).strip()
        if not code or code in symptoms:
            continue
        if code not in config.symptoms:
            e.add("symptoms", _("Unknown symptom: %(code)s.") % {"code": code})
        symptoms.append(code)
    data.symptoms = symptoms

    since = _date_field(e, data.travel_since, "travel_since", required=False)
    if since is not None and since > min(today, declared_on):
        e.add("travel_since", _("This date is in the future."))
    data.travel_since = since

    travel = list(data.travel or [])
    if len(travel) > MAX_ROWS:
        e.add("travel", _("At most %(n)d journeys.") % {"n": MAX_ROWS})
        travel = travel[:MAX_ROWS]
    clean_travel = []
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
        clean_travel.append(
            {
                "place": place,
                "from": start.isoformat() if start else "",
                "to": end.isoformat() if end else "",
                "transport": transport,
            }
        )
    data.travel = clean_travel

    contacts = list(data.contacts or [])
    if len(contacts) > MAX_ROWS:
        e.add("contacts", _("At most %(n)d contacts.") % {"n": MAX_ROWS})
        contacts = contacts[:MAX_ROWS]
    clean_contacts = []
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
        if day and day > min(today, declared_on):
            e.add(p + "date", _("This date is in the future."))
        place = _text(e, row.get("place"), p + "place", 100)
        clean_contacts.append(
            {"kind": kind, "who": who, "date": day.isoformat() if day else "", "place": place}
        )
    data.contacts = clean_contacts
    data.notes = _text(e, data.notes, "notes", 2000)
    e.raise_if_any()
    return data


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


def _store(
    *,
    actor: User | None,
    person: Person,
    data: DeclarationInput,
    visit,
    source: str,
    client_id: uuid.UUID | None,
    config: RulesConfig,
) -> Declaration:
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
    try:
        with transaction.atomic():
            decl.save()
    except IntegrityError:
        # The same submission landed in between: hand back the stored one.
        done = Declaration.objects.filter(client_id=client_id).first() if client_id else None
        if done is None:
            raise
        return done
    audit_record(
        actor,
        "fangyi.declaration.created",
        decl,
        node_path=person.node.path,
        changes=_created_changes(decl),
    )
    return decl


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
    if client_id and (done := Declaration.objects.filter(client_id=client_id).first()):
        if done.person_id != person.pk or not access.path_visible(actor, done.node.path):
            raise client_id_taken()
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
    return declaration


# ---------------------------------------------------------------------------------------------
# the bulk path


@dataclass
class DeclarationRow:
    person: Person
    data: DeclarationInput
    client_id: uuid.UUID | None = None
    visit: Any = None


class _EncodedJson(str):
    """A value already encoded as text for insert_many (JSON, or a temperature's text).
    Django's fields pass a value that has `as_sql` through untouched (Field.get_db_prep_save,
    as for expressions), so each JSON value of a bulk row is encoded once, here, and an empty
    list not at all. SQLite stores the text; on PostgreSQL insert_many COPYs it and the
    server reads it with the column's input function (jsonb, numeric), as it reads the text
    a Jsonb wrapper would send: wrapping each value in Jsonb and encoding it there cost
    several microseconds a value, for the same bytes on the wire."""

    as_sql = None


# Backends where insert_many sends these texts as they are (SQLite's executemany, PostgreSQL's
# COPY in text format); any other gets the ordinary values.
_AS_TEXT = {"sqlite", "postgresql"}
_EMPTY_JSON = _EncodedJson("[]")


def _json_encoder(vendor: str):
    if vendor not in _AS_TEXT:
        return lambda value: value
    encode = json.JSONEncoder(ensure_ascii=False).encode  # Chinese text stays as it is
    return lambda value: _EncodedJson(encode(value)) if value else _EMPTY_JSON


def _changes_encoder(vendor: str):
    """An audit row's changes, {key: [None, value]}, from (key, value, repeats) items.

    The JSON text is put together from fragments, each encoded once for the values that
    repeat across rows (the source, a proposal, a reason, a date...): encoding the whole dict
    per row was the largest cost of the bulk path after the inserts. Elsewhere the dict goes
    the ordinary way."""
    if vendor not in _AS_TEXT:
        return lambda items: {key: [None, value] for key, value, _repeats in items}
    encode = json.JSONEncoder(ensure_ascii=False).encode
    memo: dict[tuple[str, Any], str] = {}

    def fragment(key: str, value: Any, repeats: bool) -> str:
        if not repeats:
            return f"{encode(key)}: [null, {encode(value)}]"
        found = memo.get((key, value))
        if found is None:
            if len(memo) > 50_000:
                memo.clear()
            found = memo[(key, value)] = f"{encode(key)}: [null, {encode(value)}]"
        return found

    return lambda items: _EncodedJson(
        "{" + ", ".join([fragment(k, v, rep) for k, v, rep in items]) + "}"
    )


def _decimal_encoder(vendor: str):
    """Temperatures for insert_many: the text SQLite's Decimal adapter would send (Django
    registers `str`), which PostgreSQL's numeric input reads too, made once per value; a few
    dozen values fill a whole import."""
    if vendor not in _AS_TEXT:
        return lambda value: value
    memo: dict[Decimal, _EncodedJson] = {}

    def encode(value):
        if value is None:
            return None
        found = memo.get(value)
        if found is None:
            found = memo[value] = _EncodedJson(str(value))
        return found

    return encode


@dataclass
class DeclarationBulkResult:
    created: int = 0
    already: int = 0  # rows whose client_id was stored before: not stored twice
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)


_BULK_DECL_COLUMNS = (
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
    "recorded_by",
    "recorded_at",
    "confirmed_by",
    "confirmed_at",
    "client_id",
)
_BULK_AUDIT_COLUMNS = (
    "at",
    "actor",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "node_path",
    "changes",
    "ip",
)


def declarations_bulk_record(
    *,
    actor: User | None,
    rows: Iterable[DeclarationRow | tuple],
    source: str = DeclarationSource.IMPORT,
    batch_size: int = 2000,
    scoped: bool = True,
) -> DeclarationBulkResult:
    """Many declarations at once (imports, the benchmark): each row validated like a single
    declaration (`declaration_clean`, the person visible to the actor, a visit's household),
    the rules evaluated with one configuration read, then stored in batches of one prepared
    INSERT (core.bulk.insert_many) with one audit row each, a batch per transaction.

    Rows are DeclarationRow or (person, data[, client_id]) tuples; bad rows come back with
    their 1-based row number and field errors and do not stop the others. A row whose
    client_id is already stored is counted in `already` and not stored again. Persons should
    come with their node loaded (`select_related("node")`)."""
    if actor is not None:
        access.require(actor, "declaration.record")
    if source not in SOURCES:
        raise DomainError(_("Unknown source."), field="source")
    config = rules_config()
    today = timezone.localdate()
    result = DeclarationBulkResult()
    actor_id = actor.pk if actor is not None and actor.pk else None
    actor_name = actor.username if actor_id else "system"
    ip = current_ip.get()
    pending = source == DeclarationSource.SELF
    status = DeclarationStatus.PENDING if pending else DeclarationStatus.CONFIRMED
    batch: list[tuple[DeclarationRow, Proposal]] = []
    seen: set[uuid.UUID] = set()
    given_ids: set[uuid.UUID] = set()
    as_json = _json_encoder(connection.vendor)
    as_decimal = _decimal_encoder(connection.vendor)
    as_changes = _changes_encoder(connection.vendor)

    def flush() -> None:
        if not batch:
            return
        now = timezone.now()
        with transaction.atomic():
            # Only ids the caller gave can be stored already; ours are new uuid4s.
            given = [r.client_id for r, _p in batch if r.client_id in given_ids]
            stored = (
                set(
                    Declaration.objects.filter(client_id__in=given)
                    .order_by()
                    .values_list("client_id", flat=True)
                )
                if given
                else set()
            )
            before = Declaration.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            fresh = [(r, p) for r, p in batch if r.client_id not in stored]
            result.already += len(batch) - len(fresh)
            values = []
            for r, p in fresh:
                d = r.data
                values.append(
                    (
                        r.person.pk,
                        r.person.node_id,
                        r.visit.pk if r.visit is not None else None,
                        source,
                        status,
                        d.declared_on,
                        as_decimal(d.temperature),
                        d.temperature_method,
                        as_json(d.symptoms),
                        d.travel_since,
                        as_json(d.travel),
                        as_json(d.contacts),
                        d.notes,
                        p.outcome,
                        p.reason,
                        p.last_exposure,
                        None if pending else actor_id,
                        now,
                        None if pending else actor_id,
                        None if pending else now,
                        r.client_id,
                    )
                )
            insert_many(Declaration, _BULK_DECL_COLUMNS, values)
            # The new rows' ids, read back by the unique client id; the range keeps the read
            # to this batch's rows (and any that another writer added meanwhile).
            # The id as text (no UUID object per row): hex on SQLite, dashed on PostgreSQL.
            pks = {
                key.replace("-", ""): pk
                for key, pk in Declaration.objects.filter(pk__gt=before)
                .order_by()
                .annotate(key=Cast("client_id", CharField()))
                .values_list("key", "pk")
            }
            audit_rows = []
            for (r, p), v in zip(fresh, values, strict=True):
                # _created_changes of the single path, written out: it runs once per row.
                d = r.data
                items: list[tuple[str, Any, bool]] = [
                    ("person", v[0], False),
                    ("node", v[1], True),
                    ("source", source, True),
                    ("status", status, True),
                    ("declared_on", d.declared_on.isoformat(), True),  # type: ignore[union-attr]
                    ("proposal", p.outcome, True),
                    ("proposal_reason", p.reason, True),
                ]
                if v[2] is not None:
                    items.append(("visit", v[2], False))
                if d.temperature is not None:
                    items.append(("temperature", str(d.temperature), True))
                    items.append(("temperature_method", d.temperature_method, True))
                for key in ("symptoms", "travel", "contacts"):
                    if getattr(d, key):
                        items.append((key, getattr(d, key), False))
                if d.travel_since is not None:
                    items.append(("travel_since", d.travel_since.isoformat(), True))
                if d.notes:
                    items.append(("notes", d.notes, False))
                if p.last_exposure is not None:
                    items.append(("last_exposure", p.last_exposure.isoformat(), True))
                audit_rows.append(
                    (
                        now,
                        actor_id,
                        actor_name,
                        "fangyi.declaration.created",
                        "declaration",
                        pks[r.client_id.hex],
                        f"{r.person.name} {r.data.declared_on}",
                        r.person.node.path,
                        as_changes(items),
                        ip,
                    )
                )
            insert_many(AuditEntry, _BULK_AUDIT_COLUMNS, audit_rows)
            result.created += len(fresh)
        batch.clear()

    for i, item in enumerate(rows, start=1):
        row = item if isinstance(item, DeclarationRow) else DeclarationRow(*item)
        try:
            if row.person is None:
                raise DomainError(_("No such person."), field="person")
            if (
                scoped
                and actor is not None
                and not access.path_visible(actor, row.person.node.path)
            ):
                raise NotFound(_("No such person."), field="person")
            _check_visit(row.person, row.visit)
            declaration_clean(row.data, today=today, config=config)
        except DomainError as exc:
            result.errors.append((i, exc.errors))
            continue
        if row.client_id is None:
            row.client_id = uuid.uuid4()
        elif row.client_id in seen:
            result.errors.append((i, {"client_id": [_("This row appears twice.")]}))
            continue
        else:
            given_ids.add(row.client_id)
        seen.add(row.client_id)
        batch.append((row, _evaluate(row.data, config)))
        if len(batch) >= batch_size:
            flush()
    flush()
    return result


# ---------------------------------------------------------------------------------------------
# decisions

DECISION_FIELDS = [
    "person",
    "node",
    "declaration",
    "proposal",
    "outcome",
    "reason",
    "last_exposure",
    "place",
    "decided_by",
]


@transaction.atomic
def decision_make(
    *,
    actor: User,
    person: Person,
    outcome: str,
    reason: str = "",
    declaration: Declaration | None = None,
    last_exposure: dt.date | None = None,
    place: Place | None = None,
    client_id: uuid.UUID | None = None,
) -> Decision:
    """Health staff confirm or change the rules' proposal; who, when and why are kept.

    Confirming a declaration's proposal may leave `reason` empty (the rules' reason is kept);
    changing it, or deciding without a declaration, needs a reason. Observation at home or
    centralised starts the observation (or extends a running one) until last exposure + the
    configured days; centralised observation needs a quarantine point or designated hotel
    the actor can see. A person already under observation to a later date keeps it."""
    access.require(actor, "decision.make")
    if client_id and (done := Decision.objects.filter(client_id=client_id).first()):
        if done.person_id != person.pk or not access.path_visible(actor, done.node.path):
            raise client_id_taken()
        return done
    _visible_person(actor, person)
    e = _Errors()
    if outcome not in OUTCOMES:
        e.add("outcome", _("Choose a decision."))
    if declaration is not None:
        if declaration.person_id != person.pk:
            e.add("declaration", _("This declaration is someone else's."))
        elif declaration.status != DeclarationStatus.CONFIRMED:
            e.add("declaration", _("Confirm the self-report before deciding on it."))
    proposal = declaration.proposal if declaration is not None else ""
    reason = _text(e, reason, "reason", 2000)
    if not reason:
        if declaration is not None and outcome == proposal:
            reason = declaration.proposal_reason
        else:
            e.add("reason", _("Say why: the decision differs from the rules' proposal."))
    if last_exposure is None and declaration is not None:
        last_exposure = declaration.last_exposure
    observed = outcome in (Outcome.HOME, Outcome.CENTRAL)
    if observed and last_exposure is None:
        e.add("last_exposure", _("Give the day of the last exposure."))
    elif last_exposure is not None and last_exposure > timezone.localdate():
        e.add("last_exposure", _("This date is in the future."))
    if outcome == Outcome.CENTRAL:
        if place is None:
            e.add("place", _("Choose the quarantine point or designated hotel."))
        elif place.kind not in CENTRAL_PLACE_KINDS or not place.is_active:
            e.add("place", _("Choose a quarantine point or designated hotel in use."))
        elif not access.path_visible(actor, place.node.path):
            e.not_yours("place")
    else:
        place = None
    e.raise_if_any()

    decision = Decision.objects.create(
        person=person,
        node_id=person.node_id,
        declaration=declaration,
        proposal=proposal,
        outcome=outcome,
        reason=reason,
        last_exposure=last_exposure,
        place=place,
        decided_by=actor,
        decided_at=timezone.now(),
        client_id=client_id,
    )
    audit_record(
        actor,
        "fangyi.decision.created",
        decision,
        node_path=person.node.path,
        changes=created(snapshot(decision, DECISION_FIELDS)),
    )
    if observed:
        from fangyi.observation.services import observation_start

        try:
            observation_start(
                actor=actor,
                person=person,
                kind="home" if outcome == Outcome.HOME else "place",
                place=place,
                last_exposure=last_exposure,  # type: ignore[arg-type]
                decision=decision,
                check=False,
            )
        except Conflict:
            pass  # already observed to a later date: the running observation covers this
    return decision


# ---------------------------------------------------------------------------------------------
# self-report links


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def selfreport_link_create(*, actor: User, person: Person) -> tuple[SelfReportLink, str]:
    """A new personal link for `person`; returns the link row and the token, which is shown
    once and never stored (only its SHA-256). Older links of the person are revoked."""
    access.require(actor, "selfreport.issue")
    _visible_person(actor, person)
    now = timezone.now()
    revoked = SelfReportLink.objects.filter(person=person, revoked__isnull=True).update(revoked=now)
    token = secrets.token_urlsafe(24)
    link = SelfReportLink.objects.create(
        person=person,
        digest=_digest(token),
        created_by=actor,
        expires=now + dt.timedelta(days=RiskSettings.current().self_report_days),
    )
    audit_record(
        actor,
        "fangyi.selfreportlink.created",
        link,
        node_path=person.node.path,
        changes={"expires": [None, link.expires.isoformat()], "revoked_before": [None, revoked]},
    )
    return link, token


def selfreport_resolve(token: str) -> SelfReportLink:
    """The link a token names, if it is in force; unknown, expired and revoked links all
    answer the same NotFound."""
    token = (token or "").strip()
    link = None
    if 10 <= len(token) <= 100:
        link = (
            SelfReportLink.objects.select_related("person", "person__node")
            .filter(digest=_digest(token), revoked__isnull=True, expires__gt=timezone.now())
            .first()
        )
    if link is None:
        raise NotFound(
            _(
                "This link is not valid: it has expired, was replaced by a newer one, or never existed."
            )
        )
    now = timezone.now()
    if link.last_used is None or (now - link.last_used).total_seconds() > 60:
        SelfReportLink.objects.filter(pk=link.pk).update(last_used=now)
    return link


@transaction.atomic
def selfreport_declare(
    *, link: SelfReportLink, data: DeclarationInput, client_id: uuid.UUID | None = None
) -> Declaration:
    """A resident's own declaration through their link: stored PENDING (source "self") for a
    worker to confirm. The link is the authority; there is no user."""
    if client_id and (done := Declaration.objects.filter(client_id=client_id).first()):
        if done.person_id != link.person_id:
            raise NotFound(_("No such declaration."))
        return done
    config = rules_config()
    declaration_clean(data, config=config)
    return _store(
        actor=None,
        person=link.person,
        data=data,
        visit=None,
        source=DeclarationSource.SELF,
        client_id=client_id,
        config=config,
    )


def observed_now(person: Person) -> bool:
    """Is the person under observation now (for the link to the daily check)?"""
    from fangyi.observation.models import Observation, ObservationStatus

    return Observation.objects.filter(person=person, status=ObservationStatus.ACTIVE).exists()


# ---------------------------------------------------------------------------------------------
# the rules' configuration (administrators)

AREA_FIELDS = ["name", "aliases", "counts_from", "counts_until", "is_active", "notes"]
SYMPTOM_FIELDS = ["code", "name", "order", "is_active"]
SETTINGS_FIELDS = [
    "observation_days",
    "fever_threshold",
    "followups_per_day",
    "missed_escalation",
    "self_report_days",
    "travel_since",
]
SETTINGS_LIMITS = {
    "observation_days": (1, 60),
    "followups_per_day": (1, 2),
    "missed_escalation": (1, 10),
    "self_report_days": (1, 60),
}


def _plain_snapshot(obj, fields) -> dict[str, Any]:
    values = snapshot(obj, fields)
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


def _area_apply(area: RiskArea, data: dict[str, Any]) -> None:
    e = _Errors()
    area.name = _text(e, data.get("name"), "name", 50, required=True)
    area.aliases = _text(e, data.get("aliases"), "aliases", 300)
    area.notes = _text(e, data.get("notes"), "notes", 2000)
    area.counts_from = _date_field(e, data.get("counts_from"), "counts_from", required=True)  # type: ignore[assignment]
    area.counts_until = _date_field(e, data.get("counts_until"), "counts_until", required=False)
    if area.counts_from and area.counts_until and area.counts_until < area.counts_from:
        e.add("counts_until", _("This is before the day it counts from."))
    area.is_active = bool(data.get("is_active", True))
    if area.name and RiskArea.objects.filter(name=area.name).exclude(pk=area.pk).exists():
        e.add("name", _("A risk area of this name exists already."))
    e.raise_if_any()


@transaction.atomic
def risk_area_create(*, actor: User, data: dict[str, Any]) -> RiskArea:
    access.require(actor, "risk.configure")
    area = RiskArea()
    _area_apply(area, data)
    area.save()
    audit_record(
        actor, "fangyi.riskarea.created", area, changes=created(_plain_snapshot(area, AREA_FIELDS))
    )
    return area


@transaction.atomic
def risk_area_update(*, actor: User, area: RiskArea, data: dict[str, Any]) -> RiskArea:
    access.require(actor, "risk.configure")
    before = _plain_snapshot(area, AREA_FIELDS)
    _area_apply(area, data)
    area.save()
    audit_record(
        actor,
        "fangyi.riskarea.changed",
        area,
        changes=diff(before, _plain_snapshot(area, AREA_FIELDS)),
    )
    return area


@transaction.atomic
def risk_area_delete(*, actor: User, area: RiskArea) -> None:
    access.require(actor, "risk.configure")
    before = _plain_snapshot(area, AREA_FIELDS)
    pk, label = area.pk, str(area)
    area.delete()
    audit_record(
        actor,
        "fangyi.riskarea.deleted",
        None,
        object_type="riskarea",
        object_id=pk,
        object_repr=label,
        changes=diff(before, {}),
    )


def _symptom_apply(symptom: Symptom, data: dict[str, Any]) -> None:
    e = _Errors()
    code = _text(e, data.get("code"), "code", 30, required=True).lower()
    if code and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", code):
        e.add("code", _("A code has lower-case letters, digits, - and _ only."))
    elif code and Symptom.objects.filter(code=code).exclude(pk=symptom.pk).exists():
        e.add("code", _("A symptom with this code exists already."))
    symptom.code = code
    symptom.name = _text(e, data.get("name"), "name", 50, required=True)
    order = data.get("order", 0)
    try:
        order = int(order if order not in (None, "") else 0)
        if not 0 <= order <= 999:
            raise ValueError
    except (TypeError, ValueError):
        e.add("order", _("A whole number from 0 to 999."))
        order = 0
    symptom.order = order
    symptom.is_active = bool(data.get("is_active", True))
    e.raise_if_any()


@transaction.atomic
def symptom_create(*, actor: User, data: dict[str, Any]) -> Symptom:
    access.require(actor, "risk.configure")
    symptom = Symptom()
    _symptom_apply(symptom, data)
    symptom.save()
    audit_record(
        actor,
        "fangyi.symptom.created",
        symptom,
        changes=created(_plain_snapshot(symptom, SYMPTOM_FIELDS)),
    )
    return symptom


@transaction.atomic
def symptom_update(*, actor: User, symptom: Symptom, data: dict[str, Any]) -> Symptom:
    """Symptoms are never deleted (old declarations name them); an unused one is switched
    off with is_active."""
    access.require(actor, "risk.configure")
    before = _plain_snapshot(symptom, SYMPTOM_FIELDS)
    _symptom_apply(symptom, data)
    symptom.save()
    audit_record(
        actor,
        "fangyi.symptom.changed",
        symptom,
        changes=diff(before, _plain_snapshot(symptom, SYMPTOM_FIELDS)),
    )
    return symptom


@transaction.atomic
def settings_update(*, actor: User, data: dict[str, Any]) -> RiskSettings:
    access.require(actor, "risk.configure")
    settings = RiskSettings.current()
    before = _plain_snapshot(settings, SETTINGS_FIELDS)
    e = _Errors()
    for name, (low, high) in SETTINGS_LIMITS.items():
        value = data.get(name, getattr(settings, name))
        try:
            value = int(value)
            if not low <= value <= high:
                raise ValueError
            setattr(settings, name, value)
        except (TypeError, ValueError):
            e.add(name, _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
    threshold = data.get("fever_threshold", settings.fever_threshold)
    try:
        threshold = Decimal(str(threshold)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if not Decimal("36.0") <= threshold <= Decimal("39.0"):
            raise InvalidOperation
        settings.fever_threshold = threshold
    except InvalidOperation:
        e.add("fever_threshold", _("A temperature from 36.0 to 39.0 °C."))
    if "travel_since" in data:
        since = _date_field(e, data.get("travel_since"), "travel_since", required=False)
        if since and since > timezone.localdate():
            e.add("travel_since", _("This date is in the future."))
        settings.travel_since = since
    e.raise_if_any()
    settings.save()
    audit_record(
        actor,
        "fangyi.risksettings.changed",
        settings,
        changes=diff(before, _plain_snapshot(settings, SETTINGS_FIELDS)),
    )
    return settings
