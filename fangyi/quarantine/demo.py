"""The demo city's part from fangyi.quarantine; called by fangyi.demo.build_demo.

The designated hotel for travellers from Hubei (30 rooms × 2 beds) and the district's
quarantine point (60 rooms × 2 beds, close contacts, other risk areas, inbound), bulk-created.
At the hotel three people in quarantine (their observation there, followed up by its staff
`dingdian`) and one on the way, expected at noon today; at the quarantine point the resident
of 機務小區 already observed there (fangyi.observation's demo) and one more. A few beds in
cleaning, one out of service. The two Wuhan travellers at the hotel on 北大路 are left for the
scenarios to place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from fangyi.observation.models import Observation, ObservationKind, ObservationStatus
from fangyi.observation.services import followups_generate, observation_start_unchecked
from fangyi.people.models import Household, Person, Place

from .models import (
    Bed,
    BedState,
    Group,
    Placement,
    PlacementKind,
    PlacementSource,
    PlacementStatus,
    Room,
    Site,
)

SITES = [
    # place name, groups, rooms, beds per room, latitude, longitude
    ("湖北籍旅客定点酒店", ("hubei",), 30, 2, "22.843120", "108.296410"),
    (
        "西乡塘区集中隔离点",
        ("close_contact", "risk_area", "inbound"),
        60,
        2,
        "22.838450",
        "108.288730",
    ),
]


def _site(place: Place, codes, rooms: int, per_room: int, lat: str, lon: str) -> Site:
    # The place's Site exists from the moment it was saved (fangyi/quarantine/signals.py).
    site, _made = Site.objects.update_or_create(
        place=place,
        defaults={"node_id": place.node_id, "latitude": Decimal(lat), "longitude": Decimal(lon)},
    )
    site.groups.set(Group.objects.filter(code__in=codes))
    # Ten rooms a floor from the second: 201…210, 301…
    made = Room.objects.bulk_create(
        [
            Room(site=site, number=f"{i // 10 + 2}{i % 10 + 1:02d}", floor=i // 10 + 2)
            for i in range(rooms)
        ]
    )
    now = timezone.now()
    Bed.objects.bulk_create(
        [
            Bed(room=room, site=site, label=str(b), state=BedState.FREE, changed_at=now)
            for room in made
            for b in range(1, per_room + 1)
        ]
    )
    return site


def _people(compound, start: int, count: int) -> list[Person]:
    households = Household.objects.filter(node=compound).order_by("pk")[start : start + count]
    out = []
    for h in households:
        person = h.members.order_by("pk").first()
        if person is not None:
            out.append(person)
    return out


def _place(site: Site, bed: Bed, person: Person, group: Group, health, status: str, **kw):
    now = timezone.now()
    Bed.objects.filter(pk=bed.pk).update(
        state=BedState.OCCUPIED if status == PlacementStatus.ACTIVE else BedState.RESERVED
    )
    return Placement.objects.create(
        person=person,
        node_id=person.node_id,
        kind=PlacementKind.SITE,
        site=site,
        bed=bed,
        group=group,
        source=PlacementSource.DECISION,
        status=status,
        reserved_by=health,
        reserved_at=kw.pop("reserved_at", now),
        **kw,
    )


def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""

    health, staff = users["weijian"], users.get("dingdian")
    groups = {g.code: g for g in Group.objects.all()}
    sites = {}
    for name, codes, rooms, per_room, lat, lon in SITES:
        place = Place.objects.filter(name=name).first()
        if place is not None:
            sites[name] = _site(place, codes, rooms, per_room, lat, lon)
    hotel, point = sites.get("湖北籍旅客定点酒店"), sites.get("西乡塘区集中隔离点")
    if hotel is None or point is None:
        return
    today = timezone.localdate()
    now = timezone.now()
    hotel_beds = list(hotel.beds.order_by("room__number", "label"))
    point_beds = list(point.beds.order_by("room__number", "label"))
    observed = []

    # Three in quarantine at the designated hotel, one on the way (expected at noon today).
    people = _people(n["nb3"], 10, 4)
    for i, person in enumerate(people[:3]):
        started = 3 + 4 * i
        obs = observation_start_unchecked(
            actor=health,
            person=person,
            kind=ObservationKind.PLACE,
            place=hotel.place,
            last_exposure=today - dt.timedelta(days=started + 1),
            starts=today - dt.timedelta(days=started),
            responsible=staff,
        )
        observed.append(obs.pk)
        arrived = now - dt.timedelta(days=started)
        _place(
            hotel,
            hotel_beds[i * 2],
            person,
            groups["hubei"],
            health,
            PlacementStatus.ACTIVE,
            observation=obs,
            reserved_at=arrived - dt.timedelta(hours=2),
            arrived_at=arrived,
            arrival_confirmed_by=staff,
        )
    if len(people) > 3:
        noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12, 0)))
        _place(
            hotel,
            hotel_beds[6],
            people[3],
            groups["hubei"],
            health,
            PlacementStatus.RESERVED,
            expected_at=noon,
            transport="区卫健局转运车 桂A·D1203",
        )

    # The resident already observed at the quarantine point, placed there.
    running = (
        Observation.objects.filter(
            status=ObservationStatus.ACTIVE, kind=ObservationKind.PLACE, place_id=point.place_id
        )
        .select_related("person")
        .order_by("pk")
    )
    for i, obs in enumerate(running[:5]):
        _place(
            point,
            point_beds[i * 2],
            obs.person,
            groups["close_contact"],
            health,
            PlacementStatus.ACTIVE,
            observation=obs,
            reserved_at=now - dt.timedelta(days=2, hours=2),
            arrived_at=now - dt.timedelta(days=2),
        )

    # Beds being cleaned after earlier releases, and one out of service.
    Bed.objects.filter(pk__in=[hotel_beds[10].pk, hotel_beds[11].pk, point_beds[20].pk]).update(
        state=BedState.CLEANING
    )
    Bed.objects.filter(pk=point_beds[-1].pk).update(state=BedState.OUT_OF_SERVICE)
    if observed:
        followups_generate(today, observations=observed, audit=False)
