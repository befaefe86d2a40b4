"""Permission-table rows for fangyi.screening.

{sweep} is a sweep over the role's compound (inside, near or outside its jurisdiction), {door}
the household of that compound in it, {worker} a grid worker of the compound's grid (someone
the doors can be given to), {grid} the compound's grid."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401


def _sweep(refs) -> int:
    from fangyi.screening.services import sweep_open

    today = timezone.localdate()
    return sweep_open(
        actor=None,
        scoped=False,
        node=refs.compound,
        purpose="全面入户排查",
        starts=today,
        ends=today + dt.timedelta(days=7),
    ).pk


def _door(refs) -> int:
    from fangyi.screening.models import Assignment

    return Assignment.objects.get(sweep_id=refs["sweep"], household_id=refs["household"]).pk


def _worker(refs) -> int:
    from fangyi.core.models import User

    worker = User.objects.create(username=f"gw-{refs.compound.pk}", role="grid_worker")
    worker.nodes.set([refs.compound.parent])
    return worker.pk


REFS: dict = {"sweep": _sweep, "door": _door, "worker": _worker}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/sweeps/", "sweep.view"),
    Endpoint("GET", "/sweeps/new/", "sweep.manage"),
    Endpoint("GET", "/sweeps/{sweep}/", "sweep.view"),
    Endpoint("GET", "/sweeps/{sweep}/?level=station", "sweep.view"),
    Endpoint("GET", "/sweeps/{sweep}/coverage/", "sweep.view"),
    Endpoint("POST", "/sweeps/{sweep}/close/", "sweep.manage", ok=302),
    Endpoint("GET", "/sweeps/{sweep}/reassign/?grid={grid}", "sweep.manage"),
    Endpoint(
        "POST",
        "/sweeps/{sweep}/reassign/",
        "sweep.manage",
        ok=302,
        body=lambda r: {"grid": r["grid"], "assignee": r["worker"]},
    ),
    Endpoint("GET", "/sweeps/{sweep}/doors/", "sweep.view"),
    Endpoint("GET", "/sweeps/{sweep}/doors/?status=refused&mine=1", "sweep.view"),
    # the household page's panel of its doors in sweeps
    Endpoint("GET", "/households/{household}/doors/", "sweep.view"),
    Endpoint("GET", "/doors/{door}/", "sweep.view"),
    Endpoint("POST", "/doors/{door}/", "visit.record", ok=302, body={"outcome": "nobody_home"}),
    Endpoint("GET", "/doors/{door}/reassign/", "sweep.manage"),
    Endpoint(
        "POST",
        "/doors/{door}/reassign/",
        "sweep.manage",
        ok=302,
        body=lambda r: {"assignee": r["worker"]},
    ),
]


def _sweep_body(r) -> dict:
    today = timezone.localdate()
    return {
        "node_id": r["node"],
        "purpose": "全面入户排查",
        "starts": today.isoformat(),
        "ends": (today + dt.timedelta(days=3)).isoformat(),
    }


API: list[Endpoint] = [
    Endpoint("GET", "/api/sweeps", "sweep.view"),
    Endpoint("POST", "/api/sweeps", "sweep.manage", ok=201, body=_sweep_body),
    Endpoint("GET", "/api/sweeps/{sweep}", "sweep.view"),
    Endpoint("POST", "/api/sweeps/{sweep}/close", "sweep.manage"),
    Endpoint("GET", "/api/sweeps/{sweep}/coverage?level=community", "sweep.view"),
    Endpoint(
        "POST",
        "/api/sweeps/{sweep}/reassign",
        "sweep.manage",
        body=lambda r: {"assignee_id": r["worker"], "grid_id": r["grid"]},
    ),
    Endpoint("GET", "/api/sweeps/{sweep}/assignments", "sweep.view"),
    Endpoint("GET", "/api/assignments/{door}", "sweep.view"),
    Endpoint("GET", "/api/assignments/{door}/visits", "sweep.view"),
    Endpoint(
        "POST",
        "/api/assignments/{door}/visits",
        "visit.record",
        ok=201,
        body={"outcome": "refused", "notes": "闭门羹"},
    ),
]
