"""The rules' configuration, read once, and the rules: a pure function of a declaration and
a `RulesConfig`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fangyi.core import divisions
from fangyi.people.services import normalize_name

from ..models import (
    DeclarationSource,
    Outcome,
    RiskArea,
    RiskSettings,
    Symptom,
    TempMethod,
)

TEMP_MIN, TEMP_MAX = Decimal("35.0"), Decimal("42.0")
TEMP_METHODS = frozenset(TempMethod.values)
SOURCES = frozenset(DeclarationSource.values)
OUTCOMES = frozenset(Outcome.values)
CONTACT_KINDS = ("confirmed", "suspected")
MAX_ROWS = 20  # travel rows and contact rows per declaration

# Outcomes from strongest to mildest: the proposal is the strongest that any rule finds.
STRENGTH = [
    Outcome.FEVER_CLINIC,
    Outcome.CENTRAL,
    Outcome.HOME,
    Outcome.ASSESSMENT,
    Outcome.CLEARED,
]

_ALIAS_SPLIT = re.compile(r"[,，、;；/\s]+")


def area_keys(name: str, aliases: str) -> tuple[str, ...]:
    """The normalised (simplified, no spaces, lower case) names a travel place is matched
    against: the area's name and each alias, in whichever script they were typed."""
    keys = {normalize_name(k) for k in [name, *_ALIAS_SPLIT.split(aliases or "")] if k.strip()}
    return tuple(sorted(k for k in keys if k))


@dataclass(frozen=True)
class AreaRule:
    name: str
    keys: tuple[str, ...]
    counts_from: dt.date
    counts_until: dt.date | None = None
    division: str = ""  # a GB/T 2260 code: the area covers every division under it

    def matches(self, place: str) -> bool:
        """Does a travel place as typed ("湖北省宜昌市", "宜昌", "荊州區", "yichang") lie in
        this area?

        An area that is a division covers every division the place names under it
        (`fangyi.core.divisions.resolve`: 湖北省 covers 宜昌市 and each county of 荆州市).
        Besides, and for an area that is no division (a market, a country), its names match as
        typed: a key of two characters or more inside the place (湖北 in 湖北省武漢市), a
        one-character key only the whole place."""
        norm = normalize_name(place or "")
        if not norm:
            return False
        if self.division:
            area = divisions.get(self.division)
            if area is not None and any(area.covers(d.code) for d in divisions.resolve(place)):
                return True
        return any((k in norm) if len(k) >= 2 else (k == norm) for k in self.keys)


@dataclass(frozen=True)
class RulesConfig:
    observation_days: int = 14
    fever_threshold: Decimal = Decimal("37.3")
    travel_since: dt.date | None = None
    areas: tuple[AreaRule, ...] = ()
    symptoms: dict[str, str] = field(default_factory=dict)  # active code -> name
    # Translated reason templates, filled on first use: the bulk path evaluates many rows.
    texts: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def text(self, msgid: str) -> str:
        found = self.texts.get(msgid)
        if found is None:
            found = self.texts[msgid] = _(msgid)
        return found


@dataclass(frozen=True)
class IdSignal:
    """Where a resident ID number was issued, and the risk area in force it lies in if any: a
    signal for the officer, never a flag by itself (people move)."""

    code: str
    label: str  # "420500 宜昌市 (湖北省)"
    area: str = ""
    retired: bool = False

    def __str__(self) -> str:
        text = _("ID issued in %(where)s") % {"where": self.label}
        if self.retired:
            text += " " + _("(a code no longer in force)")
        if self.area:
            text += " · " + _("inside risk area %(area)s") % {"area": self.area}
        return text


def id_region_signal(id_number: str, config: RulesConfig | None = None) -> IdSignal | None:
    """The signal for a resident ID number (None when its region code is unknown). Without a
    configuration at hand, the areas in force are read in one query."""
    region = divisions.id_region(id_number)
    if region is None:
        return None
    if config is not None:
        areas = [(a.name, a.division) for a in config.areas if a.division]
    else:
        areas = list(
            RiskArea.objects.filter(is_active=True)
            .exclude(division="")
            .order_by("name")
            .values_list("name", "division")
        )
    area = next(
        (name for name, code in areas if (d := divisions.get(code)) and d.covers(region.code)),
        "",
    )
    return IdSignal(region.code, region.label, area, not region.current)


def rules_config() -> RulesConfig:
    """The settings, the risk areas in force and the symptoms in use, read once."""
    settings = RiskSettings.current()
    areas = tuple(
        AreaRule(a.name, area_keys(a.name, a.aliases), a.counts_from, a.counts_until, a.division)
        for a in RiskArea.objects.filter(is_active=True).order_by("name")
    )
    symptoms = dict(
        Symptom.objects.filter(is_active=True).order_by("order", "code").values_list("code", "name")
    )
    return RulesConfig(
        observation_days=settings.observation_days,
        fever_threshold=settings.fever_threshold,
        travel_since=settings.travel_since,
        areas=areas,
        symptoms=symptoms,
    )


# ---------------------------------------------------------------------------------------------
# the rules

# The reasons, in words (translated once per configuration, see RulesConfig.text).
R_FEVER = gettext_noop("temperature %(t)s °C, at or above %(limit)s °C")
R_SYMPTOMS = gettext_noop("symptoms: %(names)s")
R_CONFIRMED_WHO = gettext_noop(
    "close contact with a confirmed case (%(who)s) on %(date)s, within %(days)d days"
)
R_CONFIRMED = gettext_noop("close contact with a confirmed case on %(date)s, within %(days)d days")
R_SUSPECTED_WHO = gettext_noop(
    "contact with a suspected case (%(who)s) on %(date)s, within %(days)d days"
)
R_SUSPECTED = gettext_noop("contact with a suspected case on %(date)s, within %(days)d days")
R_TRAVEL = gettext_noop("back from %(place)s on %(date)s, within %(days)d days")
R_NO_TEMPERATURE = gettext_noop("travelled, and no temperature was taken")
R_CLEARED = gettext_noop(
    "no fever, no symptoms, no travel to a risk area and no contact with a case "
    "within %(days)d days"
)


@dataclass(frozen=True)
class Proposal:
    outcome: str
    reason: str
    last_exposure: dt.date | None = None


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _health_findings(
    temperature: Decimal | float | None,
    symptoms: Iterable[str],
    config: RulesConfig,
    findings: dict[str, list[str]],
) -> None:
    """A fever or any symptom: the fever clinic."""
    if (
        temperature is not None
        and (temperature if isinstance(temperature, Decimal) else Decimal(str(temperature)))
        >= config.fever_threshold
    ):
        findings.setdefault(Outcome.FEVER_CLINIC, []).append(
            config.text(R_FEVER) % {"t": temperature, "limit": config.fever_threshold}
        )
    symptom_list = [s for s in symptoms if s]
    if symptom_list:
        names = "、".join(config.symptoms.get(code, code) for code in symptom_list)
        findings.setdefault(Outcome.FEVER_CLINIC, []).append(
            config.text(R_SYMPTOMS) % {"names": names}
        )


def _contact_findings(
    contacts: Iterable[dict],
    within,
    config: RulesConfig,
    findings: dict[str, list[str]],
    exposures: list[dt.date],
) -> None:
    """Contact with a confirmed case within the days: centralised; with a suspected one: home."""
    days = config.observation_days
    for contact in contacts:
        day = _as_date(contact.get("date"))
        if day is None or not within(day):
            continue
        exposures.append(day)
        who = (contact.get("who") or "").strip()
        values = {"date": day.isoformat(), "days": days, "who": who}
        if contact.get("kind") == "confirmed":
            text = config.text(R_CONFIRMED_WHO if who else R_CONFIRMED)
            findings.setdefault(Outcome.CENTRAL, []).append(text % values)
        else:
            text = config.text(R_SUSPECTED_WHO if who else R_SUSPECTED)
            findings.setdefault(Outcome.HOME, []).append(text % values)


def _latest_risk_stay(
    travel_rows: list[dict], within, config: RulesConfig
) -> tuple[dt.date, str] | None:
    """The last day (and the place) of a stay in a risk area while it counted, within the
    days; None when no journey qualifies."""
    best: tuple[dt.date, str] | None = None
    for row in travel_rows:
        start = _as_date(row.get("from"))
        end = _as_date(row.get("to")) or start
        if start is None or end is None:
            continue
        place = (row.get("place") or "").strip()
        for area in config.areas:
            if not area.matches(place):
                continue
            first = max(start, area.counts_from)
            last = min(end, area.counts_until) if area.counts_until else end
            if first > last or not within(last):
                continue
            if best is None or last > best[0]:
                best = (last, place)
    return best


def rules_evaluate(
    *,
    declared_on: dt.date,
    temperature: Decimal | float | None,
    symptoms: Iterable[str],
    travel: Iterable[dict],
    contacts: Iterable[dict],
    config: RulesConfig | None = None,
) -> Proposal:
    """What the configured rules propose for one declaration. Pure: no query when `config` is
    given (else it is read with `rules_config()`).

    From the strongest outcome to the mildest:

    * fever clinic: a temperature at or above the fever threshold, or any symptom;
    * centralised observation: contact with a confirmed case on a day within
      `observation_days` of the declaration (day 14 counts, day 15 does not);
    * observation at home: travel to or through a risk area in force, with a day of the stay
      on or after the area's `counts_from` (and on or before its `counts_until`, inclusive),
      whose last such day is within `observation_days`; or contact with a *suspected* case
      within `observation_days` (we chose home observation over an assessment: a suspected
      case may become confirmed within the incubation period, and health staff can still
      lower it);
    * health assessment needed: no temperature was taken although the person travelled
      (any travel row: a door visit must measure whoever has been away);
    * cleared: none of the above.

    `reason` gives every finding in words, strongest first, with places and dates ("back from
    武漢市 on 2020-02-01, within 14 days"); `last_exposure` is the latest day of a qualifying
    travel or contact, whatever the outcome.
    """
    config = config if config is not None else rules_config()
    days = config.observation_days
    findings: dict[str, list[str]] = {}
    exposures: list[dt.date] = []

    def within(day: dt.date) -> bool:
        return day <= declared_on and (declared_on - day).days <= days

    _health_findings(temperature, symptoms, config, findings)
    _contact_findings(contacts, within, config, findings, exposures)
    travel_rows = [t for t in travel if t]
    best = _latest_risk_stay(travel_rows, within, config)
    if best is not None:
        exposures.append(best[0])
        findings.setdefault(Outcome.HOME, []).append(
            config.text(R_TRAVEL) % {"place": best[1], "date": best[0].isoformat(), "days": days}
        )

    if temperature is None and travel_rows:
        findings.setdefault(Outcome.ASSESSMENT, []).append(config.text(R_NO_TEMPERATURE))

    outcome = next((o for o in STRENGTH if o in findings), Outcome.CLEARED)
    if outcome == Outcome.CLEARED:
        reason = config.text(R_CLEARED) % {"days": days}
    else:
        reason = "; ".join(text for o in STRENGTH for text in findings.get(o, []))
    return Proposal(str(outcome), reason, max(exposures) if exposures else None)
