"""Residents' replies through the SMS gateway (POST /api/inbound/sms, fangyi.notify.api_inbound).

A stop request (TD, T, STOP, 退订/退訂, 取消; any case, full or half width, spaces and a final
punctuation mark ignored) blocks the number (`BlockedNumber`) and gives up its queued messages
to residents; a start request (START, 订阅/訂閱) unblocks it; any other text is a reply. Each
callback is recorded once, as an audit entry named by the gateway's message id, so a retried
callback (the same id) answers what the first one did and changes nothing more. Apps above
add what a reply means to them with `on_received` (the observation app writes it to the
person's history and tells the responsible worker), in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core.audit import audit_record
from fangyi.core.errors import DomainError, FieldErrors
from fangyi.core.models import AuditEntry
from fangyi.core.validators import fold_width, mask_tail

from .models import BlockedNumber, Message, MessageStatus
from .services import mainland_mobile

STOP = "stopped"
START = "started"
REPLY = "recorded"

STOP_WORDS = {"TD", "T", "STOP", "UNSUBSCRIBE", "退订", "退訂", "取消"}
START_WORDS = {"START", "订阅", "訂閱"}

RECEIVED_ACTION = "fangyi.sms_inbound.recorded"
RECEIPT_TYPE = "sms_inbound"
MAX_TEXT = 1000
MESSAGE_ID = re.compile(r"[A-Za-z0-9._:@-]{1,64}")
_TRIM = re.compile(r"^[\s\W_]+|[\s\W_]+$")
# Queued messages to residents that a stop gives up (a message being sent is left to finish).
CANCELLABLE = (MessageStatus.QUEUED, MessageStatus.FAILED)
STOP_REASON = "asked to stop by SMS: %(text)s (inbound %(message_id)s)"
CANCELLED_ANSWER = "given up: the number asked to stop (inbound %(message_id)s)"


@dataclass(frozen=True)
class Received:
    message_id: str
    number: str
    text: str
    outcome: str
    cancelled: int = 0


Handler = Callable[[Received, dt.datetime], None]
HANDLERS: list[Handler] = []


def on_received(handler: Handler) -> Handler:
    """Register what an app does with each new callback (idempotent per function)."""
    if handler not in HANDLERS:
        HANDLERS.append(handler)
    return handler


def command(text: str) -> str:
    """STOP, START or REPLY for a text."""
    word = _TRIM.sub("", fold_width(text)).upper()
    word = re.sub(r"\s+", "", word)
    if word in STOP_WORDS:
        return STOP
    if word in START_WORDS:
        return START
    return REPLY


def clean(sender: object, text: object, message_id: object) -> tuple[str, str, str]:
    """The number (11 digits), the text and the id, or a DomainError naming every bad field."""
    errors = FieldErrors()
    number = None
    for name, value in (("from", sender), ("text", text), ("message_id", message_id)):
        if not isinstance(value, str):
            errors.add(name, _("This field is required."))
        elif "\x00" in value or any(ord(c) < 32 and c not in "\t\r\n" for c in value):
            errors.add(name, _("Control characters are not allowed."))
    if "from" not in errors.errors:
        number = mainland_mobile(str(sender))
        if number is None:
            errors.add("from", _("Enter a mainland mobile number of 11 digits."))
    if "text" not in errors.errors and len(str(text)) > MAX_TEXT:
        errors.add(
            "text",
            _("Use at most %(max)d characters (this has %(n)d).")
            % {"max": MAX_TEXT, "n": len(str(text))},
        )
    if "message_id" not in errors.errors and not MESSAGE_ID.fullmatch(str(message_id)):
        errors.add(
            "message_id", _("Use 1 to 64 letters, digits and the signs . _ : @ - for the id.")
        )
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise DomainError(first, errors=errors.errors)
    return number or "", str(text).strip(), str(message_id)


def _lock(message_id: str) -> None:
    """Serialize two deliveries of one callback. SQLite's write transactions are serialized
    already (IMMEDIATE); PostgreSQL takes a transaction-scoped advisory lock on the id."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"sms-in:{message_id}".encode()).digest()[:8], "big")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key - (1 << 63)])


def _stored(message_id: str) -> tuple[str, int] | None:
    """(outcome, messages given up) of a callback already recorded under this id."""
    entry = (
        AuditEntry.objects.filter(
            action=RECEIVED_ACTION, object_type=RECEIPT_TYPE, object_repr=message_id
        )
        .order_by("id")
        .first()
    )
    if entry is None:
        return None
    changes = entry.changes or {}

    def value(key: str, default):
        pair = changes.get(key)
        return pair[1] if isinstance(pair, list) and len(pair) == 2 else default

    return value("outcome", REPLY), value("cancelled", 0)


def sms_received(
    *, sender: object, text: object, message_id: object, now: dt.datetime | None = None
) -> Received:
    """One callback of the gateway: a stop, a start or a reply, done once per message id."""
    number, text, message_id = clean(sender, text, message_id)
    now = now or timezone.now()
    with transaction.atomic():
        _lock(message_id)
        done = _stored(message_id)
        if done is not None:
            return Received(message_id, number, text, done[0], done[1])
        outcome = command(text)
        cancelled = 0
        if outcome == STOP:
            reason = STOP_REASON % {"text": text[:40], "message_id": message_id}
            BlockedNumber.objects.update_or_create(
                phone=number,
                defaults={"reason": reason},
                create_defaults={"reason": reason, "at": now},
            )
            cancelled = Message.objects.filter(
                to=number, recipient__isnull=True, status__in=CANCELLABLE
            ).update(
                status=MessageStatus.GIVEN_UP,
                answer=CANCELLED_ANSWER % {"message_id": message_id},
                lease_until=None,
            )
        elif outcome == START:
            BlockedNumber.objects.filter(phone=number).delete()
        received = Received(message_id, number, text, outcome, cancelled)
        audit_record(
            None,
            RECEIVED_ACTION,
            None,
            object_type=RECEIPT_TYPE,
            object_repr=message_id,
            changes={
                "from": [None, mask_tail(number)],
                # Not the text: the receipt belongs to no jurisdiction (every administrator
                # reads it), and a reply is often health data. The text is on the person's
                # own entries, scoped to his node (observation.reminders).
                "length": [None, len(text)],
                "outcome": [None, outcome],
                "cancelled": [None, cancelled],
            },
        )
        for handler in HANDLERS:
            handler(received, now)
    return received
