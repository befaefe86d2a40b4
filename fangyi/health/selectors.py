"""Reads of declarations, decisions and the rules' configuration, scoped to the acting user."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import NotFound
from fangyi.core.models import User
from fangyi.people.models import CENTRAL_PLACE_KINDS, Person, Place

from .models import Decision, Declaration, DeclarationStatus, Outcome, RiskArea, Symptom


def declaration_list(
    user: User,
    *,
    status: str = "",
    person: Person | int | None = None,
    awaiting: str = "",
    proposal: str = "",
    source: str = "",
) -> QuerySet[Declaration]:
    """Declarations in the user's jurisdiction, newest first. `awaiting` is "decision" (health
    staff's to-do) or "confirmation" (self-reports to confirm)."""
    access.require(user, "declaration.view")
    qs = Declaration.objects.visible_to(user).select_related("person", "node")
    if awaiting == "decision":
        qs = _awaiting_decision(qs)
    elif awaiting == "confirmation":
        qs = qs.filter(status=DeclarationStatus.PENDING)
    if status:
        qs = qs.filter(status=status)
    if person is not None:
        qs = qs.filter(person=person)
    if proposal:
        qs = qs.filter(proposal=proposal)
    if source:
        qs = qs.filter(source=source)
    return qs


def declaration_get(user: User, pk: int, *, via: str | None = None) -> Declaration:
    """One declaration the user may see, else NotFound. With `via` the read of the person's
    health record goes to the access log."""
    declaration = (
        declaration_list(user).select_related("recorded_by", "confirmed_by").filter(pk=pk).first()
    )
    if declaration is None:
        raise NotFound(_("No such declaration."))
    if via:
        access_record(user, declaration.person, node_path=declaration.node.path, via=via)
    return declaration


def _awaiting_decision(qs: QuerySet[Declaration]) -> QuerySet[Declaration]:
    decided = Decision.objects.filter(declaration=OuterRef("pk"))
    return (
        qs.filter(status=DeclarationStatus.CONFIRMED)
        .exclude(proposal=Outcome.CLEARED)
        .exclude(Exists(decided))
    )


def awaiting_confirmation(user: User) -> QuerySet[Declaration]:
    """Self-reports a worker has not confirmed yet."""
    return declaration_list(user).filter(status=DeclarationStatus.PENDING)


def awaiting_decision(user: User) -> QuerySet[Declaration]:
    """Confirmed declarations whose proposal is not "cleared" and that no decision answers yet:
    health staff's to-do."""
    return _awaiting_decision(declaration_list(user))


def decision_get(pk: int, *, person: Person, field: str = "decision") -> Decision:
    """One decision of `person`, else NotFound naming `field`. The scope is the person's: the
    caller got them through a scoped selector, and a decision is reached only through them
    (its own node is the person's at the time, which a move leaves behind)."""
    decision = Decision.objects.filter(pk=pk, person=person).first()
    if decision is None:
        raise NotFound(_("No such decision."), field=field)
    return decision


def decision_list(
    user: User, *, person: Person | int | None = None, declaration: Declaration | int | None = None
) -> QuerySet[Decision]:
    access.require(user, "declaration.view")
    qs = Decision.objects.visible_to(user).select_related(
        "person", "decided_by", "place", "declaration"
    )
    if person is not None:
        qs = qs.filter(person=person)
    if declaration is not None:
        qs = qs.filter(declaration=declaration)
    return qs


def central_places(user: User) -> QuerySet[Place]:
    """Quarantine points and designated hotels in use that the user may send someone to."""
    return (
        Place.objects.visible_to(user)
        .filter(kind__in=CENTRAL_PLACE_KINDS, is_active=True)
        .select_related("node")
        .order_by("name")
    )


def risk_area_list(user: User) -> QuerySet[RiskArea]:
    access.require(user, "risk.view")
    return RiskArea.objects.order_by("-is_active", "name")


def risk_area_get(user: User, pk: int) -> RiskArea:
    area = risk_area_list(user).filter(pk=pk).first()
    if area is None:
        raise NotFound(_("No such risk area."))
    return area


def symptom_list(user: User) -> QuerySet[Symptom]:
    access.require(user, "risk.view")
    return Symptom.objects.order_by("order", "code")


def symptom_get(user: User, pk: int) -> Symptom:
    symptom = symptom_list(user).filter(pk=pk).first()
    if symptom is None:
        raise NotFound(_("No such symptom."))
    return symptom


def symptom_names(codes: list[str] | None = None) -> dict[str, str]:
    """Symptom code → name, of every symptom or of those codes (retired ones included: an old
    follow-up still names what was recorded)."""
    qs = Symptom.objects.all() if codes is None else Symptom.objects.filter(code__in=codes)
    return dict(qs.values_list("code", "name"))


def next_member_to_declare(user: User, declaration: Declaration) -> Person | None:
    """After one member's declaration, the next member of the household (in the registry's
    order) who has none on that day: the worker at the door goes on to them in one tap."""
    person = declaration.person
    if not person.household_id:
        return None
    declared = Declaration.objects.filter(
        person=OuterRef("pk"), declared_on=declaration.declared_on
    )
    return (
        Person.objects.visible_to(user)
        .filter(household_id=person.household_id)
        .exclude(pk=person.pk)
        .exclude(Exists(declared))
        .order_by("pk")
        .first()
    )
