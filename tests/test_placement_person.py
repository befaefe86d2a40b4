"""A person holds one placement at a time, in the database itself: even two requests that both
pass the service's check at once cannot give one person two beds."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from fangyi.people.models import Person
from fangyi.quarantine.models import Bed, BedState, Group, Placement, PlacementStatus, Site


def test_the_database_refuses_a_second_holding_placement_for_one_person(db):
    site = Site.objects.get(place__name="湖北籍旅客定点酒店")
    person = Person.objects.filter(placements__isnull=True).first()
    beds = list(Bed.objects.filter(site=site, state=BedState.FREE)[:2])
    group = Group.objects.get(code="hubei")

    def place(bed, status):
        return Placement.objects.create(
            person=person,
            node=person.node,
            kind="site",
            site=site,
            bed=bed,
            group=group,
            source="decision",
            status=status,
        )

    place(beds[0], PlacementStatus.RESERVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        place(beds[1], PlacementStatus.ACTIVE)
    # An ended placement does not count: the person may be placed again after it.
    Placement.objects.filter(person=person).update(status=PlacementStatus.RELEASED)
    place(beds[1], PlacementStatus.RESERVED)
    assert Placement.objects.filter(person=person).count() == 2
