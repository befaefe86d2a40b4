"""Reads of declarations and decisions, scoped to the acting user."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.errors import NotFound
from fangyi.core.models import User

from .models import Decision, Declaration, DeclarationStatus, Outcome


def declaration_list(user: User) -> QuerySet[Declaration]:
    access.require(user, "declaration.view")
    return Declaration.objects.filter(access.node_q(user)).select_related("person", "node")


def declaration_get(user: User, pk: int) -> Declaration:
    declaration = declaration_list(user).filter(pk=pk).first()
    if declaration is None:
        raise NotFound(_("No such declaration."))
    return declaration


def awaiting_confirmation(user: User) -> QuerySet[Declaration]:
    """Self-reports a worker has not confirmed yet."""
    return declaration_list(user).filter(status=DeclarationStatus.PENDING)


def awaiting_decision(user: User) -> QuerySet[Declaration]:
    """Confirmed declarations whose proposal is not "cleared" and that no decision answers yet:
    health staff's to-do."""
    decided = Decision.objects.filter(declaration=OuterRef("pk"))
    return (
        declaration_list(user)
        .filter(status=DeclarationStatus.CONFIRMED)
        .exclude(proposal=Outcome.CLEARED)
        .exclude(Exists(decided))
    )


def decision_list(user: User) -> QuerySet[Decision]:
    access.require(user, "declaration.view")
    return Decision.objects.filter(access.node_q(user)).select_related("person", "decided_by")
