"""The declaration form shows the rules' proposal before anything is saved (issue 12, item 4),
and after saving leads on to the next member of the household (item 15)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fangyi.health.models import Declaration
from fangyi.observation.models import Observation
from tests.conftest import english_login

pytestmark = pytest.mark.django_db


def _form(**over) -> dict:
    data = {
        "declared_on": timezone.localdate().isoformat(),
        "temperature": "38.5",
        "temperature_method": "ear",
        "travel_since": "",
        "notes": "",
    }
    data.update(over)
    return data


def test_see_the_proposal_stores_nothing_and_a_correction_is_saved(grid_worker, jiwu_person):
    client = english_login(grid_worker)
    url = f"/declarations/new/?person={jiwu_person.pk}"
    before = (Declaration.objects.count(), Observation.objects.count())
    form = client.get(url).content.decode()
    assert 'id="preview"' in form and 'id="save"' not in form
    shown = client.post(url, _form(preview="1"))
    assert shown.status_code == 200
    page = shown.content.decode()
    assert 'id="proposal"' in page and "38.5" in page and 'id="save"' in page
    assert "Fever clinic" in page or "fever" in page.lower()
    assert (Declaration.objects.count(), Observation.objects.count()) == before  # nothing yet
    # The worker sees the typo, corrects 38.5 to 36.5 and saves.
    saved = client.post(url, _form(temperature="36.5"))
    assert saved.status_code == 302
    decl = Declaration.objects.latest("pk")
    assert str(decl.temperature) == "36.5" and decl.proposal == "cleared"
    assert Declaration.objects.count() == before[0] + 1


def test_a_bad_value_is_refused_on_the_preview_too(grid_worker, jiwu_person):
    client = english_login(grid_worker)
    before = Declaration.objects.count()
    page = client.post(
        f"/declarations/new/?person={jiwu_person.pk}", _form(temperature="45", preview="1")
    )
    assert page.status_code == 400 and 'id="proposal"' not in page.content.decode()
    assert Declaration.objects.count() == before


def test_the_api_proposes_without_storing(grid_worker, jiwu_person, outsider):
    body = {"person_id": jiwu_person.pk, "temperature": "38.5", "temperature_method": "ear"}
    before = Declaration.objects.count()
    answer = english_login(grid_worker).post(
        "/api/declarations/propose", body, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["proposal"] == "fever_clinic"
    assert Declaration.objects.count() == before
    refused = english_login(outsider).post(
        "/api/declarations/propose", body, content_type="application/json"
    )
    assert refused.status_code == 404


def test_after_saving_the_next_member_of_the_household_is_one_tap_away(grid_worker, jiwu_person):
    from fangyi.people.models import Person

    Declaration.objects.filter(person__household=jiwu_person.household).delete()
    nxt = Person.objects.create(
        name="下一位", name_norm="下一位", id_type="none", node=jiwu_person.node,
        household=jiwu_person.household,
    )  # fmt: skip
    first_other = (
        Person.objects.filter(household=jiwu_person.household).exclude(pk=jiwu_person.pk)
        .order_by("pk").first()
    )  # fmt: skip
    client = english_login(grid_worker)
    page = client.post(
        f"/declarations/new/?person={jiwu_person.pk}", _form(temperature="36.5"), follow=True
    ).content.decode()
    assert f"/declarations/new/?person={first_other.pk}" in page
    # When every other member has declared that day, there is no next one.
    for p in Person.objects.filter(household=jiwu_person.household).exclude(pk=jiwu_person.pk):
        client.post(f"/declarations/new/?person={p.pk}", _form(temperature="36.5"))
    last = Declaration.objects.filter(person=nxt).latest("pk")
    assert 'id="next-member"' not in client.get(f"/declarations/{last.pk}/").content.decode()
