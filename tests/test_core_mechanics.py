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


# --- one client_id replay (core.idempotency) -------------------------------------------------

import uuid  # noqa: E402

from django.db import IntegrityError  # noqa: E402

from fangyi.core.idempotency import create_once, replay  # noqa: E402
from fangyi.health.models import Declaration  # noqa: E402
from fangyi.health.services import DeclarationInput, declaration_record  # noqa: E402
from fangyi.health.services import declarations as declarations_module  # noqa: E402
from fangyi.people.models import Household  # noqa: E402


def test_no_client_id_is_no_replay(jiwu):
    assert replay(Household, None, lambda h: True) is None


def test_a_repeat_gets_the_stored_record_and_a_foreign_one_is_refused(jiwu):
    key = uuid.uuid4()
    stored = Household.objects.create(node=jiwu, address="1 Road", client_id=key)
    assert replay(Household, key, lambda h: h.node_id == jiwu.pk) == stored
    with pytest.raises(DomainError) as exc:
        replay(Household, key, lambda h: False)
    assert exc.value.status == 409 and set(exc.value.errors) == {"client_id"}


def test_a_concurrent_retry_that_loses_the_insert_gets_the_winner(jiwu):
    key = uuid.uuid4()
    winner = Household.objects.create(node=jiwu, address="1 Road", client_id=key)
    got = create_once(
        Household,
        key,
        lambda h: True,
        lambda: Household.objects.create(node=jiwu, address="1 Road", client_id=key),
    )
    assert got == winner
    assert Household.objects.filter(client_id=key).count() == 1
    # the savepoint rolled back the failed insert only: the transaction goes on
    assert Household.objects.filter(address="1 Road").count() == 1


def test_a_concurrent_retry_whose_winner_is_not_the_caller_s_is_refused(jiwu):
    key = uuid.uuid4()
    Household.objects.create(node=jiwu, address="1 Road", client_id=key)
    with pytest.raises(DomainError):
        create_once(
            Household,
            key,
            lambda h: False,
            lambda: Household.objects.create(node=jiwu, address="2 Road", client_id=key),
        )
    assert not Household.objects.filter(address="2 Road").exists()


def test_an_integrity_error_that_is_not_a_race_is_raised(jiwu):
    def write():
        raise IntegrityError("another constraint")

    with pytest.raises(IntegrityError):
        create_once(Household, uuid.uuid4(), lambda h: True, write)


def _race(monkeypatch):
    """The retry's first look finds nothing (the other request has not committed yet)."""
    monkeypatch.setattr(declarations_module, "replay", lambda *a, **k: None)


def test_a_declaration_sent_twice_at_once_is_stored_once(officer, jiwu_person, monkeypatch):
    key = uuid.uuid4()
    first = declaration_record(
        actor=officer,
        person=jiwu_person,
        data=DeclarationInput(temperature="36.5", temperature_method="ear"),
        client_id=key,
    )
    _race(monkeypatch)
    again = declaration_record(
        actor=officer,
        person=jiwu_person,
        data=DeclarationInput(temperature="36.5", temperature_method="ear"),
        client_id=key,
    )
    assert again == first
    assert Declaration.objects.filter(person=jiwu_person).count() == 1


def test_a_racing_declaration_for_another_person_is_refused_and_stores_nothing(
    officer, jiwu_person, jiwu_household, monkeypatch
):
    other = jiwu_household.members.exclude(pk=jiwu_person.pk).first()
    assert other is not None
    key = uuid.uuid4()
    declaration_record(
        actor=officer,
        person=jiwu_person,
        data=DeclarationInput(temperature="36.5", temperature_method="ear"),
        client_id=key,
    )
    _race(monkeypatch)
    with pytest.raises(DomainError) as exc:
        declaration_record(
            actor=officer,
            person=other,
            data=DeclarationInput(temperature="36.5", temperature_method="ear"),
            client_id=key,
        )
    assert exc.value.errors == {"client_id": [exc.value.message]}
    assert not Declaration.objects.filter(person=other).exists()


# --- background work commits with the row it works on ----------------------------------------

from django.db import transaction  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from fangyi.transfer import services as transfer_services  # noqa: E402
from fangyi.transfer.models import ImportJob  # noqa: E402
from tests.test_transfer import GOOD, xlsx_bytes  # noqa: E402


class _RolledBack(Exception):
    pass


def test_an_import_s_task_is_stored_with_its_job_and_rolls_back_with_it(officer):
    def upload():
        return transfer_services.import_create(
            actor=officer, filename="a.xlsx", data=xlsx_bytes(GOOD[:1]), enqueue=True
        )

    with pytest.raises(_RolledBack):
        with transaction.atomic():
            job = upload()
            assert DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).count() == 1
            raise _RolledBack
    assert not ImportJob.objects.exists()
    assert not DBTaskResult.objects.exists()

    job = upload()
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("import_run") and task.args_kwargs["args"] == [job.pk]


def test_an_import_whose_task_cannot_be_queued_stores_no_orphan_job(officer, monkeypatch):
    from fangyi.transfer import tasks

    def broken(*args, **kwargs):
        raise RuntimeError("queue down")

    class Unqueueable:
        enqueue = staticmethod(broken)

    monkeypatch.setattr(tasks, "import_run", Unqueueable)
    with pytest.raises(RuntimeError):
        transfer_services.import_create(
            actor=officer, filename="a.xlsx", data=xlsx_bytes(GOOD[:1]), enqueue=True
        )
    assert not ImportJob.objects.exists()


# --- bulk audit rows: built by core.audit, masked as every other audit row -------------------

from fangyi.core.audit import AuditRows, masked_items  # noqa: E402
from fangyi.core.models import AuditEntry  # noqa: E402
from fangyi.people import services as people_services  # noqa: E402
from tests.test_people import valid_id  # noqa: E402


def test_a_person_stored_by_the_bulk_path_is_audited_as_one_stored_alone(officer, jiwu_household):
    """The same person through person_create and through the bulk path: the two audit rows
    carry the same masked changes, actor and text."""

    def data(seq: str) -> people_services.PersonInput:
        return people_services.PersonInput(
            name="韦小宝",
            id_number=valid_id(seq=seq),
            phone="13912342345",
            household=jiwu_household,
            node=jiwu_household.node,
        )

    alone = people_services.person_create(actor=officer, data=data("601"))
    result = people_services.persons_bulk_create(actor=officer, rows=[data("602")])
    assert result.created == 1
    one, bulk = (
        AuditEntry.objects.filter(action="fangyi.person.created", object_repr="韦小宝")
        .order_by("pk")
        .reverse()[:2][::-1]
    )
    assert one.object_id == alone.pk
    assert bulk.changes["phone"] == one.changes["phone"] == [None, "139****2345"]
    assert bulk.changes["id_number"][1].count("*") == one.changes["id_number"][1].count("*") > 8
    assert valid_id(seq="602") not in str(bulk.changes)
    assert (
        (bulk.actor_id, bulk.actor_name)
        == (one.actor_id, one.actor_name)
        == (
            officer.pk,
            officer.username,
        )
    )


def test_bulk_audit_rows_without_an_actor_are_the_systems_and_mask_what_they_carry():
    rows = AuditRows(None)
    row = rows.row(None, "fangyi.x.created", "x", 1, "y" * 300, "1.", {})
    assert dict(zip(AuditRows.columns, row, strict=True))["actor_name"] == "system"
    assert len(dict(zip(AuditRows.columns, row, strict=True))["object_repr"]) == 200
    items = masked_items([("phone", "13912342345", False), ("password", "x", False)])
    assert items == [("phone", "139****2345", False)]


# --- POST → service → field errors or the result ------------------------------------------------

from django import forms as django_forms  # noqa: E402

from fangyi.core.errors import Conflict  # noqa: E402
from fangyi.core.web import form_submit  # noqa: E402


class _BedsForm(django_forms.Form):
    beds = django_forms.IntegerField()


def _refuse(error):
    def call(cd):
        raise error

    return call


@pytest.mark.parametrize(
    "data, call, expected, errors",
    [
        ({"beds": "2"}, lambda cd: cd["beds"] * 10, (20, 200), set()),
        ({"beds": "x"}, lambda cd: 1 / 0, (None, 400), {"beds"}),  # never called
        ({"beds": "2"}, _refuse(DomainError("Too many.", field="count")), (None, 400), {"beds"}),
        ({"beds": "2"}, _refuse(Conflict("Taken meanwhile.", field="beds")), (None, 409), {"beds"}),
        ({"beds": "2"}, _refuse(DomainError("No.", field="other")), (None, 400), {"__all__"}),
    ],
)
def test_form_submit_answers_the_result_or_puts_the_errors_on_the_form(
    data, call, expected, errors
):
    form = _BedsForm(data)
    assert form_submit(form, call, aliases={"count": "beds"}) == expected
    assert set(form.errors) == errors
