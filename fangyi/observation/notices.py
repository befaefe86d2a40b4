"""The notifications of fangyi.observation (issue 15): a fever or symptom alert, and follow-ups
missed in a row. The recipients are those the alert routing and the day list show them to:
a fever or symptom alert goes to the health staff whose jurisdiction holds the person (they
handle it, fangyi.observation.selectors.alert_kinds_for) and to the observation's responsible
worker (the police or community worker who follows the person up); missed follow-ups go to
the supervisors above the person (the alert is theirs) and to the responsible worker.
Registered when the observation services load (they import this module at the top)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy, gettext_noop

from fangyi.core.models import FIELD_ROLES, Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import emit

from .models import Alert, Observation

FEVER_ALERT = register(
    Kind(
        "fever_alert",
        gettext_lazy("A fever or symptom alert"),
        action="observation.view",
        roles=tuple(FIELD_ROLES) + (Role.SUPERVISOR,),
        urgent=True,
        sms_required=(Role.HEALTH_STAFF,),
    )
)
MISSED_FOLLOWUPS = register(
    Kind(
        "missed_followups",
        gettext_lazy("Follow-ups missed in a row"),
        action="observation.view",
        roles=tuple(FIELD_ROLES) + (Role.SUPERVISOR,),
    )
)

FEVER = gettext_noop("Fever or symptoms reported for %(name)s on %(date)s: please decide")
FEVER_RESPONSIBLE = gettext_noop(
    "Fever or symptoms reported for %(name)s on %(date)s: health staff are told"
)
MISSED = gettext_noop("%(name)s: %(n)s follow-ups missed in a row")


def _handlers(
    paths: Iterable[str], role: str, responsible_ids: Iterable[int | None]
) -> tuple[list[Any], dict[int, Any]]:
    """One query: the active users of `role` above any of `paths` (each with the node path
    that puts him there, `_p`), and the responsible workers by id."""
    wanted: set[str] = set()
    for p in paths:
        wanted.update(ancestor_paths(p))
    ids = {i for i in responsible_ids if i}
    q = Q(role=role, nodes__path__in=wanted)
    if ids:
        q |= Q(pk__in=ids)
    rows = list(User.objects.filter(q, is_active=True).annotate(_p=F("nodes__path")))
    above = [u for u in rows if u.role == role and u._p in wanted]
    by_id = {u.pk: u for u in rows if u.pk in ids}
    return above, by_id


def _holding(users: list[Any], path: str) -> list[User]:
    seen: dict[int, User] = {}
    for u in users:
        if u.pk not in seen and path.startswith(u._p or "\0"):
            seen[u.pk] = u
    return list(seen.values())


def alert_raised(alert: Alert, observation: Observation, name: str, path: str) -> None:
    """A fever or symptom alert was raised on a follow-up: health staff above the person
    (the alert's page) and the responsible worker (the observation's page)."""
    staff, by_id = _handlers([path], Role.HEALTH_STAFF, [observation.responsible_id])
    params = {"name": name, "date": alert.followup.due.isoformat() if alert.followup else ""}
    emit(
        FEVER_ALERT.key,
        recipients=_holding(staff, path),
        obj=alert,
        message=FEVER,
        params=params,
        url=reverse("alert_detail", args=[alert.pk]),
        node_path=path,
        dedupe=f"{FEVER_ALERT.key}:{alert.pk}",
    )
    responsible = by_id.get(observation.responsible_id or 0)
    if responsible is not None and responsible.role != Role.HEALTH_STAFF:
        emit(
            FEVER_ALERT.key,
            recipients=[responsible],
            obj=observation,
            message=FEVER_RESPONSIBLE,
            params=params,
            url=reverse("observation_detail", args=[observation.pk]),
            node_path=path,
            dedupe=f"{FEVER_ALERT.key}:{alert.pk}",
        )


def missed_in_a_row(alerts: Iterable[Alert], day: dt.date) -> None:
    """Observations just escalated for follow-ups missed in a row: the supervisors above the
    person (the alert's page) and the responsible worker (the observation's page), once per
    observation and day. One query for the recipients of them all."""
    alerts = [a for a in alerts if a.pk]
    if not alerts:
        return
    paths = {a.pk: a.observation.node.path for a in alerts}
    chiefs, by_id = _handlers(
        paths.values(), Role.SUPERVISOR, [a.observation.responsible_id for a in alerts]
    )
    for a in alerts:
        obs, path = a.observation, paths[a.pk]
        params = {"name": obs.person.name, "n": obs.missed_streak}
        dedupe = f"{MISSED_FOLLOWUPS.key}:{obs.pk}:{day.isoformat()}"
        emit(
            MISSED_FOLLOWUPS.key,
            recipients=_holding(chiefs, path),
            obj=a,
            message=MISSED,
            params=params,
            url=reverse("alert_detail", args=[a.pk]),
            node_path=path,
            dedupe=dedupe,
        )
        responsible = by_id.get(obs.responsible_id or 0)
        if responsible is not None and responsible.role != Role.SUPERVISOR:
            emit(
                MISSED_FOLLOWUPS.key,
                recipients=[responsible],
                obj=obs,
                message=MISSED,
                params=params,
                url=reverse("observation_detail", args=[obs.pk]),
                node_path=path,
                dedupe=dedupe,
            )
