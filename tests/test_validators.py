import datetime as dt

import pytest
import time_machine

from fangyi.core.errors import DomainError
from fangyi.core.validators import (
    id_check_digit,
    mask_tail,
    normalize_phone,
    parse_resident_id,
)

# Known-good numbers: the GB 11643-1999 standard's own example, and one ending in X.
STANDARD_EXAMPLE = "11010519491231002X"


def make_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def test_it_accepts_the_standards_example_with_check_x():
    rid = parse_resident_id(STANDARD_EXAMPLE)
    assert rid.number == STANDARD_EXAMPLE
    assert rid.birth_date == dt.date(1949, 12, 31)
    assert rid.sex == "F"  # 17th digit 2 is even
    assert rid.region == "110105"


def test_it_accepts_a_lowercase_x_and_spaces():
    assert parse_resident_id("110105 19491231 002x").number == STANDARD_EXAMPLE


def test_it_computes_check_digits_including_x():
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("45010719780612001") in "0123456789X"


def test_it_rejects_a_wrong_check_digit_naming_the_field():
    number = make_id("45010719780612001")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(DomainError) as exc:
        parse_resident_id(wrong)
    assert "id_number" in exc.value.errors
    assert "check digit" in exc.value.message


def test_it_rejects_impossible_and_future_birth_dates():
    with pytest.raises(DomainError):
        parse_resident_id(make_id("45010719780230001"))  # 30 February
    with time_machine.travel(dt.datetime(2020, 2, 5, tzinfo=dt.UTC)):
        with pytest.raises(DomainError) as exc:
            parse_resident_id(make_id("45010720210101001"))
        assert "impossible" in exc.value.message


def test_it_rejects_letters_and_wrong_lengths_and_unknown_regions():
    for bad in ("4501071978061200", "45010719780612001XX", "A50107197806120011", ""):
        with pytest.raises(DomainError):
            parse_resident_id(bad)
    with pytest.raises(DomainError) as exc:
        parse_resident_id(make_id("99010719780612001"))
    assert "region" in exc.value.message


def test_it_upgrades_an_old_15_digit_number_to_18():
    # 15 digits: region, YYMMDD (19YY), sequence; no check digit.
    rid = parse_resident_id("450107780612001")
    assert rid.number == make_id("45010719780612001")
    assert rid.upgraded_from_15
    assert rid.birth_date == dt.date(1978, 6, 12)
    assert rid.sex == "M"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0771-3125888", "0771-3125888"),
        ("07713125888", "07713125888"),
        ("+85291234567", "+85291234567"),
        ("", ""),
    ],
)
def test_it_normalises_phones(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["1380013800O", "12345", "138001380001", "call me", "+86abc"])
def test_it_rejects_bad_phones(raw):
    with pytest.raises(DomainError) as exc:
        normalize_phone(raw)
    assert "phone" in exc.value.errors


def test_it_masks_the_middle_of_ids_and_phones():
    assert mask_tail(STANDARD_EXAMPLE) == "110***********002X"
    assert mask_tail("13800138000") == "138****8000"
