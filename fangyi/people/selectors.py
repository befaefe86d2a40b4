"""Reads of households, persons and places, always scoped to the acting user."""

from __future__ import annotations

import re

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import NotFound
from fangyi.core.models import AuditEntry, Node, Role, User, subtree_q
from fangyi.core.validators import fold_width, parse_resident_id

from .models import Household, Person, Place
from .services import normalize_name


def _prefix_q(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as a range so that a plain index serves it on every backend.

    Only used on keys made of one script (lowercase latin, digits, or simplified hanzi), for
    which the database collation and code-point order agree on what follows a prefix."""
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})


def person_search_q(q: str) -> Q | None:
    """How a search box string finds persons: name, pinyin or initials (either script), an ID
    number or its last digits, a phone or its last digits."""
    q = fold_width(q or "").strip()
    if not q:
        return None
    compact = re.sub(r"[\s-]", "", q)
    if re.fullmatch(r"\d{17}[\dXx]|\d{15}", compact):
        try:
            return Q(id_number=parse_resident_id(compact).number)
        except Exception:  # noqa: BLE001 - a mistyped number may still be stored as typed
            return Q(id_number=compact.upper())
    if re.fullmatch(r"\+?\d{3,16}[Xx]?", compact):
        digits = compact.lstrip("+").upper()
        q_ = _prefix_q("id_number_rev", digits[::-1]) | _prefix_q("phone_rev", digits[::-1])
        if len(digits) >= 7:
            q_ |= Q(phone=digits)
        return q_
    if re.fullmatch(r"[A-Za-z ]+", q):
        letters = q.replace(" ", "").lower()
        return _prefix_q("name_initials", letters) | _prefix_q("name_pinyin", letters)
    norm = normalize_name(q)
    # The whole name or the given name from its start: 徐红心 is found by 徐红, 红心 and 红.
    # Both are index ranges, which SQLite and PostgreSQL serve as a union of two scans.
    return _prefix_q("name_norm", norm) | _prefix_q("name_given", norm)


def person_list(
    user: User, *, q: str = "", node: Node | None = None, household: Household | None = None
) -> QuerySet[Person]:
    access.require(user, "person.view")
    qs = Person.objects.visible_to(user).select_related("household", "node")
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    if household is not None:
        qs = qs.filter(household=household)
    search = person_search_q(q)
    if search is not None:
        qs = qs.filter(search)
    return qs.order_by("name_pinyin", "id")


def person_get(user: User, pk: int, *, via: str | None = None) -> Person:
    """One person the user may see, else NotFound, exactly as for one that does not exist.

    With `via` ("ui" or "api") the read is written to the access log."""
    access.require(user, "person.view")
    person = person_list(user).filter(pk=pk).first()
    if person is None:
        raise NotFound(_("No such person."))
    if via:
        access_record(user, person, node_path=person.node.path, via=via)
    return person


def person_by_document(user: User, number: str) -> Person | None:
    try:
        number = parse_resident_id(number).number
    except Exception:  # noqa: BLE001
        number = number.strip().upper()
    return person_list(user).filter(id_number=number).first()


def household_list(user: User, *, q: str = "", node: Node | None = None) -> QuerySet[Household]:
    access.require(user, "household.view")
    qs = (
        Household.objects.visible_to(user)
        .select_related("node")
        .annotate(member_count=Count("members"))
    )
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    if q:
        qs = qs.filter(address__icontains=q.strip())
    return qs.order_by("address", "id")


def household_get(user: User, pk: int, *, via: str | None = None) -> Household:
    access.require(user, "household.view")
    household = household_list(user).filter(pk=pk).first()
    if household is None:
        raise NotFound(_("No such household."))
    if via:
        access_record(user, household, node_path=household.node.path, via=via)
    return household


def place_list(user: User, *, kind: str = "") -> QuerySet[Place]:
    access.require(user, "place.view")
    if user.role == Role.SITE_STAFF:
        qs = Place.objects.filter(pk=user.place_id)
    else:
        qs = Place.objects.visible_to(user)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("node").order_by("kind", "name")


def place_get(user: User, pk: int) -> Place:
    access.require(user, "place.view")
    place = place_list(user).filter(pk=pk).first()
    if place is None:
        raise NotFound(_("No such place."))
    return place


def record_history(user: User, obj) -> QuerySet[AuditEntry]:
    """The audit trail of one record, for a user who may already see the record."""
    ids = {obj.pk}
    if obj._meta.model_name == "person":
        # A merged duplicate's history continues on the person it was folded into.
        merges = AuditEntry.objects.filter(
            object_type="person", object_id=obj.pk, action="fangyi.person.merged"
        ).values_list("changes", flat=True)
        ids |= {c["merged_from"][0] for c in merges if c.get("merged_from")}
    return AuditEntry.objects.filter(object_type=obj._meta.model_name, object_id__in=ids)


def registry_counts(user: User, nodes: list[Node]) -> dict[int, dict[str, int]]:
    """Households and persons under each node, in one grouped query per model.

    Rows are grouped by the prefix of their node's path at the nodes' depth, so the database
    does the counting however many nodes there are."""
    from django.db.models.functions import Substr

    out = {n.pk: {"households": 0, "persons": 0} for n in nodes}
    by_path = {n.path: n.pk for n in nodes}
    for length in {len(n.path) for n in nodes}:
        paths = [p for p in by_path if len(p) == length]
        scope = Q()
        for p in paths:
            scope |= subtree_q(p, "node__path")
        for key, model, action in (
            ("households", Household, "household.view"),
            ("persons", Person, "person.view"),
        ):
            if not access.can(user, action):
                continue
            rows = (
                model.objects.visible_to(user)
                .filter(scope)
                .annotate(prefix=Substr("node__path", 1, length))
                .values("prefix")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for row in rows:
                if row["prefix"] in by_path:
                    out[by_path[row["prefix"]]][key] = row["n"]
    return out


def persons_visible(user: User, ids: list[int]) -> dict[int, Person]:
    """Those of `ids` the user may see, by id (the people a form picked; the others drop)."""
    return Person.objects.filter(pk__in=ids).visible_to(user).in_bulk()
