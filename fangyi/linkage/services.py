"""Every write of fangyi.linkage: support requests and their steps, the escalation of overdue
requests, the response targets. Each validates first, then writes and audits in one
transaction; the pages and the API both call these."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_entry, audit_record, created, snapshot
from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import AuditEntry, Node, Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.core.transitions import Lifecycle, Move, Step, allowed_steps, register, transition
from fangyi.core.validators import check_length
from fangyi.screening.models import DoorStatus

from . import notices
from .models import (
    AGENCY_ROLES,
    DEFAULT_MINUTES,
    RUNNING,
    Agency,
    RequestStatus,
    ResponseTarget,
    SupportRequest,
    Urgency,
    agency_of,
)

CREATE_FIELDS = [
    "node",
    "from_node",
    "agency",
    "target_user",
    "requested_by",
    "requester_agency",
    "household",
    "person",
    "tip",
    "assignment",
    "need",
    "urgency",
    "target_minutes",
    "status",
    "due_at",
]
# A device's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=2)
MAX_MINUTES = 7 * 24 * 60


def target_minutes(urgency: str) -> int:
    """The configured response time of an urgency, in minutes (DEFAULT_MINUTES when missing)."""
    minutes = (
        ResponseTarget.objects.filter(urgency=urgency).values_list("minutes", flat=True).first()
    )
    return minutes if minutes else DEFAULT_MINUTES.get(urgency, DEFAULT_MINUTES[Urgency.NORMAL])


def agency_label(agency: str) -> str:
    return str(dict(Agency.choices).get(agency, agency))


def from_node_of(user: User, node: Node) -> Node | None:
    """The requester's own node that holds the place, the deepest; None when none does (a
    requester never asks outside his jurisdiction, but the system may)."""
    return (
        user.nodes.filter(path__in=ancestor_paths(node.path)).order_by("-depth", "path").first()
        if user is not None and user.pk
        else None
    )


def _door_need(assignment) -> str:
    return _(
        "The door of %(address)s stays shut in the sweep “%(purpose)s”: please come and help "
        "visit it."
    ) % {"address": assignment.household.address, "purpose": assignment.sweep.purpose}


def _subject(
    actor: User, *, household, person, tip, assignment
) -> tuple[Node, dict[str, Any], str]:
    """(the place, the subject fields, the field to blame) of exactly one subject."""
    given = [
        (name, value)
        for name, value in (
            ("household", household),
            ("person", person),
            ("tip", tip),
            ("assignment", assignment),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise DomainError(
            _("Ask for support on exactly one household, person, tip or refused door."),
            field="subject",
        )
    name, value = given[0]
    node = value.node
    if not access.path_visible(actor, node.path):
        raise NotFound(_("This place is not in your jurisdiction."), field=name)
    fields: dict[str, Any] = {name: value}
    if name == "assignment":
        if not (value.needs_police or value.status == DoorStatus.REFUSED):
            raise DomainError(
                _("Only a door that was refused asks for support this way."), field="assignment"
            )
        fields["household"] = value.household
    return node, fields, name


def _target_user(agency: str, target_user: User | None, node: Node | None) -> User | None:
    if agency != Agency.USER:
        if target_user is not None:
            raise DomainError(
                _("A named person is chosen only for a request to a named person."),
                field="target_user",
            )
        return None
    if target_user is None:
        raise DomainError(_("Choose the person to ask."), field="target_user")
    ok = (
        target_user.is_active
        and target_user.role in access.FIELD_ROLES
        and node is not None
        and access.path_visible(target_user, node.path)
    )
    if not ok:
        # The same answer whoever it is: no names or roles of users elsewhere are told.
        raise DomainError(
            _("Choose an active field worker whose jurisdiction holds this place."),
            field="target_user",
        )
    return target_user


def support_request_create(
    *,
    actor: User,
    agency: str,
    need: str = "",
    urgency: str,
    target_user: User | None = None,
    household=None,
    person=None,
    tip=None,
    assignment=None,
    client_id: uuid.UUID | None = None,
) -> SupportRequest:
    """Ask an agency (or a named user) for support on exactly one household, person, tip or
    refused door (whose household becomes the subject, the need filled in from the sweep and
    the door when empty). The target time comes from the configuration of the urgency."""
    access.require(actor, "support.request")
    done = replay(
        SupportRequest,
        client_id,
        lambda done: (
            done.requested_by_id == actor.pk and access.path_visible(actor, done.node.path)
        ),
        related=["node"],
    )
    if done is not None:
        return done

    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(str(message))

    node, subject, _name = _subject(
        actor, household=household, person=person, tip=tip, assignment=assignment
    )
    if assignment is not None and not (need or "").strip():
        need = _door_need(assignment)
        if not agency:
            agency = Agency.POLICE
    if agency not in Agency.values:
        add("agency", _("Choose who is asked: police, health, community or a named person."))
    else:
        try:
            target_user = _target_user(agency, target_user, node)
        except DomainError as exc:
            add("target_user", exc.message)
    if urgency not in Urgency.values:
        add("urgency", _("Choose the urgency: urgent, high or normal."))
    try:
        need = check_length(need, "need", 1000, required=True)
    except DomainError as exc:
        for msgs in exc.errors.values():
            for m in msgs:
                add("need", m)
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, errors=errors)

    if assignment is not None:
        running = (
            SupportRequest.objects.filter(assignment=assignment, status__in=RUNNING)
            .values_list("pk", flat=True)
            .first()
        )
        if running is not None:
            raise Conflict(
                _("Support was already asked for this door."),
                field="assignment",
                details={"id": running},
            )

    minutes = target_minutes(urgency)
    now = timezone.now()
    request = SupportRequest(
        node=node,
        from_node=from_node_of(actor, node),
        agency=agency,
        target_user=target_user,
        requested_by=actor,
        requester_agency=agency_of(actor.role),
        need=need,
        urgency=urgency,
        target_minutes=minutes,
        status=RequestStatus.OPEN,
        created_at=now,
        due_at=now + dt.timedelta(minutes=minutes),
        client_id=client_id,
        **subject,
    )
    try:
        with transaction.atomic():
            request.save()
            audit_record(
                actor,
                "fangyi.supportrequest.create",
                request,
                changes=created(snapshot(request, CREATE_FIELDS)),
                node_path=node.path,
            )
            notices.support_requested(request, now)
    except IntegrityError:
        done = replay(
            SupportRequest,
            client_id,
            lambda done: done.requested_by_id == actor.pk,
        )
        if done is None:
            raise
        return done
    return request


# ---------------------------------------------------------------------------------------------
# the steps


def visible(user: User, request: SupportRequest) -> bool:
    """The request's place is in the user's jurisdiction, or the user asked, or the requester's
    side (from_node) is in the user's jurisdiction."""
    if request.requested_by_id == user.pk:
        return True
    if access.path_visible(user, request.node.path):
        return True
    return request.from_node is not None and access.path_visible(user, request.from_node.path)


def may_answer(user: User, request: SupportRequest) -> bool:
    """A supervisor above the place; the named user; a user of the agency above the place."""
    if not access.can(user, "support.respond"):
        return False
    holds = access.path_visible(user, request.node.path)
    if user.role == Role.SUPERVISOR:
        return holds
    if request.agency == Agency.USER:
        return request.target_user_id == user.pk
    return holds and user.role in AGENCY_ROLES.get(request.agency, set())


def may_cancel(user: User, request: SupportRequest) -> bool:
    if not access.can(user, "support.request"):
        return False
    if request.requested_by_id == user.pk:
        return True
    if user.role != Role.SUPERVISOR:
        return False
    return access.path_visible(user, request.node.path) or (
        request.from_node is not None and access.path_visible(user, request.from_node.path)
    )


def _check_answer(actor: User, request: SupportRequest) -> None:
    """Who among those who may respond answers this request (after its scope): the Forbidden
    says why not, naming the agency or the person it is addressed to."""
    if may_answer(actor, request):
        return
    if request.agency == Agency.USER:
        raise Forbidden(
            _("This request is addressed to %(name)s.")
            % {"name": request.target_user.display_name if request.target_user else "?"}
        )
    if actor.role in AGENCY_ROLES.get(request.agency, set()) or actor.role == Role.SUPERVISOR:
        # The right agency, but the place is not in the actor's jurisdiction (he sees the
        # request because he asked for it, or from the requester's side).
        raise Forbidden(_("This place is not in your jurisdiction: you cannot answer for it."))
    raise Forbidden(
        {
            Agency.POLICE: _("This request is addressed to the police."),
            Agency.HEALTH: _("This request is addressed to health staff."),
            Agency.COMMUNITY: _("This request is addressed to community staff."),
        }.get(request.agency, _("This request is not addressed to you."))
    )


def _check_not_own(actor: User, request: SupportRequest) -> None:
    """Help is asked of someone else: the requester does not accept (nor mark arrived) his own
    request, which would make it look answered. A supervisor may, for his area."""
    if request.requested_by_id == actor.pk and actor.role != Role.SUPERVISOR:
        raise Forbidden(_("You cannot answer your own request."))


def _check_answer_not_own(actor: User, request: SupportRequest) -> None:
    _check_answer(actor, request)
    _check_not_own(actor, request)


def _check_cancel(actor: User, request: SupportRequest) -> None:
    if not may_cancel(actor, request):
        raise Forbidden(_("Only the one who asked, or a supervisor, may cancel this request."))


def _in_scope(actor: User, request: SupportRequest) -> None:
    if not visible(actor, request):
        raise NotFound(_("No such support request."))


def _refused(request: SupportRequest, step: Step) -> Conflict:
    """The same answer before the row is written and when another answer won meanwhile: the
    request's status now, and the step it no longer allows."""
    labels = dict(RequestStatus.choices)
    return Conflict(
        _("This request is %(status)s: it cannot be %(step)s now.")
        % {"status": str(labels[request.status]).lower(), "step": _step_label(step.name)},
        field="status",
    )


def _locked(request: SupportRequest) -> SupportRequest:
    return SupportRequest.objects.select_for_update().select_related("node").get(pk=request.pk)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _changes(move: Move) -> dict:
    """The status before and after; the time stamped and the fields the step set, as new."""
    step = move.step
    out = {"status": [move.before, move.after], step.stamp: [None, _plain(move.at)]}
    for name in step.sets:
        out[name] = [None, _plain(move.data[name])]
    return out


def _step_label(step: str) -> str:
    return {
        "accept": _("accepted"),
        "decline": _("declined"),
        "arrive": _("marked arrived"),
        "done": _("marked done"),
        "cancel": _("cancelled"),
    }[step]


S = RequestStatus
SUPPORT_STEPS = register(
    Lifecycle(
        model=SupportRequest,
        audit_kind="supportrequest",
        in_scope=_in_scope,
        refused=_refused,
        changed=_refused,
        lock=_locked,
        node_path=lambda request: request.node.path,
        steps={
            s.name: s
            for s in (
                Step(
                    "accept",
                    (S.OPEN,),
                    S.ACCEPTED,
                    "support.respond",
                    who=_check_answer_not_own,
                    stamp="accepted_at",
                    sets=("accepted_by",),
                    changes=_changes,
                ),
                Step(
                    "decline",
                    (S.OPEN, S.ACCEPTED),
                    S.DECLINED,
                    "support.respond",
                    who=_check_answer,
                    stamp="declined_at",
                    sets=("decline_reason",),
                    changes=_changes,
                ),
                Step(
                    "arrive",
                    (S.ACCEPTED,),
                    S.ARRIVED,
                    "support.respond",
                    who=_check_answer_not_own,
                    stamp="arrived_at",
                    changes=_changes,
                ),
                Step(
                    "done",
                    (S.ARRIVED,),
                    S.DONE,
                    "support.respond",
                    who=_check_answer,
                    stamp="done_at",
                    sets=("outcome",),
                    changes=_changes,
                ),
                Step(
                    "cancel",
                    tuple(RUNNING),
                    S.CANCELLED,
                    "support.request",
                    who=_check_cancel,
                    stamp="cancelled_at",
                    changes=_changes,
                ),
            )
        },
    )
)
# Each step: the statuses it starts from, the status it leads to, the time it stamps (read
# from the table; kept for the callers that read it).
STEPS: dict[str, tuple[tuple[str, ...], str, str]] = {
    name: (step.sources, step.target, step.stamp)  # type: ignore[misc]
    for name, step in SUPPORT_STEPS.steps.items()
}


def support_request_allowed_steps(user: User, request: SupportRequest) -> list[str]:
    """The steps the user may take on the request now: the page's buttons, from the table."""
    return allowed_steps(user, request)


def support_accept(*, actor: User, request: SupportRequest) -> SupportRequest:
    return transition(actor, request, "accept", accepted_by=actor)


def support_decline(*, actor: User, request: SupportRequest, reason: str) -> SupportRequest:
    return transition(
        actor,
        request,
        "decline",
        clean=lambda: {"decline_reason": check_length(reason, "reason", 500, required=True)},
    )


def support_arrive(
    *, actor: User, request: SupportRequest, at: dt.datetime | None = None
) -> SupportRequest:
    return transition(actor, request, "arrive", clean=lambda: {"at": _when(at, request, "arrive")})


def support_done(
    *, actor: User, request: SupportRequest, outcome: str, at: dt.datetime | None = None
) -> SupportRequest:
    def clean() -> dict:
        text = check_length(outcome, "outcome", 1000, required=True)
        return {"outcome": text, "at": _when(at, request, "done")}

    return transition(actor, request, "done", clean=clean)


def support_cancel(*, actor: User, request: SupportRequest) -> SupportRequest:
    return transition(actor, request, "cancel")


def _when(at: dt.datetime | None, request: SupportRequest, step: str) -> dt.datetime | None:
    """A time given by the device (offline phone): not in the future (a small clock skew
    allowed), not before the request, nor before the step before it: arrived after it was
    accepted, done after the arrival."""
    if at is None:
        return None
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    now = timezone.now()
    if at > now + CLOCK_SKEW:
        raise DomainError(_("This time is in the future."), field="at")
    if at < request.created_at:
        raise DomainError(_("This time is before the request was made."), field="at")
    if request.accepted_at and at < request.accepted_at:
        raise DomainError(_("This time is before the request was accepted."), field="at")
    if step == "done" and request.arrived_at and at < request.arrived_at:
        raise DomainError(_("This time is before the arrival."), field="at")
    return at


# ---------------------------------------------------------------------------------------------
# escalation


def support_escalate_overdue(now: dt.datetime | None = None) -> int:
    """Mark `escalated_at` on running requests past their due time that are not yet marked, one
    audit row each (the supervisors of both sides then see them). Idempotent; the worker runs
    it every minute."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = SupportRequest.objects.filter(
            status__in=RUNNING, due_at__lt=now, escalated_at__isnull=True
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.values_list("pk", "due_at", "agency", "need", "node__path"))
        if not rows:
            return 0
        ids = [r[0] for r in rows]
        n = 0
        for start in range(0, len(ids), 900):  # SQLite's parameter cap
            n += SupportRequest.objects.filter(
                pk__in=ids[start : start + 900], escalated_at__isnull=True
            ).update(escalated_at=now)
        AuditEntry.objects.bulk_create(
            [
                audit_entry(
                    None,
                    "fangyi.supportrequest.escalate",
                    None,
                    object_type="supportrequest",
                    object_id=pk,
                    object_repr=f"{agency_label(agency)}: {need[:40]}",
                    changes={
                        "escalated_at": [None, now.isoformat()],
                        "due_at": [due.isoformat(), due.isoformat()],
                    },
                    node_path=path,
                )
                for pk, due, agency, need, path in rows
            ],
            batch_size=500,
        )
        # The supervisors of both sides are told (the rows just marked: once each).
        for start in range(0, len(ids), 900):
            notices.support_overdue(
                SupportRequest.objects.filter(
                    pk__in=ids[start : start + 900], escalated_at=now
                ).select_related("node", "from_node"),
                now,
            )
    return n


# ---------------------------------------------------------------------------------------------
# configuration


def response_targets_set(*, actor: User, minutes: dict[str, Any]) -> list[ResponseTarget]:
    """Set the minutes of each urgency given ({"urgent": 10, ...}); 1 to a week."""
    access.require(actor, "linkage.configure")
    errors: dict[str, list[str]] = {}
    clean: dict[str, int] = {}
    for urgency, value in minutes.items():
        if urgency not in Urgency.values:
            errors.setdefault(urgency, []).append(_("Unknown urgency."))
            continue
        try:
            number = int(value)
            if not 1 <= number <= MAX_MINUTES:
                raise ValueError
        except (TypeError, ValueError):
            errors.setdefault(urgency, []).append(
                _("Enter a whole number of minutes from 1 to %(max)d.") % {"max": MAX_MINUTES}
            )
            continue
        clean[urgency] = number
    if errors:
        raise DomainError(next(iter(errors.values()))[0], errors=errors)
    with transaction.atomic():
        for urgency, number in clean.items():
            target, made = ResponseTarget.objects.get_or_create(
                urgency=urgency, defaults={"minutes": number}
            )
            old = None if made else target.minutes
            if not made and target.minutes != number:
                target.minutes = number
                target.save(update_fields=["minutes"])
            if made or old != number:
                audit_record(
                    actor,
                    "fangyi.responsetarget.update",
                    target,
                    changes={"minutes": [old, number]},
                )
    return list(ResponseTarget.objects.order_by("minutes"))
