"""Taking tips in: from the public page or API (no account, rate-limited per address), from
staff (a call, a visit at the station, something seen on patrol) and from other city systems
(Open311). Every way ends in `_create`: the place is located, the category's routing assigns
the nearest users of its roles, and the tip, its first events and its audit row are written in
one transaction.

The lifecycle after intake (accept, on scene, visits, resolve, answer, close, reopen, merge)
is below the intake section.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
import secrets
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record, created
from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import Node, NodeKind, User
from fangyi.core.photos import photo_discard, photos_store
from fangyi.core.selectors import ancestor_paths, nearest_workers
from fangyi.core.transitions import (
    Lifecycle,
    Move,
    Step,
    allowed_steps,
    guard,
    register,
    transition,
)
from fangyi.core.validators import check_length, check_public_text, normalize_phone
from fangyi.people.models import Household, Person

from . import notices
from .models import (
    OPEN_STATUSES,
    Resolution,
    Tip,
    TipCategory,
    TipEvent,
    TipPhoto,
    TipSource,
    TipStatus,
    TipVisit,
    VisitAction,
)

# Tracking codes: no 0/O, 1/I/L, so a code read out on the phone is not misheard.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31^10, about 2^50: not guessable
CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
STAFF_SOURCES = {TipSource.PHONE, TipSource.IN_PERSON, TipSource.PATROL, TipSource.OPEN311}
# Where a tip can be placed: a compound, or a grid when only the grid is known.
PLACE_KINDS = {NodeKind.COMPOUND, NodeKind.GRID}


class Throttled(DomainError):
    status = 429


@dataclass
class TipInput:
    category: TipCategory | None
    description: str
    node: Node | None = None
    address: str = ""
    household: Household | None = None
    latitude: Decimal | str | None = None
    longitude: Decimal | str | None = None
    answers: dict = field(default_factory=dict)
    reporter_name: str = ""
    reporter_phone: str = ""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """What a reporter types: spaces and dashes dropped, upper case."""
    return re.sub(r"[\s-]", "", raw or "").upper()


def sender_of(ip: str | None) -> str:
    """A keyed hash of the sender's address: enough to count, never the address itself.

    An IPv6 sender counts by its /64 network: one home or phone gets a whole /64 and can
    take a new address for every report."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        ip = str(mapped) if mapped else str(ipaddress.IPv6Network((address, 64), strict=False))
    elif address is not None:
        ip = str(address)
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


def categories_active() -> QuerySet[TipCategory]:
    return TipCategory.objects.filter(active=True).order_by("order", "id")


# --- validation -------------------------------------------------------------------------------


def answers_clean(category: TipCategory, answers: dict | None) -> dict:
    """Only the category's own questions, each of its type; required ones present."""
    answers = answers or {}
    if not isinstance(answers, dict):
        raise DomainError(_("Answers must be a mapping of question to answer."), field="answers")
    out: dict = {}
    errors: dict[str, list[str]] = {}
    for q in category.questions or []:
        code, kind = q.get("code"), q.get("type", "text")
        key = f"answers.{code}"
        raw = answers.get(code)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if q.get("required"):
                errors[key] = [_("This question needs an answer.")]
            continue
        if kind == "number":
            try:
                value = int(str(raw).strip())
            except ValueError:
                errors[key] = [_("Enter a whole number.")]
                continue
            if not 0 <= value <= 100000:
                errors[key] = [_("Enter a number between 0 and 100000.")]
                continue
            out[code] = value
        elif kind == "yes_no":
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "y", "on", "是"):
                out[code] = True
            elif text in ("0", "false", "no", "n", "off", "否"):
                out[code] = False
            else:
                errors[key] = [_("Answer yes or no.")]
        elif kind == "choice":
            if str(raw) not in (q.get("choices") or []):
                errors[key] = [_("Choose one of the answers offered.")]
                continue
            out[code] = str(raw)
        else:
            text = str(raw).strip()
            if len(text) > 200:
                errors[key] = [_("Use at most 200 characters.")]
                continue
            out[code] = text
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, errors=errors)
    return out


def _coordinate(value, field_name: str, limit: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter a number."), field=field_name) from None
    if not -limit <= number <= limit:
        raise DomainError(_("Must be between -%(n)s and %(n)s.") % {"n": limit}, field=field_name)
    return number


def tip_clean(data: TipInput) -> TipInput:
    """Check every field; one DomainError carrying all the errors found."""
    errors: dict[str, list[str]] = {}

    def check(fn):
        try:
            return fn()
        except DomainError as exc:
            for k, msgs in exc.errors.items():
                errors.setdefault(k, []).extend(msgs)
            return None

    if data.category is None or not data.category.active:
        errors["category"] = [_("Choose what you are reporting.")]
    data.description = (
        check(lambda: check_length(data.description, "description", 2000, required=True)) or ""
    )
    data.address = check(lambda: check_length(data.address, "address", 200)) or ""
    data.reporter_name = check(lambda: check_length(data.reporter_name, "reporter_name", 50)) or ""
    data.reporter_phone = (
        check(lambda: normalize_phone(data.reporter_phone, "reporter_phone")) or ""
    )
    data.latitude = check(lambda: _coordinate(data.latitude, "latitude", 90))
    data.longitude = check(lambda: _coordinate(data.longitude, "longitude", 180))
    if data.category is not None and data.category.active:
        data.answers = check(lambda: answers_clean(data.category, data.answers)) or {}
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, errors=errors)
    return data


def tip_locate(
    *, node: Node | None, address: str, household: Household | None
) -> tuple[Node, Household | None]:
    """The place that decides grid, community and station: the household's node, else the
    chosen compound or grid, else the household at exactly this address, else the compound
    whose name the address contains (the longest such name)."""
    if household is not None:
        return household.node, household
    if node is not None:
        if node.kind not in PLACE_KINDS:
            raise DomainError(_("Choose a compound or a grid."), field="node")
        return node, None
    address = (address or "").strip()
    if address:
        found = Household.objects.filter(address=address).select_related("node").first()
        if found is not None:
            return found.node, found
        best = None
        for compound in Node.objects.filter(kind=NodeKind.COMPOUND).only("id", "name", "path"):
            if compound.name and compound.name in address:
                if best is None or len(compound.name) > len(best.name):
                    best = compound
        if best is not None:
            return Node.objects.get(pk=best.pk), None
    raise DomainError(
        _("We could not tell where this is. Choose the compound, or give its name in the address."),
        field="node",
    )


def tip_route(tip: Tip) -> list[User]:
    """The nearest active user of each of the category's roles above the tip's place."""
    chosen: list[User] = []
    for role in tip.category.route_roles or []:
        for user in nearest_workers(tip.node, [role]):
            if user not in chosen:
                chosen.append(user)
            break
    return chosen


# --- intake -----------------------------------------------------------------------------------


def throttle_check(sender: str) -> None:
    """At most FANGYI_TIPS_PER_ADDRESS public tips per address in the window; then 429."""
    if not sender:
        return
    window = settings.FANGYI_TIPS_WINDOW_SECONDS
    since = timezone.now() - dt.timedelta(seconds=window)
    sent = Tip.objects.filter(sender=sender, received_at__gte=since).count()
    if sent >= settings.FANGYI_TIPS_PER_ADDRESS:
        minutes = max(1, window // 60)
        raise Throttled(
            _(
                "Too many reports from your network in a short time. Please try again in "
                "%(minutes)s minutes, or call the community office."
            )
            % {"minutes": minutes},
            field="__all__",
        )


def _replay(client_id, check) -> Tip | None:
    return replay(Tip, client_id, check, related=["node", "category"])


def tip_submit_public(*, data: TipInput, ip: str | None, client_id: uuid.UUID | None = None) -> Tip:
    """A resident's tip from the public page or API: no account, rate-limited per address.
    The same client_id twice from the same address stores one tip."""
    sender = sender_of(ip)

    def same(t: Tip) -> bool:
        return t.source == TipSource.PUBLIC and t.sender == sender

    done = _replay(client_id, same)
    if done is not None:
        return done
    throttle_check(sender)
    tip_clean(data)
    node, household = tip_locate(node=data.node, address=data.address, household=None)
    return _create(
        actor=None,
        data=data,
        node=node,
        household=household,
        source=TipSource.PUBLIC,
        sender=sender,
        client_id=client_id,
        same=same,
    )


def tip_record(
    *,
    actor: User,
    data: TipInput,
    source: str = TipSource.PHONE,
    client_id: uuid.UUID | None = None,
) -> Tip:
    """A tip entered by staff (received by phone or in person, found on patrol) or sent by a
    city system through Open311 (its token's user is the actor). The place must be inside the
    actor's jurisdiction."""
    access.require(actor, "tip.record")

    def same(t: Tip) -> bool:
        return access.path_visible(actor, t.node.path)

    done = _replay(client_id, same)
    if done is not None:
        return done
    if source not in STAFF_SOURCES:
        raise DomainError(_("Unknown source."), field="source")
    if data.household is not None and not access.path_visible(actor, data.household.node.path):
        raise NotFound(_("No such household."), field="household")
    tip_clean(data)
    node, household = tip_locate(node=data.node, address=data.address, household=data.household)
    access.check_node_in_scope(actor, node, field="node")
    return _create(
        actor=actor,
        data=data,
        node=node,
        household=household,
        source=source,
        sender="",
        client_id=client_id,
        same=same,
    )


def _create(*, actor, data: TipInput, node, household, source, sender, client_id, same) -> Tip:
    now = timezone.now()
    category = data.category
    for _attempt in range(5):
        tip = Tip(
            code=new_code(),
            category=category,
            node=node,
            household=household,
            address=data.address,
            latitude=data.latitude,
            longitude=data.longitude,
            description=data.description,
            answers=data.answers,
            reporter_name=data.reporter_name,
            reporter_phone=data.reporter_phone,
            source=source,
            sender=sender,
            urgent=category.urgent,
            received_at=now,
            due_at=now + dt.timedelta(minutes=category.response_minutes),
            created_by=actor if actor and actor.pk else None,
            client_id=client_id,
        )
        try:
            with transaction.atomic():
                tip.save()
                assignees = tip_route(tip)
                events = [
                    TipEvent(tip=tip, at=now, by=tip.created_by, status=TipStatus.NEW, public=True)
                ]
                if assignees:
                    tip.assignees.set(assignees)
                    tip.status = TipStatus.ASSIGNED
                    tip.save(update_fields=["status"])
                    names = "、".join(u.display_name for u in assignees)
                    events.append(
                        TipEvent(
                            tip=tip, at=now, status=TipStatus.ASSIGNED, note=names, public=True
                        )
                    )
                TipEvent.objects.bulk_create(events)
                notices.tip_assigned(tip, assignees, now)
                audit_record(
                    actor,
                    "fangyi.tip.create",
                    tip,
                    node_path=node.path,
                    changes=created(
                        {
                            "category": category.code,
                            "node": node.name,
                            "source": source,
                            "status": tip.status,
                            "reporter_phone": tip.reporter_phone,
                            "assignees": [u.username for u in assignees],
                        }
                    ),
                )
            return tip
        except IntegrityError:
            # The same submission stored meanwhile (a concurrent retry): answer with it.
            if (done := _replay(client_id, same)) is not None:
                return done
            continue  # a tracking code collided: draw another
    raise DomainError(_("Could not store the tip; please try again."))


def duplicates_of(tip: Tip) -> QuerySet[Tip]:
    """Likely duplicates: the same category at the same place within the category's window
    either side, not already merged into another."""
    window = dt.timedelta(hours=tip.category.duplicate_hours)
    return (
        Tip.objects.filter(
            node_id=tip.node_id,
            category_id=tip.category_id,
            received_at__gte=tip.received_at - window,
            received_at__lte=tip.received_at + window,
            duplicate_of__isnull=True,
        )
        .exclude(pk=tip.pk)
        .order_by("received_at", "id")
    )


# --- lifecycle --------------------------------------------------------------------------------

# Where each step may start from; anything else is a Conflict on "status".
ACCEPT_FROM = (TipStatus.NEW, TipStatus.ASSIGNED)
ON_SCENE_FROM = (TipStatus.NEW, TipStatus.ASSIGNED, TipStatus.ACCEPTED)
VISIT_FROM = OPEN_STATUSES
RESOLVE_FROM = OPEN_STATUSES
CLOSE_FROM = (TipStatus.RESOLVED, TipStatus.ANSWERED)
REOPEN_FROM = (TipStatus.RESOLVED, TipStatus.ANSWERED, TipStatus.CLOSED)
# A visit's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=2)
FIELD_USER_ROLES = tuple(access.FIELD_ROLES)


def _in_scope(actor: User, tip: Tip) -> None:
    """A tip outside the actor's jurisdiction answers like one that does not exist."""
    if not access.path_visible(actor, tip.node.path):
        raise NotFound(_("No such tip."))


def _status_conflict(tip: Tip) -> Conflict:
    return Conflict(
        _("This cannot be done while the tip is %(status)s.")
        % {"status": str(TipStatus(tip.status).label).lower()},
        field="status",
    )


def _require_status(tip: Tip, allowed) -> None:
    if tip.status not in allowed:
        raise _status_conflict(tip)


def _is_assignee(user: User, tip: Tip) -> bool:
    return tip.assignees.filter(pk=user.pk).exists()


def _require_worker(actor: User, tip: Tip) -> None:
    """Steps on the tip are for its assignees, or those who may assign it."""
    if not (_is_assignee(actor, tip) or access.can(actor, "tip.manage")):
        raise Forbidden(_("This tip is not assigned to you."))


def _locked(tip: Tip) -> Tip:
    """The tip re-read inside the transaction (a row lock on PostgreSQL)."""
    return Tip.objects.select_for_update().select_related("node", "category").get(pk=tip.pk)


def _event(tip: Tip, actor, status, *, note: str = "", public: bool, at=None) -> TipEvent:
    return TipEvent.objects.create(
        tip=tip,
        at=at or timezone.now(),
        by=actor if actor and actor.pk else None,
        status=status,
        note=note,
        public=public,
    )


def _audit(actor, verb: str, tip: Tip, changes: dict) -> None:
    audit_record(actor, f"fangyi.tip.{verb}", tip, node_path=tip.node.path, changes=changes)


def _copy_back(tip: Tip, fresh: Tip) -> None:
    """The caller's instance shows the new state."""
    for f in Tip._meta.concrete_fields:
        setattr(tip, f.attname, getattr(fresh, f.attname))


def _at(value, tip: Tip, *, field_name: str = "at", after_accept: bool = False) -> dt.datetime:
    """A time given by the device (offline phone): not in the future (a small clock skew
    allowed), not before the tip was received; arriving on scene not before it was accepted."""
    now = timezone.now()
    if value is None:
        return now
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(value)
        if parsed is None:
            raise DomainError(_("Enter a date and time."), field=field_name)
        value = parsed
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + CLOCK_SKEW:
        raise DomainError(_("This time is in the future."), field=field_name)
    if value < tip.received_at:
        raise DomainError(_("This is before the tip was received."), field=field_name)
    if after_accept and tip.accepted_at and value < tip.accepted_at:
        raise DomainError(_("This is before the tip was accepted."), field=field_name)
    return value


def assignable_users(tip: Tip):
    """Active field users whose jurisdiction holds the tip's place."""

    return (
        User.objects.filter(
            is_active=True,
            role__in=FIELD_USER_ROLES,
            nodes__path__in=ancestor_paths(tip.node.path),
        )
        .distinct()
        .order_by("role", "username")
    )


def tip_assign(*, actor: User, tip: Tip, users) -> Tip:
    """Give the tip to these users (replacing those it had). A new tip becomes assigned."""
    users = list(users or [])

    def clean() -> dict:
        if not users:
            raise DomainError(_("Choose at least one person."), field="users")
        allowed = set(assignable_users(tip).filter(pk__in=[u.pk for u in users]))
        for u in users:
            if u not in allowed:
                raise NotFound(_("No such field worker here."), field="users")
        return {"users": users}

    return transition(actor, tip, "assign", clean=clean)


def tip_accept(*, actor: User, tip: Tip) -> Tip:
    """An assignee (or one who may assign) takes the tip on; he joins its assignees."""
    return transition(actor, tip, "accept")


def tip_on_scene(*, actor: User, tip: Tip, at=None) -> Tip:
    """Arrived at the place (accepting the tip on the way if nobody had)."""
    return transition(actor, tip, "on_scene", clean=lambda: {"at": _at(at, tip, after_accept=True)})


def _count(value, field_name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise DomainError(_("Enter a whole number."), field=field_name) from None
    if not 0 <= number <= 100000:
        raise DomainError(_("Enter a number between 0 and 100000."), field=field_name)
    return number


def tip_visit_record(
    *,
    actor: User,
    tip: Tip,
    at,
    found: str,
    actions,
    people=None,
    notices=None,
    notes: str = "",
    photos=(),
    client_id: uuid.UUID | None = None,
) -> TipVisit:
    """One visit on the tip: who, when, what was found and done, photos. The first visit on a
    tip not yet worked moves it to "in progress"; a tip is visited as often as needed."""
    access.require(actor, "tip.handle")

    def same_visit(done: TipVisit) -> bool:
        return done.tip_id == tip.pk and access.path_visible(actor, done.tip.node.path)

    done = replay(TipVisit, client_id, same_visit, related=["tip__node"])
    if done is not None:
        return done
    guard(actor, tip, "visit")
    errors: dict[str, list[str]] = {}

    def check(fn):
        try:
            return fn()
        except DomainError as exc:
            for k, msgs in exc.errors.items():
                errors.setdefault(k, []).extend(msgs)
            return None

    at = check(lambda: _at(at, tip))
    found = check(lambda: check_length(found, "found", 2000, required=True)) or ""
    notes = check(lambda: check_length(notes, "notes", 2000)) or ""
    people = check(lambda: _count(people, "people"))
    notices = check(lambda: _count(notices, "notices"))
    actions = list(actions or [])
    if any(a not in VisitAction.values for a in actions):
        errors.setdefault("actions", []).append(_("Choose from the actions offered."))
    actions = list(dict.fromkeys(actions))
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, errors=errors)
    stored = photos_store(photos, field="photos")
    try:
        with transaction.atomic():
            fresh = _locked(tip)
            _require_status(fresh, VISIT_FROM)
            visit = TipVisit.objects.create(
                tip=fresh,
                node=fresh.node,
                at=at,
                by=actor,
                found=found,
                actions=actions,
                people=people,
                notices=notices,
                notes=notes,
                client_id=client_id,
            )
            for s in stored:
                photo = TipPhoto(visit=visit, uploaded_by=actor)
                photo.fill(s)
                photo.save()
            before = fresh.status
            if fresh.status != TipStatus.IN_PROGRESS:
                fresh.status = TipStatus.IN_PROGRESS
                fresh.accepted_at = fresh.accepted_at or at
                fresh.on_scene_at = fresh.on_scene_at or at
                fresh.save(update_fields=["status", "accepted_at", "on_scene_at"])
                _event(fresh, actor, TipStatus.IN_PROGRESS, public=True, at=at)
            _event(fresh, actor, fresh.status, note=_("Visit: %s") % found[:300], public=False)
            _audit(
                actor,
                "visit",
                fresh,
                {
                    "visit": visit.pk,
                    "status": [before, fresh.status],
                    "actions": actions,
                    "photos": len(stored),
                },
            )
    except IntegrityError:
        photo_discard(stored)
        # The same visit stored meanwhile (a concurrent retry): answer with it.
        if (done := replay(TipVisit, client_id, same_visit, related=["tip__node"])) is not None:
            return done
        raise
    except BaseException:
        photo_discard(stored)
        raise
    _copy_back(tip, fresh)
    return visit


def tip_resolve(*, actor: User, tip: Tip, resolution: str, note: str = "") -> Tip:
    """Done on the ground: rectified, education given, warned, referred or unfounded. A
    duplicate is merged instead (tip_merge)."""

    def clean() -> dict:
        if resolution == Resolution.DUPLICATE:
            raise DomainError(_("Merge a duplicate into its main tip instead."), field="resolution")
        if resolution not in Resolution.values:
            raise DomainError(_("Choose how the tip was resolved."), field="resolution")
        return {"resolution": resolution, "note": check_length(note, "note", 2000)}

    return transition(actor, tip, "resolve", clean=clean)


def _require_main(tip: Tip) -> None:
    """A merged duplicate's tracking page shows its main tip: an answer or a closing given on
    the duplicate would never reach its reporter."""
    if tip.duplicate_of_id:
        raise Conflict(
            _(
                "Answer the main tip instead: this one was merged into it, and its reporter "
                "follows the main tip."
            ),
            field="status",
        )


def _public_answer(tip: Tip, answer: str) -> str:
    """An answer fit for the tracking page: no phone number, no ID number, no name of the
    reporter or of a person registered at the tip's place (its household, its compound)."""
    text = check_length(answer, "answer", 2000, required=True)
    names = [tip.reporter_name]
    near = Person.objects.filter(node_id=tip.node_id)
    if tip.household_id:
        near = near | Person.objects.filter(household_id=tip.household_id)
    names += list(near.values_list("name", flat=True).distinct()[:5000])
    return check_public_text(text, "answer", names)


def tip_answer(*, actor: User, tip: Tip, answer: str) -> Tip:
    """The final answer to the reporter, shown on the tracking page. Only once resolved; never
    with a phone number, an ID number or a person's name in it (check_public_text)."""
    return transition(actor, tip, "answer", clean=lambda: {"answer": _public_answer(tip, answer)})


def tip_answer_correct(*, actor: User, tip: Tip, answer: str) -> Tip:
    """A wrong answer corrected, as long as the reporter has not read it; the audit row keeps
    both texts."""
    return transition(
        actor, tip, "correct_answer", clean=lambda: {"answer": _public_answer(tip, answer)}
    )


def tip_answer_read(tip: Tip) -> None:
    """The reporter opened the tracking page showing the answer: from now on it stands."""
    if tip.status in (TipStatus.ANSWERED, TipStatus.CLOSED) and tip.answer_read_at is None:
        Tip.objects.filter(pk=tip.pk, answer_read_at__isnull=True).update(
            answer_read_at=timezone.now()
        )


def tip_close(*, actor: User, tip: Tip) -> Tip:
    return transition(actor, tip, "close")


def tip_reopen(*, actor: User, tip: Tip, note: str) -> Tip:
    """It happened again: back to its assignees (or to new), the history kept in the events."""
    return transition(
        actor,
        tip,
        "reopen",
        clean=lambda: {"note": check_length(note, "note", 2000, required=True)},
    )


def tip_merge(*, actor: User, tip: Tip, into: Tip) -> Tip:
    """The tip is a duplicate of `into` (same category, in scope): resolved as duplicate, and
    its tracking page follows the main tip from now on."""

    def clean() -> dict:
        main = into
        if not access.path_visible(actor, main.node.path):
            raise NotFound(_("No such tip."), field="into")
        if main.duplicate_of_id:
            main = Tip.objects.select_related("node", "category").get(pk=main.duplicate_of_id)
            # The main tip may lie in another jurisdiction: merging into it would tell its code.
            if not access.path_visible(actor, main.node.path):
                raise NotFound(_("No such tip."), field="into")
        if main.pk == tip.pk:
            raise DomainError(_("A tip cannot be merged into itself."), field="into")
        if main.category_id != tip.category_id:
            raise DomainError(_("Only tips of the same category can be merged."), field="into")
        return {"duplicate_of": main, "resolution": Resolution.DUPLICATE}

    return transition(actor, tip, "merge", clean=clean)


# --- the table ----------------------------------------------------------------------------------
# Each step's own work beyond setting its fields; the table below points to them.


def _assign_prepare(move: Move) -> dict:
    fresh, users = move.fresh, move.data["users"]
    move.data["was"] = sorted(fresh.assignees.values_list("username", flat=True))
    fresh.assignees.set(users)
    return {}


def _assign_apply(move: Move) -> None:
    names = "、".join(u.display_name for u in move.data["users"])
    _event(move.fresh, move.actor, move.after, note=names, public=False)
    # Those newly given the tip are told (a retried request gives it to no one new).
    was = set(move.data["was"])
    notices.tip_assigned(
        move.fresh, [u for u in move.data["users"] if u.username not in was], move.at
    )


def _answer_apply(move: Move) -> None:
    notices.tip_answered(move.fresh, move.at)


def _assign_changes(move: Move) -> dict:
    now = sorted(u.username for u in move.data["users"])
    return {"assignees": [move.data["was"], now], "status": move.after}


def _join(move: Move) -> None:
    """Who takes the tip on or arrives joins its assignees."""
    move.fresh.assignees.add(move.actor)


def _on_scene_prepare(move: Move) -> dict:
    return {"accepted_at": move.fresh.accepted_at or move.at}


def _resolve_apply(move: Move) -> None:
    note = move.data.get("note")
    if note:
        _event(move.fresh, move.actor, TipStatus.RESOLVED, note=note, public=False, at=move.at)


def _reopen_target(move: Move) -> str:
    return TipStatus.ASSIGNED if move.fresh.assignees.exists() else TipStatus.NEW


def _reopen_prepare(move: Move) -> dict:
    fresh = move.fresh
    return {
        "reopened": fresh.reopened + 1,
        "resolution": "",
        "answer": "",
        "resolved_at": None,
        "answered_at": None,
        "closed_at": None,
        "due_at": move.at + dt.timedelta(minutes=fresh.category.response_minutes),
    }


def _reopen_apply(move: Move) -> None:
    _event(move.fresh, move.actor, move.after, note=move.data["note"], public=False, at=move.at)


def _merge_apply(move: Move) -> None:
    """Tips merged into this one follow the main tip too; both tips' histories say so."""
    fresh, into, now = move.fresh, move.data["duplicate_of"], move.at
    Tip.objects.filter(duplicate_of=fresh).update(duplicate_of=into)
    _event(
        fresh,
        move.actor,
        TipStatus.RESOLVED,
        note=_("Merged into %s") % into.code,
        at=now,
        public=False,
    )
    _event(
        into,
        move.actor,
        into.status,
        note=_("%s merged into this tip") % fresh.code,
        at=now,
        public=False,
    )


def _tip_event(move: Move) -> None:
    """The public history row the reporter's tracking page shows (an answer carries its text)."""
    note = move.data.get("answer", "") if move.step.name == "answer" else ""
    _event(move.fresh, move.actor, move.after, note=note, public=True, at=move.at)


def _not_merged(tip: Tip) -> bool:
    return not tip.duplicate_of_id


def _tip_refused(tip: Tip, step: Step) -> DomainError:
    """A merged duplicate is answered and closed through its main tip (that is said before its
    status); it is reopened through it too (said after its status)."""
    if step.name in ("answer", "close") and tip.duplicate_of_id:
        try:
            _require_main(tip)
        except Conflict as exc:
            return exc
    if tip.status in step.sources and tip.duplicate_of_id:
        return Conflict(_("This tip was merged; reopen its main tip."), field="status")
    if step.name == "correct_answer" and tip.status in step.sources:
        return Conflict(
            _("The reporter has already read the answer: it can no longer be corrected."),
            field="answer",
        )
    return _status_conflict(tip)


def _status_changes(move: Move, **more) -> dict:
    return {"status": [move.before, move.after], **more}


T = TipStatus
TIP_STEPS = register(
    Lifecycle(
        model=Tip,
        audit_kind="tip",
        in_scope=_in_scope,
        refused=_tip_refused,
        changed=_tip_refused,
        lock=_locked,
        node_path=lambda tip: tip.node.path,
        event=_tip_event,
        steps={
            s.name: s
            for s in (
                Step(
                    "assign",
                    OPEN_STATUSES,
                    lambda m: T.ASSIGNED if m.before == T.NEW else m.before,
                    "tip.manage",
                    clean="after_status",
                    prepare=_assign_prepare,
                    apply=_assign_apply,
                    changes=_assign_changes,
                    event=False,
                ),
                Step(
                    "accept",
                    ACCEPT_FROM,
                    T.ACCEPTED,
                    "tip.handle",
                    who=_require_worker,
                    stamp="accepted_at",
                    apply=_join,
                ),
                Step(
                    "on_scene",
                    ON_SCENE_FROM,
                    T.ON_SCENE,
                    "tip.handle",
                    who=_require_worker,
                    stamp="on_scene_at",
                    clean="after_status",
                    prepare=_on_scene_prepare,
                    apply=_join,
                    changes=lambda m: _status_changes(m, at=m.at.isoformat()),
                ),
                # A visit also writes the visit and its photos: tip_visit_record guards with
                # this row and writes itself.
                Step("visit", VISIT_FROM, T.IN_PROGRESS, "tip.handle"),
                Step(
                    "resolve",
                    RESOLVE_FROM,
                    T.RESOLVED,
                    "tip.handle",
                    who=_require_worker,
                    stamp="resolved_at",
                    sets=("resolution",),
                    apply=_resolve_apply,
                    changes=lambda m: _status_changes(m, resolution=m.data["resolution"]),
                ),
                Step(
                    "answer",
                    (T.RESOLVED,),
                    T.ANSWERED,
                    "tip.handle",
                    who=_require_worker,
                    when=_not_merged,
                    only="not merged into another tip",
                    stamp="answered_at",
                    sets=("answer",),
                    apply=_answer_apply,
                ),
                Step(
                    "correct_answer",
                    (T.ANSWERED,),
                    None,
                    "tip.handle",
                    who=_require_worker,
                    when=lambda tip: tip.answer_read_at is None and not tip.duplicate_of_id,
                    only="the reporter has not read the answer yet",
                    prepare=lambda m: {"answer": m.data["answer"]},
                    changes=lambda m: {"answer": [m.obj.answer, m.data["answer"]]},
                    event=False,
                    verb="answer_corrected",
                ),
                Step(
                    "close",
                    CLOSE_FROM,
                    T.CLOSED,
                    "tip.manage",
                    when=_not_merged,
                    only="not merged into another tip",
                    stamp="closed_at",
                ),
                Step(
                    "reopen",
                    REOPEN_FROM,
                    _reopen_target,
                    "tip.manage",
                    when=_not_merged,
                    only="not merged into another tip",
                    prepare=_reopen_prepare,
                    apply=_reopen_apply,
                    changes=lambda m: _status_changes(m, reopened=m.fresh.reopened),
                ),
                Step(
                    "merge",
                    OPEN_STATUSES,
                    T.RESOLVED,
                    "tip.manage",
                    stamp="resolved_at",
                    sets=("duplicate_of", "resolution"),
                    apply=_merge_apply,
                    changes=lambda m: _status_changes(m, duplicate_of=m.data["duplicate_of"].code),
                ),
            )
        },
    )
)


def tip_allowed_steps(user: User, tip: Tip) -> list[str]:
    """The steps the user may take on the tip now: the page's buttons, from the table."""
    return allowed_steps(user, tip)


# --- configuration --------------------------------------------------------------------------------

QUESTION_TYPES = ("text", "number", "yes_no", "choice")
CODE_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def questions_clean(questions) -> list[dict]:
    """A category's questions: a list of {code, label, type, choices, required}."""
    if not isinstance(questions, list):
        raise DomainError(_("Questions must be a list."), field="questions")
    out, codes = [], set()
    for i, q in enumerate(questions, start=1):
        where = _("Question %(n)d: ") % {"n": i}
        if not isinstance(q, dict):
            raise DomainError(where + _("must be an object."), field="questions")
        code, label, kind = q.get("code"), q.get("label"), q.get("type", "text")
        if not isinstance(code, str) or not CODE_SLUG.match(code):
            raise DomainError(
                where + _("the code must be lower-case letters, digits or _."), field="questions"
            )
        if code in codes:
            raise DomainError(where + _("the code is used twice."), field="questions")
        codes.add(code)
        if not isinstance(label, str) or not label.strip() or len(label) > 100:
            raise DomainError(
                where + _("give a label of at most 100 characters."), field="questions"
            )
        if kind not in QUESTION_TYPES:
            raise DomainError(
                where + _("the type must be text, number, yes_no or choice."), field="questions"
            )
        item = {"code": code, "label": label.strip(), "type": kind}
        if kind == "choice":
            choices = q.get("choices")
            if (
                not isinstance(choices, list)
                or not choices
                or not all(isinstance(c, str) and c.strip() for c in choices)
            ):
                raise DomainError(where + _("list the choices."), field="questions")
            item["choices"] = [c.strip() for c in choices]
        item["required"] = bool(q.get("required", False))
        out.append(item)
    return out


def tipcategory_update(
    *,
    actor: User,
    category: TipCategory,
    name: str,
    description: str = "",
    questions=None,
    route_roles=None,
    urgent: bool = False,
    response_minutes: int = 120,
    duplicate_hours: int = 24,
    active: bool = True,
) -> TipCategory:
    access.require(actor, "tipcategory.configure")
    name = check_length(name, "name", 100, required=True)
    description = check_length(description, "description", 300)
    questions = questions_clean(questions if questions is not None else [])
    roles = list(dict.fromkeys(route_roles or []))
    if any(r not in access.FIELD_ROLES for r in roles):
        raise DomainError(_("Choose field roles only."), field="route_roles")
    if not 1 <= int(response_minutes) <= 10080:
        raise DomainError(_("Between 1 minute and 7 days."), field="response_minutes")
    if not 0 <= int(duplicate_hours) <= 720:
        raise DomainError(_("Between 0 and 720 hours."), field="duplicate_hours")
    values = {
        "name": name,
        "description": description,
        "questions": questions,
        "route_roles": roles,
        "urgent": bool(urgent),
        "response_minutes": int(response_minutes),
        "duplicate_hours": int(duplicate_hours),
        "active": bool(active),
    }
    changes = {k: [getattr(category, k), v] for k, v in values.items() if getattr(category, k) != v}
    with transaction.atomic():
        for k, v in values.items():
            setattr(category, k, v)
        category.save()
        audit_record(actor, "fangyi.tipcategory.update", category, node_path="", changes=changes)
    return category
