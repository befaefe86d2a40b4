"""Permission-table rows for patrols (see tests/permtables/__init__.py for what a row is).

{patrol} is a patrol under way at the role's compound (inside, near or outside), begun an hour
ago; inside, the caller leads it when his role patrols (police, auxiliary, community staff),
so that he may record on it; elsewhere it is led by an officer of that compound. {pevent} is
an event of it (people without masks persuaded), {pphoto} a photo of that event (a small PNG
under DATA_DIR/photos) and {ptip} a gathering tip open at the compound, assigned to the caller.
{plan_node} is the role's compound, for a patrol plan.

Patrol roles and supervisors record; grid workers see; supervisors plan."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

PHOTO_PATH = "permtable/patrol.png"
PATROLLERS = ("police", "auxiliary", "community_staff", "supervisor")


def _leader(refs):
    from fangyi.core.models import User

    user = refs.user
    if refs.where == "inside" and user is not None and user.role in PATROLLERS:
        return user
    return User.objects.get(pk=refs["user"])


def _patrol(refs) -> int:
    from fangyi.patrols.models import Patrol

    patrol = Patrol.objects.create(
        node=refs.compound,
        leader=_leader(refs),
        started_at=timezone.now() - dt.timedelta(hours=1),
    )
    patrol.compounds.set([refs.compound])
    return patrol.pk


def _pevent(refs) -> int:
    from fangyi.patrols.models import Patrol, PatrolEvent

    patrol = Patrol.objects.get(pk=refs["patrol"])
    return PatrolEvent.objects.create(
        patrol=patrol,
        node=refs.compound,
        kind="gathering",
        at=timezone.now() - dt.timedelta(minutes=30),
        people=5,
        activity="cards",
        outcome="refused",
        statements="不肯散去",
        recorded_by=patrol.leader,
    ).pk


def _pphoto(refs) -> int:
    import io

    from django.conf import settings
    from PIL import Image

    from fangyi.patrols.models import PatrolPhoto

    target = settings.DATA_DIR / "photos" / PHOTO_PATH
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (30, 30, 200)).save(buf, "PNG")
        target.write_bytes(buf.getvalue())
    return PatrolPhoto.objects.create(
        event_id=refs["pevent"],
        path=PHOTO_PATH,
        content_type="image/png",
        size=target.stat().st_size,
        sha256="0" * 64,
        width=8,
        height=8,
    ).pk


def _ptip(refs) -> int:
    from fangyi.tips.models import Tip, TipCategory
    from fangyi.tips.services import new_code

    tip = Tip.objects.create(
        code=new_code(),
        category=TipCategory.objects.get(code="gathering"),
        node=refs.compound,
        description="小区里有人打牌",
        source="phone",
        status="assigned",
    )
    if refs.user is not None:
        tip.assignees.set([refs.user])
    return tip.pk


REFS: dict = {"patrol": _patrol, "pevent": _pevent, "pphoto": _pphoto, "ptip": _ptip}

EVENT = {"kind": "masks", "people": 2}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/patrols/", "patrol.view"),
    Endpoint("GET", "/patrols/?under_way=1", "patrol.view"),
    Endpoint("GET", "/patrols/new/", "patrol.record"),
    Endpoint("GET", "/patrols/new/?node={node}", "patrol.record"),
    Endpoint(
        "POST",
        "/patrols/new/?node={node}",
        "patrol.record",
        ok=302,
        body=lambda r: {"node": r["node"], "others": "志愿者1名"},
        elsewhere=404,
    ),
    Endpoint("GET", "/patrols/coverage/", "patrol.view"),
    Endpoint("GET", "/patrols/plans/", "patrol.plan"),
    Endpoint(
        "POST",
        "/patrols/plans/",
        "patrol.plan",
        ok=302,
        body=lambda r: {"node": r["node"], "times_per_day": 2},
    ),
    Endpoint("GET", "/patrols/{patrol}/", "patrol.view"),
    Endpoint("GET", "/patrols/{patrol}/event/?kind=gathering", "patrol.record"),
    Endpoint("POST", "/patrols/{patrol}/event/", "patrol.record", ok=302, body=EVENT),
    Endpoint(
        "POST",
        "/patrols/{patrol}/route/",
        "patrol.record",
        body=None,
        ok=400,  # a form post is not the JSON the page's script sends: refused, nothing stored
        reads_only=True,
    ),
    Endpoint("POST", "/patrols/{patrol}/end/", "patrol.record", ok=302, body={"summary": "巡毕"}),
    Endpoint("GET", "/patrols/events/{pevent}/", "patrol.view"),
    Endpoint("POST", "/patrols/events/{pevent}/tip/", "patrol.record", ok=302),
    Endpoint("POST", "/patrols/events/{pevent}/support/", "patrol.record", ok=302),
    Endpoint("POST", "/patrols/events/{pevent}/enforcement/", "enforcement.record", ok=302),
    Endpoint(
        "POST",
        "/patrols/events/{pevent}/resolve/",
        "patrol.record",
        ok=302,
        body=lambda r: {"tip": r["ptip"], "resolution": "educated"},
    ),
    Endpoint("GET", "/patrols/photos/{pphoto}/", "patrol.view"),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/patrols", "patrol.view"),
    Endpoint("GET", "/api/patrols?under_way=true&node_id={node}", "patrol.view"),
    Endpoint(
        "POST",
        "/api/patrols",
        "patrol.record",
        ok=201,
        body=lambda r: {"node_id": r["node"], "others": "志愿者1名"},
    ),
    Endpoint("GET", "/api/patrols/{patrol}", "patrol.view"),
    Endpoint(
        "POST",
        "/api/patrols/{patrol}/route",
        "patrol.record",
        body={"points": []},
        reads_only=True,  # no point: nothing added
    ),
    Endpoint("POST", "/api/patrols/{patrol}/events", "patrol.record", ok=201, body=EVENT),
    Endpoint("POST", "/api/patrols/{patrol}/end", "patrol.record", body={"summary": "巡毕"}),
    Endpoint("GET", "/api/patrol-events/{pevent}", "patrol.view"),
    Endpoint("POST", "/api/patrol-events/{pevent}/tip", "patrol.record", body={}),
    Endpoint("POST", "/api/patrol-events/{pevent}/support", "patrol.record", body={}),
    Endpoint(
        "POST",
        "/api/patrol-events/{pevent}/resolve-tip",
        "patrol.record",
        body=lambda r: {"tip_id": r["ptip"], "resolution": "educated"},
    ),
    Endpoint("GET", "/api/patrol-photos/{pphoto}", "patrol.view"),
    Endpoint("GET", "/api/patrol-coverage", "patrol.view"),
    Endpoint("GET", "/api/patrol-coverage?node_id={node}", "patrol.view"),
    Endpoint(
        "PUT",
        "/api/patrol-plans",
        "patrol.plan",
        body=lambda r: {"node_id": r["node"], "times_per_day": 2},
    ),
]
