"""Permission-table rows for linkage (see tests/permtables/__init__.py for what a row is).

{support} is a request to the police on the household of the role's compound, asked by
someone else (so only the place's jurisdiction makes it visible); {support_accepted} and
{support_arrived} the same a step further; {my_support} one asked by the caller himself when
inside (by someone else elsewhere); {refused_door} the compound's household in a sweep, refused;
{station} the board over the compound the caller may open (else the compound's station);
{linkage_tip} a tip in the compound.

Answering a request to the police: police roles and supervisors; grid workers, community and
health staff may see it but get 403 "This request is addressed to the police."."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

NOT_POLICE = {"grid_worker": 403, "community_staff": 403, "health": 403}


def _asker(refs):
    from fangyi.core.models import User

    user, made = User.objects.get_or_create(
        username=f"asker-{refs.compound.pk}", defaults={"role": "grid_worker"}
    )
    if made:
        user.nodes.set([refs.compound])
    return user


def _make(refs, *, by=None, status="open") -> int:
    from fangyi.linkage.models import SupportRequest
    from fangyi.people.models import Household

    household = Household.objects.select_related("node").get(pk=refs["household"])
    now = timezone.now()
    asker = by or _asker(refs)
    values = {}
    if status in ("accepted", "arrived"):
        values.update(accepted_at=now, accepted_by=asker)
    if status == "arrived":
        values["arrived_at"] = now
    return SupportRequest.objects.create(
        node=household.node,
        from_node=household.node,
        agency="police",
        requested_by=asker,
        requester_agency="community",
        household=household,
        need="住户拒不开门,请民警协助",
        urgency="high",
        target_minutes=30,
        status=status,
        created_at=now,
        due_at=now + dt.timedelta(minutes=30),
        **values,
    ).pk


def _my_support(refs) -> int:
    mine = refs.where == "inside" and refs.user is not None
    return _make(refs, by=refs.user if mine else None)


def _refused_door(refs) -> int:
    from fangyi.screening.models import Assignment

    pk = refs["door"]
    Assignment.objects.filter(pk=pk).update(status="refused", needs_police=True)
    return pk


def _station(refs) -> int:
    from fangyi.core import access
    from fangyi.core.models import Node
    from fangyi.core.selectors import ancestor_paths
    from fangyi.linkage.selectors import board_stations

    chain = list(Node.objects.filter(path__in=ancestor_paths(refs.compound.path)))
    mine = set()
    if refs.user is not None and access.can(refs.user, "dispatch.view"):
        mine = {n.pk for n in board_stations(refs.user)}
    for node in sorted(chain, key=lambda n: -n.depth):
        if node.pk in mine:
            return node.pk
    return next(n.pk for n in chain if n.kind == "station")


def _linkage_tip(refs) -> int:
    from fangyi.tips.models import Tip, TipCategory

    now = timezone.now()
    return Tip.objects.create(
        code=f"LK{refs.compound.pk:06d}",
        category=TipCategory.objects.order_by("pk").first(),
        node=refs.compound,
        description="小区内有人聚集打牌",
        source="phone",
        received_at=now,
        due_at=now + dt.timedelta(minutes=30),
    ).pk


REFS: dict = {
    "support": lambda r: _make(r),
    "support_accepted": lambda r: _make(r, status="accepted"),
    "support_arrived": lambda r: _make(r, status="arrived"),
    "my_support": _my_support,
    "refused_door": _refused_door,
    "station": _station,
    "linkage_tip": _linkage_tip,
}


def _new_body(r) -> dict:
    return {"household": r["household"], "agency": "police", "urgency": "high", "need": "请协助"}


PAGES: list[Endpoint] = [
    Endpoint("GET", "/support/", "support.view"),
    Endpoint("GET", "/support/?tab=all&status=any", "support.view"),
    Endpoint("GET", "/support/new/", "support.request"),
    Endpoint("GET", "/support/new/?household={household}", "support.request"),
    Endpoint("GET", "/support/new/?person={person}", "support.request"),
    Endpoint("GET", "/support/new/?door={refused_door}", "support.request"),
    Endpoint("POST", "/support/new/", "support.request", ok=302, body=_new_body),
    # the one tap from a refused door: the door and the agency, nothing else
    Endpoint(
        "POST",
        "/support/new/?one_tap=1",
        "support.request",
        ok=302,
        body=lambda r: {"door": r["refused_door"], "agency": "police"},
    ),
    Endpoint("GET", "/support/targets/", "linkage.configure"),
    Endpoint(
        "POST",
        "/support/targets/",
        "linkage.configure",
        ok=302,
        body={"urgent": 12, "high": 30, "normal": 120},
    ),
    Endpoint("GET", "/support/{support}/", "support.view"),
    Endpoint("POST", "/support/{support}/accept/", "support.respond", ok=302, ok_for=NOT_POLICE),
    Endpoint(
        "POST",
        "/support/{support}/decline/",
        "support.respond",
        ok=302,
        ok_for=NOT_POLICE,
        body={"reason": "警力不足"},
    ),
    Endpoint(
        "POST",
        "/support/{support_accepted}/arrive/",
        "support.respond",
        ok=302,
        ok_for=NOT_POLICE,
    ),
    Endpoint(
        "POST",
        "/support/{support_arrived}/done/",
        "support.respond",
        ok=302,
        ok_for=NOT_POLICE,
        body={"outcome": "已入户"},
    ),
    Endpoint("POST", "/support/{my_support}/cancel/", "support.request", ok=302),
    Endpoint("GET", "/dispatch/", "dispatch.view", ok=302),
    Endpoint("GET", "/dispatch/{station}/", "dispatch.view"),
    Endpoint("GET", "/dispatch/{station}/live/", "dispatch.view"),
    Endpoint("GET", "/tips/{linkage_tip}/support/", "support.view"),
]


def _api_body(r) -> dict:
    return {"household_id": r["household"], "agency": "police", "urgency": "high", "need": "协助"}


API: list[Endpoint] = [
    Endpoint("GET", "/api/support-requests", "support.view"),
    Endpoint("GET", "/api/support-requests?to_me=true&status=active", "support.view"),
    Endpoint("POST", "/api/support-requests", "support.request", ok=201, body=_api_body),
    Endpoint("GET", "/api/support-requests/{support}", "support.view"),
    Endpoint("GET", "/api/support-requests/{support}/steps", "support.view"),
    Endpoint(
        "POST", "/api/support-requests/{support}/accept", "support.respond", ok_for=NOT_POLICE
    ),
    Endpoint(
        "POST",
        "/api/support-requests/{support}/decline",
        "support.respond",
        ok_for=NOT_POLICE,
        body={"reason": "警力不足"},
    ),
    Endpoint(
        "POST",
        "/api/support-requests/{support_accepted}/arrive",
        "support.respond",
        ok_for=NOT_POLICE,
        body={},
    ),
    Endpoint(
        "POST",
        "/api/support-requests/{support_arrived}/done",
        "support.respond",
        ok_for=NOT_POLICE,
        body={"outcome": "已入户"},
    ),
    Endpoint("POST", "/api/support-requests/{my_support}/cancel", "support.request"),
    Endpoint("GET", "/api/dispatch/{station}", "dispatch.view"),
    Endpoint("GET", "/api/response-targets", ANY),
    Endpoint("PUT", "/api/response-targets", "linkage.configure", body={"urgent": 11}),
]
