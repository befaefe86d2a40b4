"""The mechanics every app shares, owned by core: the field-error collector."""

import pytest

from fangyi.core.errors import DomainError, FieldErrors


def test_the_collector_raises_every_field_error_at_once_in_order():
    e = FieldErrors()
    e.add("name", "Name is required.")
    e.add("phone", "Enter a phone number.")
    e.add("name", "Too long.")
    with pytest.raises(DomainError) as exc:
        e.raise_if_any()
    assert exc.value.status == 400
    assert exc.value.message == "Name is required."
    assert exc.value.errors == {
        "name": ["Name is required.", "Too long."],
        "phone": ["Enter a phone number."],
    }


def test_an_empty_collector_raises_nothing():
    FieldErrors().raise_if_any()


def test_a_validator_run_through_the_collector_adds_its_fields_and_returns_none():
    def validator(value):
        if value < 0:
            raise DomainError("Negative.", field="n")
        return value * 2

    e = FieldErrors()
    assert e.run(validator, 2) == 4
    assert e.run(validator, -1) is None
    assert e.errors == {"n": ["Negative."]}


def test_a_node_outside_the_jurisdiction_makes_the_whole_answer_a_404():
    e = FieldErrors()
    e.add("name", "Name is required.")
    e.not_yours("node")
    with pytest.raises(DomainError) as exc:
        e.raise_if_any()
    assert exc.value.status == 404
    assert set(exc.value.errors) == {"name", "node"}


def test_a_nested_record_s_errors_are_named_under_its_prefix():
    e = FieldErrors()
    e.merge(
        DomainError("Bad.", errors={"__all__": ["Bad."], "date": ["Enter a date."]}), "visits.0"
    )
    assert e.errors == {"visits.0": ["Bad."], "visits.0.date": ["Enter a date."]}
