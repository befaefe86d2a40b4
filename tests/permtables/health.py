"""Permission-table rows for fangyi.health.

Risk areas and symptoms are configuration, not records on the tree: there is no "outside" for
them. Their refs name a fresh record inside and an id that does not exist elsewhere, so the
table still checks that an unknown id answers 404 and that other roles get 403.

A self-report link ({selfreport}) is public: inside it is a link in force for the person
there; near and outside it is someone's replaced (revoked) link, which must answer 404 to
anyone, exactly like a link that never existed.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

NOWHERE = 987_654_322  # an id no risk area or symptom has


def _person(refs):
    from fangyi.people.models import Person

    return Person.objects.select_related("node").get(pk=refs["person"])


def _declaration(refs, **extra) -> int:
    from fangyi.health.models import Declaration

    person = _person(refs)
    day = timezone.localdate()
    values = dict(
        person=person,
        node=person.node,
        declared_on=day,
        temperature="36.6",
        temperature_method="ear",
        travel=[{"place": "武汉市", "from": str(day), "to": str(day), "transport": ""}],
        proposal="home",
        proposal_reason="back from 武汉市, within 14 days",
        last_exposure=day - dt.timedelta(days=2),
        recorded_at=timezone.now(),
        confirmed_at=timezone.now(),
    )
    values.update(extra)
    return Declaration.objects.create(**values).pk


def _pending(refs) -> int:
    return _declaration(refs, source="self", status="pending", confirmed_at=None)


def _selfreport(refs) -> str:
    from fangyi.health.models import SelfReportLink
    from fangyi.health.services import _digest

    person = _person(refs)
    token = f"table-{refs.where}-{person.pk}-link"
    SelfReportLink.objects.create(
        person=person,
        digest=_digest(token),
        expires=timezone.now() + dt.timedelta(days=7),
        revoked=None if refs.where == "inside" else timezone.now(),
    )
    return token


def _risk_area(refs) -> int:
    from fangyi.health.models import RiskArea

    if refs.where != "inside":
        return NOWHERE
    return RiskArea.objects.create(name=f"表内地区{refs.compound.pk}", counts_from="2020-01-10").pk


def _symptom(refs) -> int:
    from fangyi.health.models import Symptom

    if refs.where != "inside":
        return NOWHERE
    return Symptom.objects.create(code=f"table-{refs.compound.pk}", name="表内症状").pk


AREA = {"name": "北京市", "aliases": "北京", "counts_from": "2020-06-11"}
SETTINGS = {
    "observation_days": 14,
    "fever_threshold": "37.3",
    "followups_per_day": 1,
    "missed_escalation": 2,
    "self_report_days": 21,
    "travel_since": "2020-01-10",
}
DECLARED = {"temperature": "36.5", "temperature_method": "ear"}
PAGE_DECLARED = {**DECLARED, "travel-place": "", "travel-from": "", "travel-to": ""}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/rules/", "risk.view"),
    Endpoint("GET", "/rules/?area=new&symptom=new", "risk.view"),
    Endpoint("POST", "/rules/", "risk.configure", ok=302, body={"form": "settings", **SETTINGS}),
    Endpoint("GET", "/declarations/", "declaration.view"),
    Endpoint("GET", "/declarations/?tab=all&proposal=home", "declaration.view"),
    Endpoint("GET", "/declarations/?tab=all&person={person}", "declaration.view"),
    Endpoint("GET", "/declarations/new/?person={person}", "declaration.record"),
    Endpoint(
        "POST",
        "/declarations/new/?person={person}",
        "declaration.record",
        ok=302,
        body=PAGE_DECLARED,
    ),
    Endpoint("GET", "/declarations/{declaration}/", "declaration.view"),
    Endpoint("GET", "/declarations/{pending_declaration}/confirm/", "declaration.record"),
    Endpoint("POST", "/declarations/{pending_declaration}/confirm/", "declaration.record", ok=302),
    Endpoint(
        "POST",
        "/declarations/{declaration}/decision/",
        "decision.make",
        ok=302,
        body={"outcome": "home"},
    ),
    Endpoint("GET", "/people/{person}/health/", "declaration.view"),
    Endpoint("POST", "/people/{person}/health/link/", "selfreport.issue"),
    Endpoint("GET", "/r/{selfreport}/", PUBLIC, anon=200),
    Endpoint("POST", "/r/{selfreport}/", PUBLIC, anon=200, body=PAGE_DECLARED),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/risk-areas", "risk.view"),
    Endpoint("POST", "/api/risk-areas", "risk.configure", ok=201, body=AREA),
    Endpoint("PUT", "/api/risk-areas/{risk_area}", "risk.configure", body=AREA),
    Endpoint("DELETE", "/api/risk-areas/{risk_area}", "risk.configure", ok=204),
    Endpoint("GET", "/api/symptoms", "risk.view"),
    Endpoint(
        "POST",
        "/api/symptoms",
        "risk.configure",
        ok=201,
        body={"code": "runny_nose", "name": "流涕"},
    ),
    Endpoint(
        "PUT", "/api/symptoms/{symptom}", "risk.configure", body={"code": "hiccups", "name": "打嗝"}
    ),
    Endpoint("GET", "/api/risk-settings", "risk.view"),
    Endpoint("PUT", "/api/risk-settings", "risk.configure", body=SETTINGS),
    Endpoint("GET", "/api/declarations", "declaration.view"),
    Endpoint("GET", "/api/declarations?awaiting=decision", "declaration.view"),
    Endpoint("GET", "/api/declarations?person_id={person}", "declaration.view"),
    Endpoint(
        "POST",
        "/api/declarations",
        "declaration.record",
        ok=201,
        body=lambda r: {"person_id": r["person"], **DECLARED},
    ),
    # Proposes and stores nothing.
    Endpoint(
        "POST",
        "/api/declarations/propose",
        "declaration.record",
        body=lambda r: {"person_id": r["person"], **DECLARED},
        reads_only=True,
    ),
    Endpoint("GET", "/api/declarations/{declaration}", "declaration.view"),
    Endpoint(
        "POST", "/api/declarations/{pending_declaration}/confirm", "declaration.record", body={}
    ),
    Endpoint("GET", "/api/decisions", "declaration.view"),
    Endpoint("GET", "/api/decisions?person_id={person}", "declaration.view"),
    Endpoint(
        "POST",
        "/api/decisions",
        "decision.make",
        ok=201,
        body=lambda r: {
            "person_id": r["person"],
            "declaration_id": r["declaration"],
            "outcome": "home",
        },
    ),
    Endpoint(
        "POST",
        "/api/self-report-links",
        "selfreport.issue",
        ok=201,
        body=lambda r: {"person_id": r["person"]},
    ),
    Endpoint("GET", "/api/self-report/{selfreport}", PUBLIC, anon=200),
    Endpoint("POST", "/api/self-report/{selfreport}", PUBLIC, ok=201, anon=201, body=DECLARED),
]

REFS: dict = {
    "declaration": _declaration,
    "pending_declaration": _pending,
    "selfreport": _selfreport,
    "risk_area": _risk_area,
    "symptom": _symptom,
}
