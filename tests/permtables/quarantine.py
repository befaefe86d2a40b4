"""Permission-table rows for quarantine sites, beds and placements (see
tests/permtables/__init__.py for what a row is).

{q_site} is a quarantine point in the role's compound (two rooms of two beds, taking every
group), {q_site2} a second one there (a transfer's target), {q_bed} a bed of {q_site} in
cleaning; {q_placement} a reservation there for a resident of the compound, {q_due} a person in
quarantine there whose observation ended two days ago with a clean check yesterday.

The cast's site staff, `jiudian`, works at an ordinary hotel: no site is his, so every record
here answers him 404, as one that does not exist (ok_for SITE = 404)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

SITE = {"hotel_clerk": 404}


def _site(refs, name: str = "社区隔离点") -> int:
    from fangyi.people.models import Place
    from fangyi.quarantine.models import Bed, Group, Room, Site

    place = Place.objects.create(
        kind="quarantine_site", name=f"{name}{refs.where}", node=refs.compound, address="隔离路1号"
    )
    site = Site.objects.get(place=place)  # made with the place
    site.groups.set(Group.objects.all())
    for number in ("101", "102"):
        room = Room.objects.create(site=site, number=number, floor=1)
        for label in ("1", "2"):
            Bed.objects.create(room=room, site=site, label=label)
    return site.pk


def _bed(refs) -> int:
    from fangyi.quarantine.models import Bed

    bed = Bed.objects.filter(site_id=refs["q_site"]).order_by("-pk").first()
    Bed.objects.filter(pk=bed.pk).update(state="cleaning")
    return bed.pk


def _person(refs, name: str):
    from tests.permtables.observation import _fresh_person

    return _fresh_person(refs, name)


def _placement(refs, *, status="reserved", observation=None, name="待入住者"):
    from fangyi.quarantine.models import Bed, Group, Placement

    bed = Bed.objects.filter(site_id=refs["q_site"], state="free").order_by("pk").first()
    Bed.objects.filter(pk=bed.pk).update(state="reserved" if status == "reserved" else "occupied")
    person = observation.person if observation else _person(refs, name)
    now = timezone.now()
    return Placement.objects.create(
        person=person,
        node=person.node,
        kind="site",
        site_id=refs["q_site"],
        bed=bed,
        group=Group.objects.get(code="close_contact"),
        source="decision",
        status=status,
        observation=observation,
        reserved_at=now,
        arrived_at=now if status == "active" else None,
    ).pk


def _due(refs) -> int:
    from fangyi.observation.models import FollowUp, Observation

    today = timezone.localdate()
    obs = Observation.objects.create(
        person=_person(refs, "期满隔离者"),
        node=refs.compound,
        kind="home",
        starts=today - dt.timedelta(days=16),
        last_exposure=today - dt.timedelta(days=16),
        ends=today - dt.timedelta(days=2),
    )
    FollowUp.objects.create(
        observation=obs,
        node=refs.compound,
        due=today - dt.timedelta(days=1),
        status="seen_well",
        temperature="36.5",
        recorded_at=timezone.now(),
    )
    return _placement(refs, status="active", observation=obs)


REFS: dict = {
    "q_site": lambda r: _site(r),
    "q_site2": lambda r: _site(r, "第二隔离点"),
    "q_bed": _bed,
    "q_placement": lambda r: _placement(r),
    "q_due": _due,
}


def _setup_body(r) -> dict:
    from fangyi.quarantine.models import Group

    return {"form": "site", "groups": [Group.objects.get(code="hubei").pk], "latitude": ""}


def _new_body(r) -> dict:
    from fangyi.quarantine.models import Group

    return {
        "person": r["person"],
        "group": Group.objects.get(code="close_contact").pk,
        "where": "site",
        "site": r["q_site"],
        "transport": "转运车",
    }


PAGES: list[Endpoint] = [
    Endpoint("GET", "/sites/", "site.view"),
    Endpoint("GET", "/sites/{q_site}/", "site.view", ok_for=SITE),
    Endpoint("GET", "/sites/{q_site}/setup/", "site.configure"),
    Endpoint("POST", "/sites/{q_site}/setup/", "site.configure", ok=302, body=_setup_body),
    Endpoint(
        "POST", "/beds/{q_bed}/state/", "bed.manage", ok=302, ok_for=SITE, body={"state": "free"}
    ),
    Endpoint("GET", "/placements/", "placement.view"),
    Endpoint("GET", "/placements/?status=any", "placement.view"),
    Endpoint("GET", "/placements/new/?person={person}", "placement.manage"),
    Endpoint("POST", "/placements/new/", "placement.manage", ok=302, body=_new_body),
    Endpoint("GET", "/placements/{q_placement}/", "placement.view", ok_for=SITE),
    Endpoint("POST", "/placements/{q_placement}/arrive/", "placement.arrive", ok=302, ok_for=SITE),
    Endpoint(
        "POST",
        "/placements/{q_placement}/transfer/",
        "placement.manage",
        ok=302,
        body=lambda r: {"site": r["q_site2"], "transport": "转运车"},
    ),
    Endpoint("POST", "/placements/{q_due}/release/", "placement.manage", ok=302),
    Endpoint(
        "POST",
        "/placements/{q_placement}/cancel/",
        "placement.manage",
        ok=302,
        body={"reason": "已改为居家隔离"},
    ),
    Endpoint("GET", "/occupancy/", "occupancy.view"),
    Endpoint("GET", "/occupancy/live/", "occupancy.view"),
]


def _api_new(r) -> dict:
    return {
        "person_id": r["person"],
        "kind": "site",
        "site_id": r["q_site"],
        "group": "close_contact",
        "transport": "转运车",
    }


API: list[Endpoint] = [
    Endpoint("GET", "/api/sites", "site.view"),
    Endpoint(
        "GET", "/api/sites/choices?group=close_contact&person_id={person}", "placement.manage"
    ),
    Endpoint("GET", "/api/sites/{q_site}", "site.view", ok_for=SITE),
    Endpoint(
        "PUT",
        "/api/sites/{q_site}",
        "site.configure",
        body={"groups": ["hubei"], "latitude": "22.8", "longitude": "108.3"},
    ),
    Endpoint(
        "POST",
        "/api/sites/{q_site}/rooms",
        "site.configure",
        ok=201,
        body={"rooms": [{"number": "201", "floor": 2, "beds": 2}]},
    ),
    Endpoint("GET", "/api/sites/{q_site}/beds", "site.view", ok_for=SITE),
    Endpoint("POST", "/api/beds/{q_bed}/state", "bed.manage", ok_for=SITE, body={"state": "free"}),
    Endpoint("GET", "/api/placements", "placement.view"),
    Endpoint("POST", "/api/placements", "placement.manage", ok=201, body=_api_new),
    Endpoint("GET", "/api/placements/{q_placement}", "placement.view", ok_for=SITE),
    Endpoint("GET", "/api/placements/{q_placement}/steps", "placement.view", ok_for=SITE),
    Endpoint(
        "POST", "/api/placements/{q_placement}/arrive", "placement.arrive", ok_for=SITE, body={}
    ),
    Endpoint(
        "POST",
        "/api/placements/{q_placement}/transfer",
        "placement.manage",
        body=lambda r: {"site_id": r["q_site2"]},
    ),
    Endpoint("POST", "/api/placements/{q_due}/release", "placement.manage"),
    Endpoint(
        "POST", "/api/placements/{q_placement}/cancel", "placement.manage", body={"reason": "取消"}
    ),
    Endpoint("GET", "/api/occupancy", "occupancy.view"),
]
