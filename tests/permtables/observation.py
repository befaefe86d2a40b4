"""Permission-table rows for fangyi.observation: its pages, its API, and the records they name
(an observation, a follow-up and an alert in the compound, an observation that may be
released, and a self-report link's token)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401


def _today() -> dt.date:
    return timezone.localdate()


def _fresh_person(refs, name: str):
    from fangyi.people.models import Household, Person
    from fangyi.people.services import name_keys

    household = Household.objects.create(node=refs.compound, address=f"{name}巷{refs.where}号")
    norm, pinyin, initials = name_keys(name)
    return Person.objects.create(
        name=name,
        id_type="none",
        household=household,
        node=refs.compound,
        name_norm=norm,
        name_pinyin=pinyin,
        name_initials=initials,
    )


def _observation(refs) -> int:
    """Under observation at home since three days, exposed the day before."""
    from fangyi.observation.services import observation_start_unchecked

    today = _today()
    obs = observation_start_unchecked(
        actor=None,
        person=_fresh_person(refs, "居家观察者"),
        kind="home",
        last_exposure=today - dt.timedelta(days=4),
        starts=today - dt.timedelta(days=3),
    )
    return obs.pk


def _releasable(refs) -> int:
    """Its end date passed two days ago, and yesterday's follow-up was clean."""
    from fangyi.observation.models import FollowUp, Observation

    today = _today()
    obs = Observation.objects.create(
        person=_fresh_person(refs, "期满者"),
        node=refs.compound,
        kind="home",
        starts=today - dt.timedelta(days=16),
        last_exposure=today - dt.timedelta(days=16),
        ends=today - dt.timedelta(days=2),
    )
    FollowUp.objects.create(
        observation=obs,
        node=refs.compound,
        due=today - dt.timedelta(days=1),
        status="seen_well",
        temperature="36.5",
        recorded_at=timezone.now(),
    )
    return obs.pk


def _followup(refs) -> int:
    from fangyi.observation.models import FollowUp
    from fangyi.observation.services import followups_generate

    followups_generate(_today(), observations=[refs["observation"]], audit=False)
    return FollowUp.objects.get(observation_id=refs["observation"], due=_today(), slot=1).pk


def _alert(refs) -> int:
    from fangyi.observation.models import Alert, Observation

    obs = Observation.objects.get(pk=refs["observation"])
    return Alert.objects.create(
        observation=obs,
        node=obs.node,
        kind="fever",
        message="37.9 °C",
        proposal="fever_clinic",
    ).pk


def _daily_token(refs) -> str:
    """Inside: the link of a person under observation. Elsewhere: a token never issued, which
    must answer like any link not in force (tests/test_observation_api.py tries a replaced
    and an expired one)."""
    import secrets

    from fangyi.core.models import User
    from fangyi.health.services import selfreport_link_create
    from fangyi.observation.models import Observation

    if refs.where != "inside":
        return secrets.token_urlsafe(24)
    person = Observation.objects.get(pk=refs["observation"]).person
    issuer = User.objects.get(username="weijian")
    return selfreport_link_create(actor=issuer, person=person)[1]


def _site(refs) -> int:
    from fangyi.people.models import Place

    return Place.objects.get(name="西乡塘区集中隔离点").pk


REFS: dict = {
    "observation": _observation,
    "releasable": _releasable,
    "followup": _followup,
    "alert": _alert,
    "daily_token": _daily_token,
    "site": _site,
}


def _today_body(key: str):
    return lambda r: {key: _today().isoformat()}


PAGES: list[Endpoint] = [
    Endpoint("GET", "/observations/", "observation.view"),
    Endpoint("GET", "/observations/?status=active&kind=home&q=xhx", "observation.view"),
    Endpoint("GET", "/observations/new/?person={person}", "observation.manage"),
    Endpoint("GET", "/observations/{observation}/", "observation.view"),
    Endpoint(
        "POST",
        "/observations/{observation}/extend/",
        "observation.manage",
        ok=302,
        body=_today_body("last_exposure"),
    ),
    Endpoint(
        "POST",
        "/observations/{releasable}/release/",
        "observation.manage",
        ok=302,
        body={"note": "期满解除"},
    ),
    Endpoint(
        "POST",
        "/observations/{observation}/refer/",
        "observation.manage",
        ok=302,
        body={"note": "发热"},
    ),
    Endpoint(
        "POST",
        "/observations/{observation}/transfer/",
        "observation.manage",
        ok=302,
        body=lambda r: {"kind": "place", "place": _site(r)},
    ),
    # Site staff record the checks of people at their own site only; the hotel clerk's hotel
    # holds nobody under observation, so every follow-up answers him as a missing one.
    Endpoint("GET", "/followups/{followup}/", "followup.record", ok_for={"hotel_clerk": 404}),
    Endpoint(
        "POST",
        "/followups/{followup}/",
        "followup.record",
        ok=302,
        body={"status": "seen_well", "temperature": "36.5"},
        ok_for={"hotel_clerk": 404},
    ),
    Endpoint("GET", "/board/", "board.view"),
    Endpoint("GET", "/board/?tab=not_reporting", "board.view"),
    Endpoint("GET", "/alerts/{alert}/", "alert.handle"),
    Endpoint("POST", "/alerts/{alert}/", "alert.handle", ok=302, body={"resolution": "已电话随访"}),
    Endpoint("GET", "/people/{person}/observation/", "observation.view"),
    Endpoint("GET", "/r/{daily_token}/daily/", PUBLIC, anon=200),
    Endpoint("POST", "/r/{daily_token}/daily/", PUBLIC, anon=200, body={"temperature": "36.5"}),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/observations", "observation.view"),
    Endpoint("GET", "/api/observations?status=active&node_id={node}", "observation.view"),
    Endpoint(
        "POST",
        "/api/observations",
        "observation.manage",
        ok=201,
        body=lambda r: {
            "person_id": r["person"],
            "kind": "home",
            "last_exposure": (_today() - dt.timedelta(days=1)).isoformat(),
        },
    ),
    Endpoint("GET", "/api/observations/{observation}", "observation.view"),
    Endpoint(
        "POST",
        "/api/observations/{observation}/extend",
        "observation.manage",
        body=_today_body("last_exposure"),
    ),
    Endpoint(
        "POST", "/api/observations/{releasable}/release", "observation.manage", body={"note": ""}
    ),
    Endpoint(
        "POST", "/api/observations/{observation}/refer", "observation.manage", body={"note": "发热"}
    ),
    Endpoint(
        "POST",
        "/api/observations/{observation}/transfer",
        "observation.manage",
        ok=201,
        body=lambda r: {"kind": "place", "place_id": _site(r)},
    ),
    # Follow-ups are read by those who may see observations, and by site staff for the people
    # at their own site (none at the hotel clerk's ordinary hotel: his lists are empty, and any
    # one follow-up answers him as a missing one).
    Endpoint("GET", "/api/followups", "followup.record"),
    Endpoint("GET", "/api/followups?mine=true&status=due", "followup.record"),
    Endpoint("GET", "/api/followups/{followup}", "followup.record", ok_for={"hotel_clerk": 404}),
    Endpoint(
        "POST",
        "/api/followups/{followup}/record",
        "followup.record",
        body={"status": "seen_well", "temperature": 36.5},
        ok_for={"hotel_clerk": 404},
    ),
    Endpoint("GET", "/api/alerts", "alert.handle"),
    Endpoint(
        "POST", "/api/alerts/{alert}/resolve", "alert.handle", body={"resolution": "已电话随访"}
    ),
    Endpoint("GET", "/api/daylist", "observation.view"),
    Endpoint("GET", "/api/board", "board.view"),
    Endpoint("GET", "/api/board?tab=released", "board.view"),
    Endpoint(
        "POST", "/api/self-report/{daily_token}/daily", PUBLIC, anon=200, body={"temperature": 36.5}
    ),
]
