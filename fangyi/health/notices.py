"""The notifications of fangyi.health (issue 15): a decision to make, when the rules flagged a
confirmed declaration (its proposal is not "cleared") and it waits for health staff's decision.
The recipients are the health staff whose jurisdiction holds the person: those whose day list
shows it (fangyi.health.selectors.awaiting_decision). Registered when the declarations' service
loads (it imports this module at the top)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext_lazy, gettext_noop

from fangyi.core.models import Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import emit

from .models import Declaration, DeclarationStatus, Outcome

DECISION_NEEDED = register(
    Kind(
        "decision_needed",
        gettext_lazy("A decision to make on a declaration the rules flagged"),
        action="declaration.view",
        roles=(Role.HEALTH_STAFF,),
    )
)

NEEDED = gettext_noop("The declaration of %(name)s waits for your decision")


def needs_decision(declaration: Declaration) -> bool:
    return (
        declaration.status == DeclarationStatus.CONFIRMED
        and declaration.proposal != Outcome.CLEARED
        and bool(declaration.proposal)
    )


def decision_needed(
    declaration: Declaration, path: str, name: str, now: dt.datetime | None = None
) -> None:
    """A confirmed declaration with a proposal other than cleared: health staff above the
    person's place are told (one query for them). `path` is the person's node path."""
    if not needs_decision(declaration):
        return
    staff = User.objects.filter(
        is_active=True, role=Role.HEALTH_STAFF, nodes__path__in=ancestor_paths(path)
    ).distinct()
    emit(
        DECISION_NEEDED.key,
        recipients=staff,
        obj=declaration,
        message=NEEDED,
        params={"name": name},
        url=reverse("declaration_detail", args=[declaration.pk]),
        node_path=path,
        dedupe=f"{DECISION_NEEDED.key}:{declaration.pk}",
        now=now,
    )
