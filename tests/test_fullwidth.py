"""ID numbers and phones typed in full width, as Chinese input methods produce them, are read
as their ASCII forms everywhere (issue 12, item 6): forms, API and import alike. Before, a
full-width ID passed the digit check (Python's \\d is Unicode) and was then refused as an
"unknown region code"."""

from __future__ import annotations

import pytest

from fangyi.core.errors import DomainError
from fangyi.core.validators import fold_width, normalize_phone, parse_resident_id
from fangyi.people.models import Person
from tests.test_api import valid_id
from tests.test_people import form_data


def wide(text: str) -> str:
    """The full-width form of ASCII digits and letters (０-９, Ａ-Ｚ), as an IME types them."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


ID = valid_id("19850304", "013", "420502")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (wide(ID), ID),
        (wide(ID[:17]) + "ｘ", ID[:17] + "X") if ID.endswith("X") else (wide(ID), ID),
        (wide(ID[:6]) + "　" + wide(ID[6:]), ID),  # an ideographic space inside
    ],
)
def test_a_full_width_id_number_is_read_as_ascii(typed, stored):
    assert parse_resident_id(typed).number == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (wide("13907710001"), "13907710001"),
        ("＋８６ " + wide("13907710001"), "13907710001"),
        (wide("0771-5551234"), "0771-5551234"),
    ],
)
def test_a_full_width_phone_is_read_as_ascii(typed, stored):
    assert normalize_phone(typed) == stored


def test_other_unicode_digits_are_still_refused():
    arabic_indic = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in ID)
    with pytest.raises(DomainError):
        parse_resident_id(arabic_indic)
    assert fold_width("４２") == "42"


@pytest.mark.django_db
def test_the_person_form_takes_a_full_width_id_and_phone(officer, as_user, jiwu_household):
    client = as_user(officer)
    response = client.post(
        "/people/new/",
        form_data(household=jiwu_household.pk, id_number=wide(ID), phone=wide("13977112346")),
    )
    assert response.status_code == 302, response.content[:800]
    person = Person.objects.get(id_number=ID)
    assert person.phone == "13977112346" and person.sex == "M"


@pytest.mark.django_db
def test_the_api_takes_a_full_width_id(officer, jiwu_household):
    from tests.conftest import english_login

    response = english_login(officer).post(
        "/api/persons",
        {"name": "全角者", "id_number": wide(ID), "household_id": jiwu_household.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["id_number"] == ID


@pytest.mark.django_db
def test_the_search_finds_a_person_by_a_full_width_id(officer, jiwu_household):
    from fangyi.people import selectors

    Person.objects.filter(id_number=ID).delete()
    from tests.conftest import english_login

    english_login(officer).post(
        "/api/persons",
        {"name": "全角者", "id_number": ID, "household_id": jiwu_household.pk},
        content_type="application/json",
    )
    assert [p.id_number for p in selectors.person_list(officer, q=wide(ID))] == [ID]
