"""Refusals of a placement, every persuasion attempt, and how a refusal ends (agreed, home
quarantine allowed by health staff, enforcement referral); the printable quarantine notice.

A refusal is of a placement that is still *reserved* (the person was told where to go and
refuses to go). Once the person has arrived (the placement is active), leaving is not a refusal
but leaving quarantine: that is out of scope here (a release or an enforcement record).

Reads are scoped like placements: the person's node or the site's node in the user's
jurisdiction; site staff see the placements at their own site (for the notice) and no refusals.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangyi.core import access
from fangyi.core.audit import access_record, audit_record, created, snapshot
from fangyi.core.errors import Conflict, DomainError, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import Node, Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.core.validators import check_length
from fangyi.enforcement.models import LegalBasis
from fangyi.enforcement.services import EnforcementInput, enforcement_record
from fangyi.health.services import selfreport_link_create
from fangyi.linkage.models import RUNNING, SupportRequest
from fangyi.linkage.services import support_request_create
from fangyi.observation.models import Observation
from fangyi.observation.selectors import DAYLIST_LIMIT, URGENCY, DayItem, DaySection

from . import notices, services
from .models import (
    Persuasion,
    PersuasionOutcome,
    Placement,
    PlacementKind,
    PlacementStatus,
    Refusal,
    RefusalStatus,
    Site,
)
from .services import placement_q as sites_placement_q

# Measures a police referral may take (fangyi.enforcement.models.Measure values).
REFER_MEASURES = ("order_isolate", "admin_penalty")
# A clock a little ahead on the phone is not "the future".
CLOCK_SKEW = dt.timedelta(minutes=2)
REFUSAL_FIELDS = ["placement", "person", "node", "reason", "at", "by", "status"]
ATTEMPT_FIELDS = ["refusal", "at", "by", "explained", "outcome"]


# --- scoping -------------------------------------------------------------------------------------


def placement_q(user: User) -> Q:
    """Placements the user may see (the sites part's rule, fangyi.quarantine.services)."""

    return sites_placement_q(user)


def refusal_q(user: User) -> Q:
    return Refusal.objects.scope_q(user)


def _placement_visible(user: User, placement: Placement) -> bool:
    return Placement.objects.filter(placement_q(user), pk=placement.pk).exists()


def _refusal_visible(user: User, refusal: Refusal) -> bool:
    return Refusal.objects.filter(refusal_q(user), pk=refusal.pk).exists()


def placement_for(user: User, pk: int, *, action: str, via: str | None = None) -> Placement:
    """One placement the user may see, for `action` (refusal.record, notice.print)."""
    access.require(user, action)
    placement = (
        Placement.objects.filter(placement_q(user), pk=pk)
        .select_related("person", "person__household", "node", "site__place", "site__node")
        .select_related("bed__room", "group", "observation")
        .first()
    )
    if placement is None:
        raise NotFound(_("No such placement."))
    if via:
        access_record(user, placement, node_path=placement.node.path, via=via)
    return placement


def refusal_list(user: User, *, status: str = "") -> QuerySet[Refusal]:
    """The refusals the user may see: open ones first, newest first."""
    access.require(user, "refusal.record")
    qs = Refusal.objects.filter(refusal_q(user))
    if status:
        if status not in RefusalStatus.values:
            raise DomainError(_("Unknown status filter."), field="status")
        qs = qs.filter(status=status)
    return (
        qs.select_related("person", "node", "by", "placement__site__place")
        .annotate(
            open_first=Case(
                When(status=RefusalStatus.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_first", "-at", "-id")
    )


def refusal_get(user: User, pk: int, *, via: str | None = None) -> Refusal:
    refusal = (
        refusal_list(user)
        .filter(pk=pk)
        .select_related(
            "placement__site__node",
            "placement__bed__room",
            "placement__group",
            "new_placement__site__place",
            "support_request",
            "enforcement_record",
            "ended_by",
            "person__household",
        )
        .first()
    )
    if refusal is None:
        raise NotFound(_("No such refusal."))
    if via:
        access_record(user, refusal, node_path=refusal.node.path, via=via)
    return refusal


def attempts_of(refusal: Refusal) -> list[Persuasion]:
    return list(refusal.attempts.select_related("by").order_by("at", "id"))


# --- helpers ---------------------------------------------------------------------------------


def _replay(model, actor: User, client_id: uuid.UUID | None, visible) -> Any:
    """The record a retried client_id stored, if it is the actor's and still visible to him."""
    return replay(model, client_id, lambda done: done.by_id == actor.pk and visible(done))


def _check_open(refusal: Refusal) -> None:
    if refusal.status != RefusalStatus.OPEN:
        raise Conflict(
            _("This refusal has already ended (%(status)s).")
            % {"status": refusal.get_status_display()},
            field="status",
        )


def _require_visible(actor: User, refusal: Refusal) -> None:
    if not _refusal_visible(actor, refusal):
        raise NotFound(_("No such refusal."))


def _lock(refusal: Refusal) -> Refusal:
    """The refusal re-read under a row lock; still open, or Conflict (two answers at once)."""
    fresh = Refusal.objects.select_for_update().get(pk=refusal.pk)
    _check_open(fresh)
    return fresh


def _end(actor: User, refusal: Refusal, status: str, verb: str, **values) -> Refusal:
    now = timezone.now()
    before = {"status": refusal.status}
    Refusal.objects.filter(pk=refusal.pk).update(
        status=status, ended_at=now, ended_by=actor, **values
    )
    refusal.refresh_from_db()
    changes = {"status": [before["status"], status]}
    for key, value in values.items():
        changes[key] = [None, getattr(value, "pk", value)]
    audit_record(
        actor, f"fangyi.refusal.{verb}", refusal, changes=changes, node_path=refusal.node.path
    )
    return refusal


# --- services --------------------------------------------------------------------------------


def refusal_record(
    *, actor: User, placement: Placement, reason: str, client_id: uuid.UUID | None = None
) -> Refusal:
    """The person refuses to go to the reserved placement: the refusal is kept with its reason
    and the bed is freed at once (placement_mark_refused, in the same transaction)."""
    access.require(actor, "refusal.record")
    done = _replay(Refusal, actor, client_id, lambda r: _refusal_visible(actor, r))
    if done is not None:
        return done
    if not _placement_visible(actor, placement):
        raise NotFound(_("No such placement."), field="placement")
    reason = check_length(reason, "reason", 1000, required=True)
    _check_refusable(placement)

    try:
        with transaction.atomic():
            fresh = Placement.objects.select_for_update().get(pk=placement.pk)
            _check_refusable(fresh)
            services.placement_mark_refused(fresh)
            refusal = Refusal.objects.create(
                placement=fresh,
                person_id=fresh.person_id,
                node_id=fresh.node_id,
                reason=reason,
                at=timezone.now(),
                by=actor,
                status=RefusalStatus.OPEN,
                client_id=client_id,
            )
            audit_record(
                actor,
                "fangyi.refusal.created",
                refusal,
                changes=created(snapshot(refusal, REFUSAL_FIELDS)),
                node_path=fresh.node.path,
            )
            site = fresh.site.place.name if fresh.site_id else ""
            notices.refusal_recorded(refusal, fresh.person.name, site, fresh.node.path)
    except IntegrityError:
        again = _replay(Refusal, actor, client_id, lambda r: _refusal_visible(actor, r))
        if again is not None:
            return again
        raise
    placement.refresh_from_db()
    return refusal


def _check_refusable(placement: Placement) -> None:
    if placement.kind != PlacementKind.SITE:
        raise Conflict(
            _("Only a place at a quarantine site can be refused; this is home quarantine."),
            field="placement",
        )
    if placement.status == PlacementStatus.ACTIVE:
        raise Conflict(
            _(
                "The person has already arrived: leaving quarantine is not a refusal "
                "(release the placement or record enforcement)."
            ),
            field="placement",
        )
    if placement.status != PlacementStatus.RESERVED:
        raise Conflict(
            _("Only a reserved placement can be refused; this one is %(status)s.")
            % {"status": placement.get_status_display().lower()},
            field="placement",
        )


def persuasion_record(
    *,
    actor: User,
    refusal: Refusal,
    at: dt.datetime | None,
    explained: str,
    outcome: str,
    client_id: uuid.UUID | None = None,
) -> Persuasion:
    """One persuasion attempt: who (the actor), when (not in the future), what was explained,
    how it ended. An attempt that ends "agreed" does not place the person: refusal_agree does."""
    access.require(actor, "refusal.record")
    done = _replay(Persuasion, actor, client_id, lambda p: _refusal_visible(actor, p.refusal))
    if done is not None:
        return done
    _require_visible(actor, refusal)
    _check_open(refusal)
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if at is None:
        errors.setdefault("at", []).append(_("Enter when it happened."))
    elif at > now + CLOCK_SKEW:
        errors.setdefault("at", []).append(_("The time cannot be in the future."))
    elif at < refusal.placement.reserved_at - CLOCK_SKEW:
        errors.setdefault("at", []).append(_("The time cannot be before the placement was made."))
    try:
        explained = check_length(explained, "explained", 2000, required=True)
    except DomainError as exc:
        errors.setdefault("explained", []).extend(exc.errors["explained"])
    if outcome not in PersuasionOutcome.values:
        errors.setdefault("outcome", []).append(_("Choose the outcome: still refuses or agreed."))
    if errors:
        raise DomainError(next(iter(errors.values()))[0], errors=errors)
    try:
        with transaction.atomic():
            _lock(refusal)
            attempt = Persuasion.objects.create(
                refusal=refusal,
                at=at,
                by=actor,
                explained=explained,
                outcome=outcome,
                client_id=client_id,
            )
            audit_record(
                actor,
                "fangyi.persuasion.created",
                attempt,
                changes=created(snapshot(attempt, ATTEMPT_FIELDS)),
                node_path=refusal.node.path,
            )
    except IntegrityError:
        again = _replay(Persuasion, actor, client_id, lambda p: _refusal_visible(actor, p.refusal))
        if again is not None:
            return again
        raise
    return attempt


def refusal_agree(*, actor: User, refusal: Refusal, site: Site | None = None) -> Placement:
    """The person agrees: a new placement for the same group at the same site (or another one
    when that is full), through placement_reserve_unchecked. A full site → its error on field "site",
    and nothing is stored."""
    access.require(actor, "refusal.record")
    _require_visible(actor, refusal)
    _check_open(refusal)
    old = refusal.placement
    site = site or old.site
    if site is None:
        raise DomainError(_("Choose the site."), field="site")

    with transaction.atomic():
        locked = _lock(refusal)
        placement = services.placement_reserve_unchecked(
            actor=actor,
            person=refusal.person,
            site=site,
            group=old.group,
            source="refusal",
            decision=old.decision,
            observation=old.observation,
        )
        _end(actor, locked, RefusalStatus.AGREED, "agreed", new_placement=placement)
    refusal.refresh_from_db()
    return placement


def refusal_allow_home(*, actor: User, refusal: Refusal, reason: str) -> Placement:
    """Health staff allow quarantine at home instead (a decision: `decision.make`)."""
    access.require(actor, "decision.make")
    _require_visible(actor, refusal)
    _check_open(refusal)
    reason = check_length(reason, "reason", 1000, required=True)
    old = refusal.placement

    with transaction.atomic():
        locked = _lock(refusal)
        placement = services.placement_home_unchecked(
            actor=actor,
            person=refusal.person,
            source="refusal",
            decision=old.decision,
            observation=old.observation,
        )
        _end(
            actor,
            locked,
            RefusalStatus.HOME_ALLOWED,
            "home_allowed",
            new_placement=placement,
            outcome_note=reason,
        )
        services.observe_at_home_if_left(actor, refusal.person, note=reason)
    refusal.refresh_from_db()
    return placement


def refusal_refer(
    *,
    actor: User,
    refusal: Refusal,
    measure: str,
    legal_bases: list | tuple = (),
    facts: str = "",
    client_id: uuid.UUID | None = None,
):
    """Police refer the refusal for enforcement: an order to isolate or a referral for an
    administrative penalty, recorded through fangyi.enforcement (which checks the legal
    bases). The refusal ends as "enforcement"."""
    access.require(actor, "enforcement.record")
    _require_visible(actor, refusal)
    _check_open(refusal)
    if measure not in REFER_MEASURES:
        raise DomainError(
            _("Choose the measure: an order to isolate or a referral for a penalty."),
            field="measure",
        )
    facts = check_length(facts, "facts", 4000)
    if not facts:
        site = refusal.placement.site
        facts = _("Refuses to go to the quarantine site %(site)s. Reason given: %(reason)s") % {
            "site": site.place.name if site else "",
            "reason": refusal.reason,
        }

    with transaction.atomic():
        locked = _lock(refusal)
        record = enforcement_record(
            actor=actor,
            data=EnforcementInput(
                measure=measure,
                facts=facts,
                person=refusal.person,
                persons=[refusal.person],
                legal_bases=list(legal_bases),
                location=(refusal.person.household.address if refusal.person.household else ""),
            ),
            client_id=client_id,
        )
        _end(actor, locked, RefusalStatus.ENFORCEMENT, "referred", enforcement_record=record)
    refusal.refresh_from_db()
    return record


def refusal_call_police(
    *,
    actor: User,
    refusal: Refusal,
    urgency: str = "high",
    client_id: uuid.UUID | None = None,
):
    """Ask police for support on the person (a linkage support request, the need filled in).
    While the refusal's request is still running, a second call answers that one."""
    access.require(actor, "refusal.record")
    _require_visible(actor, refusal)

    if refusal.support_request_id:
        running = SupportRequest.objects.filter(
            pk=refusal.support_request_id, status__in=RUNNING
        ).first()
        if running is not None:
            return running
    _check_open(refusal)
    site = refusal.placement.site
    need = _(
        "Refuses to go to the quarantine site %(site)s; please come and help persuade. "
        "Reason given: %(reason)s"
    ) % {"site": site.place.name if site else "", "reason": refusal.reason}
    with transaction.atomic():
        locked = _lock(refusal)
        if locked.support_request_id:
            running = SupportRequest.objects.filter(
                pk=locked.support_request_id, status__in=RUNNING
            ).first()
            if running is not None:
                return running
        request = support_request_create(
            actor=actor,
            agency="police",
            need=need[:1000],
            urgency=urgency,
            person=refusal.person,
            client_id=client_id,
        )
        Refusal.objects.filter(pk=refusal.pk).update(support_request=request)
        audit_record(
            actor,
            "fangyi.refusal.police_called",
            locked,
            changes={"support_request": [locked.support_request_id, request.pk]},
            node_path=refusal.node.path,
        )
    refusal.refresh_from_db()
    return request


# --- the notice ------------------------------------------------------------------------------


@dataclass
class Notice:
    placement: Placement
    name: str
    id_number: str  # masked but the last four
    address: str
    place_name: str
    place_address: str
    at_home: bool
    starts: dt.date | None
    ends: dt.date | None
    legal_bases: list
    office: str
    issued_on: dt.date
    number: str = ""  # 隔字〔2020〕第000123号: one per placement, on the notice and its receipt
    health_office: str = ""  # the district's health authority, which issues it with the station
    contact_phone: str = ""  # the issuer's phone, for the person's questions
    url: str = ""
    qr: str = ""  # inline SVG


def mask_id(value: str) -> str:
    """All but the last four characters hidden: the notice is handed over and often posted on
    the door; the name and the last four identify the person to the person."""
    value = value or ""
    if len(value) <= 4:
        return value
    return "*" * (len(value) - 4) + value[-4:]


def notice_bases() -> list:
    """The legal bases a notice cites: the law on infectious diseases when configured (by its
    title, simplified or traditional), else the first active basis."""

    active = list(LegalBasis.objects.filter(active=True).order_by("order", "id"))
    law = [b for b in active if "传染病防治法" in b.title or "傳染病防治法" in b.title]
    return law or active[:1]


def _offices(placement: Placement) -> tuple[str, str]:
    """The two issuing offices: the person's police station (else the district, else the top
    node), and the health authority of the district (区卫生健康局), which decides quarantine."""

    chain = sorted(
        Node.objects.filter(path__in=ancestor_paths(placement.node.path)), key=lambda n: -n.depth
    )
    station = next((n.name for k in ("station", "district") for n in chain if n.kind == k), "")
    station = station or (chain[-1].name if chain else "")
    district = next((n.name for n in chain if n.kind == "district"), "")
    return station, (f"{district}卫生健康局" if district else "")


def notice_number(placement: Placement) -> str:
    """The notice's document number: the year the placement was made and the placement, so
    that a reprint of the same notice (in January too) keeps its number and the receipt slip
    names the notice it acknowledges."""
    year = timezone.localtime(placement.reserved_at).year
    return f"隔字〔{year}〕第{placement.pk:06d}号"


def notice_data(placement: Placement, issuer: User | None = None) -> Notice:
    person = placement.person
    obs = placement.observation
    if obs is None:
        obs = Observation.objects.filter(person=person).order_by("-starts", "-id").first()
    at_home = placement.kind == PlacementKind.HOME or placement.site_id is None
    place = placement.site.place if placement.site_id else None
    address = person.household.address if person.household_id else ""
    station, health_office = _offices(placement)
    today = timezone.localdate()
    return Notice(
        placement=placement,
        name=person.name,
        id_number=mask_id(getattr(person, "id_number", "") or ""),
        address=address,
        place_name="" if at_home else place.name,
        place_address=address if at_home else (place.address or ""),
        at_home=at_home,
        starts=obs.starts if obs else None,
        ends=obs.ends if obs else None,
        legal_bases=notice_bases(),
        office=station,
        health_office=health_office,
        issued_on=today,
        number=notice_number(placement),
        contact_phone=(issuer.phone if issuer is not None else "") or "",
    )


def notice_issue(*, actor: User, placement: Placement) -> tuple[Notice, str]:
    """Issue the notice: a new self-report link for the person (selfreport_link_create, which
    revokes the older ones) and an audit row. Returns the notice and the token."""
    access.require(actor, "notice.print")
    access.require(actor, "selfreport.issue")
    if not _placement_visible(actor, placement):
        raise NotFound(_("No such placement."))

    with transaction.atomic():
        link, token = selfreport_link_create(actor=actor, person=placement.person)
        audit_record(
            actor,
            "fangyi.placement.notice_issued",
            placement,
            changes={"selfreport_link": [None, link.pk]},
            node_path=placement.node.path,
        )
    return notice_data(placement, issuer=actor), token


# --- the day list ----------------------------------------------------------------------------


def daylist_section(user, day):
    """Open refusals for the day list (fangyi.observation.selectors.DAYLIST_SOURCES): the ones
    in the user's area, oldest first; for health staff these are home-quarantine decisions to
    make. One query (two when there are more than shown)."""
    if not access.can(user, "refusal.record"):
        return None
    from django.urls import reverse

    qs = Refusal.objects.filter(refusal_q(user), status=RefusalStatus.OPEN).order_by("at", "pk")
    rows = list(
        qs.values_list("pk", "person__name", "reason", "placement__site__place__name", "at")[
            :DAYLIST_LIMIT
        ]
    )
    if not rows:
        return None
    count = len(rows) if len(rows) < DAYLIST_LIMIT else qs.count()
    marker = 987654321
    head, tail = reverse("refusal_detail", args=[marker]).split(str(marker))
    health = user.role == Role.HEALTH_STAFF
    badge = _("Decide") if health else _("Refusing")
    items = [
        DayItem(
            "refusal",
            URGENCY["refusal"],
            name,
            _("Refuses %(site)s since %(time)s · %(reason)s")
            % {
                "site": site or "",
                "time": timezone.localtime(at).strftime("%m-%d %H:%M"),
                "reason": reason[:80],
            },
            f"{head}{pk}{tail}",
            badge,
            pk,
            badge_css="warn",
        )
        for pk, name, reason, site, at in rows
    ]
    return DaySection(
        key="refusals",
        label=ngettext("%(n)d refusal", "%(n)d refusals", count) % {"n": count},
        count=count,
        items=items,
        more_url=reverse("refusal_list"),
        more_label=_("All refusals"),
        badge_css="warn",
    )
