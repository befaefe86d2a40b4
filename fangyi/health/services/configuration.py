"""The rules' configuration, written by administrators: risk areas, symptoms, settings."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access, divisions
from fangyi.core.audit import audit_record, created, diff, snapshot
from fangyi.core.errors import FieldErrors
from fangyi.core.models import User

from ..models import (
    RiskArea,
    RiskSettings,
    Symptom,
)
from .declarations import _date_field, _text

AREA_FIELDS = ["name", "division", "aliases", "counts_from", "counts_until", "is_active", "notes"]
SYMPTOM_FIELDS = ["code", "name", "order", "is_active"]
SETTINGS_FIELDS = [
    "observation_days",
    "fever_threshold",
    "followups_per_day",
    "missed_escalation",
    "self_report_days",
    "travel_since",
]
SETTINGS_LIMITS = {
    "observation_days": (1, 60),
    "followups_per_day": (1, 2),
    "missed_escalation": (1, 10),
    "self_report_days": (1, 60),
}


def _plain_snapshot(obj, fields) -> dict[str, Any]:
    values = snapshot(obj, fields)
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


def _area_apply(area: RiskArea, data: dict[str, Any]) -> None:
    e = FieldErrors()
    # The code alone ("420000") or as the picker shows it ("420000 湖北省").
    raw = _text(e, data.get("division"), "division", 100).strip()
    code = raw[:6] if raw[:6].isdigit() else raw
    division = divisions.current(code) if code else None
    if division is None and code and not code.isdigit():
        # The picker fills in the full name ("湖北省", "湖北省宜昌市"): exactly one division.
        found = divisions.resolve(raw)
        division = (
            found[0] if len(found) == 1 and found[0].full_name == divisions.normalise(raw) else None
        )
    if code and division is None:
        e.add("division", _("No division in force has this code: pick one from the list."))
    area.division = division.code if division else ""
    # A division names itself: the name may be left empty.
    name = data.get("name") or (division.name if division else "")
    area.name = _text(e, name, "name", 50, required=not code)
    area.aliases = _text(e, data.get("aliases"), "aliases", 300)
    area.notes = _text(e, data.get("notes"), "notes", 2000)
    area.counts_from = _date_field(e, data.get("counts_from"), "counts_from", required=True)  # type: ignore[assignment]
    area.counts_until = _date_field(e, data.get("counts_until"), "counts_until", required=False)
    if area.counts_from and area.counts_until and area.counts_until < area.counts_from:
        e.add("counts_until", _("This is before the day it counts from."))
    area.is_active = bool(data.get("is_active", True))
    if area.name and RiskArea.objects.filter(name=area.name).exclude(pk=area.pk).exists():
        e.add("name", _("A risk area of this name exists already."))
    if (
        area.division
        and RiskArea.objects.filter(division=area.division).exclude(pk=area.pk).exists()
    ):
        e.add("division", _("A risk area for this division exists already."))
    e.raise_if_any()


@transaction.atomic
def risk_area_create(*, actor: User, data: dict[str, Any]) -> RiskArea:
    access.require(actor, "risk.configure")
    area = RiskArea()
    _area_apply(area, data)
    area.save()
    audit_record(
        actor, "fangyi.riskarea.created", area, changes=created(_plain_snapshot(area, AREA_FIELDS))
    )
    return area


@transaction.atomic
def risk_area_update(*, actor: User, area: RiskArea, data: dict[str, Any]) -> RiskArea:
    access.require(actor, "risk.configure")
    before = _plain_snapshot(area, AREA_FIELDS)
    _area_apply(area, data)
    area.save()
    audit_record(
        actor,
        "fangyi.riskarea.changed",
        area,
        changes=diff(before, _plain_snapshot(area, AREA_FIELDS)),
    )
    return area


@transaction.atomic
def risk_area_delete(*, actor: User, area: RiskArea) -> None:
    access.require(actor, "risk.configure")
    before = _plain_snapshot(area, AREA_FIELDS)
    pk, label = area.pk, str(area)
    area.delete()
    audit_record(
        actor,
        "fangyi.riskarea.deleted",
        None,
        object_type="riskarea",
        object_id=pk,
        object_repr=label,
        changes=diff(before, {}),
    )


def _symptom_apply(symptom: Symptom, data: dict[str, Any]) -> None:
    e = FieldErrors()
    code = _text(e, data.get("code"), "code", 30, required=True).lower()
    if code and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", code):
        e.add("code", _("A code has lower-case letters, digits, - and _ only."))
    elif code and Symptom.objects.filter(code=code).exclude(pk=symptom.pk).exists():
        e.add("code", _("A symptom with this code exists already."))
    symptom.code = code
    symptom.name = _text(e, data.get("name"), "name", 50, required=True)
    order = data.get("order", 0)
    try:
        order = int(order if order not in (None, "") else 0)
        if not 0 <= order <= 999:
            raise ValueError
    except (TypeError, ValueError):
        e.add("order", _("A whole number from 0 to 999."))
        order = 0
    symptom.order = order
    symptom.is_active = bool(data.get("is_active", True))
    e.raise_if_any()


@transaction.atomic
def symptom_create(*, actor: User, data: dict[str, Any]) -> Symptom:
    access.require(actor, "risk.configure")
    symptom = Symptom()
    _symptom_apply(symptom, data)
    symptom.save()
    audit_record(
        actor,
        "fangyi.symptom.created",
        symptom,
        changes=created(_plain_snapshot(symptom, SYMPTOM_FIELDS)),
    )
    return symptom


@transaction.atomic
def symptom_update(*, actor: User, symptom: Symptom, data: dict[str, Any]) -> Symptom:
    """Symptoms are never deleted (old declarations name them); an unused one is switched
    off with is_active."""
    access.require(actor, "risk.configure")
    before = _plain_snapshot(symptom, SYMPTOM_FIELDS)
    _symptom_apply(symptom, data)
    symptom.save()
    audit_record(
        actor,
        "fangyi.symptom.changed",
        symptom,
        changes=diff(before, _plain_snapshot(symptom, SYMPTOM_FIELDS)),
    )
    return symptom


@transaction.atomic
def settings_update(*, actor: User, data: dict[str, Any]) -> RiskSettings:
    access.require(actor, "risk.configure")
    settings = RiskSettings.current()
    before = _plain_snapshot(settings, SETTINGS_FIELDS)
    e = FieldErrors()
    for name, (low, high) in SETTINGS_LIMITS.items():
        value = data.get(name, getattr(settings, name))
        try:
            value = int(value)
            if not low <= value <= high:
                raise ValueError
            setattr(settings, name, value)
        except (TypeError, ValueError):
            e.add(name, _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
    threshold = data.get("fever_threshold", settings.fever_threshold)
    try:
        threshold = Decimal(str(threshold)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if not Decimal("36.0") <= threshold <= Decimal("39.0"):
            raise InvalidOperation
        settings.fever_threshold = threshold
    except InvalidOperation:
        e.add("fever_threshold", _("A temperature from 36.0 to 39.0 °C."))
    if "travel_since" in data:
        since = _date_field(e, data.get("travel_since"), "travel_since", required=False)
        if since and since > timezone.localdate():
            e.add("travel_since", _("This date is in the future."))
        settings.travel_since = since
    e.raise_if_any()
    settings.save()
    audit_record(
        actor,
        "fangyi.risksettings.changed",
        settings,
        changes=diff(before, _plain_snapshot(settings, SETTINGS_FIELDS)),
    )
    return settings
