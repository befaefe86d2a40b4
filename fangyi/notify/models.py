"""Notifications (issue 15): one mechanism every app uses to tell someone who must act.

An app *emits* a notification of a registered kind (fangyi.notify.services.emit) inside the
transaction of the event itself: a `Notification` row per recipient (the in-app inbox) and, for
the channels the kind's urgency and the recipient's preferences call for, a `Message` row in the
outbox (SMS, e-mail). Nothing is sent in the request: the worker delivers the outbox with retries
and backoff, each message with its own idempotency key, so a restart or a gateway that timed out
never sends one twice (the gateway is told the key) and never loses one (a message stays queued
until it is sent or given up).

Messages to residents (a person under home observation, a tip's reporter) have no user: `to` is
the number, and a number in `BlockedNumber` gets nothing.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class KindSetting(models.Model):
    """Configuration of one kind of notification (the defaults are in the registry)."""

    key = models.CharField(_("kind"), max_length=40, unique=True)
    enabled = models.BooleanField(_("on"), default=True)
    roles = models.JSONField(_("for roles"), default=list, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Notification(models.Model):
    """One item of a user's inbox: what happened, and a link to the record it is about.

    `object_label`/`object_id` name that record; the inbox shows (and the outbox sends) it only
    while the recipient may still see the record."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40)
    # The English source text (marked with gettext_noop where it is emitted) and its values:
    # the inbox shows it in the reader's language, whichever that is when he reads it.
    message = models.CharField(max_length=300)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=200)
    object_label = models.CharField(max_length=60)
    object_id = models.PositiveBigIntegerField()
    node_path = models.CharField(max_length=255, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    digested_at = models.DateTimeField(null=True, blank=True)
    # The same event twice (a retried request) is one notification per recipient.
    dedupe = models.CharField(max_length=120)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe"], name="notification_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_label}:{self.object_id}"


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, to retry")
    GIVEN_UP = "given_up", _("Given up")


class Message(models.Model):
    """One message in the outbox. `key` is sent to the gateway as the message's idempotency
    key: a retry after a timeout is the same message, not a second one."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    to = models.CharField(_("to"), max_length=254)
    # Where a message to a resident lies (his node, or the tip's): the delivery log shows it
    # to the administrators of that jurisdiction. A staff message lies where its
    # notification's record does.
    node_path = models.CharField(max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=40)
    template = models.CharField(max_length=60, blank=True)
    params = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField(_("text"), max_length=2000)
    language = models.CharField(max_length=10, blank=True)
    urgent = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    not_before = models.DateTimeField(_("not before"), default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(_("gateway's answer"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "not_before"], name="message_due_idx"),
            models.Index(fields=["to", "kind", "created_at"], name="message_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.to} {self.status}"


class Preference(models.Model):
    """A user's channels and quiet hours, within what the role requires (the registry's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preference"
    )
    sms = models.BooleanField(_("SMS for urgent events"), default=True)
    email = models.BooleanField(_("e-mail"), default=False)
    digest = models.BooleanField(_("daily digest of the rest"), default=True)
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_to = models.TimeField(_("quiet until"), null=True, blank=True)
    language = models.CharField(
        _("language of SMS and e-mail"), max_length=10, default="zh-hans", blank=True
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user_id)


class BlockedNumber(models.Model):
    """A resident's number that asked to stop (or bounced): it gets nothing any more."""

    phone = models.CharField(_("phone"), max_length=20, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("blocked number")
        verbose_name_plural = _("blocked numbers")

    def __str__(self) -> str:
        return self.phone
