"""Who may open what: one table of (role, method + URL, inside/outside jurisdiction, status).

In the style of pretix's test_permissions. Every page of fangyi/urls.py and every operation of
the API appears for every role of the cast and for an anonymous visitor.

The rules the table encodes:

* anonymous: a page redirects to /login/ (302), the API answers 401;
* a role that may not do an action (access.POLICY, pinned by SPEC below) gets 403 on a record
  inside its jurisdiction;
* a record outside the user's jurisdiction answers 404, exactly like an id that does not
  exist ("missing"); for a role that may not do the action at all, 403 or 404 are both fine
  there, since neither tells anything about the record;
* administrators configure the tree, places and accounts; they never read persons or
  households (403);
* hotel / site staff see their own place and nothing else.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from fangyi.core import access
from fangyi.core.models import AccessLog, AuditEntry, Node, User
from fangyi.core.services import node_create, token_create
from fangyi.people.models import Household, Person, Place
from fangyi.people.services import name_keys
from tests import permtables
from tests.conftest import login
from tests.permtables import ANY, PUBLIC, Endpoint

ANON = "anonymous"
ROLES = [
    "officer",
    "auxiliary",
    "grid_worker",
    "community_staff",
    "health",
    "hotel_clerk",
    "supervisor",
    "admin",
    "outsider",
]
# The Role value each fixture of the cast has.
ROLE_VALUE = {
    "officer": "police",
    "auxiliary": "auxiliary",
    "grid_worker": "grid_worker",
    "community_staff": "community_staff",
    "health": "health_staff",
    "hotel_clerk": "site_staff",
    "supervisor": "supervisor",
    "admin": "admin",
    "outsider": "police",
}

# --- the policy, written out: a change to access.POLICY must change this too -----------------

FIELD = {"officer", "auxiliary", "grid_worker", "community_staff", "health", "outsider"}
PATROL = {"officer", "outsider", "auxiliary", "community_staff"}
SPEC: dict[str, set[str]] = {
    "person.view": FIELD | {"supervisor"},
    "person.edit": FIELD | {"supervisor"},
    "person.merge": {"officer", "outsider", "health", "community_staff", "supervisor"},
    "person.delete": {"supervisor"},
    "household.view": FIELD | {"supervisor"},
    "household.edit": FIELD | {"supervisor"},
    "household.delete": {"officer", "outsider", "community_staff", "supervisor"},
    "place.view": set(ROLES),
    "place.edit": {"supervisor", "admin"},
    "node.view": FIELD | {"supervisor", "admin"},
    "node.edit": {"admin"},
    "user.manage": {"admin"},
    "audit.view": {"supervisor", "admin"},
    "sweep.view": FIELD | {"supervisor"},
    "sweep.manage": {"supervisor"},
    "visit.record": FIELD | {"supervisor"},
    "declaration.view": FIELD | {"supervisor"},
    "declaration.record": FIELD | {"supervisor"},
    "decision.make": {"health"},
    "selfreport.issue": FIELD | {"supervisor"},
    "risk.view": FIELD | {"supervisor", "admin"},
    "risk.configure": {"admin"},
    "observation.view": FIELD | {"supervisor"},
    "observation.manage": {"health", "supervisor"},
    "followup.record": FIELD | {"supervisor", "hotel_clerk"},
    "board.view": {"health", "supervisor"},
    "alert.handle": {"health", "supervisor"},
    "import.run": FIELD | {"supervisor"},
    "export.run": FIELD | {"supervisor"},
    "tip.view": FIELD | {"supervisor"},
    "tip.record": FIELD | {"supervisor"},
    "tip.handle": FIELD | {"supervisor"},
    "tip.manage": {"officer", "outsider", "community_staff", "supervisor"},
    "tipcategory.configure": {"admin"},
    "support.view": FIELD | {"supervisor"},
    "support.request": FIELD | {"supervisor"},
    "support.respond": FIELD | {"supervisor"},
    "dispatch.view": {"officer", "outsider", "auxiliary", "community_staff", "supervisor"},
    "linkage.configure": {"admin"},
    "enforcement.view": {"officer", "outsider", "auxiliary", "supervisor"},
    "enforcement.record": {"officer", "outsider", "auxiliary", "supervisor"},
    "legalbasis.configure": {"admin"},
    "site.view": set(ROLES),
    "site.configure": {"admin"},
    "bed.manage": {"hotel_clerk", "supervisor"},
    "placement.view": FIELD | {"supervisor", "hotel_clerk"},
    "placement.manage": {"health", "supervisor"},
    "placement.arrive": {"hotel_clerk", "health", "supervisor"},
    "refusal.record": FIELD | {"supervisor"},
    "notice.print": FIELD | {"supervisor", "hotel_clerk"},
    "occupancy.view": FIELD | {"supervisor", "hotel_clerk"},
    "guest.report": {"hotel_clerk"},
    "guest.view": {"hotel_clerk", "officer", "outsider", "auxiliary", "supervisor"},
    "guest.handle": {"officer", "outsider", "auxiliary", "supervisor"},
    "guest.configure": {"admin"},
    "patrol.view": PATROL | {"grid_worker", "supervisor"},
    "patrol.record": PATROL | {"supervisor"},
    "patrol.plan": {"supervisor"},
    "post.view": PATROL | {"grid_worker", "supervisor"},
    "post.manage": {"supervisor"},
    "shift.record": PATROL | {"grid_worker", "supervisor"},
    "worklog.view": FIELD | {"supervisor"},
    "notify.configure": {"admin"},
    "delivery.view": {"admin"},
}

# --- jurisdictions: the compound whose records are "inside" / "outside" for each role --------

ELSEWHERE = "柳州城中小区"  # a compound of another city, outside even the administrator's
SCOPE = {
    "officer": {"inside": "机务小区", "outside": "北湖小区"},
    "auxiliary": {"inside": "机务小区", "outside": "北湖小区"},
    # 南鐵北四區 is in Wuliting station but not in grid 1 / 機務社區.
    "grid_worker": {"inside": "机务小区", "outside": "北湖小区", "near": "南铁北四区"},
    "community_staff": {"inside": "机务小区", "outside": "北湖小区", "near": "南铁北四区"},
    # Health staff hold the whole district, 北湖 included; 中山小區 is in 青秀區.
    "health": {"inside": "机务小区", "outside": "中山小区"},
    # The hotel is on 北大路沿街; the clerk holds no node at all.
    "hotel_clerk": {"inside": "北大路沿街", "outside": "机务小区"},
    "supervisor": {"inside": "机务小区", "outside": "北湖小区"},
    "admin": {"inside": "机务小区", "outside": ELSEWHERE},
    "outsider": {"inside": "北湖小区", "outside": "机务小区"},
    ANON: {"inside": "机务小区"},
}
MISSING = 987_654_321


def make_person(name: str, *, household: Household | None = None, node: Node | None = None):
    node = household.node if household else node
    norm, pinyin, initials = name_keys(name)
    return Person.objects.create(
        name=name,
        id_type="none",
        household=household,
        node=node,
        name_norm=norm,
        name_pinyin=pinyin,
        name_initials=initials,
    )


def elsewhere() -> Node:
    """A second city with one compound, household and person: outside everyone of the cast."""
    compound = Node.objects.filter(name=ELSEWHERE).first()
    if compound is not None:
        return compound
    parent = None
    for kind, name in (
        ("city", "柳州市"),
        ("district", "城中区"),
        ("station", "城中派出所"),
        ("community", "城中社区"),
        ("grid", "城中第一网格"),
        ("compound", ELSEWHERE),
    ):
        parent = node_create(actor=None, kind=kind, name=name, parent=parent, audit=False)
    make_person("柳州居民", household=Household.objects.create(node=parent, address="城中路1号"))
    return parent


class Refs(dict):
    """The ids a URL template or body names, made on first use, for one role and `where`.

    `where` is "inside", "near" or "outside" (see SCOPE), or "missing": ids that do not exist."""

    def __init__(self, user: User | None, role: str, where: str):
        super().__init__()
        self.user = user
        self.where = where
        self.missing = where == "missing"
        self.compound_name = None if self.missing else SCOPE[role][where]

    def __missing__(self, key: str) -> int:
        if self.missing:
            value = MISSING
        elif key in EXTRA_REFS:
            value = EXTRA_REFS[key](self)
        else:
            value = getattr(self, f"_{key}")()
        self[key] = value
        return value

    @property
    def compound(self) -> Node:
        if self.compound_name == ELSEWHERE:
            return elsewhere()
        return Node.objects.get(name=self.compound_name)

    def _node(self) -> int:
        return self.compound.pk

    def _grid(self) -> int:
        return self.compound.parent_id

    def _household(self) -> int:
        return Household.objects.filter(node=self.compound).order_by("pk").first().pk

    def _empty_household(self) -> int:
        return Household.objects.create(node=self.compound, address="空置户 0号").pk

    def _person(self) -> int:
        return Person.objects.filter(household=self["household"]).order_by("pk").first().pk

    def _partner(self) -> int:
        """Someone to merge into the person: same compound, no document."""
        return make_person("待合并", household=Household.objects.get(pk=self["household"])).pk

    def _place(self) -> int:
        place = Place.objects.filter(node=self.compound).order_by("pk").first()
        if place is None:
            place = Place.objects.create(
                kind="fever_clinic", name="社区门诊", node=self.compound, address="门诊路1号"
            )
        return place.pk

    def _division(self) -> str:
        """Divisions are public data with no "outside": inside a code in force, elsewhere a
        code that no division has (which answers 404 to anyone)."""
        return "420500" if self.where == "inside" else "999999"

    def _user(self) -> int:
        """An account whose jurisdiction is the compound."""
        other = User.objects.create(username=f"scope-{self.compound.pk}", role="police")
        other.nodes.set([self.compound])
        return other.pk

    def _token(self) -> int:
        """Inside: one of the caller's own tokens. Elsewhere: a token of someone else."""
        mine = self.where == "inside" and self.user is not None
        owner = self.user if mine else User.objects.get(pk=self["user"])
        return token_create(actor=owner, name="table")[0].pk


# --- endpoints ---------------------------------------------------------------------------------

PAGES = [
    Endpoint("GET", "/", ANY, ok_for={"hotel_clerk": 302}),  # site staff land on their place
    Endpoint("GET", "/login/", PUBLIC, anon=200),
    Endpoint("GET", "/login/otp/", ANY),
    Endpoint("POST", "/logout/", PUBLIC, ok=302, anon=302),
    Endpoint("GET", "/account/", ANY),
    Endpoint("GET", "/account/2fa/setup/", ANY, ok_for={"supervisor": 302, "admin": 302}),
    Endpoint("POST", "/i18n/setlang/", PUBLIC, ok=302, anon=302, body={"language": "zh-hans"}),
    # The divisions are public data: the resident's own declaration form picks from them.
    Endpoint("GET", "/divisions/options/?q=yichang", PUBLIC, anon=200),
    Endpoint("GET", "/jurisdictions/", "node.view"),
    Endpoint("GET", "/jurisdictions/{node}/", "node.edit"),
    Endpoint("GET", "/users/", "user.manage"),
    Endpoint("GET", "/users/new/", "user.manage"),
    Endpoint("GET", "/users/{user}/", "user.manage"),
    Endpoint("GET", "/audit/", "audit.view"),
    Endpoint("GET", "/audit/?tab=reads", "audit.view"),
    Endpoint("GET", "/people/", "person.view"),
    Endpoint("GET", "/people/?q=xhx", "person.view"),
    Endpoint("GET", "/people/new/", "person.edit"),
    # A household that is not yours is ignored, exactly like one that does not exist: the form
    # opens without it (see test_a_household_not_yours_is_not_shown_on_the_new_person_form).
    Endpoint("GET", "/people/new/?household={household}", "person.edit", elsewhere=200),
    Endpoint("GET", "/people/check-id/?id_number=11010519491231002X", "person.view"),
    Endpoint("GET", "/people/{person}/", "person.view"),
    Endpoint("GET", "/people/{person}/edit/", "person.edit"),
    Endpoint("GET", "/people/{person}/merge/", "person.merge"),
    Endpoint("POST", "/people/{person}/delete/", "person.delete", ok=302),
    Endpoint("GET", "/people/{person}/history/", "person.view"),
    Endpoint("GET", "/households/", "household.view"),
    Endpoint("GET", "/households/new/", "household.edit"),
    Endpoint("GET", "/households/{household}/", "household.view"),
    Endpoint("GET", "/households/{household}/edit/", "household.edit"),
    Endpoint("POST", "/households/{empty_household}/delete/", "household.delete", ok=302),
    Endpoint("GET", "/households/{household}/history/", "household.view"),
    Endpoint("GET", "/places/", "place.view"),
    Endpoint("GET", "/places/new/", "place.edit"),
    Endpoint("GET", "/places/{place}/", "place.view"),
    Endpoint("GET", "/places/{place}/edit/", "place.edit"),
]


def _person_body(r):
    return {"name": "新登记者", "id_type": "none", "node_id": r["node"]}


def _place_body(r):
    return {"kind": "fever_clinic", "name": "新门诊", "node_id": r["node"], "address": "门诊路2号"}


def _new_user_body(r):
    return {
        "username": f"new-{r['node']}",
        "password": "Quite-a-long-passw0rd!",
        "role": "police",
        "node_ids": [r["node"]],
    }


API = [
    # the caller's own account and tokens: anyone logged in
    Endpoint("GET", "/api/me", ANY),
    Endpoint("GET", "/api/divisions?q=宜昌", PUBLIC, anon=200),
    Endpoint("GET", "/api/divisions/{division}", PUBLIC, anon=200),
    Endpoint("GET", "/api/tokens", ANY),
    Endpoint("POST", "/api/tokens", ANY, ok=201, body={"name": "table"}),
    Endpoint("DELETE", "/api/tokens/{token}", ANY, ok=204),
    # the tree
    Endpoint("GET", "/api/nodes", "node.view"),
    Endpoint("GET", "/api/nodes?parent_id={grid}", "node.view"),
    Endpoint("GET", "/api/nodes/{node}", "node.view"),
    Endpoint(
        "POST",
        "/api/nodes",
        "node.edit",
        ok=201,
        body=lambda r: {"kind": "compound", "name": "新小区", "parent_id": r["grid"]},
    ),
    Endpoint("PUT", "/api/nodes/{node}", "node.edit", body={"name": "改名小区", "code": ""}),
    Endpoint(
        "POST", "/api/nodes/{node}/move", "node.edit", body=lambda r: {"parent_id": r["grid"]}
    ),
    # accounts
    Endpoint("GET", "/api/users", "user.manage"),
    Endpoint("POST", "/api/users", "user.manage", ok=201, body=_new_user_body),
    Endpoint("GET", "/api/users/{user}", "user.manage"),
    Endpoint(
        "PUT",
        "/api/users/{user}",
        "user.manage",
        body=lambda r: {"role": "police", "node_ids": [r["node"]]},
    ),
    # the trail
    Endpoint("GET", "/api/audit", "audit.view"),
    Endpoint("GET", "/api/access-log", "audit.view"),
    # persons
    Endpoint("GET", "/api/persons", "person.view"),
    Endpoint("GET", "/api/persons?q=xhx", "person.view"),
    Endpoint("GET", "/api/persons?household_id={household}", "person.view"),
    Endpoint("POST", "/api/persons", "person.edit", ok=201, body=_person_body),
    Endpoint(
        "POST", "/api/persons/duplicates", "person.view", body={"name": "徐红心"}, reads_only=True
    ),
    Endpoint("GET", "/api/persons/{person}", "person.view"),
    Endpoint(
        "PUT",
        "/api/persons/{person}",
        "person.edit",
        body=lambda r: {"name": "改名者", "id_type": "none", "household_id": r["household"]},
    ),
    Endpoint("DELETE", "/api/persons/{person}", "person.delete", ok=204),
    Endpoint(
        "POST",
        "/api/persons/{person}/merge",
        "person.merge",
        body=lambda r: {"other_id": r["partner"]},
    ),
    Endpoint("GET", "/api/persons/{person}/history", "person.view"),
    # households
    Endpoint("GET", "/api/households", "household.view"),
    Endpoint("GET", "/api/households?node_id={node}", "household.view"),
    Endpoint(
        "POST",
        "/api/households",
        "household.edit",
        ok=201,
        body=lambda r: {"node_id": r["node"], "address": "新建路1号"},
    ),
    Endpoint("GET", "/api/households/{household}", "household.view"),
    Endpoint(
        "PUT",
        "/api/households/{household}",
        "household.edit",
        body=lambda r: {"node_id": r["node"], "address": "改建路2号"},
    ),
    Endpoint("DELETE", "/api/households/{empty_household}", "household.delete", ok=204),
    Endpoint("GET", "/api/households/{household}/members", "household.view"),
    # places
    Endpoint("GET", "/api/places", "place.view"),
    Endpoint("POST", "/api/places", "place.edit", ok=201, body=_place_body),
    Endpoint("GET", "/api/places/{place}", "place.view"),
    Endpoint("PUT", "/api/places/{place}", "place.edit", body=_place_body),
]


# Each later app writes its rows (and the ids they name) in tests/permtables/<app>.py.
EXTRA_REFS: dict = {}
ALL_PAGES, ALL_API = list(PAGES), list(API)
for _module in permtables.MODULES:
    ALL_PAGES += _module.PAGES
    ALL_API += _module.API
    EXTRA_REFS.update(_module.REFS)


def expected(role: str, ep: Endpoint, where: str | None) -> set[int]:
    if role == ANON:
        return {ep.anon if ep.anon is not None else (401 if ep.api else 302)}
    allowed = ep.who in (PUBLIC, ANY) or role in SPEC[ep.who]
    if not allowed:
        return {403} if where in (None, "inside") else {403, 404}
    if where in (None, "inside"):
        return {ep.ok_for.get(role, ep.ok)}
    return {ep.elsewhere}


def wheres(role: str, ep: Endpoint) -> list[str | None]:
    if not ep.scoped:
        return [None]
    if role == ANON:
        return ["inside"]
    return [w for w in ("inside", "near", "outside") if w in SCOPE[role]] + ["missing"]


TABLE = [
    (role, ep, where, expected(role, ep, where))
    for role in [*ROLES, ANON]
    for ep in ALL_PAGES + ALL_API
    for where in wheres(role, ep)
]


def _id(row) -> str:
    role, ep, where, status = row
    return f"{role}-{ep.method} {ep.path}-{where or 'any'}-{'|'.join(map(str, sorted(status)))}"


def client_for(request, role: str) -> tuple[Client, User | None]:
    if role == ANON:
        return Client(), None
    user = request.getfixturevalue(role)
    return login(user), user


def send(client: Client, method: str, path: str, body: Any = None, api: bool = True):
    if method == "GET":
        return client.get(path)
    if api:
        return client.generic(
            method,
            path,
            data=b"" if body is None else json.dumps(body),
            content_type="application/json",
        )
    return client.post(path, body or {})


@pytest.mark.django_db
@pytest.mark.parametrize("row", TABLE, ids=[_id(r) for r in TABLE])
def test_permission_table(request, row):
    role, ep, where, status = row
    client, user = client_for(request, role)
    refs = Refs(user, role, where or "inside")
    path = ep.path.format_map(refs)
    body = ep.body(refs) if callable(ep.body) else ep.body
    changes, reads = AuditEntry.objects.count(), AccessLog.objects.count()
    response = send(client, ep.method, path, body, api=ep.api)
    code = response.status_code
    assert code in status, (
        f"{role} {ep.method} {path} ({where}): {code}, expected {status}: "
        f"{response.content[:300]!r}"
    )
    if role == ANON and code == 302 and ep.who != PUBLIC:
        assert response["Location"].startswith("/login/")
    if code == 404 and ep.api:
        # The API's 404 is its JSON error, never Django's HTML page (Open311's is the spec's
        # list of errors).
        body = response.json()
        assert "detail" in body or body[0]["code"] == 404
    refused = code in (401, 403, 404) or (role == ANON and ep.who != PUBLIC)
    if refused:
        # A refused request changes nothing and reads nothing.
        assert AuditEntry.objects.count() == changes
        assert AccessLog.objects.count() == reads
    elif ep.writes:
        # An accepted write leaves its audit row.
        assert AuditEntry.objects.count() > changes


# --- the table's assumptions -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_cast_has_the_roles_the_table_assumes(request):
    for role in ROLES:
        assert request.getfixturevalue(role).role == ROLE_VALUE[role], role


def test_policy_is_the_spec():
    """The table derives from SPEC; SPEC must be exactly what access.POLICY says."""
    assert set(access.POLICY) == set(SPEC)
    for action, roles in SPEC.items():
        granted = {r for r in ROLES if ROLE_VALUE[r] in access.POLICY[action]}
        assert granted == roles, action


def test_the_table_covers_every_page_and_api_operation():
    from django.urls import get_resolver

    from fangyi.api import api

    # Every named page of fangyi/urls.py (the API and the i18n include counted apart).
    table_pages = {re.sub(r"\?.*", "", ep.path) for ep in ALL_PAGES}

    def routes(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):  # an app's include: every page of it
                yield from routes(pattern.url_patterns, route)
            else:
                yield route

    for route in routes(get_resolver().url_patterns):
        if route.startswith(("api/", "i18n/")):
            continue
        page = "/" + re.sub(r"<(?:\w+:)?\w+>", "{}", route)
        assert any(re.sub(r"\{\w+\}", "{}", p) == page for p in table_pages), page
    # Every operation of the API schema.
    schema = api.get_openapi_schema()
    ops = {(m.upper(), p) for p, item in schema["paths"].items() for m in item}
    table_ops = {
        (ep.method, re.sub(r"\{\w+\}", "{}", re.sub(r"\?.*", "", ep.path))) for ep in ALL_API
    }
    for method, path in ops:
        assert (method, re.sub(r"\{\w+\}", "{}", path)) in table_ops, (method, path)


# --- "not yours" looks exactly like "not there" -------------------------------------------------

NOT_THERE = [
    ("officer", "/api/persons/{person}"),
    ("officer", "/api/persons/{person}/history"),
    ("officer", "/api/households/{household}"),
    ("officer", "/api/households/{household}/members"),
    ("officer", "/api/places/{place}"),
    ("officer", "/api/nodes/{node}"),
    ("grid_worker", "/api/persons/{person}"),
    ("health", "/api/persons/{person}"),
    ("hotel_clerk", "/api/places/{place}"),
    ("outsider", "/api/persons/{person}"),
    ("admin", "/api/users/{user}"),
    ("admin", "/api/nodes/{node}"),
    ("admin", "/api/places/{place}"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("role,template", NOT_THERE)
def test_not_yours_answers_exactly_like_not_there(request, role, template):
    client, user = client_for(request, role)
    outside = template.format_map(Refs(user, role, "outside"))
    missing = template.format_map(Refs(user, role, "missing"))
    logged = AccessLog.objects.count()
    a, b = client.get(outside), client.get(missing)
    assert a.status_code == b.status_code == 404
    assert a["Content-Type"] == b["Content-Type"] == "application/json; charset=utf-8"
    assert a.json() == b.json()
    assert AccessLog.objects.count() == logged  # a refused read is no read


@pytest.mark.django_db
def test_not_yours_token_answers_like_not_there(officer, auxiliary):
    client = login(officer)
    theirs = token_create(actor=auxiliary, name="theirs")[0]
    a = client.delete(f"/api/tokens/{theirs.pk}")
    b = client.delete(f"/api/tokens/{MISSING}")
    assert a.status_code == b.status_code == 404
    assert a.json() == b.json()
    theirs.refresh_from_db()
    assert theirs.revoked is None


def _page_text(response) -> str:
    """The page without what differs on every render: CSRF tokens and the page's own path."""
    text = response.content.decode().replace(response.wsgi_request.path, "<path>")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "template",
    ["/people/{person}/", "/households/{household}/", "/places/{place}/", "/people/{person}/edit/"],
)
def test_not_yours_page_is_the_not_found_page(officer, template):
    client = login(officer)
    a = client.get(template.format_map(Refs(officer, "officer", "outside")))
    b = client.get(template.format_map(Refs(officer, "officer", "missing")))
    assert a.status_code == b.status_code == 404
    assert _page_text(a) == _page_text(b)


@pytest.mark.django_db
def test_a_whole_id_number_of_someone_outside_opens_nothing(officer, beihu_person):
    client = login(officer)
    response = client.get("/people/", {"q": beihu_person.id_number})
    assert response.status_code == 200  # not a redirect to the person
    assert f"/people/{beihu_person.pk}/" not in response.content.decode()
    api = client.get("/api/persons", {"q": beihu_person.id_number}).json()
    assert api["count"] == 0


@pytest.mark.django_db
def test_merge_with_someone_outside_is_not_found(officer, jiwu_person, beihu_person):
    response = login(officer).post(
        f"/api/persons/{jiwu_person.pk}/merge",
        {"other_id": beihu_person.pk},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert Person.objects.filter(pk__in=[jiwu_person.pk, beihu_person.pk]).count() == 2


# --- particular roles ------------------------------------------------------------------------


@pytest.mark.django_db
def test_site_staff_see_only_their_own_place(hotel_clerk, hotel):
    client = login(hotel_clerk)
    places = client.get("/api/places").json()
    assert [p["id"] for p in places["items"]] == [hotel.pk]
    assert places["count"] == 1
    page = client.get("/places/").content.decode()
    assert hotel.name in page
    for other in Place.objects.exclude(pk=hotel.pk):
        assert other.name not in page
        assert client.get(f"/api/places/{other.pk}").status_code == 404
        assert client.get(f"/places/{other.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_household_not_yours_is_not_shown_on_the_new_person_form(
    officer, beihu_household, jiwu_household
):
    client = login(officer)
    theirs = client.get(f"/people/new/?household={beihu_household.pk}")
    missing = client.get(f"/people/new/?household={MISSING}")
    mine = client.get(f"/people/new/?household={jiwu_household.pk}")
    assert theirs.status_code == missing.status_code == mine.status_code == 200
    assert beihu_household.address not in theirs.content.decode()
    assert jiwu_household.address in mine.content.decode()


def _text(response) -> str:
    """The body as a reader sees it: JSON with its \\u escapes decoded."""
    if response["Content-Type"].startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode()


# Administrators read no persons by any door: not by the list, not by one id, not by the
# duplicate check, not by a create that finds duplicates.


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "hotel_clerk"])
def test_no_person_list_for_roles_that_may_not_read_persons(request, role):
    client = login(request.getfixturevalue(role))
    response = client.get("/api/persons")
    assert response.status_code == 403, response.content


@pytest.mark.django_db
def test_administrators_do_not_read_a_person(admin, jiwu_person):
    assert login(admin).get(f"/api/persons/{jiwu_person.pk}").status_code == 403
    assert login(admin).get(f"/people/{jiwu_person.pk}/").status_code == 403


@pytest.mark.django_db
def test_administrators_get_no_persons_from_the_duplicate_check(admin, jiwu_person):
    response = login(admin).post(
        "/api/persons/duplicates",
        {"name": jiwu_person.name, "birth_date": jiwu_person.birth_date.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 403, _text(response)
    assert jiwu_person.name not in _text(response)


@pytest.mark.django_db
def test_administrators_get_no_persons_from_a_create_that_finds_duplicates(admin, jiwu_person):
    client = login(admin)
    before = Person.objects.count()
    create = client.post(
        "/api/persons",
        {
            "name": jiwu_person.name,
            "birth_date": jiwu_person.birth_date.isoformat(),
            "phone": jiwu_person.phone,
            "id_type": "none",
            "node_id": jiwu_person.node_id,
        },
        content_type="application/json",
    )
    assert create.status_code == 403, _text(create)
    assert jiwu_person.name not in _text(create)
    assert Person.objects.count() == before


@pytest.mark.django_db
def test_supervisor_without_second_factor_reaches_no_page(supervisor):
    client = Client()
    client.force_login(supervisor)
    for url in ("/", "/people/", "/audit/", "/households/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(("/login/otp/", "/account/2fa/")), url
    assert client.get("/api/me").status_code == 401


@pytest.mark.django_db
def test_a_refused_action_changes_nothing(auxiliary, jiwu_person, jiwu_household):
    client = login(auxiliary)
    assert client.delete(f"/api/persons/{jiwu_person.pk}").status_code == 403
    assert client.post(f"/people/{jiwu_person.pk}/delete/").status_code == 403
    assert Person.objects.filter(pk=jiwu_person.pk).exists()
    empty = Household.objects.create(node=jiwu_household.node, address="空置户 9号")
    assert client.delete(f"/api/households/{empty.pk}").status_code == 403
    assert Household.objects.filter(pk=empty.pk).exists()


def test_table_has_unique_ids():
    ids = [_id(r) for r in TABLE]
    assert len(ids) == len(set(ids))
