"""Health decisions: a proposal confirmed or overridden.

The observation a decision starts is the care pathway's step (fangyi.care.flows.decision_make),
not this app's: observation sits above health."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record, created, snapshot
from fangyi.core.errors import FieldErrors
from fangyi.core.idempotency import replay
from fangyi.core.models import User
from fangyi.people.models import CENTRAL_PLACE_KINDS, Person, Place

from ..models import (
    OBSERVED_OUTCOMES,
    Decision,
    Declaration,
    DeclarationStatus,
    Outcome,
)
from .declarations import _text, _visible_person
from .rules import OUTCOMES

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
def decision_record(
    *,
    actor: User,
    person: Person,
    outcome: str,
    reason: str = "",
    declaration: Declaration | None = None,
    last_exposure: dt.date | None = None,
    place: Place | None = None,
    client_id: uuid.UUID | None = None,
) -> tuple[Decision, bool]:
    """Health staff confirm or change the rules' proposal; who, when and why are kept.
    Returns the decision and whether it was made now (False: a retry of one already made).

    Confirming a declaration's proposal may leave `reason` empty (the rules' reason is kept);
    changing it, or deciding without a declaration, needs a reason. Observation at home or
    centralised starts the observation (or extends a running one) until last exposure + the
    configured days; centralised observation needs a quarantine point or designated hotel
    the actor can see. A person already under observation to a later date keeps it."""
    access.require(actor, "decision.make")
    done = replay(
        Decision,
        client_id,
        lambda done: done.person_id == person.pk and access.path_visible(actor, done.node.path),
    )
    if done is not None:
        return done, False
    _visible_person(actor, person)
    e = FieldErrors()
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
    observed = outcome in OBSERVED_OUTCOMES
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
    return decision, True
