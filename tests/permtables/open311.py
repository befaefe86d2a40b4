"""Permission-table rows for open311 (see tests/permtables/__init__.py for what a row is).

The service list and a service's definition are public. Creating and reading requests take an
api_key in the spec; the table logs in as each role, and the endpoints accept the verified
browser session as well as the key (tests/test_open311.py exercises the key itself). Without
either, the spec's answer is 403, not the API's usual 401. {open311_request} is the tracking code
of a tip in the role's compound (inside, near or outside its jurisdiction). Services belong to
no jurisdiction: {open311_service} is an active category on the "inside" rows and a category no
longer offered on the others, which must answer 404 like a code that never existed."""

from __future__ import annotations

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401


def _open311_request(refs) -> str:
    from fangyi.tips.models import Tip, TipCategory
    from fangyi.tips.services import new_code

    return Tip.objects.create(
        code=new_code(),
        category=TipCategory.objects.get(code="gathering"),
        node=refs.compound,
        description="楼下有人聚餐",
        source="phone",
    ).code


def _open311_service(refs) -> str:
    from fangyi.tips.models import TipCategory

    if refs.where == "inside":
        return "gathering"
    return TipCategory.objects.get_or_create(
        code=f"retired-{refs.compound.pk}", defaults={"name": "已停用", "active": False}
    )[0].code


REFS: dict = {"open311_request": _open311_request, "open311_service": _open311_service}

PAGES: list[Endpoint] = []


def _request_body(r) -> dict:
    return {
        "service_code": "gathering",
        "address_id": r["household"],
        "description": "七八个人在楼道聚餐",
        "attribute": {"people": "8"},
    }


BASE = "/api/open311/v2"
API: list[Endpoint] = [
    Endpoint("GET", f"{BASE}/services.json", PUBLIC, anon=200),
    Endpoint("GET", f"{BASE}/services/{{open311_service}}.json", PUBLIC, anon=200),
    Endpoint("POST", f"{BASE}/requests.json", "tip.record", ok=201, anon=403, body=_request_body),
    Endpoint("GET", f"{BASE}/requests.json", "tip.view", anon=403),
    Endpoint("GET", f"{BASE}/requests.json?status=open", "tip.view", anon=403),
    Endpoint("GET", f"{BASE}/requests/{{open311_request}}.json", "tip.view", anon=403),
]
