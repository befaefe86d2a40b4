"""Every write of fangyi.enforcement: enforcement records, their follow-up check, and the legal
bases (configuration). Each validates everything first, then writes and audits in one
transaction; the pages and the API both call these.

Evidence photos are checked and written to disk (fangyi.core.photos) after the record's own
fields are valid and before the transaction; if anything then fails they are removed again, so
a refused submission leaves neither a row nor a file."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record, created, diff, snapshot
from fangyi.core.errors import (
    Conflict,
    DomainError,
    FieldErrors,
    Forbidden,
    NotFound,
)
from fangyi.core.idempotency import replay
from fangyi.core.models import Node, Role, User
from fangyi.core.photos import photo_discard, photos_store
from fangyi.core.selectors import nearest_workers
from fangyi.core.validators import check_length
from fangyi.people.models import Person
from fangyi.tips.models import Tip

from .models import EnforcementPhoto, EnforcementRecord, LegalBasis, Measure

# Who may be named as an officer on a record: police roles and supervisors.
OFFICER_ROLES = (Role.POLICE, Role.AUXILIARY, Role.SUPERVISOR)
# A device's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=5)
# A follow-up check is planned at most this far ahead.
MAX_FOLLOWUP_AHEAD = dt.timedelta(days=366)
MAX_PERSONS = 50
MAX_OFFICERS = 10

RECORD_FIELDS = [
    "node",
    "tip",
    "person",
    "measure",
    "at",
    "location",
    "described_people",
    "statements",
    "facts",
    "followup_on",
    "recorded_by",
]
BASIS_FIELDS = ["title", "issuer", "reference", "issued_on", "summary", "url", "active", "order"]


@dataclass
class EnforcementInput:
    """One enforcement measure as submitted: `tip` and/or `person` is what it is about."""

    measure: str = ""
    facts: str = ""
    tip: Any = None  # a fangyi.tips.models.Tip
    person: Person | None = None
    at: dt.datetime | None = None  # defaults to now
    location: str = ""
    legal_bases: Sequence[LegalBasis] = field(default_factory=list)
    persons: Sequence[Person] = field(default_factory=list)
    described_people: str = ""
    statements: str = ""
    officers: Sequence[User] = field(default_factory=list)  # defaults to the actor
    followup_on: dt.date | None = None


# --- looking up what a submission names by id (the pages and the API) -------------------------


def tip_for(actor: User, pk: int | None, *, field_name: str = "tip"):
    """The tip with this id in the actor's jurisdiction, else NotFound naming the field."""

    if pk is None:
        return None
    tip = Tip.objects.filter(pk=pk).visible_to(actor).select_related("node").first()
    if tip is None:
        raise NotFound(_("No such tip."), field=field_name)
    return tip


def person_for(actor: User, pk: int | None, *, field_name: str = "person") -> Person | None:
    if pk is None:
        return None
    person = Person.objects.filter(pk=pk).visible_to(actor).select_related("node").first()
    if person is None:
        raise NotFound(_("No such person."), field=field_name)
    return person


def persons_for(actor: User, pks: Iterable[int], *, field_name: str = "persons") -> list[Person]:
    """Persons by id, in the order given, each in the actor's jurisdiction (else NotFound)."""
    pks = list(dict.fromkeys(pks))
    if not pks:
        return []
    found = {
        p.pk: p for p in Person.objects.filter(pk__in=pks).visible_to(actor).select_related("node")
    }
    if len(found) != len(pks):
        raise NotFound(_("No such person."), field=field_name)
    return [found[pk] for pk in pks]


def officers_for(pks: Iterable[int], *, field_name: str = "officers") -> list[User]:
    """Users by id; whether each may be named on the record is the service's to check."""
    pks = list(dict.fromkeys(pks))
    if not pks:
        return []
    found = User.objects.in_bulk(pks)
    if len(found) != len(pks):
        raise NotFound(_("No such officer."), field=field_name)
    return [found[pk] for pk in pks]


def legal_bases_for(pks: Iterable[int], *, field_name: str = "legal_bases") -> list[LegalBasis]:
    """Active legal bases by id, else a DomainError naming the field."""
    pks = list(dict.fromkeys(pks))
    if not pks:
        return []
    found = LegalBasis.objects.filter(active=True).in_bulk(pks)
    if len(found) != len(pks):
        raise DomainError(_("Choose the legal basis from the list."), field=field_name)
    return [found[pk] for pk in pks]


def officer_choices(node: Node | None, actor: User) -> list[User]:
    """Who can be named as an officer on a record at `node`: police roles and supervisors
    whose jurisdiction holds it, nearest first; the actor first when he is one of them."""
    if node is None:
        return [actor] if actor.role in OFFICER_ROLES else []
    users = nearest_workers(node, OFFICER_ROLES)
    users.sort(key=lambda u: u.pk != actor.pk)
    return users


# --- records ----------------------------------------------------------------------------------


def _replay(actor: User, client_id, data: EnforcementInput) -> EnforcementRecord | None:
    """The record a retry with the same client id already stored, else None; an id naming
    another record, or one outside the actor's jurisdiction, is refused."""
    return replay(
        EnforcementRecord,
        client_id,
        lambda done: (
            access.path_visible(actor, done.node.path)
            and done.tip_id == (data.tip.pk if data.tip is not None else None)
            and done.person_id == (data.person.pk if data.person is not None else None)
        ),
        related=["node"],
    )


def _check(actor: User, data: EnforcementInput, now: dt.datetime) -> dict[str, Any]:
    """Everything about a submission that can be wrong, every field error at once. Returns
    the cleaned values."""
    e = FieldErrors()
    out: dict[str, Any] = {}
    tip, person = data.tip, data.person
    if tip is None and person is None:
        e.add("person", _("Record this on a tip or on a person."))
    if tip is not None and not access.path_visible(actor, tip.node.path):
        raise NotFound(_("No such tip."), field="tip")
    if person is not None and not access.path_visible(actor, person.node.path):
        raise NotFound(_("No such person."), field="person")
    node = tip.node if tip is not None else (person.node if person is not None else None)
    out["node"] = node

    if data.measure not in Measure.values:
        e.add(
            "measure",
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for _v, label in Measure.choices)},
        )
    at = data.at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        e.add("at", _("The time of the measure is in the future."))
    out["at"] = at
    out["location"] = e.run(check_length, data.location, "location", 200) or ""
    out["described_people"] = (
        e.run(check_length, data.described_people, "described_people", 2000) or ""
    )
    out["statements"] = e.run(check_length, data.statements, "statements", 4000) or ""
    out["facts"] = e.run(check_length, data.facts, "facts", 4000, required=True) or ""

    bases = list(dict.fromkeys(data.legal_bases or []))
    if any(b.pk is None or not b.active for b in bases):
        e.add("legal_bases", _("Choose the legal basis from the list."))
    elif not bases and data.measure in Measure.values and data.measure != Measure.EDUCATION:
        e.add("legal_bases", _("Cite the legal basis of this measure."))
    out["legal_bases"] = bases

    persons = list(dict.fromkeys(data.persons or []))
    if len(persons) > MAX_PERSONS:
        e.add("persons", _("At most %(n)d people on one record.") % {"n": MAX_PERSONS})
    for p in persons:
        if not access.path_visible(actor, p.node.path):
            raise NotFound(_("No such person."), field="persons")
    if not persons and not out["described_people"]:
        e.add(
            "persons",
            _("Name the people involved: pick them from the registry or describe them."),
        )
    out["persons"] = persons

    officers = list(dict.fromkeys(data.officers or [])) or [actor]
    if len(officers) > MAX_OFFICERS:
        e.add("officers", _("At most %(n)d officers on one record.") % {"n": MAX_OFFICERS})
    elif node is not None:
        allowed = {u.pk for u in nearest_workers(node, OFFICER_ROLES)}
        for u in officers:
            if u.pk not in allowed:
                # Exactly what an id that does not exist answers: no names from elsewhere.
                raise NotFound(_("No such officer."), field="officers")
    out["officers"] = officers

    today = timezone.localtime(now).date()
    if data.followup_on is not None:
        if data.followup_on < today:
            e.add("followup_on", _("The follow-up check cannot be in the past."))
        elif data.followup_on > today + MAX_FOLLOWUP_AHEAD:
            e.add("followup_on", _("Plan the follow-up check within a year."))
    out["followup_on"] = data.followup_on
    e.raise_if_any()
    return out


def enforcement_record(
    *,
    actor: User,
    data: EnforcementInput,
    photos: Iterable[Any] = (),
    client_id: uuid.UUID | None = None,
) -> EnforcementRecord:
    """Record one enforcement measure on a tip or a person (or both).

    The place is the tip's (else the person's). Every measure but education cites at least one
    active legal basis; the people involved are registry persons and/or a description; the
    officers are police roles or supervisors of the place (the actor when none is given); the
    follow-up check is today or later and then lands on the officers' day lists. Photos are
    checked (JPEG, PNG or WebP, size limit) and kept outside the database. The same client_id
    twice stores one record."""
    access.require(actor, "enforcement.record")
    done = _replay(actor, client_id, data)
    if done is not None:
        return done
    now = timezone.now()
    clean = _check(actor, data, now)
    stored = photos_store(photos, field="photos")
    try:
        with transaction.atomic():
            record = EnforcementRecord.objects.create(
                node=clean["node"],
                tip=data.tip,
                person=data.person,
                measure=data.measure,
                at=clean["at"],
                location=clean["location"],
                described_people=clean["described_people"],
                statements=clean["statements"],
                facts=clean["facts"],
                followup_on=clean["followup_on"],
                recorded_by=actor,
                recorded_at=now,
                client_id=client_id,
            )
            record.legal_bases.set(clean["legal_bases"])
            record.persons.set(clean["persons"])
            record.officers.set(clean["officers"])
            rows = []
            for s in stored:
                photo = EnforcementPhoto(record=record, uploaded_by=actor, uploaded_at=now)
                photo.fill(s)
                rows.append(photo)
            EnforcementPhoto.objects.bulk_create(rows)
            changes = created(snapshot(record, RECORD_FIELDS))
            changes["legal_bases"] = [None, [f"{b.pk} {b.title}" for b in clean["legal_bases"]]]
            changes["persons"] = [None, [p.pk for p in clean["persons"]]]
            changes["officers"] = [None, [u.pk for u in clean["officers"]]]
            if stored:
                changes["photos"] = [None, len(stored)]
            audit_record(
                actor,
                "fangyi.enforcementrecord.created",
                record,
                changes=changes,
                node_path=record.node.path,
            )
    except IntegrityError:
        photo_discard(stored)
        # The same client_id sent twice at once: the first one won.
        again = _replay(actor, client_id, data)
        if again is not None:
            return again
        raise
    except BaseException:
        photo_discard(stored)
        raise
    return record


def can_follow_up(user: User, record: EnforcementRecord) -> bool:
    """One of the record's officers, or a supervisor whose jurisdiction holds the place."""
    if not access.can(user, "enforcement.record"):
        return False
    if not access.path_visible(user, record.node.path):
        return False
    if user.role == Role.SUPERVISOR:
        return True
    return record.officers.filter(pk=user.pk).exists()


def enforcement_followup(
    *, actor: User, record: EnforcementRecord, notes: str
) -> EnforcementRecord:
    """The follow-up check done: what was found. Once per record."""
    access.require(actor, "enforcement.record")
    if not access.path_visible(actor, record.node.path):
        raise NotFound(_("No such enforcement record."))
    if not can_follow_up(actor, record):
        raise Forbidden(
            _("Only the record's officers or a supervisor can record the follow-up check.")
        )
    if record.followup_done_at is not None:
        raise Conflict(_("The follow-up check was already recorded."))
    notes = check_length(notes, "notes", 2000, required=True)
    before = snapshot(record, ["followup_done_at", "followup_by", "followup_notes"])
    with transaction.atomic():
        record.followup_done_at = timezone.now()
        record.followup_by = actor
        record.followup_notes = notes
        record.save(update_fields=["followup_done_at", "followup_by", "followup_notes"])
        audit_record(
            actor,
            "fangyi.enforcementrecord.followed_up",
            record,
            changes=diff(
                before, snapshot(record, ["followup_done_at", "followup_by", "followup_notes"])
            ),
            node_path=record.node.path,
        )
    return record


# --- legal bases (configuration) -----------------------------------------------------------


def _basis_clean(data: dict[str, Any]) -> dict[str, Any]:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    e = FieldErrors()
    out: dict[str, Any] = {}
    out["title"] = e.run(check_length, data.get("title", ""), "title", 200, required=True) or ""
    out["issuer"] = e.run(check_length, data.get("issuer", ""), "issuer", 100) or ""
    out["reference"] = e.run(check_length, data.get("reference", ""), "reference", 100) or ""
    out["summary"] = e.run(check_length, data.get("summary", ""), "summary", 2000) or ""
    url = e.run(check_length, data.get("url", ""), "url", 200) or ""
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            e.add("url", _("Enter a web address starting with http:// or https://."))
    out["url"] = url
    issued_on = data.get("issued_on")
    if issued_on is not None and issued_on > timezone.localdate():
        e.add("issued_on", _("The date of issue cannot be in the future."))
    out["issued_on"] = issued_on
    out["active"] = bool(data.get("active", True))
    order = data.get("order", 0)
    try:
        order = int(order or 0)
    except (TypeError, ValueError):
        order = -1
    if not 0 <= order <= 32767:
        e.add("order", _("Enter a number between 0 and 32767."))
    out["order"] = order
    e.raise_if_any()
    return out


def legalbasis_save(
    *, actor: User, data: dict[str, Any], basis: LegalBasis | None = None
) -> LegalBasis:
    """Add a legal basis (basis None) or change one. Retired ones are made inactive, never
    deleted: records keep citing them."""
    access.require(actor, "legalbasis.configure")
    clean = _basis_clean(data)
    new = basis is None
    basis = basis or LegalBasis()
    before = {} if new else snapshot(basis, BASIS_FIELDS)
    with transaction.atomic():
        for key, value in clean.items():
            setattr(basis, key, value)
        basis.save()
        after = snapshot(basis, BASIS_FIELDS)
        audit_record(
            actor,
            "fangyi.legalbasis.created" if new else "fangyi.legalbasis.changed",
            basis,
            changes=created(after) if new else diff(before, after),
        )
    return basis
