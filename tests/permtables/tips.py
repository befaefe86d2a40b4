"""Permission-table rows for tips (see tests/permtables/__init__.py for what a row is).

{tip} is a poultry tip in the role's compound, just assigned (the caller is one of its
assignees when inside, so that the steps an assignee takes answer); {resolved_tip} the same,
resolved; {dup_tip} a second tip there of the same category (merged into {tip}); {photo} a
photo of a visit on {tip}; {worker} a grid worker of the compound's grid (someone to assign).

The public tracking code ({tipcode}) is the tip's inside; near and outside it is a well-formed
code nobody holds, and "missing" a malformed one: both answer 404 to anyone, exactly alike.
Categories ({category}) are configuration: inside a category, elsewhere an id none has."""

from __future__ import annotations

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

NOWHERE = 987_654_323
UNHELD_CODE = "ZZZZZZZZZ2"


def _new_tip(refs, description="3栋后散养鸡") -> int:
    from fangyi.tips.models import TipCategory
    from fangyi.tips.services import TipInput, tip_submit_public

    tip = tip_submit_public(
        data=TipInput(
            category=TipCategory.objects.get(code="poultry"),
            description=description,
            node=refs.compound,
            reporter_name="陈女士",
        ),
        ip=None,
    )
    if refs.where == "inside" and refs.user is not None and refs.user.role != "admin":
        tip.assignees.add(refs.user)
    return tip.pk


def _tip(refs) -> int:
    return _new_tip(refs)


def _resolved_tip(refs) -> int:
    from fangyi.tips.models import Tip

    pk = _new_tip(refs, "又见散养鸡")
    Tip.objects.filter(pk=pk).update(
        status="resolved", resolution="rectified", resolved_at=timezone.now()
    )
    return pk


def _answered_tip(refs) -> int:
    from fangyi.tips.models import Tip

    pk = _resolved_tip(refs)
    Tip.objects.filter(pk=pk).update(status="answered", answer="已整改", answered_at=timezone.now())
    return pk


def _dup_tip(refs) -> int:
    refs["tip"]  # the main tip first
    return _new_tip(refs, "同一群鸡")


def _photo(refs) -> int:
    import io

    from PIL import Image

    from fangyi.core.models import User
    from fangyi.core.photos import photo_store
    from fangyi.tips.models import Tip, TipPhoto, TipVisit

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 0)).save(buf, format="PNG")
    tip = Tip.objects.get(pk=refs["tip"])
    by = User.objects.get(username="shequ")
    visit = TipVisit.objects.create(tip=tip, node=tip.node, at=timezone.now(), by=by, found="有鸡")
    photo = TipPhoto(visit=visit, uploaded_by=by)
    photo.fill(photo_store(buf.getvalue()))
    photo.save()
    return photo.pk


def _tipcode(refs) -> str:
    from fangyi.tips.models import Tip

    if refs.where == "inside":
        return Tip.objects.get(pk=refs["tip"]).code
    return UNHELD_CODE


def _worker(refs) -> int:
    from fangyi.core.models import User

    worker = User.objects.create(username=f"tip-gw-{refs.compound.pk}", role="grid_worker")
    worker.nodes.set([refs.compound.parent])
    return worker.pk


def _category(refs) -> int:
    from fangyi.tips.models import TipCategory

    if refs.where != "inside":
        return NOWHERE
    return TipCategory.objects.get(code="poultry").pk


REFS: dict = {
    "tip": _tip,
    "resolved_tip": _resolved_tip,
    "answered_tip": _answered_tip,
    "dup_tip": _dup_tip,
    "photo": _photo,
    "tipcode": _tipcode,
    "tip_worker": _worker,
    "category": _category,
}

REPORT = {"category": "poultry", "description": "3栋后散养鸡", "address": "机务小区3栋"}
CATEGORY_FORM = {
    "name": "散养家禽",
    "description": "",
    "questions": "[]",
    "route_roles": ["community_staff", "police"],
    "response_minutes": "240",
    "duplicate_hours": "72",
    "active": "on",
}
CATEGORY_API = {
    "name": "散养家禽",
    "questions": [],
    "route_roles": ["community_staff", "police"],
    "response_minutes": 240,
    "duplicate_hours": 72,
}

PAGES: list[Endpoint] = [
    # the public pages: no login
    Endpoint("GET", "/report/", PUBLIC, anon=200),
    Endpoint("GET", "/report/?category=poultry", PUBLIC, anon=200),
    Endpoint("POST", "/report/", PUBLIC, anon=200, body=REPORT),
    Endpoint("GET", "/track/", PUBLIC, anon=200),
    Endpoint("GET", "/track/{tipcode}/", PUBLIC, anon=200),
    # staff
    Endpoint("GET", "/tips/", "tip.view"),
    Endpoint("GET", "/tips/?status=&mine=1&q=鸡", "tip.view"),
    Endpoint("GET", "/tips/new/", "tip.record"),
    Endpoint("GET", "/tips/new/?category=poultry", "tip.record"),
    Endpoint(
        "POST",
        "/tips/new/",
        "tip.record",
        ok=302,
        body=lambda r: {
            "category": "poultry",
            "source": "phone",
            "description": "电话举报散养鸡",
            "node": r["node"],
        },
    ),
    Endpoint("GET", "/tips/{tip}/", "tip.view"),
    Endpoint(
        "POST",
        "/tips/{tip}/assign/",
        "tip.manage",
        ok=302,
        body=lambda r: {"users": r["tip_worker"]},
    ),
    Endpoint("POST", "/tips/{tip}/accept/", "tip.handle", ok=302),
    Endpoint("POST", "/tips/{tip}/on-scene/", "tip.handle", ok=302),
    Endpoint("POST", "/tips/{tip}/visits/", "tip.handle", ok=302, body={"found": "有鸡十只"}),
    Endpoint("POST", "/tips/{tip}/resolve/", "tip.handle", ok=302, body={"resolution": "warned"}),
    Endpoint(
        "POST", "/tips/{resolved_tip}/answer/", "tip.handle", ok=302, body={"answer": "已整改"}
    ),
    Endpoint(
        "POST",
        "/tips/{answered_tip}/answer/correct/",
        "tip.handle",
        ok=302,
        body={"answer": "已整改完毕"},
    ),
    Endpoint("POST", "/tips/{resolved_tip}/close/", "tip.manage", ok=302),
    Endpoint("POST", "/tips/{resolved_tip}/reopen/", "tip.manage", ok=302, body={"note": "又来"}),
    Endpoint(
        "POST", "/tips/{dup_tip}/merge/", "tip.manage", ok=302, body=lambda r: {"into": r["tip"]}
    ),
    Endpoint("GET", "/tips/photos/{photo}/", "tip.view"),
    Endpoint("GET", "/tips/categories/", "tipcategory.configure"),
    Endpoint("GET", "/tips/categories/{category}/", "tipcategory.configure"),
    Endpoint(
        "POST", "/tips/categories/{category}/", "tipcategory.configure", ok=302, body=CATEGORY_FORM
    ),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/public/tip-categories", PUBLIC, anon=200),
    Endpoint("POST", "/api/public/tips", PUBLIC, ok=201, anon=201, body=REPORT),
    Endpoint("GET", "/api/public/tips/{tipcode}", PUBLIC, anon=200),
    Endpoint("GET", "/api/tips", "tip.view"),
    Endpoint("GET", "/api/tips?status=open&mine=true", "tip.view"),
    Endpoint(
        "POST",
        "/api/tips",
        "tip.record",
        ok=201,
        body=lambda r: {"category": "poultry", "description": "电话举报", "node_id": r["node"]},
    ),
    Endpoint("GET", "/api/tips/{tip}", "tip.view"),
    Endpoint("GET", "/api/tips/{tip}/duplicates", "tip.view"),
    Endpoint("GET", "/api/tips/{tip}/steps", "tip.view"),
    Endpoint(
        "POST",
        "/api/tips/{tip}/assign",
        "tip.manage",
        body=lambda r: {"user_ids": [r["tip_worker"]]},
    ),
    Endpoint("POST", "/api/tips/{tip}/accept", "tip.handle"),
    Endpoint("POST", "/api/tips/{tip}/on-scene", "tip.handle", body={}),
    Endpoint("POST", "/api/tips/{tip}/resolve", "tip.handle", body={"resolution": "educated"}),
    Endpoint("POST", "/api/tips/{resolved_tip}/answer", "tip.handle", body={"answer": "已整改"}),
    Endpoint(
        "POST",
        "/api/tips/{answered_tip}/answer/correct",
        "tip.handle",
        body={"answer": "已整改完毕"},
    ),
    Endpoint("POST", "/api/tips/{resolved_tip}/close", "tip.manage"),
    Endpoint("POST", "/api/tips/{resolved_tip}/reopen", "tip.manage", body={"note": "又来"}),
    Endpoint(
        "POST", "/api/tips/{dup_tip}/merge", "tip.manage", body=lambda r: {"into_id": r["tip"]}
    ),
    Endpoint("GET", "/api/tips/{tip}/visits", "tip.view"),
    Endpoint("POST", "/api/tips/{tip}/visits", "tip.handle", ok=201, body={"found": "有鸡"}),
    Endpoint("GET", "/api/tip-photos/{photo}", "tip.view"),
    Endpoint("GET", "/api/tip-categories", ANY),
    Endpoint("PUT", "/api/tip-categories/{category}", "tipcategory.configure", body=CATEGORY_API),
]
