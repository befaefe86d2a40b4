"""Open311 GeoReport v2 (fangyi/tips/open311.py): each operation, the spec's error list, the
api_key, jurisdiction and privacy, and a round trip create -> read by the tracking code."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from urllib.parse import urlencode

import django.test
import pytest
from django.conf import settings
from django.utils import timezone

from fangyi.core.models import AccessLog, AuditEntry
from fangyi.core.services import token_create
from fangyi.tips.models import Tip, TipCategory, TipSource, TipStatus
from fangyi.tips.services import new_code
from tests.conftest import login
from tests.test_api import schema_operations


class Client(django.test.Client):
    """A resident's or a city system's client, reading messages in English (the source
    language); the public pages and API default to Chinese."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


pytestmark = pytest.mark.django_db

BASE = "/api/open311/v2"
FORM = "application/x-www-form-urlencoded"


def key_of(user) -> str:
    return token_create(actor=user, name="open311")[1]


def post(client: Client, fields: dict):
    return client.post(f"{BASE}/requests.json", urlencode(fields), content_type=FORM)


def errors(response, status: int) -> list[str]:
    """The spec's error list: every element carries the HTTP status as its code."""
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body, list) and body
    assert all(e["code"] == status for e in body)
    return [e["description"] for e in body]


def tip_at(node, **kwargs) -> Tip:
    fields = {
        "code": new_code(),
        "category": TipCategory.objects.get(code="gathering"),
        "node": node,
        "description": "楼下有人聚餐",
        "source": TipSource.PHONE,
        "reporter_name": "李举报",
        "reporter_phone": "13912345678",
        **kwargs,
    }
    return Tip.objects.create(**fields)


# --- the whole tag ---------------------------------------------------------------------------


def test_every_open311_operation_answers(officer, jiwu_household):
    key = key_of(officer)
    client = Client()
    seen: set[tuple[str, str]] = set()

    def ok(response, method: str, template: str, status: int = 200):
        assert response.status_code == status, (template, response.content)
        assert response["Content-Type"].startswith("application/json")
        seen.add((method, template))
        return response.json()

    services = ok(client.get(f"{BASE}/services.json"), "GET", f"{BASE}/services.json")
    assert "gathering" in {s["service_code"] for s in services}
    ok(
        client.get(f"{BASE}/services/gathering.json"),
        "GET",
        f"{BASE}/services/{{service_code}}.json",
    )
    created = ok(
        post(
            client,
            {
                "api_key": key,
                "service_code": "gathering",
                "address_id": jiwu_household.pk,
                "description": "三楼有人打牌",
            },
        ),
        "POST",
        f"{BASE}/requests.json",
        201,
    )
    code = created[0]["service_request_id"]
    listed = ok(
        client.get(f"{BASE}/requests.json", {"api_key": key}), "GET", f"{BASE}/requests.json"
    )
    assert code in {r["service_request_id"] for r in listed}
    ok(
        client.get(f"{BASE}/requests/{code}.json", {"api_key": key}),
        "GET",
        f"{BASE}/requests/{{service_request_id}}.json",
    )
    assert seen == schema_operations(login(officer), {"open311"})


# --- services ----------------------------------------------------------------------------------


def test_the_service_list_is_the_active_categories():
    TipCategory.objects.filter(code="other").update(active=False)
    services = Client().get(f"{BASE}/services.json").json()
    codes = [s["service_code"] for s in services]
    assert codes == list(
        TipCategory.objects.filter(active=True)
        .order_by("order", "id")
        .values_list("code", flat=True)
    )
    assert "other" not in codes
    gathering = next(s for s in services if s["service_code"] == "gathering")
    assert gathering == {
        "service_code": "gathering",
        "service_name": "聚集、聚餐",
        "description": "打牌、聚餐、喝酒等人员聚集",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "",
    }
    quarantine = next(s for s in services if s["service_code"] == "refusing_quarantine")
    assert quarantine["metadata"] is False


def test_a_service_definition_lists_its_questions_as_attributes():
    client = Client()
    gathering = client.get(f"{BASE}/services/gathering.json").json()
    assert gathering["service_code"] == "gathering"
    people, masks, ongoing = gathering["attributes"]
    assert people["code"] == "people" and people["datatype"] == "number"
    assert people["variable"] is True and people["required"] is False and people["order"] == 1
    assert people["description"] == "大约多少人" and people["values"] == []
    assert masks["datatype"] == "singlevaluelist" and masks["order"] == 2
    assert [v["key"] for v in masks["values"]] == ["yes", "no"]
    poultry = client.get(f"{BASE}/services/poultry.json").json()
    (kind,) = poultry["attributes"]
    assert kind["datatype"] == "singlevaluelist"
    assert kind["values"] == [{"key": c, "name": c} for c in ["鸡", "鸭", "鹅", "其他"]]
    place = client.get(f"{BASE}/services/no_mask.json").json()["attributes"][0]
    assert place["datatype"] == "string"


def test_an_unknown_or_inactive_service_is_not_found():
    client = Client()
    assert errors(client.get(f"{BASE}/services/nothing.json"), 404) == ["No such service_code."]
    TipCategory.objects.filter(code="other").update(active=False)
    errors(client.get(f"{BASE}/services/other.json"), 404)


def test_only_json_is_served():
    client = Client()
    assert client.get(f"{BASE}/services.xml").status_code == 404
    assert client.get(f"{BASE}/services/gathering.xml").status_code == 404


# --- creating a request -------------------------------------------------------------------------


def test_a_request_round_trip_by_its_code(officer, jiwu_household):
    key = key_of(officer)
    client = Client()
    response = post(
        client,
        {
            "api_key": key,
            "service_code": "gathering",
            "address_id": jiwu_household.pk,
            "lat": "22.8170",
            "long": "108.3669",
            "attribute[people]": "12",
            "attribute[masks]": "no",
            "first_name": "三",
            "last_name": "张",
            "phone": "13800138000",
            "email": "zhang@example.com",
            "media_url": "http://example.com/photo.jpg",
            "description": "七八个人在楼道聚餐 <script>alert(1)</script>",
        },
    )
    (created,) = errors_free(response, 201)
    assert created["account_id"] is None and created["service_notice"]
    tip = Tip.objects.get(code=created["service_request_id"])
    assert tip.source == TipSource.OPEN311 and tip.created_by == officer
    assert tip.household == jiwu_household and tip.node == jiwu_household.node
    assert tip.answers == {"people": 12, "masks": False}
    assert tip.reporter_name == "张三" and tip.reporter_phone == "13800138000"
    assert str(tip.latitude) == "22.817000"
    assert AuditEntry.objects.filter(action="fangyi.tip.create", object_id=tip.pk).exists()
    assert "example.com" not in json.dumps(
        Tip.objects.filter(pk=tip.pk).values().get(), default=str
    )

    reads = AccessLog.objects.count()
    one = client.get(f"{BASE}/requests/{tip.code}.json", {"api_key": key})
    (got,) = errors_free(one, 200)
    assert AccessLog.objects.count() == reads + 1
    assert AccessLog.objects.latest("id").via == "open311"
    assert got["service_request_id"] == tip.code
    assert got["status"] == "open"
    assert got["service_code"] == "gathering" and got["service_name"] == "聚集、聚餐"
    assert got["description"] == tip.description
    assert got["agency_responsible"] == "五里亭派出所"
    assert got["address_id"] == jiwu_household.pk
    assert got["lat"] == pytest.approx(22.817) and got["long"] == pytest.approx(108.3669)
    assert got["expected_datetime"] is not None and got["media_url"] == ""
    assert got["status_notes"] == ""
    # the code as a reporter reads it out: lower case, dashes
    spoken = f"{tip.code[:5].lower()}-{tip.code[5:]}"
    assert client.get(f"{BASE}/requests/{spoken}.json", {"api_key": key}).status_code == 200


def errors_free(response, status: int) -> list[dict]:
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body, list)
    return body


def test_a_json_body_and_a_bearer_token_work_too(officer, jiwu_household):
    key = key_of(officer)
    response = Client().post(
        f"{BASE}/requests.json",
        json.dumps(
            {
                "service_code": "poultry",
                "address_id": jiwu_household.pk,
                "description": "鸡在院子里乱跑",
                "attribute": {"kind": "鸡"},
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    (created,) = errors_free(response, 201)
    tip = Tip.objects.get(code=created["service_request_id"])
    assert tip.category.code == "poultry" and tip.answers == {"kind": "鸡"}


def test_a_compound_name_in_the_address_places_the_request(officer, jiwu):
    response = post(
        Client(),
        {
            "api_key": key_of(officer),
            "service_code": "other",
            "address_string": f"西乡塘区{jiwu.name}门口",
            "description": "垃圾堆积",
        },
    )
    (created,) = errors_free(response, 201)
    tip = Tip.objects.get(code=created["service_request_id"])
    assert tip.node == jiwu and tip.household is None


def test_a_bad_attribute_is_named_and_nothing_is_stored(officer, jiwu_household):
    before = Tip.objects.count()
    response = post(
        Client(),
        {
            "api_key": key_of(officer),
            "service_code": "gathering",
            "address_id": jiwu_household.pk,
            "attribute[people]": "abc",
            "attribute[masks]": "perhaps",
            "description": "聚餐",
        },
    )
    described = errors(response, 400)
    assert any(d.startswith("attribute[people]:") for d in described), described
    assert any(d.startswith("attribute[masks]:") for d in described), described
    assert Tip.objects.count() == before


@pytest.mark.parametrize(
    "fields,named",
    [
        ({"description": ""}, "description:"),
        ({"lat": "north"}, "lat:"),
        ({"long": "999"}, "long:"),
        ({"phone": "12ab"}, "phone:"),
        ({"address_id": "x7"}, "address_id:"),
        ({"client_id": "not-a-uuid"}, "client_id:"),
    ],
)
def test_bad_input_names_the_parameter(officer, jiwu_household, fields, named):
    before = Tip.objects.count()
    body = {
        "api_key": key_of(officer),
        "service_code": "gathering",
        "address_id": jiwu_household.pk,
        "description": "聚餐",
        **fields,
    }
    described = errors(post(Client(), body), 400)
    assert any(d.startswith(named) for d in described), described
    assert Tip.objects.count() == before


def test_a_place_that_cannot_be_told_is_refused(officer):
    described = errors(
        post(
            Client(),
            {
                "api_key": key_of(officer),
                "service_code": "gathering",
                "lat": "22.8",
                "long": "108.3",
                "description": "聚餐",
            },
        ),
        400,
    )
    assert described[0].startswith("address_string:")


def test_an_unknown_service_code_is_not_found(officer, jiwu_household):
    body = {"api_key": key_of(officer), "service_code": "nothing", "address_id": jiwu_household.pk}
    errors(post(Client(), {**body, "description": "x"}), 404)


def test_a_retry_with_the_same_client_id_stores_one(officer, jiwu_household):
    body = {
        "api_key": key_of(officer),
        "service_code": "gathering",
        "address_id": jiwu_household.pk,
        "description": "聚餐",
        "client_id": str(uuid.uuid4()),
    }
    first = errors_free(post(Client(), body), 201)[0]["service_request_id"]
    count = Tip.objects.count()
    again = errors_free(post(Client(), body), 201)[0]["service_request_id"]
    assert again == first and Tip.objects.count() == count


# --- the api_key ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "fy_nope_nope", "garbage"])
def test_a_bad_or_missing_api_key_is_forbidden(key, jiwu_household):
    client = Client()
    before = Tip.objects.count()
    body = {"service_code": "gathering", "address_id": jiwu_household.pk, "description": "聚餐"}
    if key:
        body["api_key"] = key
    described = errors(post(client, body), 403)
    assert "api_key" in described[0]
    errors(client.get(f"{BASE}/requests.json", {"api_key": key} if key else {}), 403)
    assert Tip.objects.count() == before


def test_a_revoked_key_or_a_role_without_tips_is_forbidden(officer, admin, hotel_clerk):
    from fangyi.core.services import token_revoke

    token, key = token_create(actor=officer, name="old")
    token_revoke(actor=officer, pk=token.pk)
    errors(Client().get(f"{BASE}/requests.json", {"api_key": key}), 403)
    for user in (admin, hotel_clerk):
        errors(Client().get(f"{BASE}/requests.json", {"api_key": key_of(user)}), 403)


def test_a_session_post_needs_its_csrf_token(officer, jiwu_household):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    before = Tip.objects.count()
    body = {"service_code": "gathering", "address_id": jiwu_household.pk, "description": "聚餐"}
    errors(post(client, body), 403)
    assert Tip.objects.count() == before
    # with the key instead, the same browser may post
    errors_free(post(client, {**body, "api_key": key_of(officer)}), 201)


# --- jurisdiction ---------------------------------------------------------------------------


def test_an_address_outside_the_jurisdiction_is_not_found(officer, beihu_household):
    before, changes = Tip.objects.count(), AuditEntry.objects.count()
    described = errors(
        post(
            Client(),
            {
                "api_key": key_of(officer),
                "service_code": "gathering",
                "address_id": beihu_household.pk,
                "description": "聚餐",
            },
        ),
        404,
    )
    assert described[0].startswith("address_id:")
    assert Tip.objects.count() == before
    # a compound of another station named in the address: refused the same way
    errors(
        post(
            Client(),
            {
                "api_key": key_of(officer),
                "service_code": "gathering",
                "address_string": "北湖小区2栋",
                "description": "聚餐",
            },
        ),
        404,
    )
    assert Tip.objects.count() == before
    # only the token's own audit row (token_create), no tip
    assert not AuditEntry.objects.filter(action="fangyi.tip.create", id__gt=changes).exists()


def test_a_request_outside_the_jurisdiction_answers_like_an_unknown_one(
    officer, beihu_compound, jiwu
):
    key = key_of(officer)
    theirs, mine = tip_at(beihu_compound), tip_at(jiwu)
    client = Client()
    reads = AccessLog.objects.count()
    a = client.get(f"{BASE}/requests/{theirs.code}.json", {"api_key": key})
    b = client.get(f"{BASE}/requests/{new_code()}.json", {"api_key": key})
    c = client.get(f"{BASE}/requests/0000.json", {"api_key": key})
    assert a.status_code == b.status_code == c.status_code == 404
    assert (
        a.json()
        == b.json()
        == c.json()
        == [{"code": 404, "description": "No such service_request_id."}]
    )
    assert AccessLog.objects.count() == reads
    listed = client.get(f"{BASE}/requests.json", {"api_key": key}).json()
    codes = {r["service_request_id"] for r in listed}
    assert mine.code in codes and theirs.code not in codes
    asked = client.get(
        f"{BASE}/requests.json",
        {"api_key": key, "service_request_id": f"{theirs.code},{mine.code}"},
    ).json()
    assert [r["service_request_id"] for r in asked] == [mine.code]


# --- privacy --------------------------------------------------------------------------------


def test_reads_never_show_the_reporter(officer, jiwu):
    key = key_of(officer)
    tip = tip_at(jiwu, reporter_name="王秘密", reporter_phone="13987654321")
    client = Client()
    for response in (
        client.get(f"{BASE}/requests.json", {"api_key": key}),
        client.get(f"{BASE}/requests/{tip.code}.json", {"api_key": key}),
    ):
        text = json.dumps(response.json(), ensure_ascii=False)
        assert tip.code in text
        assert "王秘密" not in text and "13987654321" not in text
        assert "reporter" not in text


# --- reading requests --------------------------------------------------------------------------


def test_the_list_filters(officer, jiwu):
    key = key_of(officer)
    now = timezone.now()
    fresh = tip_at(jiwu, received_at=now - dt.timedelta(hours=1))
    done = tip_at(
        jiwu,
        category=TipCategory.objects.get(code="poultry"),
        received_at=now - dt.timedelta(days=3),
        status=TipStatus.ANSWERED,
        answer="已责令圈养",
        answered_at=now - dt.timedelta(days=1),
    )
    old = tip_at(jiwu, received_at=now - dt.timedelta(days=120))
    client = Client()

    def codes(**params) -> list[str]:
        response = client.get(f"{BASE}/requests.json", {"api_key": key, **params})
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    everything = codes()
    assert fresh.code in everything and done.code in everything
    assert old.code not in everything  # the spec's default: the last 90 days
    assert everything.index(fresh.code) < everything.index(done.code)  # newest first
    assert fresh.code in codes(status="open") and done.code not in codes(status="open")
    assert done.code in codes(status="closed") and fresh.code not in codes(status="closed")
    assert done.code in codes(service_code="poultry") and fresh.code not in codes(
        service_code="poultry"
    )
    since = (now - dt.timedelta(days=200)).isoformat()
    until = (now - dt.timedelta(days=100)).isoformat()
    assert old.code in codes(start_date=since, end_date=until)
    assert fresh.code not in codes(start_date=since, end_date=until)
    day = timezone.localtime(done.received_at).date().isoformat()
    assert done.code in codes(start_date=day, end_date=day)
    assert old.code in codes(service_request_id=old.code)  # the code overrides the dates
    closed = next(
        r
        for r in client.get(f"{BASE}/requests.json", {"api_key": key, "status": "closed"}).json()
        if r["service_request_id"] == done.code
    )
    assert closed["status"] == "closed" and closed["status_notes"] == "已责令圈养"


@pytest.mark.parametrize(
    "params,named",
    [
        ({"start_date": "yesterday"}, "start_date:"),
        ({"end_date": "2020-13-45"}, "end_date:"),
        ({"start_date": "2020-02-10", "end_date": "2020-02-01"}, "start_date:"),
        ({"status": "pending"}, "status:"),
    ],
)
def test_bad_list_parameters_answer_400(officer, params, named):
    response = Client().get(f"{BASE}/requests.json", {"api_key": key_of(officer), **params})
    assert errors(response, 400)[0].startswith(named)


def test_the_list_holds_at_most_1000(officer, jiwu, monkeypatch):
    from fangyi.tips import open311

    monkeypatch.setattr(open311, "MAX_REQUESTS", 3)
    for _ in range(5):
        tip_at(jiwu)
    rows = Client().get(f"{BASE}/requests.json", {"api_key": key_of(officer)}).json()
    assert len(rows) == 3


def test_a_client_id_of_a_request_outside_is_refused(officer, outsider, jiwu_household):
    used = str(uuid.uuid4())
    tip_at(compound_of(outsider), client_id=used)
    before = Tip.objects.count()
    body = {
        "api_key": key_of(officer),
        "service_code": "gathering",
        "address_id": jiwu_household.pk,
        "description": "聚餐",
        "client_id": used,
    }
    described = errors(post(Client(), body), 409)
    assert described[0].startswith("client_id:")
    assert Tip.objects.count() == before


def compound_of(user):
    """A compound of the user's jurisdiction."""
    from fangyi.core.models import Node

    return Node.objects.filter(path__startswith=user.nodes.first().path, kind="compound").first()
