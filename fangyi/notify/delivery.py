"""Delivery of the outbox (issue 15): the worker's side of `Message`, the daily digest, and
the administrator's retry of a message given up.

The rules (docs/notifications.md, "Delivery"):

* A message is *due* when it is queued or failed, its `not_before` has come and it holds no
  live lease; or when it is `sending` under a lease that expired (the worker that took it died
  mid-send).
* It is *claimed* with one conditional UPDATE (status and lease in the WHERE clause): of two
  workers that read the same candidate, exactly one changes the row; the other sees 0 rows and
  moves on. That holds on SQLite (writers are serialised) and on PostgreSQL (READ COMMITTED
  re-checks the WHERE clause on the row the first one updated), so no SELECT ... FOR UPDATE is
  needed. A claim counts the attempt and sets a lease longer than the gateway's timeout.
* The send itself runs in a small pool of threads (no database in there); the results are
  written by the claiming thread, each guarded by the lease it holds.
* Sent: status sent, `sent_at`, the gateway's answer. Retryable (5xx, timeout, unreachable):
  failed, `not_before` = now + 30 s x 2^(attempts-1), until FANGYI_SMS_MAX_ATTEMPTS, then
  given up with the reason. Permanent (4xx): given up at once.
* Never twice: the message keeps its `key` for ever; a resend after a timeout or an expired
  lease carries the same key, so the gateway delivers it once. Never lost: nothing but a send
  that succeeded or a decision to give up moves a message out of queued/failed/sending.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from fangyi.core import access
from fangyi.core.audit import audit_record
from fangyi.core.errors import Conflict
from fangyi.core.models import User

from . import backends
from .backends import Backend, Outcome
from .models import BlockedNumber, Channel, Message, MessageStatus, Notification, Preference
from .registry import KINDS
from .services import DEFAULT_LANGUAGE, TemplateError, may_see, render

log = logging.getLogger("fangyi.delivery")

BACKOFF = dt.timedelta(seconds=30)
# Sends at once (network only): a slow gateway does not hold the whole queue at its timeout.
POOL = 8
DIGEST_KIND = "digest"

# The reasons a message is given up without a send (English, shown as stored).
BLOCKED = "Given up: the number asked to stop (blocked)."
NOT_VISIBLE = "Given up: the recipient may no longer see the record."
INTERRUPTED = "Given up: the last attempt was interrupted (the worker stopped) after %d attempts."


def lease_length() -> dt.timedelta:
    """Longer than any one send can take (the gateway's timeout), with a margin."""
    return dt.timedelta(seconds=max(60.0, 4 * float(settings.FANGYI_SMS_TIMEOUT)))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the n-th failed attempt: 30 s, 1 min, 2 min, 4 min..."""
    return BACKOFF * (2 ** max(0, attempts - 1))


def due_q(now: dt.datetime) -> Q:
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    waiting = Q(status__in=[MessageStatus.QUEUED, MessageStatus.FAILED], not_before__lte=now)
    return (waiting & free) | Q(status=MessageStatus.SENDING, lease_until__lte=now)


def masked(to: str) -> str:
    """A number as 138****5678, an address as z***@example.cn: enough to tell them apart."""
    if "@" in to:
        name, _sep, domain = to.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(to) >= 7:
        return f"{to[:3]}****{to[-4:]}"
    return "****"


class Pace:
    """At most `rate` sends a second, spaced evenly. `clock` and `sleep` are injectable so a
    test measures the rate without waiting."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ):
        self.step = 1.0 / rate if rate and rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.step:
            return
        t = self.clock()
        if self.next_at is not None and t < self.next_at:
            self.sleep(self.next_at - t)
            t = self.next_at
        self.next_at = t + self.step


def _claim(pk: int, now: dt.datetime) -> Message | None:
    """Take one message with a lease, or None when another worker was first."""
    lease = now + lease_length()
    taken = (
        Message.objects.filter(due_q(now), pk=pk)
        .update(status=MessageStatus.SENDING, lease_until=lease, attempts=F("attempts") + 1)
    )  # fmt: skip
    if not taken:
        return None
    return Message.objects.select_related("notification", "recipient").get(pk=pk)


def _refusal(message: Message) -> str | None:
    """Why this message must not go out at all, if it must not."""
    max_attempts = settings.FANGYI_SMS_MAX_ATTEMPTS
    if message.attempts > max_attempts:
        return INTERRUPTED % (message.attempts - 1)
    if message.channel == Channel.SMS and BlockedNumber.objects.filter(phone=message.to).exists():
        return BLOCKED
    note = message.notification
    if note is not None and message.recipient is not None:
        kind = KINDS.get(note.kind)
        if kind is None or not may_see(message.recipient, kind, note.object_label, note.object_id):
            return NOT_VISIBLE
    return None


def _mine(message: Message):
    return Message.objects.filter(
        pk=message.pk, status=MessageStatus.SENDING, lease_until=message.lease_until
    )


def _give_up(message: Message, answer: str) -> None:
    _mine(message).update(status=MessageStatus.GIVEN_UP, answer=answer[:2000], lease_until=None)


def _record(message: Message, outcome: Outcome, now: dt.datetime) -> str:
    """Write what the send did; returns the message's new status."""
    if outcome.sent:
        # Whoever holds the lease now (a second worker after ours expired), it is sent: the
        # gateway took the key, and a duplicate send of that key is dropped there.
        Message.objects.filter(pk=message.pk).exclude(status=MessageStatus.SENT).update(
            status=MessageStatus.SENT, sent_at=now, answer=outcome.answer[:2000], lease_until=None
        )
        return MessageStatus.SENT
    max_attempts = settings.FANGYI_SMS_MAX_ATTEMPTS
    if outcome.status == backends.PERMANENT:
        _give_up(message, f"Given up (refused): {outcome.answer}")
        return MessageStatus.GIVEN_UP
    if message.attempts >= max_attempts:
        _give_up(message, f"Given up after {message.attempts} attempts: {outcome.answer}")
        return MessageStatus.GIVEN_UP
    _mine(message).update(
        status=MessageStatus.FAILED,
        not_before=now + backoff(message.attempts),
        answer=outcome.answer[:2000],
        lease_until=None,
    )
    return MessageStatus.FAILED


def _send(backend: Backend, message: Message) -> Outcome:
    try:
        return backend.send(message)
    except Exception as exc:  # noqa: BLE001 - a broken backend is a retry, never a lost message
        log.exception("backend failed on message %s", message.pk)
        return Outcome(backends.RETRY, f"{type(exc).__name__}: {exc}")


def deliver_due(
    now: dt.datetime | None = None,
    limit: int = 500,
    *,
    sms: Backend | None = None,
    email: Backend | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] = time.sleep,
    pool: int = POOL,
) -> dict[str, int]:
    """Send up to `limit` due messages, urgent ones first, SMS at FANGYI_SMS_RATE a second at
    most. `now` fixes the time (tests); otherwise each claim takes the current time. Returns
    the counts of what happened: claimed, sent, failed, given_up."""
    counts = {"claimed": 0, "sent": 0, "failed": 0, "given_up": 0}
    fixed = now
    start = fixed or timezone.now()
    candidates = list(
        Message.objects.filter(due_q(start))
        .order_by("-urgent", "not_before", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return counts
    sms = sms or backends.sms_backend()
    email = email or backends.EmailBackend()
    pace = Pace(settings.FANGYI_SMS_RATE, clock=clock, sleep=sleep)
    pending: dict[Future, Message] = {}

    def finish(done) -> None:
        for future in done:
            message = pending.pop(future)
            status = _record(message, future.result(), fixed or timezone.now())
            counts[status if status != MessageStatus.FAILED else "failed"] += 1

    with ThreadPoolExecutor(max_workers=max(1, pool), thread_name_prefix="sms") as workers:
        for pk in candidates:
            message = _claim(pk, fixed or timezone.now())
            if message is None:
                continue
            counts["claimed"] += 1
            reason = _refusal(message)
            if reason:
                _give_up(message, reason)
                counts["given_up"] += 1
                continue
            if message.channel == Channel.SMS:
                pace.wait()
            backend = email if message.channel == Channel.EMAIL else sms
            pending[workers.submit(_send, backend, message)] = message
            while len(pending) >= max(1, pool):
                done, _rest = wait(list(pending), return_when=FIRST_COMPLETED)
                finish(done)
            finish([f for f in list(pending) if f.done()])
        while pending:
            done, _rest = wait(list(pending), return_when=FIRST_COMPLETED)
            finish(done)
    return counts


# --- the daily digest -----------------------------------------------------------------------

DIGEST_LINE = gettext_noop("Not yet read in Fangyi:")


def digest_moment(now: dt.datetime) -> dt.datetime:
    """Today's FANGYI_DIGEST_AT (local time) as an aware datetime."""
    hour, _sep, minute = settings.FANGYI_DIGEST_AT.partition(":")
    local = timezone.localtime(now)
    at = dt.time(int(hour), int(minute or 0))
    return timezone.make_aware(dt.datetime.combine(local.date(), at))


def _digest_items(user: User, cutoff: dt.datetime):
    return Notification.objects.filter(
        recipient=user,
        read_at__isnull=True,
        urgent=False,
        digested_at__isnull=True,
        created_at__lt=cutoff,
    )


def digest_send(now: dt.datetime | None = None) -> int:
    """Once the day's FANGYI_DIGEST_AT has come: for each user who wants the digest, his
    unread, non-urgent notifications from before that moment, not digested yet, in one
    e-mail (queued in the outbox; with no address they stay in the inbox alone), each marked
    digested. Only notifications from before today's moment are collected, and each is
    claimed once (locked, then marked), so a second call the same day, or a second worker,
    finds nothing: the digest goes once a day. Returns the e-mails queued."""
    now = now or timezone.now()
    cutoff = digest_moment(now)
    if now < cutoff:
        return 0
    opted_out = Preference.objects.filter(digest=False).values("user_id")
    users = (
        User.objects.filter(
            is_active=True,
            notifications__read_at__isnull=True,
            notifications__urgent=False,
            notifications__digested_at__isnull=True,
            notifications__created_at__lt=cutoff,
        )
        .exclude(pk__in=opted_out)
        .distinct()
        .order_by("pk")
    )
    queued = 0
    for user in users:
        try:
            queued += _digest_one(user, cutoff, now)
        except TemplateError:
            log.exception("digest for user %s could not be written", user.pk)
    return queued


def _digest_one(user: User, cutoff: dt.datetime, now: dt.datetime) -> int:
    with transaction.atomic():
        notes = list(
            _digest_items(user, cutoff).select_for_update(skip_locked=True).order_by("created_at")
        )
        if not notes:
            return 0
        marked = Notification.objects.filter(
            pk__in=[n.pk for n in notes], digested_at__isnull=True
        ).update(digested_at=now)
        if marked != len(notes):  # another caller got there first; leave it to him
            transaction.set_rollback(True)
            return 0
        visible = [
            n
            for n in notes
            if n.kind in KINDS and may_see(user, KINDS[n.kind], n.object_label, n.object_id)
        ]
        if not visible or not user.email:
            return 0
        pref = Preference.objects.filter(user=user).first()
        language = (pref.language if pref else "") or DEFAULT_LANGUAGE
        base = (getattr(settings, "PUBLIC_URL", "") or "").rstrip("/")
        with translation.override(language):
            subject = ngettext(
                "Fangyi: %(count)d notification not yet read",
                "Fangyi: %(count)d notifications not yet read",
                len(visible),
            ) % {"count": len(visible)}
            lines = [_(DIGEST_LINE), ""]
            for n in visible:
                local = timezone.localtime(n.created_at)
                lines.append(f"{local:%m-%d %H:%M} {render(n.message, n.params)}")
                if n.url:
                    lines.append(f"  {base}{n.url}")
        Message.objects.create(
            channel=Channel.EMAIL,
            recipient=user,
            to=user.email,
            kind=DIGEST_KIND,
            subject=subject[:200],
            text="\n".join(lines)[:2000],
            language=language,
            urgent=False,
            not_before=now,
            created_at=now,
        )
        return 1


# --- the administrator's retry --------------------------------------------------------------


def message_retry(actor: User, message: Message, now: dt.datetime | None = None) -> Message:
    """Queue a message given up once more, with its attempts from zero and the same key (so
    a gateway that did take it after all still delivers it once). Audited."""
    access.require(actor, "delivery.view")
    now = now or timezone.now()
    with transaction.atomic():
        again = Message.objects.filter(pk=message.pk, status=MessageStatus.GIVEN_UP).update(
            status=MessageStatus.QUEUED, attempts=0, not_before=now, lease_until=None
        )
        if not again:
            raise Conflict(_("Only a message that was given up can be sent again."))
        audit_record(
            actor,
            "fangyi.message.retried",
            message,
            changes={
                "status": [MessageStatus.GIVEN_UP, MessageStatus.QUEUED],
                "attempts": [message.attempts, 0],
            },
            object_repr=f"{message.channel} {masked(message.to)} {message.kind}",
            node_path=message.notification.node_path if message.notification else "",
        )
    message.refresh_from_db()
    return message
