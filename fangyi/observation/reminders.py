"""SMS to residents under home observation (issue 15): each morning the link to the day's
self-report, and in the afternoon a reminder to those who have not reported yet.

`reminders_due(now)` is called every minute by the worker. From FANGYI_REMINDER_MORNING until
the afternoon time it queues the morning SMS, from FANGYI_REMINDER_AFTERNOON until
FANGYI_REMINDER_UNTIL (21:00 by default: no texts at night) the afternoon reminder, to every
person under HOME observation today (active, starts ≤ today ≤ ends) who has a mainland mobile
number that did not ask to stop, and who has not reported today (a follow-up of today that is
no longer due or missed: self-reported, or recorded by a worker).

Exactly once per person, day and kind: a `ReminderSent` row (unique on person, day and kind)
is inserted in the same transaction as its outbox `Message`. A second worker running at the
same moment fails on that constraint and its whole batch rolls back (its messages too), then
it looks again and finds them sent; a crash before the commit leaves neither, so the next
minute sends them. Batches of BATCH persons, a few queries each, never several per person.

The text names the sender (the person's community, else station) and says how to stop; it
carries no health data: only the link, whose page shows the given name and the day's form. The
link is a day token of the person's self-report link (fangyi.health.services.selfreport):
valid on that day only, and only while the link is in force; the raw token is never stored.

Replies (fangyi.notify.inbound) from a person's number are written to the person's history
and, when not a stop or start, told to the responsible worker of the observation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _lazy

from fangyi.core.audit import audit_entry
from fangyi.core.models import AuditEntry, Node, NodeKind, Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.core.web import public_url
from fangyi.health.services import selfreport_day_token, selfreport_links_in_force
from fangyi.notify import inbound
from fangyi.notify.models import BlockedNumber, Channel, Message
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import (
    DEFAULT_LANGUAGE,
    SENDER,
    STOP_HINT,
    config,
    emit,
    mainland_mobile,
)
from fangyi.people.models import IdType, Person

from .models import (
    FollowUp,
    FollowUpStatus,
    Observation,
    ObservationKind,
    ObservationStatus,
    ReminderKind,
    ReminderSent,
)

RESIDENT_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.POLICE, Role.HEALTH_STAFF)

MORNING = register(
    Kind(
        "selfreport_morning",
        _lazy("Residents under home observation: the morning self-report SMS"),
        action="observation.view",
        roles=(),
    )
)
AFTERNOON = register(
    Kind(
        "selfreport_reminder",
        _lazy("Residents under home observation: the afternoon reminder"),
        action="observation.view",
        roles=(),
    )
)
REPLY = register(
    Kind(
        "resident_reply",
        _lazy("A resident under observation replied to an SMS"),
        action="observation.view",
        roles=tuple(RESIDENT_ROLES),
    )
)

MORNING_TEXT = gettext_noop(
    "%(sender)s: please fill in today's health self-report by this link: %(link)s"
)
AFTERNOON_TEXT = gettext_noop(
    "%(sender)s: today's health self-report is still missing. Please fill it in by this "
    "link: %(link)s"
)
REPLY_TEXT = gettext_noop("%(name)s replied by SMS: %(text)s")

KINDS: dict[str, tuple[Kind, str]] = {
    ReminderKind.MORNING: (MORNING, MORNING_TEXT),
    ReminderKind.AFTERNOON: (AFTERNOON, AFTERNOON_TEXT),
}

BATCH = 500
RETRIES = 3
# Holders of a Hong Kong / Macao or Taiwan permit read traditional characters; the person has
# no language of his own in the registry.
TRADITIONAL_IDS = {IdType.HK_MACAO, IdType.TAIWAN}
SENDER_KINDS = (NodeKind.COMMUNITY, NodeKind.STATION, NodeKind.DISTRICT)


def _clock(value: str, default: str) -> dt.time:
    try:
        hour, minute = (int(part) for part in (value or default).split(":"))
        return dt.time(hour, minute)
    except (TypeError, ValueError):
        hour, minute = (int(part) for part in default.split(":"))
        return dt.time(hour, minute)


def due_kind(now: dt.datetime) -> str | None:
    """Which reminder is due at `now` (local time): the morning SMS from the morning time to
    the afternoon time, the afternoon reminder from then until the evening limit, else none."""
    t = timezone.localtime(now).time()
    morning = _clock(settings.FANGYI_REMINDER_MORNING, "08:00")
    afternoon = _clock(settings.FANGYI_REMINDER_AFTERNOON, "15:00")
    until = _clock(getattr(settings, "FANGYI_REMINDER_UNTIL", "21:00"), "21:00")
    if afternoon <= t < until:
        return ReminderKind.AFTERNOON
    if morning <= t < afternoon:
        return ReminderKind.MORNING
    return None


def language_of(id_type: str) -> str:
    return "zh-hant" if id_type in TRADITIONAL_IDS else DEFAULT_LANGUAGE


@dataclass
class _Candidate:
    person_id: int
    number: str
    id_type: str
    node_path: str


def _candidates(day: dt.date, kind: str) -> list[_Candidate]:
    """Persons under home observation today with a phone, not yet sent this kind today and
    not reported today: one query."""
    reported = FollowUp.objects.filter(
        observation__person_id=OuterRef("person_id"), due=day
    ).exclude(status__in=[FollowUpStatus.DUE, FollowUpStatus.MISSED])
    sent = ReminderSent.objects.filter(person_id=OuterRef("person_id"), day=day, kind=kind)
    rows = (
        Observation.objects.filter(
            kind=ObservationKind.HOME,
            status=ObservationStatus.ACTIVE,
            starts__lte=day,
            ends__gte=day,
        )
        .exclude(person__phone="")
        .exclude(Exists(sent))
        .exclude(Exists(reported))
        .order_by("person_id")
        .values_list("person_id", "person__phone", "person__id_type", "person__node__path")
    )
    found: dict[int, _Candidate] = {}
    for person_id, phone, id_type, path in rows:
        number = mainland_mobile(phone)
        if number is not None and person_id not in found:
            found[person_id] = _Candidate(person_id, number, id_type, path)
    return list(found.values())


def _senders(paths: set[str]) -> dict[str, str]:
    """{node path: who the SMS comes from}: the community of the node, else its station, else
    its district, else the top of its tree. One query for all the paths."""
    wanted = {a for p in paths for a in ancestor_paths(p)}
    nodes = {n.path: n for n in Node.objects.filter(path__in=wanted).only("path", "kind", "name")}
    out = {}
    for path in paths:
        chain = [nodes[a] for a in ancestor_paths(path) if a in nodes]
        name = next((n.name for k in SENDER_KINDS for n in chain if n.kind == k), "")
        out[path] = name or (chain[0].name if chain else "")
    return out


class _Texts:
    """The texts in each language, translated once, filled per person."""

    def __init__(self, message: str):
        self.message = message
        self.cache: dict[str, tuple[str, str, str]] = {}

    def __call__(self, language: str, params: dict[str, Any]) -> str:
        if language not in self.cache:
            with translation.override(language):
                self.cache[language] = (gettext(SENDER), gettext(self.message), gettext(STOP_HINT))
        sender, body, stop = self.cache[language]
        # The same composition as notify.services.send_to_resident.
        return f"{sender}{body % params} {stop}"[:500]


def _send_batch(
    batch: list[_Candidate], kind: str, day: dt.date, now: dt.datetime, senders: dict[str, str]
) -> int:
    notify_kind, message = KINDS[kind]
    texts = _Texts(message)
    with transaction.atomic():
        done = set(
            ReminderSent.objects.filter(
                person_id__in=[c.person_id for c in batch], day=day, kind=kind
            ).values_list("person_id", flat=True)
        )
        blocked = set(
            BlockedNumber.objects.filter(phone__in={c.number for c in batch}).values_list(
                "phone", flat=True
            )
        )
        batch = [c for c in batch if c.person_id not in done and c.number not in blocked]
        if not batch:
            return 0
        links = selfreport_links_in_force({c.person_id: c.node_path for c in batch}, now)
        messages = []
        for c in batch:
            language = language_of(c.id_type)
            token = selfreport_day_token(links[c.person_id], day)
            link = public_url(reverse("selfreport_daily", args=[token]))
            params = {"sender": senders.get(c.node_path, ""), "link": link}
            messages.append(
                Message(
                    channel=Channel.SMS,
                    to=c.number,
                    kind=notify_kind.key,
                    params=params,
                    text=texts(language, params),
                    language=language,
                    urgent=False,
                    not_before=now,
                    created_at=now,
                    node_path=c.node_path,  # the delivery log shows it to his jurisdiction
                )
            )
        Message.objects.bulk_create(messages)
        if any(m.pk is None for m in messages):  # no ids from a bulk insert: read them back
            ids = dict(
                Message.objects.filter(key__in=[m.key for m in messages]).values_list("key", "id")
            )
            for m in messages:
                m.pk = ids[m.key]
        ReminderSent.objects.bulk_create(
            [
                ReminderSent(person_id=c.person_id, day=day, kind=kind, message=m, created=now)
                for c, m in zip(batch, messages, strict=True)
            ]
        )
    return len(messages)


def reminders_due(now: dt.datetime | None = None) -> int:
    """Queue the reminders due at `now` that were not queued yet; returns how many. Cheap when
    there is nothing to do (one query), so the worker calls it every minute."""
    now = now or timezone.now()
    kind = due_kind(now)
    if kind is None:
        return 0
    enabled, _roles, _urgent = config(KINDS[kind][0])
    if not enabled:
        return 0
    day = timezone.localdate(now)
    queued = 0
    for _attempt in range(RETRIES):
        candidates = _candidates(day, kind)
        if not candidates:
            break
        senders = _senders({c.node_path for c in candidates})
        raced = False
        for start in range(0, len(candidates), BATCH):
            batch = candidates[start : start + BATCH]
            try:
                queued += _send_batch(batch, kind, day, now, senders)
            except IntegrityError:
                raced = True  # another worker queued some of them: look again
        if not raced:
            break
    return queued


# --- replies from a person's number (fangyi.notify.inbound) -------------------------------------


@inbound.on_received
def reply_received(received: inbound.Received, now: dt.datetime) -> None:
    """A reply from a number of persons in the registry: written to each one's history; a
    reply that is not a stop or start is told to the responsible worker of his observation
    under way (the inbox), who may see it."""
    persons = list(
        Person.objects.filter(phone=received.number).select_related("node").order_by("id")[:20]
    )
    if not persons:
        return
    AuditEntry.objects.bulk_create(
        [
            audit_entry(
                None,
                inbound.RECEIVED_ACTION,
                person,
                node_path=person.node.path,
                object_repr=received.message_id,
                changes={"outcome": [None, received.outcome], "text": [None, received.text]},
            )
            for person in persons
        ]
    )
    if received.outcome != inbound.REPLY:
        return
    observations = Observation.objects.filter(
        person__in=persons, status=ObservationStatus.ACTIVE, responsible__isnull=False
    ).select_related("person", "responsible", "node")
    for observation in observations:
        user: User = observation.responsible  # type: ignore[assignment]
        emit(
            REPLY.key,
            recipients=[user],
            obj=observation,
            message=REPLY_TEXT,
            params={"name": observation.person.name, "text": received.text[:200]},
            url=reverse("observation_detail", args=[observation.pk]),
            node_path=observation.node.path,
            dedupe=f"{REPLY.key}:{received.message_id}"[:120],
            now=now,
        )
