"""Hotel guest reports: every write. The pages, the API and the worker call these.

A hotel's staff report an arriving guest (`guest_report`); the risk rules in force flag a
guest coming from a risk area within the observation window, and the station's police see
the flagged guest on their day list. The officer registers the guest in the registry with a
temperature (`guest_register`), refers them to a designated hotel with a free bed
(`guest_refer`) or clears them (`guest_clear`). The worker marks referrals the designated
hotel did not confirm in time, and arrivals once confirmed (`guests_check`), and deletes
guests never flagged after the retention period (`guests_purge`).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access, divisions
from fangyi.core.audit import audit_record, created, diff, snapshot
from fangyi.core.errors import (
    Conflict,
    DomainError,
    FieldErrors,
    Forbidden,
    NotFound,
    client_id_taken,
)
from fangyi.core.idempotency import replay
from fangyi.core.models import Role, User
from fangyi.core.validators import check_length, fold_width, normalize_phone, parse_resident_id
from fangyi.health.models import Declaration, DeclarationSource
from fangyi.health.services import (
    DeclarationInput,
    declaration_clean,
    declaration_record,
    rules_config,
)
from fangyi.people.models import IdType, Person, PlaceKind
from fangyi.people.services import PersonInput, normalize_name, person_create
from fangyi.quarantine.models import Group, Placement, PlacementStatus, Site
from fangyi.quarantine.services import placement_reserve_unchecked, site_choices

from . import notices
from .models import GuestReport, GuestSettings, GuestStatus

# A guest shows a document at the desk: "no document" is not a choice here.
ID_TYPES = tuple(t for t in IdType.values if t != IdType.NONE)
OTHER_DOCUMENT = re.compile(r"[A-Z0-9-]{4,30}")
DEFAULT_TRANSPORT = "自行前往"
# A guest from a place in Hubei (division code 42....) is one of the "hubei" group at a
# designated hotel; any other risk area gives the "risk_area" group. The keys are for what
# names no division ("湖北疫区").
HUBEI_DIVISION = "42"
HUBEI_KEYS = ("湖北", "武汉", "wuhan", "hubei")
GROUP_HUBEI, GROUP_OTHER = "hubei", "risk_area"

REPORT_FIELDS = [
    "place",
    "node",
    "name",
    "id_type",
    "id_number",
    "phone",
    "from_where",
    "travel_since",
    "arrived_on",
    "room",
    "notes",
    "flagged",
    "flag_reason",
    "status",
]
# What guest_register writes on the report (besides who and when).
REGISTER_FIELDS = ["name", "id_type", "id_number", "phone", "person", "status"]
# Open for the officer: flagged and not yet referred or cleared.
OPEN = (GuestStatus.FLAGGED, GuestStatus.REGISTERED)


# --- the rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    flagged: bool
    reason: str = ""
    area: str = ""
    group: str = ""


def guest_flag(
    *, from_where: str, travel_since: dt.date | None, arrived_on: dt.date, today: dt.date, config
) -> Flag:
    """Do the risk rules in force flag a guest coming from `from_where`?

    The guest's last day there is `travel_since` (the day they left), else the day they
    arrived. Flagged when `from_where` names an active risk area (its name or an alias, in
    either script, as the health rules match travel) and that day is on or after the area's
    `counts_from` (and on or before its `counts_until`) and within the observation days."""
    last = travel_since or arrived_on
    days = config.observation_days
    if last > today or (today - last).days > days:
        return Flag(False)
    for area in config.areas:
        if not area.matches(from_where):
            continue
        if last < area.counts_from or (area.counts_until and last > area.counts_until):
            continue
        hubei = _in_hubei(from_where) or area.division.startswith(HUBEI_DIVISION)
        reason = _(
            "Coming from %(place)s (risk area %(area)s), there on %(date)s, within %(days)d days"
        ) % {"place": from_where, "area": area.name, "date": last.isoformat(), "days": days}
        return Flag(True, reason, area.name, GROUP_HUBEI if hubei else GROUP_OTHER)
    return Flag(False)


# --- input ---------------------------------------------------------------------------------------


def _date(e: FieldErrors, value: Any, name: str, *, required: bool) -> dt.date | None:
    if value is None or value == "":
        if required:
            e.add(name, _("This date is required."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        e.add(name, _("Enter a date as YYYY-MM-DD."))
        return None


def report_clean(data: dict[str, Any], *, today: dt.date) -> dict[str, Any]:
    """Validate and normalise a guest as typed; DomainError naming every wrong field."""
    e = FieldErrors()
    out: dict[str, Any] = {}
    out["name"] = e.run(check_length, data.get("name") or "", "name", 50, required=True) or ""
    id_type = (data.get("id_type") or IdType.RESIDENT).strip()
    if id_type not in ID_TYPES:
        e.add("id_type", _("Choose the document the guest showed."))
    out["id_type"] = id_type
    number = re.sub(r"\s", "", fold_width(data.get("id_number") or "")).upper()
    if not number:
        e.add("id_number", _("Enter the number of the guest's document."))
    elif id_type == IdType.RESIDENT:
        rid = e.run(parse_resident_id, number, today=today)
        number = rid.number if rid is not None else number
    elif not OTHER_DOCUMENT.fullmatch(number):
        e.add("id_number", _("A document number has 4 to 30 letters, digits or dashes."))
    out["id_number"] = number
    phone = e.run(normalize_phone, data.get("phone") or "")
    out["phone"] = phone if phone is not None else (data.get("phone") or "")
    out["from_where"] = (
        e.run(check_length, data.get("from_where") or "", "from_where", 100, required=True) or ""
    )
    out["room"] = e.run(check_length, data.get("room") or "", "room", 20) or ""
    out["notes"] = e.run(check_length, data.get("notes") or "", "notes", 1000) or ""
    arrived = _date(e, data.get("arrived_on"), "arrived_on", required=False) or today
    since = _date(e, data.get("travel_since"), "travel_since", required=False)
    if arrived > today:
        e.add("arrived_on", _("This date is in the future."))
    elif arrived.year < 1990:
        e.add("arrived_on", _("This date is too far in the past."))
    if since is not None:
        if since > today:
            e.add("travel_since", _("This date is in the future."))
        elif since > arrived:
            e.add("travel_since", _("The guest cannot have left after arriving here."))
        elif since.year < 1990:
            e.add("travel_since", _("This date is too far in the past."))
    out["arrived_on"], out["travel_since"] = arrived, since
    e.raise_if_any()
    return out


def hotel_of(actor: User):
    """The ordinary hotel the actor reports for: designated hotels and quarantine points take
    guests by referral, they do not report them."""
    place = actor.place if actor.role == Role.SITE_STAFF else None
    if place is None or place.kind != PlaceKind.HOTEL:
        raise Forbidden(_("Only the staff of an ordinary hotel report arriving guests."))
    return place


def _changes(report: GuestReport) -> dict:
    return created(snapshot(report, REPORT_FIELDS))


# --- the hotel reports ---------------------------------------------------------------------------


def guest_report(
    *, actor: User, data: dict[str, Any], client_id: uuid.UUID | None = None
) -> GuestReport:
    """A hotel's staff report an arriving guest; the risk rules flag a guest from a risk area
    (the station's police then see them on their day list). The same client_id twice stores
    one report and answers with it."""
    access.require(actor, "guest.report")
    hotel = hotel_of(actor)
    if (done := replay(GuestReport, client_id, lambda d: d.place_id == hotel.pk)) is not None:
        return done

    today = timezone.localdate()
    clean = report_clean(dict(data), today=today)
    flag = guest_flag(
        from_where=clean["from_where"],
        travel_since=clean["travel_since"],
        arrived_on=clean["arrived_on"],
        today=today,
        config=rules_config(),
    )
    report = GuestReport(
        place=hotel,
        node_id=hotel.node_id,
        reported_by=actor,
        reported_at=timezone.now(),
        flagged=flag.flagged,
        flag_reason=flag.reason[:300],
        status=GuestStatus.FLAGGED if flag.flagged else GuestStatus.REPORTED,
        client_id=client_id,
        **clean,
    )
    try:
        with transaction.atomic():
            report.save()
            audit_record(
                actor,
                "fangyi.guestreport.created",
                report,
                node_path=hotel.node.path,
                changes=_changes(report),
            )
            notices.guest_flagged(report, hotel.name, hotel.node.path)
    except IntegrityError:
        done = replay(GuestReport, client_id, lambda d: d.place_id == hotel.pk)
        if done is None:
            raise
        return done
    return report


# --- the officer handles ---------------------------------------------------------------------


def _visible(actor: User, report: GuestReport) -> None:
    if not access.path_visible(actor, report.node.path):
        raise NotFound(_("No such guest report."))


def _lock(report: GuestReport) -> GuestReport:
    """Inside a transaction: the report's row locked (select_for_update) and read again, so a
    status checked on it cannot change before the write (two officers, or two tabs, acting on
    the same guest at once). The caller's copy gets the fresh status."""
    fresh = GuestReport.objects.select_for_update().get(pk=report.pk)
    report.status, report.person_id = fresh.status, fresh.person_id
    report.placement_id = fresh.placement_id
    return report


class _Elsewhere(Exception):
    """The document names a person outside the officer's jurisdiction (never shown as such)."""


def _registry_person(actor: User, report: GuestReport, name: str, id_type, number, phone):
    """The guest in the registry by their document, or a new person at the hotel's node.
    A person registered outside the officer's jurisdiction raises _Elsewhere: the caller
    refuses without saying so (see guest_register)."""

    person = Person.objects.filter(id_type=id_type, id_number=number).first() if number else None
    if person is not None:
        if not access.path_visible(actor, person.node.path):
            raise _Elsewhere
        return person
    return person_create(
        actor=actor,
        data=PersonInput(
            name=name,
            id_type=id_type,
            id_number=number,
            phone=phone,
            node=report.node,
            notes=_("Hotel guest at %(hotel)s") % {"hotel": report.place.name},
        ),
    )


def guest_register(
    *,
    actor: User,
    report: GuestReport,
    temperature: Any,
    temperature_method: str = "forehead",
    name: str | None = None,
    id_type: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    client_id: uuid.UUID | None = None,
) -> GuestReport:
    """The officer registers the guest: the person found in the registry by the document (or
    created at the hotel's node, without a household), a temperature recorded as a
    declaration with the journey from where they came. Name, document and phone default to
    the report's. The same client_id twice registers once."""

    access.require(actor, "guest.handle")
    _visible(actor, report)
    if client_id and (done := Declaration.objects.filter(client_id=client_id).first()):
        if report.person_id is None or done.person_id != report.person_id:
            raise client_id_taken()
        return report
    if report.status not in (GuestStatus.FLAGGED, GuestStatus.REPORTED):
        raise Conflict(_("This guest was already registered or handled."), field="status")
    today = timezone.localdate()
    clean = report_clean(
        {
            "name": report.name if name is None else name,
            "id_type": report.id_type if id_type is None else id_type,
            "id_number": report.id_number if id_number is None else id_number,
            "phone": report.phone if phone is None else phone,
            "from_where": report.from_where,
            "travel_since": report.travel_since,
            "arrived_on": report.arrived_on,
        },
        today=today,
    )
    if temperature is None or str(temperature).strip() == "":
        raise DomainError(_("Take the guest's temperature."), field="temperature")
    last = report.travel_since or report.arrived_on
    data = DeclarationInput(
        declared_on=today,
        temperature=temperature,
        temperature_method=temperature_method or "forehead",
        travel_since=last,
        travel=[{"place": report.from_where, "from": last, "to": last, "transport": ""}],
        notes=_("Registered as a guest of %(hotel)s") % {"hotel": report.place.name},
    )
    # Everything typed is checked before the registry is looked at: a wrong temperature
    # must not tell whether a document number is known (declaration_record checks it again).
    declaration_clean(copy.deepcopy(data))
    try:
        with transaction.atomic():
            _lock(report)
            if report.status not in (GuestStatus.FLAGGED, GuestStatus.REPORTED):
                raise Conflict(_("This guest was already registered or handled."), field="status")
            before = snapshot(report, ["person", "status", "name", "id_type", "id_number", "phone"])
            person = _registry_person(
                actor, report, clean["name"], clean["id_type"], clean["id_number"], clean["phone"]
            )
            declaration_record(
                actor=actor,
                person=person,
                data=data,
                source=DeclarationSource.STAFF,
                client_id=client_id,
            )
            report.name, report.id_type = clean["name"], clean["id_type"]
            report.id_number, report.phone = clean["id_number"], clean["phone"]
            report.person = person
            report.registered_at = timezone.now()
            report.registered_by = actor
            report.status = GuestStatus.REGISTERED
            report.save(update_fields=[*REGISTER_FIELDS, "registered_at", "registered_by"])
            after = snapshot(report, ["person", "status", "name", "id_type", "id_number", "phone"])
            audit_record(
                actor,
                "fangyi.guestreport.registered",
                report,
                node_path=report.node.path,
                changes=diff(before, after),
            )
    except _Elsewhere:
        # The document names a person of another jurisdiction. The officer is not told so
        # (that would let anyone at a station probe ID numbers): the same refusal as for a
        # document the station cannot register, and a row in the audit trail for the
        # supervisors, who see both jurisdictions and can register the guest.
        audit_record(
            actor,
            "fangyi.guestreport.register_refused",
            report,
            node_path=report.node.path,
            changes={"id_type": [None, clean["id_type"]], "id_number": [None, clean["id_number"]]},
        )
        raise DomainError(
            _("This document cannot be registered here: ask a supervisor to register the guest."),
            field="id_number",
        ) from None
    return report


def _in_hubei(place: str) -> bool:
    found = divisions.resolve(place)
    if found:
        return all(d.code.startswith(HUBEI_DIVISION) for d in found)
    norm = normalize_name(place)
    return any(h in norm for h in HUBEI_KEYS)


def default_group(report: GuestReport) -> str:
    """The group a designated hotel takes this guest in: "hubei" when the guest comes from a
    place in Hubei (宜昌 as much as 武汉), else "risk_area"."""
    return GROUP_HUBEI if _in_hubei(report.from_where) else GROUP_OTHER


def guest_refer(
    *,
    actor: User,
    report: GuestReport,
    site,
    group: str | None = None,
    transport: str = "",
    client_id: uuid.UUID | None = None,
) -> GuestReport:
    """Refer a registered guest to a designated hotel: one of its free beds reserved
    (fangyi.quarantine.services.placement_reserve_unchecked: the police's own policy),
    to be confirmed by the designated hotel within GuestSettings.confirm_hours."""

    access.require(actor, "guest.handle")
    _visible(actor, report)
    if client_id and (done := Placement.objects.filter(client_id=client_id).first()):
        if report.placement_id != done.pk:
            raise client_id_taken()
        return report
    if report.status == GuestStatus.FLAGGED or report.person_id is None:
        raise DomainError(_("Register the guest and take their temperature first."), field="person")
    if report.status != GuestStatus.REGISTERED:
        raise Conflict(_("This guest was already referred or cleared."), field="status")
    if site is None:
        raise DomainError(_("Choose a designated hotel."), field="site")
    if site.place.kind != PlaceKind.DESIGNATED_HOTEL or not site.active:
        raise DomainError(_("Guests are referred to a designated hotel."), field="site")
    code = group or default_group(report)
    group_obj = Group.objects.filter(code=code).first()
    if group_obj is None:
        raise DomainError(_("Unknown group."), field="group")
    transport = check_length(transport or DEFAULT_TRANSPORT, "transport", 200)
    now = timezone.now()
    hours = GuestSettings.get().confirm_hours
    with transaction.atomic():
        _lock(report)
        if report.status != GuestStatus.REGISTERED:
            raise Conflict(_("This guest was already referred or cleared."), field="status")
        placement = placement_reserve_unchecked(
            actor=actor,
            person=report.person,
            site=site,
            group=group_obj,
            source="referral",
            transport=transport,
            expected_at=now + dt.timedelta(hours=hours),
            client_id=client_id,
        )
        report.placement = placement
        report.referred_at = now
        report.confirm_by = now + dt.timedelta(hours=hours)
        report.overdue_at = None
        report.status = GuestStatus.REFERRED
        report.save(
            update_fields=["placement", "referred_at", "confirm_by", "overdue_at", "status"]
        )
        audit_record(
            actor,
            "fangyi.guestreport.referred",
            report,
            node_path=report.node.path,
            changes={
                "status": [GuestStatus.REGISTERED, GuestStatus.REFERRED],
                "placement": [None, placement.pk],
                "site": [None, site.pk],
                "group": [None, code],
                "confirm_by": [None, report.confirm_by.isoformat()],
            },
        )
    return report


def refer_choices(report: GuestReport) -> list:
    """The designated hotels that take this guest's group and have a free bed, most free
    beds first, then nearest (fangyi.quarantine.services.site_choices)."""

    group = Group.objects.filter(code=default_group(report)).first()
    if group is None:
        return []
    return [
        c
        for c in site_choices(group=group, near=report.node)
        if c.site.place.kind == PlaceKind.DESIGNATED_HOTEL
    ]


def choice_numbers(choice) -> tuple[int, float | None]:
    """A site choice's free beds and distance in km (or None)."""
    km = choice.distance_km
    return int(choice.free), (float(km) if km is not None else None)


def site_for_id(site_id: int | None, field: str = "site"):
    """The site an id names (any designated hotel may take a referral, whatever the
    officer's jurisdiction), or None for no id; an unknown id is a field error."""

    if site_id is None:
        return None
    site = Site.objects.select_related("place").filter(pk=site_id).first()
    if site is None:
        raise DomainError(_("No such designated hotel."), field=field)
    return site


def guest_clear(*, actor: User, report: GuestReport, reason: str) -> GuestReport:
    """The officer finds the guest is not a risk after all: cleared, with the reason kept."""
    access.require(actor, "guest.handle")
    _visible(actor, report)
    reason = check_length(reason, "reason", 300, required=True)
    if report.status not in OPEN:
        raise Conflict(_("Only a flagged guest not yet referred can be cleared."), field="status")
    with transaction.atomic():
        _lock(report)
        if report.status not in OPEN:
            raise Conflict(
                _("Only a flagged guest not yet referred can be cleared."), field="status"
            )
        before = report.status
        notes = GuestReport.objects.values_list("notes", flat=True).get(pk=report.pk)
        note = _("Cleared: %(reason)s") % {"reason": reason}
        report.notes = (f"{notes}\n{note}" if notes else note)[:1000]
        report.status = GuestStatus.CLEARED
        report.save(update_fields=["notes", "status"])
        audit_record(
            actor,
            "fangyi.guestreport.cleared",
            report,
            node_path=report.node.path,
            changes={"status": [before, GuestStatus.CLEARED], "reason": [None, reason]},
        )
    return report


def guest_settings_update(*, actor: User, data: dict[str, Any]) -> GuestSettings:
    access.require(actor, "guest.configure")
    e = FieldErrors()
    values = {}
    for name, low, high in (("retention_days", 1, 365), ("confirm_hours", 1, 168)):
        raw = data.get(name)
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            e.add(name, _("Enter a whole number."))
            continue
        if not low <= value <= high:
            e.add(name, _("Between %(low)d and %(high)d.") % {"low": low, "high": high})
        values[name] = value
    e.raise_if_any()
    with transaction.atomic():
        settings = GuestSettings.get()
        before = snapshot(settings, list(values))
        for k, v in values.items():
            setattr(settings, k, v)
        settings.save()
        audit_record(
            actor,
            "fangyi.guestsettings.updated",
            settings,
            changes=diff(before, snapshot(settings, list(values))),
        )
    return settings


# --- the worker ------------------------------------------------------------------------------


def _arrived(placement) -> bool:
    """Did the guest arrive at the referred site, or at one the referral was transferred to?
    Follows the `previous` chain forward from the referral's placement."""

    seen = set()
    while placement is not None and placement.pk not in seen:
        seen.add(placement.pk)
        if placement.status == PlacementStatus.ACTIVE or placement.arrived_at is not None:
            return True
        if placement.status != PlacementStatus.TRANSFERRED:
            return False
        placement = Placement.objects.filter(previous=placement).order_by("pk").first()
    return False


def guests_check(now: dt.datetime | None = None) -> dict[str, int]:
    """Referrals the designated hotel confirmed become arrived (also when the referral was
    transferred to another site and the guest arrived there); those not confirmed by their
    `confirm_by` are marked overdue once (shown to the officer and the supervisors).
    Idempotent; run every minute by the worker."""
    now = now or timezone.now()
    arrived = overdue = 0
    referred = GuestReport.objects.filter(status=GuestStatus.REFERRED).select_related(
        "placement", "node", "place"
    )
    for report in referred:
        if _arrived(report.placement):
            with transaction.atomic():
                n = GuestReport.objects.filter(pk=report.pk, status=GuestStatus.REFERRED).update(
                    status=GuestStatus.ARRIVED
                )
                if n:
                    arrived += 1
                    audit_record(
                        None,
                        "fangyi.guestreport.arrived",
                        report,
                        node_path=report.node.path,
                        changes={"status": [GuestStatus.REFERRED, GuestStatus.ARRIVED]},
                    )
        elif report.overdue_at is None and report.confirm_by and report.confirm_by < now:
            with transaction.atomic():
                n = GuestReport.objects.filter(
                    pk=report.pk, status=GuestStatus.REFERRED, overdue_at__isnull=True
                ).update(overdue_at=now)
                if n:
                    overdue += 1
                    audit_record(
                        None,
                        "fangyi.guestreport.overdue",
                        report,
                        node_path=report.node.path,
                        changes={
                            "overdue_at": [None, now.isoformat()],
                            "confirm_by": [None, report.confirm_by.isoformat()],
                        },
                    )
                    notices.arrival_overdue(report, now)
    return {"arrived": arrived, "overdue": overdue}


def guests_purge(today: dt.date | None = None) -> int:
    """Guests never flagged, reported more than `retention_days` ago, deleted; one summary
    row in the audit trail. Run once a day by the worker."""
    today = today or timezone.localdate()
    days = GuestSettings.get().retention_days
    cutoff = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time()))
    with transaction.atomic():
        qs = GuestReport.objects.filter(
            status=GuestStatus.REPORTED, flagged=False, reported_at__lt=cutoff
        )
        n = qs.count()
        if n:
            qs.delete()
            audit_record(
                None,
                "fangyi.guestreport.purged",
                None,
                object_type="guestreport",
                object_repr=f"{n}",
                changes={"deleted": [None, n], "before": [None, cutoff.isoformat()]},
            )
    return n
