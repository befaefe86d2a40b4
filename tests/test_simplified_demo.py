"""Nanning writes Simplified: the demo city is in Simplified script (issue 12, item 17), and a
name typed in Traditional still finds it."""

from __future__ import annotations

import pytest
import zhconv

from fangyi.core.models import Node
from fangyi.people import selectors
from fangyi.people.models import Person, Place

pytestmark = pytest.mark.django_db


def test_the_demo_city_is_written_in_simplified():
    names = [
        *Node.objects.values_list("name", flat=True),
        *Place.objects.values_list("name", flat=True),
        *Person.objects.values_list("name", flat=True),
    ]
    assert names
    traditional = [n for n in names if zhconv.convert(n, "zh-cn") != n]
    assert traditional == []


@pytest.mark.parametrize("q", ["徐紅心", "紅心", "徐紅"])
def test_a_name_typed_in_traditional_finds_the_simplified_record(officer, q):
    """(A sheet typed in Traditional imports into the Simplified city too: tests/test_transfer.py
    keeps its rows in Traditional on purpose.)"""
    found = set(selectors.person_list(officer, q=q).values_list("name", flat=True))
    assert "徐红心" in found
