"""The seed's household with close contact (聚心合力 協同奮戰), February 2020.

A resident's tip says a household of 機務小區 had close contact with a confirmed case. The grid
worker knocks and the door stays shut (閉門羹); with the police the door opens the same day.
The residents take their temperature and declare their travel and contacts since the Spring
Festival; the rules propose centralised observation and say why; the district's health staff
confirm it on the declaration's page; the decision (who, when, why) is kept, and the
observation runs until the last exposure + 14 days.

The visit goes through screening's service (its own scene covers its pages); everything a
person does in health goes through HTTP with the Django client, as in the browser."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from fangyi.core.models import AuditEntry
from fangyi.health.models import Decision, Declaration, RiskArea
from fangyi.observation.models import Observation
from fangyi.people.models import Place
from fangyi.screening.models import Assignment
from fangyi.screening.services import door_visit_record, sweep_open
from tests.conftest import login as conftest_login

pytestmark = pytest.mark.django_db


def login(user):
    """A logged-in client that asks for English pages (the assertions read English text)."""
    return english(conftest_login(user))


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2020, 2, 8)  # two weeks after the Spring Festival (2020-01-25)
CONTACT = dt.date(2020, 2, 3)  # the family dinner with a relative later confirmed
SINCE = dt.date(2020, 1, 10)  # the Spring Festival travel season


def test_close_contact_household_goes_to_centralised_observation(
    supervisor, grid_worker, officer, health, jiwu, jiwu_household
):
    with time_machine.travel(dt.datetime(2020, 2, 8, 9, 30, tzinfo=TZ), tick=True):
        RiskArea.objects.create(name="湖北", aliases="湖北省, 武汉, 武汉", counts_from=SINCE)
        sweep = sweep_open(
            actor=supervisor, node=jiwu, purpose="春节以来返邕人员排查", starts=DAY, ends=DAY
        )
        door = Assignment.objects.get(sweep=sweep, household=jiwu_household)
        members = list(jiwu_household.members.order_by("pk"))
        assert members

        # The door stays shut; the police come, and it opens.
        door_visit_record(actor=grid_worker, assignment=door, outcome="refused", notes="闭门羹")
        door.refresh_from_db()
        assert door.needs_police
        visit = door_visit_record(
            actor=officer, assignment=door, outcome="visited", notes="民警到场后开门配合"
        )

        # Each member declares at the door: temperature, travel since the Spring Festival,
        # and the contact with the confirmed case.
        worker = login(officer)
        declared = []
        for i, person in enumerate(members):
            url = f"/declarations/new/?person={person.pk}&visit={visit.pk}"
            assert worker.get(url).status_code == 200
            key = uuid.uuid4()
            response = worker.post(
                url,
                {
                    "client_id": str(key),
                    "declared_on": DAY.isoformat(),
                    "temperature": f"36.{4 + i % 4}",
                    "temperature_method": "forehead",
                    "travel_since": SINCE.isoformat(),
                    "travel-place": ["南宁市区"],
                    "travel-from": ["2020-01-24"],
                    "travel-to": ["2020-01-26"],
                    "travel-transport": ["步行"],
                    "contact-kind": ["confirmed"],
                    "contact-who": ["亲戚(已确诊)"],
                    "contact-date": [CONTACT.isoformat()],
                    "contact-place": ["家庭聚餐"],
                    "notes": "无症状,不愿去隔离点",
                },
            )
            assert response.status_code == 302, response.content.decode()[:2000]
            d = Declaration.objects.get(client_id=key)
            declared.append(d)
            page = worker.get(response["Location"]).content.decode()
            # The proposal and its reason, in words, right after saving.
            assert "close contact with a confirmed case (亲戚(已确诊)) on 2020-02-03" in page
            assert "within 14 days" in page

        for d in declared:
            assert (d.visit_id, d.status, d.source) == (visit.pk, "confirmed", "visit")
            assert d.proposal == "central"
            assert d.last_exposure == CONTACT

        # A declaration for someone outside the household is refused, naming the person.
        stranger = jiwu.households.exclude(pk=jiwu_household.pk).first().members.first()
        refused = worker.post(
            f"/declarations/new/?person={stranger.pk}&visit={visit.pk}",
            {"temperature": "36.5", "temperature_method": "ear"},
        )
        assert refused.status_code == 400
        assert "not a member of the visited household" in refused.content.decode()

    # That afternoon the district's health staff decide.
    with time_machine.travel(dt.datetime(2020, 2, 8, 15, 0, tzinfo=TZ), tick=True):
        staff = login(health)
        todo = staff.get("/declarations/?tab=decide").content.decode()
        for d in declared:
            assert f"/declarations/{d.pk}/" in todo
        site = Place.objects.get(name="西乡塘区集中隔离点")
        first = declared[0]
        detail = staff.get(f"/declarations/{first.pk}/").content.decode()
        assert f'action="/declarations/{first.pk}/decision/"' in detail
        assert re.search(r'<option value="central" selected', detail)
        for d in declared:
            response = staff.post(
                f"/declarations/{d.pk}/decision/",
                {
                    "client_id": str(uuid.uuid4()),
                    "outcome": "central",
                    "reason": "",
                    "last_exposure": "",
                    "place": site.pk,
                },
            )
            assert response.status_code == 302, response.content.decode()[:2000]

        for d in declared:
            decision = Decision.objects.get(declaration=d)
            assert (decision.outcome, decision.proposal) == ("central", "central")
            assert decision.decided_by == health
            assert decision.decided_at.astimezone(TZ).date() == DAY
            assert "close contact with a confirmed case" in decision.reason
            assert decision.place == site
            obs = Observation.objects.get(person=d.person, status="active")
            assert obs.decision == decision
            assert (obs.kind, obs.place) == ("place", site)
            assert obs.last_exposure == CONTACT
            assert obs.ends == CONTACT + dt.timedelta(days=14) == dt.date(2020, 2, 17)
            audit = AuditEntry.objects.get(action="fangyi.decision.created", object_id=decision.pk)
            assert audit.actor == health and audit.node_path == d.person.node.path

        # Nothing is left to decide for this household.
        todo = staff.get("/declarations/?tab=decide").content.decode()
        assert all(f"/declarations/{d.pk}/" not in todo for d in declared)
        # The person page's health panel shows the decision.
        panel = staff.get(f"/people/{declared[0].person_id}/health/").content.decode()
        assert "Centralised observation" in panel
