"""The demo city's part from fangyi.observation; called by fangyi.demo.build_demo.

A handful of residents of 機務小區 under home observation at different stages, built through
the services (audited like real data): one ending tomorrow, one with a fever alert today, one
who missed yesterday's follow-up, one who started today, and one at the district's quarantine
point. Today's follow-ups are generated."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangyi.people.models import Household, Person, Place, PlaceKind

from . import services
from .models import FollowUp, FollowUpStatus, ObservationKind

# (label, days since the observation started, days since the last exposure)
STAGES = [
    ("ending_tomorrow", 13, 13),
    ("fever_today", 5, 6),
    ("missed_yesterday", 4, 5),
    ("started_today", 0, 2),
    ("at_quarantine_point", 2, 3),
]


def _people(compound, count: int) -> list[Person]:
    """Residents from households further down the compound's list, so that the first household
    (which tests and the permission table use) stays free of observations."""
    households = list(Household.objects.filter(node=compound).order_by("pk")[20 : 20 + count])
    people = []
    for h in households:
        person = h.members.exclude(name="徐红心").order_by("pk").first()
        if person is not None:
            people.append(person)
    return people[:count]


def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
    health, worker = users["weijian"], users["wanggeyuan"]
    today = timezone.localdate()
    site = Place.objects.filter(kind=PlaceKind.QUARANTINE_SITE).order_by("pk").first()
    observed = {}
    for (label, started, exposed), person in zip(
        STAGES, _people(n["jiwu_xq"], len(STAGES)), strict=False
    ):
        at_site = label == "at_quarantine_point" and site is not None
        observed[label] = services.observation_start(
            actor=health,
            person=person,
            kind=ObservationKind.PLACE if at_site else ObservationKind.HOME,
            place=site if at_site else None,
            last_exposure=today - dt.timedelta(days=exposed),
            starts=today - dt.timedelta(days=started),
        )
    # The last two days, recorded except the one who missed yesterday; then the daily job.
    for back in (2, 1):
        day = today - dt.timedelta(days=back)
        services.followups_generate(day)
        for followup in FollowUp.objects.filter(due=day, status=FollowUpStatus.DUE).select_related(
            "observation"
        ):
            if back == 1 and followup.observation == observed.get("missed_yesterday"):
                continue
            services.followup_record(
                actor=worker,
                followup=followup,
                status=FollowUpStatus.SEEN_WELL,
                temperature="36.5",
            )
    services.daily_rounds(today)
    if "fever_today" in observed:
        followup = observed["fever_today"].followups.get(due=today, slot=1)
        services.followup_record(
            actor=worker,
            followup=followup,
            status=FollowUpStatus.SEEN_UNWELL,
            temperature="37.8",
            symptoms=["dry_cough"],
            notes="咳嗽两天",
        )
