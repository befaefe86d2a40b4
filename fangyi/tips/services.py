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
from fangyi.core.errors import DomainError, NotFound, client_id_taken
from fangyi.core.models import Node, NodeKind, User
from fangyi.core.selectors import nearest_workers
from fangyi.core.validators import check_length, normalize_phone
from fangyi.people.models import Household

from .models import Tip, TipCategory, TipEvent, TipSource, TipStatus

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
    """A keyed hash of the sender's address: enough to count, never the address itself."""
    if not ip:
        return ""
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
    if not client_id:
        return None
    done = Tip.objects.filter(client_id=client_id).select_related("node", "category").first()
    if done is not None and not check(done):
        raise client_id_taken()
    return done


def tip_submit_public(*, data: TipInput, ip: str | None, client_id: uuid.UUID | None = None) -> Tip:
    """A resident's tip from the public page or API: no account, rate-limited per address.
    The same client_id twice from the same address stores one tip."""
    sender = sender_of(ip)
    done = _replay(client_id, lambda t: t.source == TipSource.PUBLIC and t.sender == sender)
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
    done = _replay(client_id, lambda t: access.path_visible(actor, t.node.path))
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
    )


def _create(*, actor, data: TipInput, node, household, source, sender, client_id) -> Tip:
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
            if client_id and Tip.objects.filter(client_id=client_id).exists():
                raise client_id_taken() from None
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
