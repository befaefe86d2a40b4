"""Permission-table rows for the duty posts (see tests/permtables/__init__.py for what a row is).

{duty_post} is a post at the role's compound (inside, near or outside its jurisdiction),
staffed round the clock. {duty_shift} is the shift running there now, taken; inside, the caller
is on it when his role can stand at a post (else the compound's own police account is), so
that he may count, register and hand over. {open_shift} is a shift there that started a few
minutes ago with nobody on it, for checking in (the caller taken off the demo's shifts first).

Supervisors set up posts and plan shifts (post.manage); police, auxiliary police, community
staff, grid workers and supervisors keep the shift log (shift.record); health staff, hotel
staff and administrators see no posts."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

STAFF = ("police", "auxiliary", "community_staff", "grid_worker", "supervisor")


def _post(refs) -> int:
    from fangyi.core.models import User
    from fangyi.patrols.models import DutyPost

    return DutyPost.objects.create(
        node=refs.compound,
        name=f"表内卡点{refs.compound.pk}",
        kind="gate",
        staffed_from=dt.time(0, 0),
        staffed_to=dt.time(0, 0),
        created_by=User.objects.get(pk=refs["user"]),
    ).pk


def _on_duty(refs):
    from fangyi.core.models import User

    user = refs.user
    if refs.where == "inside" and user is not None and user.role in STAFF:
        return user
    return User.objects.get(pk=refs["user"])


def _shift(refs, *, taken: bool) -> int:
    from fangyi.patrols.models import DutyPost, DutyShift

    post = DutyPost.objects.get(pk=refs["duty_post"])
    if not taken and refs.user is not None:
        # The demo city has the cast on duty now (fangyi.patrols.demo_posts): off those shifts,
        # so that checking in here is no overlap.
        DutyShift.staff.through.objects.filter(user=refs.user).delete()
    now = timezone.now()
    starts = now - (dt.timedelta(hours=1) if taken else dt.timedelta(minutes=5))
    shift = DutyShift.objects.create(
        post=post,
        node=post.node,
        starts=starts,
        ends=now + dt.timedelta(hours=5),
        created_by=post.created_by,
    )
    if taken:
        who = _on_duty(refs)
        shift.taken_at, shift.taken_by = starts + dt.timedelta(minutes=2), who
        shift.save()
        shift.staff.set([who])
    return shift.pk


REFS: dict = {
    "duty_post": _post,
    "duty_shift": lambda refs: _shift(refs, taken=True),
    "open_shift": lambda refs: _shift(refs, taken=False),
}


def _local(delta: dt.timedelta, fmt: str = "%Y-%m-%dT%H:%M") -> str:
    return timezone.localtime(timezone.now() + delta).strftime(fmt)


def _post_form(r) -> dict:
    return {
        "node": r["node"],
        "name": "表内新卡点",
        "kind": "gate",
        "staffed_from": "07:00",
        "staffed_to": "22:00",
        "active": "on",
    }


def _post_api(r) -> dict:
    return {"node_id": r["node"], "name": "表内新卡点", "kind": "gate"}


def _shift_form(r) -> dict:
    return {"starts": _local(dt.timedelta(hours=1)), "ends": _local(dt.timedelta(hours=3))}


def _shift_api(r) -> dict:
    return {
        "starts": timezone.localtime(timezone.now() + dt.timedelta(hours=1)).isoformat(),
        "ends": timezone.localtime(timezone.now() + dt.timedelta(hours=3)).isoformat(),
    }


REGISTER_FORM = {
    "name": "表内登记者",
    "id_type": "none",
    "temperature": "36.5",
    "temperature_method": "forehead",
}
REGISTER_API = {
    "person": {"name": "表内登记者", "id_type": "none"},
    "temperature": "36.5",
    "temperature_method": "forehead",
}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/posts/", "post.view"),
    Endpoint("GET", "/posts/new/", "post.manage"),
    Endpoint("POST", "/posts/new/", "post.manage", ok=302, body=_post_form),
    Endpoint("GET", "/posts/{duty_post}/", "post.view"),
    Endpoint("GET", "/posts/{duty_post}/edit/", "post.manage"),
    Endpoint("POST", "/posts/{duty_post}/edit/", "post.manage", ok=302, body=_post_form),
    Endpoint("GET", "/posts/{duty_post}/shifts/new/", "post.manage"),
    Endpoint("POST", "/posts/{duty_post}/shifts/new/", "post.manage", ok=302, body=_shift_form),
    Endpoint("GET", "/shifts/{duty_shift}/", "post.view"),
    Endpoint("POST", "/shifts/{open_shift}/take/", "shift.record", ok=302),
    Endpoint(
        "POST",
        "/shifts/{duty_shift}/tally/",
        "shift.record",
        ok=302,
        body={"kind": "persons", "delta": "1"},
    ),
    Endpoint("GET", "/shifts/{duty_shift}/register/", "shift.record"),
    Endpoint("POST", "/shifts/{duty_shift}/register/", "shift.record", ok=302, body=REGISTER_FORM),
    Endpoint("GET", "/shifts/{duty_shift}/register/people/?q=xhx", "shift.record"),
    Endpoint("GET", "/shifts/{duty_shift}/handover/", "shift.record"),
    Endpoint(
        "POST", "/shifts/{duty_shift}/handover/", "shift.record", ok=302, body={"note": "交接"}
    ),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/duty-posts", "post.view"),
    Endpoint("GET", "/api/duty-posts?node_id={node}", "post.view"),
    Endpoint("POST", "/api/duty-posts", "post.manage", ok=201, body=_post_api),
    Endpoint("GET", "/api/duty-posts/{duty_post}", "post.view"),
    Endpoint("PUT", "/api/duty-posts/{duty_post}", "post.manage", body=_post_api),
    Endpoint("GET", "/api/duty-shifts", "post.view"),
    Endpoint("GET", "/api/duty-shifts?post_id={duty_post}", "post.view"),
    Endpoint("POST", "/api/duty-posts/{duty_post}/shifts", "post.manage", ok=201, body=_shift_api),
    Endpoint("GET", "/api/duty-shifts/{duty_shift}", "post.view"),
    Endpoint("POST", "/api/duty-shifts/{open_shift}/take", "shift.record", body={}),
    Endpoint(
        "POST",
        "/api/duty-shifts/{duty_shift}/tallies",
        "shift.record",
        ok=201,
        body={"kind": "persons"},
    ),
    Endpoint("GET", "/api/duty-shifts/{duty_shift}/registrations", "post.view"),
    Endpoint(
        "POST",
        "/api/duty-shifts/{duty_shift}/registrations",
        "shift.record",
        ok=201,
        body=REGISTER_API,
    ),
    Endpoint(
        "POST", "/api/duty-shifts/{duty_shift}/handover", "shift.record", body={"note": "交接"}
    ),
]
