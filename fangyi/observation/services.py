"""Writes of medical observation: start, follow-ups, alerts, release, referral, transfer.

Every function takes the acting user first (keyword `actor`), checks the policy, validates
everything before writing, writes its audit row in the same transaction, and raises
DomainError (with the field) on bad input.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record, snapshot
from fangyi.core.errors import Conflict, DomainError
from fangyi.core.models import Role, User
from fangyi.core.selectors import nearest_workers
from fangyi.health.models import Decision, RiskSettings
from fangyi.people.models import Person, Place

from .models import Observation, ObservationKind, ObservationStatus

OBSERVATION_FIELDS = [
    "person",
    "node",
    "decision",
    "kind",
    "place",
    "status",
    "starts",
    "last_exposure",
    "ends",
    "per_day",
    "responsible",
]

# Who follows up a person observed at home, nearest first.
RESPONSIBLE_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.POLICE, Role.HEALTH_STAFF)


def observation_end_date(last_exposure: dt.date, settings: RiskSettings | None = None) -> dt.date:
    """The last day of observation: `observation_days` counted from the last exposure."""
    days = (settings or RiskSettings.current()).observation_days
    return last_exposure + dt.timedelta(days=days)


def default_responsible(person: Person) -> User | None:
    workers = nearest_workers(person.node, RESPONSIBLE_ROLES)
    return workers[0] if workers else None


def observation_start(
    *,
    actor: User,
    person: Person,
    kind: str,
    last_exposure: dt.date,
    decision: Decision | None = None,
    place: Place | None = None,
    responsible: User | None = None,
    starts: dt.date | None = None,
    client_id: uuid.UUID | None = None,
    check: bool = True,
) -> Observation:
    """Put `person` under observation until last exposure + the configured days.

    A person already under observation is not observed twice: a later exposure extends the
    running observation instead (see observation_extend). `check=False` is for callers that
    already checked the policy (a health decision starts its observation)."""
    if check:
        access.require(actor, "observation.manage")
        if not access.path_visible(actor, person.node.path):
            raise DomainError(_("This person is not in your jurisdiction."), field="person")
    if client_id:
        existing = Observation.objects.filter(client_id=client_id).first()
        if existing is not None:
            return existing
    if kind not in ObservationKind.values:
        raise DomainError(_("Choose where the observation happens."), field="kind")
    if kind == ObservationKind.PLACE and place is None:
        raise DomainError(_("Choose the quarantine point or designated hotel."), field="place")
    if kind == ObservationKind.HOME:
        place = None
    today = timezone.localdate()
    if last_exposure > today:
        raise DomainError(_("The last exposure cannot be in the future."), field="last_exposure")
    settings = RiskSettings.current()
    with transaction.atomic():
        running = (
            Observation.objects.select_for_update()
            .filter(person=person, status=ObservationStatus.ACTIVE)
            .first()
        )
        if running is not None:
            if last_exposure > running.last_exposure:
                return observation_extend(
                    actor=actor, observation=running, last_exposure=last_exposure, check=False
                )
            raise Conflict(
                _("%(name)s is already under observation until %(date)s.")
                % {"name": person.name, "date": running.ends.isoformat()},
                field="person",
            )
        obs = Observation.objects.create(
            person=person,
            node=person.node,
            decision=decision,
            kind=kind,
            place=place,
            starts=starts or today,
            last_exposure=last_exposure,
            ends=observation_end_date(last_exposure, settings),
            per_day=settings.followups_per_day,
            responsible=responsible or default_responsible(person),
            created_by=actor,
            client_id=client_id,
        )
        audit_record(
            actor,
            "fangyi.observation.started",
            obs,
            changes={k: [None, v] for k, v in snapshot(obs, OBSERVATION_FIELDS).items()},
            node_path=person.node.path,
        )
    return obs


def observation_extend(
    *, actor: User, observation: Observation, last_exposure: dt.date, check: bool = True
) -> Observation:
    """A new exposure: the end date moves to the new last exposure + the configured days."""
    if check:
        access.require(actor, "observation.manage")
    if observation.status != ObservationStatus.ACTIVE:
        raise DomainError(_("This observation has ended."), field="last_exposure")
    if last_exposure <= observation.last_exposure:
        raise DomainError(
            _("The new exposure must be later than the last one (%(date)s).")
            % {"date": observation.last_exposure.isoformat()},
            field="last_exposure",
        )
    if last_exposure > timezone.localdate():
        raise DomainError(_("The last exposure cannot be in the future."), field="last_exposure")
    before = snapshot(observation, OBSERVATION_FIELDS)
    with transaction.atomic():
        observation.last_exposure = last_exposure
        observation.ends = observation_end_date(last_exposure)
        observation.save(update_fields=["last_exposure", "ends"])
        after = snapshot(observation, OBSERVATION_FIELDS)
        audit_record(
            actor,
            "fangyi.observation.extended",
            observation,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
            node_path=observation.node.path,
        )
    return observation
