"""The care pathway: the steps that cross health, observation and quarantine.

A person moves through three apps: health decides (fangyi.health), the observation runs and
is followed up (fangyi.observation), the quarantine site holds the bed (fangyi.quarantine).
Each app sits above the one before it and imports only those below (tests/test_layers.py
checks it). A step that must reach upwards lives here instead, above all three, and calls
them in that order inside one transaction:

- a decision applied: the decision is recorded (health), then the observation it orders
  starts or is extended (observation);
- an observation ended at a site (referred to a clinic, also from an alert, or transferred
  home or elsewhere): the observation ends (observation), then the placement at the site it
  ran at ends, its bed to cleaning (quarantine).

Steps that go downwards only (a placement released ends its observation; a person placed is
observed at the site) stay in fangyi.quarantine, which may call observation directly.

Before this module the apps called each other both ways, held together by imports inside
functions ("imported here, not at the top: quarantine imports observation"); the pages and
the API now call these functions, and the apps' own functions do their own part only.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction

from fangyi.core.errors import Conflict
from fangyi.core.models import User
from fangyi.health.models import OBSERVED_OUTCOMES, Decision, Declaration, Outcome
from fangyi.health.services import decision_record
from fangyi.observation import services as observation_services
from fangyi.observation.models import Alert, Observation, ObservationKind, ObservationStatus
from fangyi.people.models import Person, Place
from fangyi.quarantine.services import placement_left


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
    """Health staff decide (fangyi.health.services.decision_record says what is checked);
    observation at home or centralised starts the observation until last exposure + the
    configured days, or extends a running one. A person already under observation to a later
    date keeps it. A retry of a decision already made changes nothing."""
    decision, made = decision_record(
        actor=actor,
        person=person,
        outcome=outcome,
        reason=reason,
        declaration=declaration,
        last_exposure=last_exposure,
        place=place,
        client_id=client_id,
    )
    if made and decision.outcome in OBSERVED_OUTCOMES:
        assert decision.last_exposure is not None  # decision_record requires it for these
        try:
            observation_services.observation_start_unchecked(
                actor=actor,
                person=person,
                kind=ObservationKind.HOME
                if decision.outcome == Outcome.HOME
                else ObservationKind.PLACE,
                place=decision.place,
                last_exposure=decision.last_exposure,
                decision=decision,
            )
        except Conflict:
            pass  # already observed to a later date: the running observation covers this
    return decision


def _site_left(actor: User, ended: Observation) -> None:
    """The person leaves the quarantine site where the observation ran: their placement there
    ends with the observation's end note, the bed to cleaning (back to free when they never
    arrived)."""
    if ended.kind == ObservationKind.PLACE and ended.place_id is not None:
        placement_left(
            actor=actor, person=ended.person, place_id=ended.place_id, note=ended.end_note
        )


@transaction.atomic
def observation_refer(
    *, actor: User, observation: Observation, note: str, place: Place | None = None
) -> Observation:
    """Refer to the fever clinic or a hospital; at a site, the placement there ends too."""
    ended = observation_services.observation_refer(
        actor=actor, observation=observation, note=note, place=place
    )
    _site_left(actor, ended)
    return ended


@transaction.atomic
def observation_transfer(
    *,
    actor: User,
    observation: Observation,
    kind: str,
    place: Place | None = None,
    note: str = "",
    client_id: uuid.UUID | None = None,
) -> Observation:
    """Home ↔ a quarantine point or designated hotel (or one place to another); the placement
    at the site left ends. Returns the new observation. A retry returns the observation the
    first request started and ends nothing (the one it left is no longer running)."""
    running = (
        Observation.objects.select_for_update()
        .filter(pk=observation.pk, status=ObservationStatus.ACTIVE)
        .exists()
    )
    nxt = observation_services.observation_transfer(
        actor=actor,
        observation=observation,
        kind=kind,
        place=place,
        note=note,
        client_id=client_id,
    )
    if running:
        _site_left(actor, observation)  # the caller's copy, ended by the transfer
    return nxt


@transaction.atomic
def alert_resolve(
    *, actor: User, alert: Alert, resolution: str, refer: bool = False, place: Place | None = None
) -> Alert:
    """An alert handled; with `refer`, the observation ends as a referral to the fever clinic
    in the same step, and at a site the placement there ends too."""
    resolved = observation_services.alert_resolve(
        actor=actor, alert=alert, resolution=resolution, refer=refer, place=place
    )
    if refer:
        _site_left(actor, resolved.observation)  # the copy the referral ended
    return resolved
