"""The demo city's refusal (the household that refused the quarantine point); called by
fangyi.demo.build_demo after fangyi.quarantine.demo.

The close contact of 機務小區 from the health demo (the neighbour's report of contact with a
confirmed case) is given a bed at the district's quarantine point, refuses to go; the grid
worker's first persuasion does not change that, and police support is called. Skipped quietly
when the sites part has built no site (or no group) yet."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangyi.health.models import Declaration
from fangyi.people.models import PlaceKind

from . import refusals, services
from .models import Placement, PlacementStatus, Site

REASON = "家中有八十岁老人和两个小孩需要照顾,担心隔离点条件差,全家拒绝前往集中隔离点"
EXPLAINED = "网格员上门讲解了密切接触者须集中隔离十四天的规定和隔离点的食宿安排,住户仍拒绝"


def _contact(n: dict):
    """The health demo's close contact in 机务小区 (the declaration with a confirmed contact)."""

    declaration = (
        Declaration.objects.filter(person__node=n["jiwu_xq"], notes__contains="密切接触")
        .select_related("person", "person__node")
        .order_by("pk")
        .first()
    )
    return declaration.person if declaration else None


def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
    site = (
        Site.objects.filter(place__kind=PlaceKind.QUARANTINE_SITE, active=True)
        .select_related("place", "node")
        .order_by("pk")
        .first()
    )
    person = _contact(n)
    if site is None or person is None:
        return

    worker, health = users["wanggeyuan"], users["weijian"]
    placement = (
        Placement.objects.filter(person=person, status=PlacementStatus.RESERVED)
        .select_related("node", "site__place")
        .first()
    )
    if placement is None:
        group = (
            site.groups.filter(code="close_contact").first()
            or site.groups.order_by("order", "pk").first()
        )
        if (
            group is None
            or Placement.objects.filter(person=person, status=PlacementStatus.ACTIVE).exists()
        ):
            return
        placement = services.placement_reserve_unchecked(
            actor=health,
            person=person,
            site=site,
            group=group,
            source="decision",
            transport="社区专车",
            expected_at=timezone.now() + dt.timedelta(hours=2),
        )
    refusal = refusals.refusal_record(actor=worker, placement=placement, reason=REASON)
    refusals.persuasion_record(
        actor=worker,
        refusal=refusal,
        at=timezone.now(),
        explained=EXPLAINED,
        outcome="still_refuses",
    )
    refusals.refusal_call_police(actor=worker, refusal=refusal)
