"""The REST API, operation by operation, asserting on what is stored as well as on statuses.

`test_every_operation_of_the_schema_answers_successfully` walks the core and people operations
in one test and checks at its end that the (method, path) pairs it called with success are
exactly those of /api/openapi.json with those tags, so a new endpoint without a test fails here.
Each later app walks its own tag the same way (tests/test_<app>_api.py), and every operation
must carry one of the known tags. The other tests look closer at
one behaviour each.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fangyi.core.models import AccessLog, ApiToken, AuditEntry, Node, User
from fangyi.core.validators import id_check_digit
from fangyi.people import selectors
from fangyi.people.models import Household, Person, Place
from tests.conftest import login

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def valid_id(birth: str = "19310101", seq: str = "457", region: str = "110105") -> str:
    """A resident ID number no one of the demo city has."""
    first17 = f"{region}{birth}{seq}"
    return first17 + id_check_digit(first17)


def call(
    client: Client,
    method: str,
    template: str,
    expect: int = 200,
    body: Any = None,
    params: dict | None = None,
    seen: set | None = None,
    **ids: Any,
):
    """One API request: `template` is the schema's path ("/api/persons/{person_id}"), `ids`
    fill it. Asserts the status; a successful call is recorded in `seen` as (METHOD, template).
    Returns the decoded JSON (None for an empty body)."""
    path = template.format(**ids)
    if method == "GET":
        response = client.get(path, params or {})
    else:
        response = client.generic(
            method,
            path,
            data=b"" if body is None else json.dumps(body, default=str),
            content_type="application/json",
        )
    assert response.status_code == expect, (
        f"{method} {path}: {response.status_code} {response.content[:500]!r}"
    )
    if seen is not None and 200 <= expect < 300:
        seen.add((method, template))
    if not response.content:
        return None
    assert response["Content-Type"].startswith("application/json")
    return response.json()


# Each router tags its operations; each app's tests walk the operations of its tags.
TAGS = {
    "core",
    "people",
    "health",
    "screening",
    "observation",
    "transfer",
    "tips",
    "open311",
    "linkage",
    "enforcement",
    "quarantine",
    "refusals",
    "guests",
    "patrols",
    "posts",
    "worklog",
    "notify",
    "delivery",
    "inbound",
}


def schema_operations(client: Client, tags: set[str] | None = None) -> set[tuple[str, str]]:
    """The (METHOD, path) pairs of the schema, of the given tags only when tags are given."""
    schema = client.get("/api/openapi.json").json()
    return {
        (m.upper(), p)
        for p, item in schema["paths"].items()
        for m, op in item.items()
        if tags is None or set(op.get("tags", [])) & tags
    }


def test_every_operation_has_a_known_tag(officer):
    schema = login(officer).get("/api/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            assert set(op.get("tags", [])) & TAGS, (method, path)


def audit(action: str, object_id: int) -> AuditEntry:
    return AuditEntry.objects.get(action=action, object_id=object_id)


def field_names(data: dict) -> set[str]:
    return {e["field"] for e in data.get("errors", [])}


# --- the schema --------------------------------------------------------------------------------


def test_the_openapi_schema_is_valid_json_with_paths(officer):
    response = login(officer).get("/api/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Fangyi API"
    assert "/api/persons" in schema["paths"]
    assert "/api/persons/{person_id}" in schema["paths"]
    assert len(schema_operations(login(officer))) >= 30


# --- the whole schema, one successful call per operation ---------------------------------------


def test_every_operation_of_the_schema_answers_successfully(
    officer, supervisor, admin, jiwu, jiwu_household, jiwu_person, hotel
):
    seen: set[tuple[str, str]] = set()
    off, sup, adm = login(officer), login(supervisor), login(admin)

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    # the caller, tokens
    assert c(off, "GET", "/api/me")["username"] == officer.username
    found = c(off, "GET", "/api/divisions", params={"q": "yichang"})
    assert found[0]["code"] == "420500"
    assert c(off, "GET", "/api/divisions/{code}", code="420500")["full_name"] == "湖北省宜昌市"
    token = c(off, "POST", "/api/tokens", 201, {"name": "walk"})
    assert any(t["id"] == token["id"] for t in c(off, "GET", "/api/tokens"))
    c(off, "DELETE", "/api/tokens/{token_id}", 204, token_id=token["id"])
    assert ApiToken.objects.get(pk=token["id"]).revoked is not None

    # the tree (administrator)
    grid = jiwu.parent
    nodes = c(adm, "GET", "/api/nodes", params={"parent_id": grid.pk})
    assert jiwu.pk in [n["id"] for n in nodes["items"]]
    assert c(adm, "GET", "/api/nodes/{node_id}", node_id=jiwu.pk)["name"] == jiwu.name
    new = c(
        adm,
        "POST",
        "/api/nodes",
        201,
        {"kind": "compound", "name": "新建小区", "parent_id": grid.pk},
    )
    c(adm, "PUT", "/api/nodes/{node_id}", body={"name": "新建小区二期"}, node_id=new["id"])
    grid2 = Node.objects.get(name="机务第二网格")
    moved = c(
        adm, "POST", "/api/nodes/{node_id}/move", body={"parent_id": grid2.pk}, node_id=new["id"]
    )
    assert moved["parent_id"] == grid2.pk
    assert Node.objects.get(pk=new["id"]).path.startswith(grid2.path)

    # accounts (administrator)
    assert officer.username in [u["username"] for u in c(adm, "GET", "/api/users")["items"]]
    user = c(
        adm,
        "POST",
        "/api/users",
        201,
        {
            "username": "walker",
            "password": "Walk-the-whole-api-2020",
            "role": "police",
            "node_ids": [jiwu.pk],
        },
    )
    assert c(adm, "GET", "/api/users/{user_id}", user_id=user["id"])["node_ids"] == [jiwu.pk]
    c(
        adm,
        "PUT",
        "/api/users/{user_id}",
        body={"role": "auxiliary", "node_ids": [jiwu.pk]},
        user_id=user["id"],
    )
    assert User.objects.get(pk=user["id"]).role == "auxiliary"

    # persons (officer; the supervisor deletes)
    assert c(off, "GET", "/api/persons", params={"q": "徐红心"})["count"] >= 1
    person = c(
        off,
        "POST",
        "/api/persons",
        201,
        {"name": "走查者", "id_number": valid_id(), "household_id": jiwu_household.pk},
    )
    assert c(off, "GET", "/api/persons/{person_id}", person_id=person["id"])["name"] == "走查者"
    c(
        off,
        "PUT",
        "/api/persons/{person_id}",
        body={
            "name": "走查者",
            "id_number": valid_id(),
            "household_id": jiwu_household.pk,
            "phone": "13977110001",
        },
        person_id=person["id"],
    )
    dups = c(off, "POST", "/api/persons/duplicates", body={"phone": "13977110001"})
    assert [d["id"] for d in dups] == [person["id"]]
    twin = c(
        off,
        "POST",
        "/api/persons",
        201,
        {
            "name": "走查者",
            "id_type": "none",
            "node_id": jiwu.pk,
            "phone": "13977110001",
            "allow_duplicates": True,
        },
    )
    c(
        off,
        "POST",
        "/api/persons/{person_id}/merge",
        body={"other_id": twin["id"]},
        person_id=person["id"],
    )
    assert not Person.objects.filter(pk=twin["id"]).exists()
    history = c(off, "GET", "/api/persons/{person_id}/history", person_id=person["id"])
    assert {"fangyi.person.created", "fangyi.person.merged"} <= {h["action"] for h in history}
    c(sup, "DELETE", "/api/persons/{person_id}", 204, person_id=person["id"])
    assert not Person.objects.filter(pk=person["id"]).exists()

    # households (officer)
    assert c(off, "GET", "/api/households", params={"node_id": jiwu.pk})["count"] >= 1
    household = c(off, "POST", "/api/households", 201, {"node_id": jiwu.pk, "address": "走查路1号"})
    assert c(off, "GET", "/api/households/{household_id}", household_id=household["id"])
    c(
        off,
        "PUT",
        "/api/households/{household_id}",
        body={"node_id": jiwu.pk, "address": "走查路2号"},
        household_id=household["id"],
    )
    members = c(
        off, "GET", "/api/households/{household_id}/members", household_id=jiwu_household.pk
    )
    assert jiwu_person.pk in [m["id"] for m in members]
    c(off, "DELETE", "/api/households/{household_id}", 204, household_id=household["id"])
    assert not Household.objects.filter(pk=household["id"]).exists()

    # places (supervisor writes; the officer reads)
    assert hotel.pk in [p["id"] for p in c(off, "GET", "/api/places")["items"]]
    assert c(off, "GET", "/api/places/{place_id}", place_id=hotel.pk)["name"] == hotel.name
    place = c(
        sup,
        "POST",
        "/api/places",
        201,
        {"kind": "fever_clinic", "name": "走查门诊", "node_id": jiwu.pk, "address": "门诊路9号"},
    )
    c(
        sup,
        "PUT",
        "/api/places/{place_id}",
        body={
            "kind": "fever_clinic",
            "name": "走查门诊",
            "node_id": jiwu.pk,
            "address": "门诊路10号",
        },
        place_id=place["id"],
    )
    assert Place.objects.get(pk=place["id"]).address == "门诊路10号"

    # the trail (supervisor)
    assert c(sup, "GET", "/api/audit", params={"action": "fangyi.person"})["count"] >= 1
    assert c(sup, "GET", "/api/access-log")["count"] >= 1

    assert seen == schema_operations(off, {"core", "people"})


# --- persons: search ---------------------------------------------------------------------------


@pytest.fixture
def xu(db) -> Person:
    """徐红心, registered in 机务小区 by the demo city."""
    return Person.objects.get(name="徐红心")


@pytest.mark.parametrize(
    "query",
    [
        "徐",  # the surname
        "徐红心",  # the whole name, traditional script
        "徐红心",  # simplified
        "xhx",  # initials
        "XuHongxin",  # pinyin, any case
        "xuhongxin",
        "tail-of-id",  # the last six characters of the ID number
        "phone",  # the whole phone number
        "phone-tail",  # its last four digits
    ],
)
def test_search_finds_xu_hongxin(officer, xu, query):
    query = {
        "tail-of-id": xu.id_number[-6:],
        "phone": xu.phone,
        "phone-tail": xu.phone[-4:],
    }.get(query, query)
    found = call(login(officer), "GET", "/api/persons", params={"q": query, "limit": 500})
    assert xu.pk in [p["id"] for p in found["items"]], query
    assert found["count"] == selectors.person_list(officer, q=query).count()


def test_search_by_whole_id_number_finds_exactly_that_person(officer, xu):
    found = call(login(officer), "GET", "/api/persons", params={"q": xu.id_number})
    assert [p["id"] for p in found["items"]] == [xu.pk]
    assert found["items"][0]["id_number"] == xu.id_number


def test_search_stays_inside_the_jurisdiction(outsider, xu):
    found = call(login(outsider), "GET", "/api/persons", params={"q": "徐红心"})
    assert xu.pk not in [p["id"] for p in found["items"]]


# --- persons: pagination -----------------------------------------------------------------------


def test_lists_are_paginated_with_limit_offset_and_count(officer):
    client = login(officer)
    total = selectors.person_list(officer).count()
    first = call(client, "GET", "/api/persons", params={"limit": 7, "offset": 0})
    second = call(client, "GET", "/api/persons", params={"limit": 7, "offset": 7})
    assert first["count"] == second["count"] == total
    assert len(first["items"]) == len(second["items"]) == 7
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}
    everything = call(client, "GET", "/api/persons", params={"limit": 500, "offset": 0})
    ids = [p["id"] for p in everything["items"]]
    assert ids[:14] == [p["id"] for p in first["items"] + second["items"]]
    last = call(client, "GET", "/api/persons", params={"limit": 7, "offset": total - 3})
    assert len(last["items"]) == 3
    default = call(client, "GET", "/api/persons")
    assert len(default["items"]) == min(50, total)  # NINJA_PAGINATION_PER_PAGE
    households = call(client, "GET", "/api/households", params={"limit": 5, "offset": 10})
    assert households["count"] == selectors.household_list(officer).count()
    assert len(households["items"]) == 5


# --- persons: create ---------------------------------------------------------------------------


def test_create_stores_the_person_with_what_the_id_number_implies(officer, jiwu_household):
    number = valid_id(birth="19610203", seq="124")
    data = call(
        login(officer),
        "POST",
        "/api/persons",
        201,
        {
            "name": "黄新民",
            "id_number": number,
            "household_id": jiwu_household.pk,
            "phone": "139 7711 2345",
        },
    )
    person = Person.objects.get(pk=data["id"])
    assert person.name == "黄新民"
    assert person.id_number == number
    assert person.birth_date == dt.date(1961, 2, 3)
    assert person.sex == "F"  # the 17th digit, 4, is even
    assert person.phone == "13977112345"
    assert person.node_id == jiwu_household.node_id
    assert person.household_id == jiwu_household.pk
    assert (person.name_pinyin, person.name_initials) == ("huangxinmin", "hxm")
    entry = audit("fangyi.person.created", person.pk)
    assert entry.actor == officer
    assert entry.node_path == jiwu_household.node.path
    assert number not in json.dumps(entry.changes)  # masked in the trail
    assert data["birth_date"] == "1961-02-03"


def test_likely_duplicates_answer_409_with_them_unless_allowed(officer, jiwu_person):
    client = login(officer)
    body = {
        "name": jiwu_person.name,
        "id_type": "none",
        "birth_date": jiwu_person.birth_date.isoformat(),
        "node_id": jiwu_person.node_id,
    }
    before = Person.objects.count()
    conflict = call(client, "POST", "/api/persons", 409, body)
    assert jiwu_person.pk in [d["id"] for d in conflict["details"]["duplicates"]]
    dup = next(d for d in conflict["details"]["duplicates"] if d["id"] == jiwu_person.pk)
    assert dup["name"] == jiwu_person.name
    assert Person.objects.count() == before
    created = call(client, "POST", "/api/persons", 201, {**body, "allow_duplicates": True})
    assert Person.objects.count() == before + 1
    assert created["id"] != jiwu_person.pk
    assert (
        Person.objects.filter(name=jiwu_person.name, birth_date=jiwu_person.birth_date).count() >= 2
    )


def test_a_phone_match_is_a_likely_duplicate(officer, jiwu_person):
    conflict = call(
        login(officer),
        "POST",
        "/api/persons",
        409,
        {
            "name": "另一人",
            "id_type": "none",
            "phone": jiwu_person.phone,
            "node_id": jiwu_person.node_id,
        },
    )
    assert jiwu_person.pk in [d["id"] for d in conflict["details"]["duplicates"]]
    assert not Person.objects.filter(name="另一人").exists()


def test_a_retry_with_the_same_client_id_stores_one_person(officer, jiwu_household):
    client = login(officer)
    body = {
        "name": "重试者",
        "id_number": valid_id(seq="333"),
        "household_id": jiwu_household.pk,
        "client_id": str(uuid.uuid4()),
    }
    first = call(client, "POST", "/api/persons", 201, body)
    again = call(client, "POST", "/api/persons", 201, body)
    assert again["id"] == first["id"]
    assert Person.objects.filter(name="重试者").count() == 1
    assert (
        AuditEntry.objects.filter(action="fangyi.person.created", object_id=first["id"]).count()
        == 1
    )


def _future() -> str:
    return (timezone.localdate() + dt.timedelta(days=3)).isoformat()


def _wrong_check_digit() -> str:
    number = valid_id(seq="551")
    return number[:17] + ("0" if number[17] != "0" else "1")


BAD_INPUT = [
    ("id_number", lambda: {"id_number": _wrong_check_digit()}),
    ("birth_date", lambda: {"id_type": "none", "birth_date": _future()}),
    ("phone", lambda: {"id_type": "none", "phone": "1397711abcd"}),
    ("name", lambda: {"id_type": "none", "name": "名" * 500}),
    ("sex", lambda: {"id_type": "none", "sex": "X"}),
    ("id_type", lambda: {"id_type": "driving_licence"}),
    ("birth_date", lambda: {"id_type": "none", "birth_date": "1990-02-30"}),
]


@pytest.mark.parametrize("field,bad", BAD_INPUT, ids=[f for f, _ in BAD_INPUT])
def test_bad_input_is_refused_naming_the_field(officer, jiwu_household, field, bad):
    body = {"name": "错误输入", "household_id": jiwu_household.pk, **bad()}
    before = Person.objects.count()
    response = login(officer).post("/api/persons", body, content_type="application/json")
    assert response.status_code in (400, 422), response.content
    data = response.json()
    assert field in field_names(data), data
    assert data["detail"]
    assert Person.objects.count() == before


def test_every_field_error_comes_at_once(officer, jiwu_household):
    response = login(officer).post(
        "/api/persons",
        {
            "name": "",
            "id_number": _wrong_check_digit(),
            "phone": "abc",
            "household_id": jiwu_household.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert {"name", "id_number", "phone"} <= field_names(response.json())


def test_a_node_outside_the_jurisdiction_is_not_found_naming_the_node(officer, beihu_compound):
    before = Person.objects.count()
    response = login(officer).post(
        "/api/persons",
        {"name": "越界者", "id_type": "none", "node_id": beihu_compound.pk},
        content_type="application/json",
    )
    assert response.status_code == 404, response.content
    assert any(f.startswith("node") for f in field_names(response.json()))
    assert Person.objects.count() == before


def test_a_household_outside_the_jurisdiction_is_not_found_naming_it(officer, beihu_household):
    response = login(officer).post(
        "/api/persons",
        {"name": "越界者", "id_type": "none", "household_id": beihu_household.pk},
        content_type="application/json",
    )
    assert response.status_code == 404, response.content
    assert "household_id" in field_names(response.json())
    assert not Person.objects.filter(name="越界者").exists()


def test_a_node_that_does_not_exist_is_not_found_naming_the_node(officer):
    response = login(officer).post(
        "/api/persons",
        {"name": "无处者", "id_type": "none", "node_id": MISSING},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert "node_id" in field_names(response.json())


def test_an_existing_id_number_is_a_conflict_on_id_number(officer, jiwu_person):
    response = login(officer).post(
        "/api/persons",
        {"name": "冒名者", "id_number": jiwu_person.id_number, "node_id": jiwu_person.node_id},
        content_type="application/json",
    )
    assert response.status_code == 409
    data = response.json()
    assert field_names(data) == {"id_number"}
    assert data["details"]["person_id"] == jiwu_person.pk
    assert not Person.objects.filter(name="冒名者").exists()


def test_an_existing_id_number_outside_is_a_conflict_that_names_no_one(outsider, jiwu_person):
    beihu = Node.objects.get(name="北湖小区")
    data = call(
        login(outsider),
        "POST",
        "/api/persons",
        409,
        {"name": "冒名者", "id_number": jiwu_person.id_number, "node_id": beihu.pk},
    )
    assert field_names(data) == {"id_number"}
    assert "person_id" not in data.get("details", {})


# --- persons: read, update, delete, merge, history ---------------------------------------------


def test_reading_a_person_writes_the_access_log(officer, jiwu_person):
    before = AccessLog.objects.filter(object_id=jiwu_person.pk).count()
    data = call(login(officer), "GET", "/api/persons/{person_id}", person_id=jiwu_person.pk)
    assert data["id_number"] == jiwu_person.id_number
    rows = AccessLog.objects.filter(object_type="person", object_id=jiwu_person.pk)
    assert rows.count() == before + 1
    row = rows.order_by("-id").first()
    assert (row.via, row.user, row.node_path) == ("api", officer, jiwu_person.node.path)


def test_update_changes_the_row_and_audits_the_change(officer, jiwu_person):
    body = {
        "name": jiwu_person.name,
        "id_number": jiwu_person.id_number,
        "household_id": jiwu_person.household_id,
        "relation": jiwu_person.relation,
        "phone": "13977119999",
        "notes": "已电话回访",
    }
    data = call(
        login(officer), "PUT", "/api/persons/{person_id}", body=body, person_id=jiwu_person.pk
    )
    assert (data["phone"], data["notes"]) == ("13977119999", "已电话回访")
    jiwu_person.refresh_from_db()
    assert (jiwu_person.phone, jiwu_person.notes) == ("13977119999", "已电话回访")
    entry = audit("fangyi.person.changed", jiwu_person.pk)
    assert set(entry.changes) == {"phone", "notes"}
    assert entry.changes["phone"][1] == "139****9999"


def test_update_with_bad_input_changes_nothing(officer, jiwu_person):
    phone = jiwu_person.phone
    response = login(officer).put(
        f"/api/persons/{jiwu_person.pk}",
        {
            "name": jiwu_person.name,
            "id_number": jiwu_person.id_number,
            "household_id": jiwu_person.household_id,
            "phone": "not a phone",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "phone" in field_names(response.json())
    jiwu_person.refresh_from_db()
    assert jiwu_person.phone == phone


def test_only_a_supervisor_deletes_a_person(officer, supervisor, jiwu_person):
    call(login(officer), "DELETE", "/api/persons/{person_id}", 403, person_id=jiwu_person.pk)
    assert Person.objects.filter(pk=jiwu_person.pk).exists()
    call(login(supervisor), "DELETE", "/api/persons/{person_id}", 204, person_id=jiwu_person.pk)
    assert not Person.objects.filter(pk=jiwu_person.pk).exists()
    entry = audit("fangyi.person.deleted", jiwu_person.pk)
    assert entry.actor == supervisor
    assert entry.object_repr == jiwu_person.name
    call(login(supervisor), "GET", "/api/persons/{person_id}", 404, person_id=jiwu_person.pk)


def test_merge_folds_the_other_into_this_one(officer, jiwu, jiwu_household):
    client = login(officer)
    keep = call(
        client,
        "POST",
        "/api/persons",
        201,
        {"name": "合并甲", "id_number": valid_id(seq="771"), "node_id": jiwu.pk},
    )
    other = call(
        client,
        "POST",
        "/api/persons",
        201,
        {
            "name": "合并甲",
            "id_type": "none",
            "household_id": jiwu_household.pk,
            "phone": "13977118888",
            "relation": "租客",
            "notes": "重复登记",
        },
    )
    links = [rel for rel in Person._meta.related_objects if rel.one_to_many or rel.one_to_one]
    linked_before = {
        rel.related_model._meta.label_lower: rel.related_model._base_manager.filter(
            **{rel.field.name: other["id"]}
        ).count()
        for rel in links
    }
    merged = call(
        client,
        "POST",
        "/api/persons/{person_id}/merge",
        body={"other_id": other["id"]},
        person_id=keep["id"],
    )
    assert merged["id"] == keep["id"]
    assert not Person.objects.filter(pk=other["id"]).exists()
    person = Person.objects.get(pk=keep["id"])
    # blanks are filled from the other, the document stays
    assert person.household_id == jiwu_household.pk
    assert (person.phone, person.relation, person.notes) == ("13977118888", "租客", "重复登记")
    assert person.id_number == valid_id(seq="771")
    # every link to the other now points here
    for rel in links:
        model = rel.related_model
        assert not model._base_manager.filter(**{rel.field.name: other["id"]}).exists()
        assert (
            model._base_manager.filter(**{rel.field.name: keep["id"]}).count()
            >= linked_before[model._meta.label_lower]
        )
    merged_entry = audit("fangyi.person.merged", keep["id"])
    assert merged_entry.actor == officer
    assert merged_entry.changes["merged_from"] == [other["id"], None]
    assert "links_moved" in merged_entry.changes
    deleted = audit("fangyi.person.deleted", other["id"])
    assert deleted.changes["merged_into"] == [None, keep["id"]]


def test_merge_refuses_the_same_person_and_two_documents(officer, jiwu, jiwu_person):
    client = login(officer)
    data = call(
        client,
        "POST",
        "/api/persons/{person_id}/merge",
        400,
        {"other_id": jiwu_person.pk},
        person_id=jiwu_person.pk,
    )
    assert "other" in field_names(data)
    stranger = call(
        client,
        "POST",
        "/api/persons",
        201,
        {"name": "另证者", "id_number": valid_id(seq="773"), "node_id": jiwu.pk},
    )
    call(
        client,
        "POST",
        "/api/persons/{person_id}/merge",
        400,
        {"other_id": stranger["id"]},
        person_id=jiwu_person.pk,
    )
    assert Person.objects.filter(pk__in=[jiwu_person.pk, stranger["id"]]).count() == 2
    assert not AuditEntry.objects.filter(action="fangyi.person.merged", object_id=jiwu_person.pk)


def test_a_grid_worker_may_not_merge(grid_worker, jiwu, jiwu_person):
    other = call(
        login(grid_worker),
        "POST",
        "/api/persons",
        201,
        {"name": jiwu_person.name, "id_type": "none", "node_id": jiwu.pk, "allow_duplicates": True},
    )
    call(
        login(grid_worker),
        "POST",
        "/api/persons/{person_id}/merge",
        403,
        {"other_id": other["id"]},
        person_id=jiwu_person.pk,
    )
    assert Person.objects.filter(pk=other["id"]).exists()


def test_history_lists_the_persons_changes_newest_first(officer, jiwu_household):
    client = login(officer)
    person = call(
        client,
        "POST",
        "/api/persons",
        201,
        {"name": "历史者", "id_type": "none", "household_id": jiwu_household.pk},
    )
    call(
        client,
        "PUT",
        "/api/persons/{person_id}",
        body={
            "name": "历史者",
            "id_type": "none",
            "household_id": jiwu_household.pk,
            "notes": "改过",
        },
        person_id=person["id"],
    )
    history = call(client, "GET", "/api/persons/{person_id}/history", person_id=person["id"])
    assert [h["action"] for h in history] == ["fangyi.person.changed", "fangyi.person.created"]
    assert history[0]["actor_name"] == officer.username
    assert history[0]["changes"]["notes"] == ["", "改过"]


# --- households --------------------------------------------------------------------------------


def test_households_crud_and_members(officer, jiwu, jiwu_household):
    client = login(officer)
    data = call(
        client, "POST", "/api/households", 201, {"node_id": jiwu.pk, "address": "机务路3号"}
    )
    household = Household.objects.get(pk=data["id"])
    assert (household.node, household.address, data["member_count"]) == (jiwu, "机务路3号", 0)
    assert audit("fangyi.household.created", household.pk).actor == officer

    got = call(client, "GET", "/api/households/{household_id}", household_id=household.pk)
    assert got["address"] == "机务路3号"

    member = call(
        client,
        "POST",
        "/api/persons",
        201,
        {"name": "新住户", "id_type": "none", "household_id": household.pk},
    )
    members = call(
        client, "GET", "/api/households/{household_id}/members", household_id=household.pk
    )
    assert [m["id"] for m in members] == [member["id"]]
    listed = call(client, "GET", "/api/persons", params={"household_id": household.pk})
    assert [p["id"] for p in listed["items"]] == [member["id"]]

    # moving the household moves its members
    other = Node.objects.get(name="机务新村")
    moved = call(
        client,
        "PUT",
        "/api/households/{household_id}",
        body={"node_id": other.pk, "address": "机务新村5号"},
        household_id=household.pk,
    )
    assert (moved["node_id"], moved["address"], moved["member_count"]) == (
        other.pk,
        "机务新村5号",
        1,
    )
    assert Person.objects.get(pk=member["id"]).node == other
    assert audit("fangyi.household.changed", household.pk).changes["address"] == [
        "机务路3号",
        "机务新村5号",
    ]

    # a household with members is not deleted
    refused = call(
        client, "DELETE", "/api/households/{household_id}", 400, household_id=household.pk
    )
    assert "members" in field_names(refused)
    call(supervisor_client(), "DELETE", "/api/persons/{person_id}", 204, person_id=member["id"])
    call(client, "DELETE", "/api/households/{household_id}", 204, household_id=household.pk)
    assert not Household.objects.filter(pk=household.pk).exists()
    assert audit("fangyi.household.deleted", household.pk).actor == officer


def supervisor_client() -> Client:
    return login(User.objects.get(username="suozhang"))


def test_a_household_hangs_on_a_compound_or_grid_only(officer):
    station = Node.objects.get(name="五里亭派出所")
    data = call(
        login(officer),
        "POST",
        "/api/households",
        400,
        {"node_id": station.pk, "address": "站前1号"},
    )
    assert "node" in field_names(data)
    assert not Household.objects.filter(address="站前1号").exists()


def test_a_household_outside_is_not_found(officer, beihu_household, beihu_compound):
    client = login(officer)
    call(client, "GET", "/api/households/{household_id}", 404, household_id=beihu_household.pk)
    call(
        client,
        "GET",
        "/api/households/{household_id}/members",
        404,
        household_id=beihu_household.pk,
    )
    response = client.post(
        "/api/households",
        {"node_id": beihu_compound.pk, "address": "北湖路1号"},
        content_type="application/json",
    )
    assert response.status_code == 404, response.content
    assert not Household.objects.filter(address="北湖路1号").exists()


# --- places ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_places_crud(request, role, jiwu, hotel):
    user = request.getfixturevalue(role)
    client = login(user)
    body = {
        "kind": "quarantine_site",
        "name": "机务隔离点",
        "node_id": jiwu.pk,
        "address": "机务路100号",
        "phone": "0771-3100100",
        "capacity": 40,
    }
    data = call(client, "POST", "/api/places", 201, body)
    place = Place.objects.get(pk=data["id"])
    assert (place.kind, place.capacity, place.node, place.is_active) == (
        "quarantine_site",
        40,
        jiwu,
        True,
    )
    assert audit("fangyi.place.created", place.pk).actor == user
    assert call(client, "GET", "/api/places/{place_id}", place_id=place.pk)["capacity"] == 40
    listed = call(client, "GET", "/api/places", params={"kind": "quarantine_site", "limit": 500})
    assert place.pk in [p["id"] for p in listed["items"]]
    assert {p["kind"] for p in listed["items"]} == {"quarantine_site"}
    updated = call(
        client,
        "PUT",
        "/api/places/{place_id}",
        body={**body, "capacity": 60, "is_active": False},
        place_id=place.pk,
    )
    assert (updated["capacity"], updated["is_active"]) == (60, False)
    place.refresh_from_db()
    assert (place.capacity, place.is_active) == (60, False)
    assert audit("fangyi.place.changed", place.pk).changes["capacity"] == [40, 60]


def test_a_quarantine_site_needs_its_beds(supervisor, jiwu):
    data = call(
        login(supervisor),
        "POST",
        "/api/places",
        400,
        {"kind": "quarantine_site", "name": "无床位", "node_id": jiwu.pk, "address": "某路1号"},
    )
    assert "capacity" in field_names(data)
    assert not Place.objects.filter(name="无床位").exists()


def test_a_place_kind_outside_the_choices_is_422(supervisor, jiwu):
    data = call(
        login(supervisor),
        "POST",
        "/api/places",
        422,
        {"kind": "karaoke", "name": "歌厅", "node_id": jiwu.pk, "address": "某路2号"},
    )
    assert "kind" in field_names(data)


def test_field_roles_may_not_write_places(officer, hotel, jiwu):
    client = login(officer)
    body = {"kind": "hotel", "name": "新旅馆", "node_id": jiwu.pk, "address": "某路3号"}
    call(client, "POST", "/api/places", 403, body)
    call(client, "PUT", "/api/places/{place_id}", 403, body, place_id=hotel.pk)
    hotel.refresh_from_db()
    assert hotel.name == "北大路宾馆"
    assert not Place.objects.filter(name="新旅馆").exists()


# --- the tree ----------------------------------------------------------------------------------


def test_nodes_list_get_create_update_move(admin):
    client = login(admin)
    everything = call(client, "GET", "/api/nodes", params={"limit": 500})
    assert everything["count"] == Node.objects.count()
    paths = [Node.objects.get(pk=n["id"]).path for n in everything["items"]]
    assert paths == sorted(paths)  # tree order
    stations = call(client, "GET", "/api/nodes", params={"kind": "station"})
    assert {n["name"] for n in stations["items"]} == {"五里亭派出所", "北湖派出所", "中山派出所"}
    nantie = Node.objects.get(name="南铁社区")
    got = call(client, "GET", "/api/nodes/{node_id}", node_id=nantie.pk)
    assert (got["kind"], got["parent_id"], got["depth"]) == ("community", nantie.parent_id, 3)

    grid = call(
        client,
        "POST",
        "/api/nodes",
        201,
        {"kind": "grid", "name": "南铁第二网格", "code": "NT2", "parent_id": nantie.pk},
    )
    node = Node.objects.get(pk=grid["id"])
    assert (node.parent, node.depth, node.code) == (nantie, 4, "NT2")
    assert node.path.startswith(nantie.path)
    assert audit("fangyi.node.created", node.pk).actor == admin

    call(
        client,
        "PUT",
        "/api/nodes/{node_id}",
        body={"name": "南铁二网格", "code": "NT-2"},
        node_id=node.pk,
    )
    node.refresh_from_db()
    assert (node.name, node.code) == ("南铁二网格", "NT-2")
    assert audit("fangyi.node.changed", node.pk).changes["name"] == ["南铁第二网格", "南铁二网格"]

    # moving a grid takes its compounds and their households along
    nb3 = Node.objects.get(name="南铁北三区")
    moved = call(
        client, "POST", "/api/nodes/{node_id}/move", body={"parent_id": node.pk}, node_id=nb3.pk
    )
    assert moved["parent_id"] == node.pk
    nb3.refresh_from_db()
    assert nb3.path.startswith(node.path) and nb3.depth == 5
    assert Household.objects.filter(node=nb3).exists()
    assert audit("fangyi.node.moved", nb3.pk).actor == admin


def test_the_tree_refuses_wrong_kinds_and_loops(admin):
    client = login(admin)
    jiwu = Node.objects.get(name="机务社区")
    grid = Node.objects.get(name="机务第一网格")
    data = call(
        client, "POST", "/api/nodes", 400, {"kind": "station", "name": "错层", "parent_id": jiwu.pk}
    )
    assert "kind" in field_names(data)
    call(client, "POST", "/api/nodes/{node_id}/move", 400, {"parent_id": grid.pk}, node_id=jiwu.pk)
    assert Node.objects.get(pk=jiwu.pk).parent.name == "五里亭派出所"


def test_field_roles_read_their_part_of_the_tree_only(officer):
    client = login(officer)
    nodes = call(client, "GET", "/api/nodes", params={"limit": 500})
    wlt = Node.objects.get(name="五里亭派出所")
    assert nodes["count"] == Node.objects.filter(path__startswith=wlt.path).count()
    beihu = Node.objects.get(name="北湖派出所")
    call(client, "GET", "/api/nodes/{node_id}", 404, node_id=beihu.pk)
    call(client, "PUT", "/api/nodes/{node_id}", 403, {"name": "改名"}, node_id=wlt.pk)
    assert Node.objects.get(pk=wlt.pk).name == "五里亭派出所"


# --- accounts ----------------------------------------------------------------------------------


def test_users_list_create_get_update(admin, hotel):
    client = login(admin)
    listed = call(client, "GET", "/api/users", params={"limit": 500})
    names = {u["username"] for u in listed["items"]}
    assert {"xuhongxin", "fujing", "jiudian", "beihu", "admin"} <= names
    assert (
        call(client, "GET", "/api/users", params={"q": "jiud"})["items"][0]["place_id"] == hotel.pk
    )

    wlt = Node.objects.get(name="五里亭派出所")
    data = call(
        client,
        "POST",
        "/api/users",
        201,
        {
            "username": "minjing2",
            "password": "Another-long-passw0rd",
            "role": "police",
            "node_ids": [wlt.pk],
            "first_name": "二",
            "last_name": "民警",
            "phone": "13977110002",
        },
    )
    user = User.objects.get(pk=data["id"])
    assert user.check_password("Another-long-passw0rd")
    assert user.password.startswith("argon2")
    assert list(user.nodes.values_list("pk", flat=True)) == [wlt.pk]
    assert (user.role, user.phone, user.is_staff) == ("police", "13977110002", False)
    assert "password" not in data
    assert audit("fangyi.user.created", user.pk).actor == admin

    got = call(client, "GET", "/api/users/{user_id}", user_id=user.pk)
    assert (got["username"], got["node_ids"]) == ("minjing2", [wlt.pk])

    clerk = call(
        client,
        "PUT",
        "/api/users/{user_id}",
        body={"role": "site_staff", "place_id": hotel.pk, "is_active": False},
        user_id=user.pk,
    )
    assert (clerk["role"], clerk["place_id"], clerk["is_active"]) == ("site_staff", hotel.pk, False)
    user.refresh_from_db()
    assert (user.role, user.place, user.is_active) == ("site_staff", hotel, False)
    assert audit("fangyi.user.changed", user.pk).changes["role"] == ["police", "site_staff"]


def test_user_input_errors_name_the_field(admin):
    client = login(admin)
    wlt = Node.objects.get(name="五里亭派出所")
    base = {
        "username": "weak",
        "password": "Another-long-passw0rd",
        "role": "police",
        "node_ids": [wlt.pk],
    }
    assert "password" in field_names(
        call(client, "POST", "/api/users", 400, {**base, "password": "123"})
    )
    assert "username" in field_names(
        call(client, "POST", "/api/users", 400, {**base, "username": "XuHongXin"})
    )
    assert "node_ids" in field_names(
        call(client, "POST", "/api/users", 404, {**base, "node_ids": [MISSING]})
    )
    assert "nodes" in field_names(call(client, "POST", "/api/users", 400, {**base, "node_ids": []}))
    assert not User.objects.filter(username="weak").exists()


def test_an_administrator_cannot_demote_themself(admin):
    city = Node.objects.get(name="南宁市")
    call(
        login(admin),
        "PUT",
        "/api/users/{user_id}",
        400,
        {"role": "police", "node_ids": [city.pk]},
        user_id=admin.pk,
    )
    admin.refresh_from_db()
    assert admin.role == "admin"


def test_only_administrators_manage_users(supervisor, officer):
    client = login(supervisor)
    call(client, "GET", "/api/users", 403)
    call(client, "GET", "/api/users/{user_id}", 403, user_id=officer.pk)
    call(
        client,
        "POST",
        "/api/users",
        403,
        {
            "username": "sneaky",
            "password": "Another-long-passw0rd",
            "role": "admin",
            "node_ids": [],
        },
    )
    assert not User.objects.filter(username="sneaky").exists()


# --- tokens ------------------------------------------------------------------------------------


def test_tokens_create_list_revoke_and_bearer_auth(officer):
    session = login(officer)
    created = call(session, "POST", "/api/tokens", 201, {"name": "手机"})
    secret = created["token"]
    assert secret.startswith(f"fy_{created['prefix']}_")
    row = ApiToken.objects.get(pk=created["id"])
    assert row.user == officer
    assert secret not in (row.digest, row.prefix, row.name)  # only a digest is stored
    listed = call(session, "GET", "/api/tokens")
    mine = next(t for t in listed if t["id"] == created["id"])
    assert "token" not in mine  # shown once, at creation
    assert (mine["name"], mine["revoked"]) == ("手机", None)
    assert audit("fangyi.token.created", row.pk).actor == officer

    bearer = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert bearer.get("/api/me", **auth).json()["username"] == officer.username
    persons = bearer.get("/api/persons", {"q": "徐红心"}, **auth)
    assert persons.status_code == 200 and persons.json()["count"] >= 1
    made = bearer.post(
        "/api/households",
        {"node_id": Node.objects.get(name="机务小区").pk, "address": "令牌路1号"},
        content_type="application/json",
        **auth,
    )
    assert made.status_code == 201
    assert audit("fangyi.household.created", made.json()["id"]).actor == officer
    row.refresh_from_db()
    assert row.last_used is not None

    call(session, "DELETE", "/api/tokens/{token_id}", 204, token_id=row.pk)
    row.refresh_from_db()
    assert row.revoked is not None
    assert audit("fangyi.token.revoked", row.pk).actor == officer
    refused = bearer.get("/api/me", **auth)
    assert refused.status_code == 401
    assert refused.json()["detail"]
    assert bearer.get("/api/persons", **auth).status_code == 401
    # revoking twice: there is no such (live) token any more
    call(session, "DELETE", "/api/tokens/{token_id}", 404, token_id=row.pk)
    revoked = next(t for t in call(session, "GET", "/api/tokens") if t["id"] == row.pk)
    assert revoked["revoked"] is not None


def test_a_token_acts_with_its_owners_role_and_jurisdiction(outsider, jiwu_person, beihu_person):
    secret = call(login(outsider), "POST", "/api/tokens", 201, {"name": "北湖"})["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert Client().get(f"/api/persons/{beihu_person.pk}", **auth).status_code == 200
    assert Client().get(f"/api/persons/{jiwu_person.pk}", **auth).status_code == 404
    assert Client().get("/api/audit", **auth).status_code == 403


# --- the trail ---------------------------------------------------------------------------------


def test_audit_and_access_log_for_the_supervisor(officer, supervisor, jiwu_person, beihu_person):
    call(login(officer), "GET", "/api/persons/{person_id}", person_id=jiwu_person.pk)
    call(login(supervisor), "GET", "/api/persons/{person_id}", person_id=jiwu_person.pk)
    AccessLog.objects.create(
        user=officer,
        user_name="beihu",
        object_type="person",
        object_id=beihu_person.pk,
        node_path=beihu_person.node.path,
        via="api",
    )
    client = login(supervisor)
    reads = call(client, "GET", "/api/access-log", params={"limit": 500})
    assert (
        reads["count"]
        == AccessLog.objects.filter(
            node_path__startswith=Node.objects.get(name="五里亭派出所").path
        ).count()
    )
    newest = reads["items"][:2]
    assert [(r["user_name"], r["object_id"], r["via"]) for r in newest] == [
        ("suozhang", jiwu_person.pk, "api"),
        ("xuhongxin", jiwu_person.pk, "api"),
    ]
    assert beihu_person.pk not in [r["object_id"] for r in reads["items"]]  # outside his station

    call(
        login(officer),
        "PUT",
        "/api/persons/{person_id}",
        body={
            "name": jiwu_person.name,
            "id_number": jiwu_person.id_number,
            "household_id": jiwu_person.household_id,
            "relation": jiwu_person.relation,
            "notes": "审计",
        },
        person_id=jiwu_person.pk,
    )
    changes = call(client, "GET", "/api/audit", params={"action": "fangyi.person.changed"})
    assert changes["items"][0]["object_id"] == jiwu_person.pk
    assert changes["items"][0]["actor_name"] == "xuhongxin"
    assert {i["action"] for i in changes["items"]} == {"fangyi.person.changed"}
    page = call(client, "GET", "/api/audit", params={"limit": 3, "offset": 0})
    assert len(page["items"]) == 3 and page["count"] > 3


def test_field_roles_read_no_trail(officer):
    client = login(officer)
    call(client, "GET", "/api/audit", 403)
    call(client, "GET", "/api/access-log", 403)


# --- authentication ----------------------------------------------------------------------------


def test_a_supervisor_session_without_the_second_factor_gets_401(supervisor, jiwu_person):
    client = Client()
    client.force_login(supervisor)
    for path in ("/api/me", "/api/persons", f"/api/persons/{jiwu_person.pk}", "/api/audit"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["detail"]
    response = client.delete(f"/api/persons/{jiwu_person.pk}")
    assert response.status_code == 401
    assert Person.objects.filter(pk=jiwu_person.pk).exists()
    assert login(supervisor).get("/api/me").status_code == 200  # with it, fine


@pytest.mark.parametrize("path", ["/api/me", "/api/persons", "/api/places", "/api/tokens"])
def test_anonymous_callers_get_401_json(path):
    response = Client().get(path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_a_deactivated_user_is_refused(officer):
    client = login(officer)
    secret = call(client, "POST", "/api/tokens", 201, {"name": "x"})["token"]
    User.objects.filter(pk=officer.pk).update(is_active=False)
    assert client.get("/api/me").status_code == 401
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
