"""Declarations, decisions, self-report links and the rules page: services and pages, on the
demo city. The rules themselves are in tests/test_rules.py; the API in test_health_api.py."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from fangyi.care import flows
from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AccessLog, AuditEntry, Node
from fangyi.health import services
from fangyi.health.models import (
    Decision,
    Declaration,
    RiskArea,
    RiskSettings,
    SelfReportLink,
)
from fangyi.health.public import given_name
from fangyi.health.services import DeclarationInput, DeclarationRow
from fangyi.observation.models import Observation
from fangyi.people.models import Household, Person, Place
from tests.conftest import login as conftest_login

pytestmark = pytest.mark.django_db


def login(user):
    """A logged-in client that asks for English pages (the assertions read English text)."""
    return english(conftest_login(user))


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def today() -> dt.date:
    return timezone.localdate()


def ago(days: int) -> str:
    return (today() - dt.timedelta(days=days)).isoformat()


def wuhan(days_back: int = 3) -> DeclarationInput:
    return DeclarationInput(
        temperature=Decimal("36.6"),
        temperature_method="forehead",
        travel=[{"place": "武汉市", "from": ago(days_back + 4), "to": ago(days_back)}],
    )


def contact_case(days_back: int = 2) -> DeclarationInput:
    return DeclarationInput(
        temperature="36.5",
        temperature_method="ear",
        contacts=[{"kind": "confirmed", "who": "邻居", "date": ago(days_back)}],
    )


def zhongshan_person() -> Person:
    return Person.objects.filter(node__name="中山小区").order_by("pk").first()


def quarantine_site() -> Place:
    return Place.objects.get(name="西乡塘区集中隔离点")


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_has_risk_areas_and_declarations_to_confirm_and_to_decide(health, grid_worker):
    hubei = RiskArea.objects.get(name="湖北省")
    assert hubei.division == "420000" and hubei.counts_from <= today() - dt.timedelta(days=30)
    assert RiskArea.objects.filter(name="温州市", is_active=True).exists()
    from fangyi.health import selectors

    assert selectors.awaiting_decision(health).filter(proposal="central").exists()
    pending = selectors.awaiting_confirmation(grid_worker)
    assert pending.filter(source="self").count() >= 1
    proposals = set(Declaration.objects.values_list("proposal", flat=True))
    assert {"cleared", "home", "central"} <= proposals


# --- recording a declaration -------------------------------------------------------------------


def test_a_declaration_is_stored_with_its_proposal_and_audited(grid_worker, jiwu_person):
    d = services.declaration_record(actor=grid_worker, person=jiwu_person, data=wuhan(3))
    d.refresh_from_db()
    assert d.proposal == "home"
    assert d.proposal_reason == f"back from 武汉市 on {ago(3)}, within 14 days"
    assert d.last_exposure.isoformat() == ago(3)
    assert (d.status, d.source, d.node_id) == ("confirmed", "visit", jiwu_person.node_id)
    assert d.confirmed_by == grid_worker and d.recorded_by == grid_worker
    assert d.temperature == Decimal("36.6")
    entry = AuditEntry.objects.get(action="fangyi.declaration.created", object_id=d.pk)
    assert entry.actor == grid_worker
    assert entry.changes["proposal"] == [None, "home"]
    assert entry.node_path == jiwu_person.node.path


def test_the_same_client_id_twice_stores_one(grid_worker, jiwu_person):
    key = uuid.uuid4()
    a = services.declaration_record(
        actor=grid_worker, person=jiwu_person, data=wuhan(), client_id=key
    )
    b = services.declaration_record(
        actor=grid_worker, person=jiwu_person, data=wuhan(), client_id=key
    )
    assert a.pk == b.pk
    assert Declaration.objects.filter(client_id=key).count() == 1
    assert (
        AuditEntry.objects.filter(action="fangyi.declaration.created", object_id=a.pk).count() == 1
    )


def errors_of(fn, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value.errors


@pytest.mark.parametrize("value", ["3.5", "375", "42.1", "34.9", "abc", "-36"])
def test_an_impossible_temperature_is_refused_naming_the_field(grid_worker, jiwu_person, value):
    before = Declaration.objects.count()
    errors = errors_of(
        services.declaration_record,
        actor=grid_worker,
        person=jiwu_person,
        data=DeclarationInput(temperature=value, temperature_method="ear"),
    )
    assert list(errors) == ["temperature"]
    assert Declaration.objects.count() == before


def test_every_bad_field_is_named_at_once(grid_worker, jiwu_person):
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    data = DeclarationInput(
        temperature="36.8",
        temperature_method="",
        symptoms=["dry_cough", "hiccups"],
        travel_since=today() + dt.timedelta(days=2),
        travel=[
            {"place": "武汉", "from": tomorrow, "to": tomorrow},
            {"place": "温州", "from": ago(2), "to": ago(5)},
            {"place": "", "from": "", "to": ""},
            {"place": "x" * 101, "from": "2020-02-30", "to": ago(1)},
        ],
        contacts=[{"kind": "sister", "date": tomorrow}, {"kind": "confirmed", "date": ""}],
        notes="n" * 2001,
    )
    errors = errors_of(
        services.declaration_record, actor=grid_worker, person=jiwu_person, data=data
    )
    assert set(errors) == {
        "temperature_method",
        "symptoms",
        "travel_since",
        "travel.0.from",
        "travel.0.to",
        "travel.1.to",
        "travel.2.place",
        "travel.2.from",
        "travel.3.place",
        "travel.3.from",
        "contacts.0.kind",
        "contacts.0.date",
        "contacts.1.date",
        "notes",
    }
    assert "hiccups" in errors["symptoms"][0]


def test_travel_after_the_declaration_date_is_refused(grid_worker, jiwu_person):
    data = DeclarationInput(
        declared_on=today() - dt.timedelta(days=5),
        temperature="36.5",
        temperature_method="oral",
        travel=[{"place": "桂林", "from": ago(7), "to": ago(2)}],
    )
    errors = errors_of(
        services.declaration_record, actor=grid_worker, person=jiwu_person, data=data
    )
    assert list(errors) == ["travel.0.to"]


def test_a_person_outside_the_jurisdiction_is_not_found(
    outsider, jiwu_person, officer, beihu_person
):
    for actor, person in ((outsider, jiwu_person), (officer, beihu_person)):
        before = Declaration.objects.count()
        with pytest.raises(NotFound) as info:
            services.declaration_record(actor=actor, person=person, data=wuhan())
        assert "person" in info.value.errors
        assert Declaration.objects.count() == before


def test_roles_without_the_action_are_refused(hotel_clerk, admin, jiwu_person):
    for actor in (hotel_clerk, admin):
        with pytest.raises(Forbidden):
            services.declaration_record(actor=actor, person=jiwu_person, data=wuhan())


def _visit(actor, household: Household):
    """A door visit at `household` (made directly: screening's own tests cover its service)."""
    from fangyi.screening.models import Assignment, DoorVisit, Sweep

    sweep = Sweep.objects.create(
        node=household.node, purpose="测试", starts=today(), ends=today(), created_by=actor
    )
    assignment = Assignment.objects.create(
        sweep=sweep, household=household, node=household.node, assignee=actor
    )
    return DoorVisit.objects.create(
        assignment=assignment,
        household=household,
        node=household.node,
        outcome="visited",
        at=timezone.now(),
        by=actor,
    )


def test_at_a_visit_the_person_must_belong_to_the_household(
    grid_worker, jiwu_household, jiwu_person
):
    other = Household.objects.filter(node=jiwu_household.node).exclude(pk=jiwu_household.pk).first()
    visit = _visit(grid_worker, other)
    errors = errors_of(
        services.declaration_record,
        actor=grid_worker,
        person=jiwu_person,
        data=wuhan(),
        visit=visit,
    )
    assert list(errors) == ["person"]
    ok = services.declaration_record(
        actor=grid_worker,
        person=jiwu_person,
        data=wuhan(),
        visit=_visit(grid_worker, jiwu_household),
    )
    assert ok.visit.household_id == jiwu_household.pk


# --- the bulk path -----------------------------------------------------------------------------


def test_bulk_stores_good_rows_with_proposals_and_numbers_the_bad_ones(officer, jiwu_household):
    persons = list(Person.objects.filter(node=jiwu_household.node).select_related("node")[:4])
    outside = Person.objects.filter(node__name="北湖小区").select_related("node").first()
    key = uuid.uuid4()
    rows = [
        (persons[0], wuhan(2), key),
        (persons[1], DeclarationInput(temperature="375", temperature_method="ear")),
        (persons[2], contact_case(1)),
        (outside, wuhan()),
        DeclarationRow(persons[3], DeclarationInput(temperature="38.1", temperature_method="ear")),
    ]
    audit_before = AuditEntry.objects.filter(action="fangyi.declaration.created").count()
    result = services.declarations_bulk_record(actor=officer, rows=rows, batch_size=2)
    assert result.created == 3
    assert [(i, list(e)) for i, e in result.errors] == [(2, ["temperature"]), (4, ["person"])]
    stored = Declaration.objects.get(client_id=key)
    assert (stored.proposal, stored.source, stored.status) == ("home", "import", "confirmed")
    assert stored.proposal_reason.startswith("back from 武汉市")
    # The bulk path stores exactly what the single path would.
    assert stored.temperature == Decimal("36.6") and stored.temperature_method == "forehead"
    assert stored.travel == [{"place": "武汉市", "from": ago(6), "to": ago(2), "transport": ""}]
    assert (stored.symptoms, stored.contacts) == ([], [])
    assert stored.last_exposure.isoformat() == ago(2)
    assert Declaration.objects.filter(person=persons[2]).latest("pk").proposal == "central"
    assert Declaration.objects.filter(person=persons[3]).latest("pk").proposal == "fever_clinic"
    entries = AuditEntry.objects.filter(action="fangyi.declaration.created")
    assert entries.count() == audit_before + 3
    entry = entries.get(object_id=stored.pk)
    assert entry.actor == officer and entry.changes["proposal"] == [None, "home"]
    assert entry.changes["temperature"] == [None, "36.6"]
    assert entry.changes["travel"] == [None, stored.travel]
    assert entry.node_path == stored.node.path and entry.object_type == "declaration"
    single = services.declaration_record(actor=officer, person=persons[0], data=wuhan(2))
    single_entry = entries.get(object_id=single.pk)
    assert set(single_entry.changes) == set(entry.changes)
    # Sent again: nothing new.
    again = services.declarations_bulk_record(actor=officer, rows=[(persons[0], wuhan(2), key)])
    assert (again.created, again.already) == (0, 1)


# --- confirming a self-report ------------------------------------------------------------------


def test_a_worker_confirms_a_self_report_with_corrections(grid_worker, officer, jiwu_person):
    link, _token = services.selfreport_link_create(actor=officer, person=jiwu_person)
    d = services.selfreport_declare(
        link=link, data=DeclarationInput(temperature="36.5", temperature_method="armpit")
    )
    assert (d.status, d.source, d.recorded_by, d.proposal) == ("pending", "self", None, "cleared")
    fixed = services.declaration_confirm(actor=grid_worker, declaration=d, data=wuhan(1))
    fixed.refresh_from_db()
    assert (fixed.status, fixed.confirmed_by, fixed.proposal) == ("confirmed", grid_worker, "home")
    entry = AuditEntry.objects.get(action="fangyi.declaration.confirmed", object_id=d.pk)
    assert entry.changes["status"] == ["pending", "confirmed"]
    assert entry.changes["proposal"] == ["cleared", "home"]
    with pytest.raises(Conflict):
        services.declaration_confirm(actor=grid_worker, declaration=fixed)


def test_a_self_report_outside_is_not_confirmed(outsider, officer, jiwu_person):
    link, _token = services.selfreport_link_create(actor=officer, person=jiwu_person)
    d = services.selfreport_declare(link=link, data=wuhan())
    with pytest.raises(NotFound):
        services.declaration_confirm(actor=outsider, declaration=d)
    d.refresh_from_db()
    assert d.status == "pending"


# --- decisions ---------------------------------------------------------------------------------


def test_health_staff_confirm_central_observation_and_the_observation_starts(
    health, grid_worker, jiwu_person
):
    d = services.declaration_record(actor=grid_worker, person=jiwu_person, data=contact_case(2))
    assert d.proposal == "central"
    errors = errors_of(
        flows.decision_make, actor=health, person=jiwu_person, outcome="central", declaration=d
    )
    assert list(errors) == ["place"]
    hotel = Place.objects.get(name="北大路宾馆")  # a hotel, not a quarantine point
    errors = errors_of(
        flows.decision_make,
        actor=health,
        person=jiwu_person,
        outcome="central",
        declaration=d,
        place=hotel,
    )
    assert list(errors) == ["place"]
    decision = flows.decision_make(
        actor=health, person=jiwu_person, outcome="central", declaration=d, place=quarantine_site()
    )
    assert (decision.proposal, decision.outcome, decision.decided_by) == (
        "central",
        "central",
        health,
    )
    assert decision.reason == d.proposal_reason  # confirmed as proposed: the rules' reason
    assert decision.last_exposure.isoformat() == ago(2)
    obs = Observation.objects.get(decision=decision)
    assert (obs.kind, obs.place, obs.status) == ("place", quarantine_site(), "active")
    assert obs.ends == decision.last_exposure + dt.timedelta(days=14)
    assert AuditEntry.objects.filter(
        action="fangyi.decision.created", object_id=decision.pk
    ).exists()
    assert AuditEntry.objects.filter(action="fangyi.observation.started", object_id=obs.pk).exists()


def test_changing_the_proposal_needs_a_reason(health, grid_worker, jiwu_person):
    d = services.declaration_record(actor=grid_worker, person=jiwu_person, data=contact_case(2))
    errors = errors_of(
        flows.decision_make, actor=health, person=jiwu_person, outcome="home", declaration=d
    )
    assert list(errors) == ["reason"]
    decision = flows.decision_make(
        actor=health,
        person=jiwu_person,
        outcome="home",
        reason="独居老人,居家隔离更合适",
        declaration=d,
    )
    assert (decision.proposal, decision.outcome) == ("central", "home")
    obs = Observation.objects.get(decision=decision)
    assert (obs.kind, obs.place) == ("home", None)


def test_a_decision_without_exposure_cannot_start_observation(health, jiwu_person):
    errors = errors_of(
        flows.decision_make, actor=health, person=jiwu_person, outcome="home", reason="观察"
    )
    assert list(errors) == ["last_exposure"]
    assert not Decision.objects.filter(person=jiwu_person).exists()


def test_only_health_staff_decide_and_only_in_their_district(
    officer, supervisor, health, jiwu_person
):
    for actor in (officer, supervisor):
        with pytest.raises(Forbidden):
            flows.decision_make(actor=actor, person=jiwu_person, outcome="cleared", reason="x")
    with pytest.raises(NotFound):
        flows.decision_make(actor=health, person=zhongshan_person(), outcome="cleared", reason="x")


def test_the_same_decision_sent_twice_is_stored_once(health, jiwu_person):
    key = uuid.uuid4()
    a = flows.decision_make(
        actor=health, person=jiwu_person, outcome="cleared", reason="无接触史", client_id=key
    )
    b = flows.decision_make(
        actor=health, person=jiwu_person, outcome="cleared", reason="无接触史", client_id=key
    )
    assert a.pk == b.pk and Decision.objects.filter(client_id=key).count() == 1


# --- self-report links -------------------------------------------------------------------------


def test_a_new_link_revokes_the_old_one_and_only_the_digest_is_stored(officer, jiwu_person):
    old, old_token = services.selfreport_link_create(actor=officer, person=jiwu_person)
    new, new_token = services.selfreport_link_create(actor=officer, person=jiwu_person)
    assert old_token != new_token
    assert not SelfReportLink.objects.filter(digest__in=[old_token, new_token]).exists()
    assert services.selfreport_resolve(new_token).pk == new.pk
    messages = set()
    for token in (old_token, "no-such-token-at-all", ""):
        with pytest.raises(NotFound) as info:
            services.selfreport_resolve(token)
        messages.add(info.value.message)
    assert len(messages) == 1
    old.refresh_from_db()
    assert old.revoked is not None


def test_an_expired_link_answers_like_an_unknown_one(officer, jiwu_person):
    _link, token = services.selfreport_link_create(actor=officer, person=jiwu_person)
    days = RiskSettings.current().self_report_days
    with time_machine.travel(timezone.now() + dt.timedelta(days=days, minutes=1)):
        with pytest.raises(NotFound):
            services.selfreport_resolve(token)


def test_no_link_for_someone_outside(outsider, jiwu_person, hotel_clerk):
    with pytest.raises(NotFound):
        services.selfreport_link_create(actor=outsider, person=jiwu_person)
    with pytest.raises(Forbidden):
        services.selfreport_link_create(actor=hotel_clerk, person=jiwu_person)


def test_given_name():
    assert given_name("徐红心") == "红心"
    assert given_name("欧阳小明") == "小明"
    assert given_name("Anna Smith") == "Anna"


# --- pages: the declaration form ---------------------------------------------------------------


def test_the_form_stores_a_declaration_and_shows_the_proposal(grid_worker, jiwu_person):
    client = login(grid_worker)
    url = f"/declarations/new/?person={jiwu_person.pk}"
    page = client.get(url)
    assert page.status_code == 200 and jiwu_person.name in page.content.decode()
    assert page["Content-Language"] == "en"  # the assertions below read English
    key = uuid.uuid4()
    body = {
        "client_id": str(key),
        "declared_on": today().isoformat(),
        "temperature": "36.7",
        "temperature_method": "forehead",
        "symptoms": [],
        "travel-place": ["武汉市", ""],
        "travel-from": [ago(8), ""],
        "travel-to": [ago(4), ""],
        "travel-transport": ["高铁", ""],
        "contact-kind": ["confirmed"],
        "contact-who": [""],
        "contact-date": [""],
        "contact-place": [""],
        "notes": "",
    }
    response = client.post(url, body)
    assert response.status_code == 302
    d = Declaration.objects.get(client_id=key)
    assert d.travel == [{"place": "武汉市", "from": ago(8), "to": ago(4), "transport": "高铁"}]
    assert d.contacts == []  # a row with only its kind chosen is no contact
    detail = client.get(response["Location"]).content.decode()
    assert "Observation at home" in detail
    assert f"back from 武汉市 on {ago(4)}" in detail
    assert client.post(url, body).status_code == 302  # sent twice
    assert Declaration.objects.filter(client_id=key).count() == 1


def test_bad_input_comes_back_with_errors_by_the_fields_and_everything_kept(
    grid_worker, jiwu_person
):
    client = login(grid_worker)
    before = Declaration.objects.count()
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        f"/declarations/new/?person={jiwu_person.pk}",
        {
            "temperature": "375",
            "temperature_method": "ear",
            "symptoms": ["dry_cough"],
            "travel-place": ["温州市瓯海区"],
            "travel-from": [ago(3)],
            "travel-to": [tomorrow],
            "travel-transport": ["自驾"],
            "notes": "家中三人",
        },
    )
    assert response.status_code == 400  # refused: nothing stored, everything kept
    html = response.content.decode()
    assert Declaration.objects.count() == before
    assert 'value="375"' in html
    assert "温州市瓯海区" in html and "自驾" in html and tomorrow in html and "家中三人" in html
    assert re.search(r'value="dry_cough"[^>]*checked', html)
    assert "between 35.0 and 42.0" in html
    assert "after the declaration" in html
    assert html.count("field-error") >= 2


def test_the_form_for_someone_outside_is_not_found(officer, beihu_person):
    assert login(officer).get(f"/declarations/new/?person={beihu_person.pk}").status_code == 404


def test_detail_and_panel_reads_are_logged(health, grid_worker, jiwu_person):
    d = services.declaration_record(actor=grid_worker, person=jiwu_person, data=wuhan())
    client = login(health)
    before = AccessLog.objects.filter(object_type="person", object_id=jiwu_person.pk).count()
    assert client.get(f"/declarations/{d.pk}/").status_code == 200
    assert client.get(f"/people/{jiwu_person.pk}/health/").status_code == 200
    assert (
        AccessLog.objects.filter(
            object_type="person", object_id=jiwu_person.pk, user=health
        ).count()
        == before + 2
    )


def test_health_staff_decide_on_the_detail_page(health, grid_worker, jiwu_person):
    d = services.declaration_record(actor=grid_worker, person=jiwu_person, data=contact_case(1))
    client = login(health)
    page = client.get(f"/declarations/{d.pk}/").content.decode()
    assert f"/declarations/{d.pk}/decision/" in page
    # Central without a place: the form comes back naming it.
    bad = client.post(
        f"/declarations/{d.pk}/decision/", {"outcome": "central", "reason": "", "last_exposure": ""}
    )
    assert bad.status_code == 200
    assert "Choose the quarantine point" in bad.content.decode()
    assert not Decision.objects.filter(declaration=d).exists()
    good = client.post(
        f"/declarations/{d.pk}/decision/",
        {"outcome": "central", "place": quarantine_site().pk, "client_id": str(uuid.uuid4())},
    )
    assert good.status_code == 302
    decision = Decision.objects.get(declaration=d)
    assert decision.decided_by == health and decision.place == quarantine_site()
    # The officer may read the page but has no decision form and may not post one.
    officer_page = login(grid_worker).get(f"/declarations/{d.pk}/").content.decode()
    assert "/decision/" not in officer_page
    assert (
        login(grid_worker)
        .post(f"/declarations/{d.pk}/decision/", {"outcome": "cleared"})
        .status_code
        == 403
    )


def test_the_declaration_list_tabs(health, grid_worker, outsider):
    decide = login(health).get("/declarations/?tab=decide").content.decode()
    demo = Declaration.objects.filter(proposal="central").first()
    assert f"/declarations/{demo.pk}/" in decide
    confirm = login(grid_worker).get("/declarations/?tab=confirm").content.decode()
    pending = Declaration.objects.filter(status="pending").first()
    assert f"/declarations/{pending.pk}/" in confirm
    mine = login(health).get(f"/declarations/?tab=all&person={demo.person_id}").content.decode()
    assert f"/declarations/{demo.pk}/" in mine and pending.person.name not in mine
    assert login(outsider).get(f"/declarations/?person={demo.person_id}").status_code == 404
    theirs = login(outsider).get("/declarations/?tab=all").content.decode()
    assert f"/declarations/{demo.pk}/" not in theirs
    assert login(outsider).get(f"/declarations/{demo.pk}/").status_code == 404


def test_the_worker_confirms_on_the_page(grid_worker):
    pending = Declaration.objects.filter(status="pending").first()
    client = login(grid_worker)
    assert "Confirm this self-report" in client.get(f"/declarations/{pending.pk}/").content.decode()
    assert client.post(f"/declarations/{pending.pk}/confirm/").status_code == 302
    pending.refresh_from_db()
    assert pending.status == "confirmed" and pending.confirmed_by == grid_worker


def test_the_worker_corrects_a_self_report_then_confirms_it(grid_worker, officer, jiwu_person):
    link, _token = services.selfreport_link_create(actor=officer, person=jiwu_person)
    d = services.selfreport_declare(
        link=link,
        data=DeclarationInput(
            temperature="36.5",
            temperature_method="armpit",
            travel=[{"place": "桂林", "from": ago(5), "to": ago(4)}],
            notes="自己填的",
        ),
    )
    client = login(grid_worker)
    form = client.get(f"/declarations/{d.pk}/confirm/").content.decode()
    assert 'value="36.5"' in form and "桂林" in form and "自己填的" in form
    url = f"/declarations/{d.pk}/confirm/"
    body = {
        "correct": "1",
        "declared_on": d.declared_on.isoformat(),
        "temperature": "36.5",
        "temperature_method": "armpit",
        "travel-place": ["武汉"],
        "travel-from": [ago(5)],
        "travel-to": [ago(40)],
        "notes": "自己填的;核实后更正",
    }
    bad = client.post(url, body)
    assert bad.status_code == 200 and "ends before it starts" in bad.content.decode()
    d.refresh_from_db()
    assert d.status == "pending" and d.travel[0]["place"] == "桂林"
    assert client.post(url, {**body, "travel-to": [ago(4)]}).status_code == 302
    d.refresh_from_db()
    assert (d.status, d.proposal, d.confirmed_by) == ("confirmed", "home", grid_worker)
    assert d.travel[0]["place"] == "武汉" and d.notes == "自己填的;核实后更正"
    # Once confirmed, the correction form is gone.
    assert client.get(url).status_code == 302


# --- pages: the panel and the link -------------------------------------------------------------


def test_the_panel_makes_a_link_shown_once_with_a_qr_code(officer, jiwu_person):
    client = login(officer)
    panel = client.get(f"/people/{jiwu_person.pk}/health/", HTTP_HX_REQUEST="true")
    assert "/health/link/" in panel.content.decode()
    assert "<html" not in panel.content.decode()  # a fragment for the person page
    made = client.post(
        f"/people/{jiwu_person.pk}/health/link/", HTTP_HX_REQUEST="true"
    ).content.decode()
    url = re.search(r'<code class="secret">([^<]+)</code>', made).group(1)
    assert "/r/" in url and "<svg" in made
    again = client.get(f"/people/{jiwu_person.pk}/health/").content.decode()
    assert url not in again  # shown once
    assert "<html" in again  # without HTMX, a whole page
    # Without HTMX (no script) the new link still shows, in a whole page.
    whole = client.post(f"/people/{jiwu_person.pk}/health/link/").content.decode()
    assert "<html" in whole and '<code class="secret">' in whole
    link = SelfReportLink.objects.filter(person=jiwu_person).latest("pk")
    assert link.created_by == officer


# --- pages: the public self-report -------------------------------------------------------------


def _token(officer, person) -> str:
    return services.selfreport_link_create(actor=officer, person=person)[1]


def test_the_public_page_needs_no_login_and_shows_only_the_given_name(officer, jiwu_person):
    token = _token(officer, jiwu_person)
    client = english(Client(enforce_csrf_checks=True))
    page = client.get(f"/r/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert given_name(jiwu_person.name) in html
    assert jiwu_person.name not in html
    if jiwu_person.id_number:
        assert jiwu_person.id_number not in html
    assert "sessionid" not in page.cookies
    csrf = page.cookies["csrftoken"].value
    key = uuid.uuid4()
    body = {
        "csrfmiddlewaretoken": csrf,
        "client_id": str(key),
        "temperature": "37.8",
        "temperature_method": "armpit",
        "symptoms": ["fatigue"],
        "travel-place": [""],
        "travel-from": [""],
        "travel-to": [""],
        "travel-transport": [""],
    }
    # Without the CSRF token the post is refused.
    refused = client.post(
        f"/r/{token}/", {k: v for k, v in body.items() if k != "csrfmiddlewaretoken"}
    )
    assert refused.status_code == 403
    done = client.post(f"/r/{token}/", body)
    assert done.status_code == 200
    d = Declaration.objects.get(client_id=key)
    assert (d.status, d.source, d.person_id, d.proposal) == (
        "pending",
        "self",
        jiwu_person.pk,
        "fever_clinic",
    )
    # The resident is thanked; the proposal is not shown to them.
    assert d.proposal_reason not in done.content.decode()
    assert "Fever clinic" not in done.content.decode()


def _page_text(response) -> str:
    """The page without the CSRF token, which is masked anew on every render."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    text = re.sub(r'name="next" type="hidden" value="[^"]*"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


def test_the_public_page_answers_a_bad_link_the_same_way(officer, jiwu_person):
    old = _token(officer, jiwu_person)
    _token(officer, jiwu_person)  # replaces it
    expired = _token(
        officer, Person.objects.filter(household__isnull=False).exclude(pk=jiwu_person.pk).first()
    )
    client = english(Client())
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        a = client.get(f"/r/{expired}/")
    b, c = client.get(f"/r/{old}/"), client.get("/r/no-such-link-0123456789/")
    assert a.status_code == b.status_code == c.status_code == 404
    assert _page_text(a) == _page_text(b) == _page_text(c)
    before = Declaration.objects.count()
    assert (
        client.post(f"/r/{old}/", {"temperature": "36.5", "temperature_method": "ear"}).status_code
        == 404
    )
    assert Declaration.objects.count() == before


def test_the_public_page_keeps_what_was_typed_on_bad_input(officer, jiwu_person):
    token = _token(officer, jiwu_person)
    response = english(Client()).post(
        f"/r/{token}/",
        {"temperature": "3.5", "temperature_method": "ear", "notes": "咳嗽两天"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="3.5"' in html and "咳嗽两天" in html and "field-error" in html


def test_the_public_page_links_to_the_daily_check_when_observed(officer, health, jiwu_person):
    token = _token(officer, jiwu_person)
    assert f"/r/{token}/daily/" not in english(Client()).get(f"/r/{token}/").content.decode()
    flows.decision_make(
        actor=health,
        person=jiwu_person,
        outcome="home",
        reason="密切接触者的家属",
        last_exposure=today() - dt.timedelta(days=1),
    )
    assert f"/r/{token}/daily/" in english(Client()).get(f"/r/{token}/").content.decode()


# --- pages: the rules --------------------------------------------------------------------------


def test_administrators_edit_the_rules_with_validation_and_audit(admin, officer):
    client = login(admin)
    page = client.get("/rules/?area=new").content.decode()
    assert 'name="counts_from"' in page
    bad = client.post(
        "/rules/",
        {
            "form": "area",
            "name": "北京市",
            "aliases": "北京",
            "counts_from": "2020-06-11",
            "counts_until": "2020-06-01",
            "is_active": "on",
        },
    )
    assert bad.status_code == 200 and "before the day it counts from" in bad.content.decode()
    assert not RiskArea.objects.filter(name="北京市").exists()
    ok = client.post(
        "/rules/",
        {
            "form": "area",
            "name": "北京市",
            "aliases": "北京",
            "counts_from": "2020-06-11",
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    area = RiskArea.objects.get(name="北京市")
    assert AuditEntry.objects.filter(action="fangyi.riskarea.created", object_id=area.pk).exists()
    dup = client.post(
        "/rules/",
        {"form": "area", "name": "北京市", "counts_from": "2020-06-11", "is_active": "on"},
    )
    assert "exists already" in dup.content.decode()
    client.post("/rules/", {"form": "area_delete", "pk": area.pk})
    assert not RiskArea.objects.filter(pk=area.pk).exists()
    assert AuditEntry.objects.filter(action="fangyi.riskarea.deleted", object_id=area.pk).exists()
    settings = {
        "form": "settings",
        "observation_days": "21",
        "fever_threshold": "37.5",
        "followups_per_day": "2",
        "missed_escalation": "2",
        "self_report_days": "21",
        "travel_since": "2020-01-10",
    }
    assert client.post("/rules/", settings).status_code == 302
    s = RiskSettings.current()
    assert (s.observation_days, s.fever_threshold, s.followups_per_day) == (21, Decimal("37.5"), 2)
    entry = AuditEntry.objects.filter(action="fangyi.risksettings.changed").latest("pk")
    assert entry.changes["observation_days"] == [14, 21]
    bad = client.post("/rules/", {**settings, "fever_threshold": "40.0"})
    assert bad.status_code == 200 and RiskSettings.current().fever_threshold == Decimal("37.5")
    symptom = client.post(
        "/rules/",
        {"form": "symptom", "code": "runny_nose", "name": "流涕", "order": "90", "is_active": "on"},
    )
    assert symptom.status_code == 302
    assert "runny_nose" in services.rules_config().symptoms
    # Others read, and may not write.
    officer_client = login(officer)
    assert officer_client.get("/rules/").status_code == 200
    assert officer_client.post("/rules/", settings).status_code == 403


def test_a_node_outside_everyone_is_absent_from_lists(health):
    """Health staff hold the district: 中山小区 (青秀区) declarations stay invisible."""
    person = zhongshan_person()
    officer_there = Node.objects.get(name="中山小区")
    assert person.node == officer_there
    d = Declaration.objects.create(
        person=person,
        node=person.node,
        declared_on=today(),
        proposal="home",
        proposal_reason="x",
        recorded_at=timezone.now(),
    )
    assert login(health).get(f"/declarations/{d.pk}/").status_code == 404
    assert (
        f"/declarations/{d.pk}/" not in login(health).get("/declarations/?tab=all").content.decode()
    )
