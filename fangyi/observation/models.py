"""Medical observation (醫學觀察): who is observed, where, until when, the daily follow-ups,
and the alerts they raise."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node
from fangyi.core.scoping import ScopedQuerySet
from fangyi.health.models import Decision
from fangyi.people.models import Person, Place


class ObservationKind(models.TextChoices):
    HOME = "home", _("At home")
    PLACE = "place", _("At a quarantine point or designated hotel")


class ObservationStatus(models.TextChoices):
    ACTIVE = "active", _("Under observation")
    RELEASED = "released", _("Released")
    REFERRED = "referred", _("Referred")
    TRANSFERRED = "transferred", _("Transferred")


class Observation(models.Model):
    """One period of observation. `ends` = last exposure + the configured days; a new exposure
    moves it. It ends in a release, a referral or a transfer, with who and when."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="observations"
    )
    node = models.ForeignKey(
        Node, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.ForeignKey(
        Decision,
        verbose_name=_("decision"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="observations",
    )
    kind = models.CharField(_("where"), max_length=10, choices=ObservationKind.choices)
    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="observations",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ObservationStatus.choices,
        default=ObservationStatus.ACTIVE,
    )
    starts = models.DateField(_("from"))
    last_exposure = models.DateField(_("last exposure"))
    ends = models.DateField(_("until"))
    per_day = models.PositiveSmallIntegerField(_("follow-ups a day"), default=1)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible worker"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="observations",
    )
    missed_streak = models.PositiveSmallIntegerField(_("missed in a row"), default=0)
    escalated = models.BooleanField(_("sent to a supervisor"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    end_note = models.TextField(_("note"), blank=True, max_length=2000)
    transferred_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        ordering = ["ends", "id"]
        indexes = [
            models.Index(fields=["status", "ends"], name="obs_status_ends_idx"),
            models.Index(fields=["person", "status"], name="obs_person_idx"),
            models.Index(fields=["responsible", "status"], name="obs_responsible_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.starts}–{self.ends}"


class FollowUpStatus(models.TextChoices):
    DUE = "due", _("Due")
    SEEN_WELL = "seen_well", _("Seen, well")
    SEEN_UNWELL = "seen_unwell", _("Seen, unwell")
    NOT_REACHED = "not_reached", _("Not reached")
    REFUSED = "refused", _("Refused")
    SELF_REPORTED = "self_reported", _("Self-reported")
    MISSED = "missed", _("Missed")


# What a worker (or the person, by self-report) can record.
RECORDED_STATUSES = [
    FollowUpStatus.SEEN_WELL,
    FollowUpStatus.SEEN_UNWELL,
    FollowUpStatus.NOT_REACHED,
    FollowUpStatus.REFUSED,
    FollowUpStatus.SELF_REPORTED,
]
# What a worker may record; a self-report is the person's own, through their link.
WORKER_STATUSES = [s for s in RECORDED_STATUSES if s != FollowUpStatus.SELF_REPORTED]


class FollowUp(models.Model):
    """One follow-up of one observation on one day (slot 1, or 1 and 2 when twice a day)."""

    # No single-column indexes on observation and assignee: followup_unique_slot and
    # followup_todo_idx start with them, and each index more slows the daily bulk insert.
    observation = models.ForeignKey(
        Observation,
        verbose_name=_("observation"),
        on_delete=models.CASCADE,
        related_name="followups",
        db_index=False,
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    due = models.DateField(_("due"))
    slot = models.PositiveSmallIntegerField(_("round"), default=1)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
        db_index=False,
    )
    # Database defaults too, so that the daily bulk insert names only the columns that vary.
    status = models.CharField(
        _("status"),
        max_length=14,
        choices=FollowUpStatus.choices,
        default=FollowUpStatus.DUE,
        db_default=FollowUpStatus.DUE,
    )
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    symptoms = models.JSONField(_("symptoms"), default=list, db_default=[], blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000, db_default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due", "slot", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["observation", "due", "slot"], name="followup_unique_slot"
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due"], name="followup_todo_idx"),
            models.Index(fields=["status", "due"], name="followup_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.observation.person} {self.due} #{self.slot}"


class AlertKind(models.TextChoices):
    FEVER = "fever", _("Fever")
    SYMPTOMS = "symptoms", _("Symptoms")
    MISSED = "missed", _("Missed follow-ups")


class Alert(models.Model):
    """Something health staff (fever, symptoms) or a supervisor (missed in a row) must act on."""

    observation = models.ForeignKey(
        Observation,
        verbose_name=_("observation"),
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    followup = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=AlertKind.choices)
    message = models.CharField(_("message"), max_length=300)
    proposal = models.CharField(_("proposal"), max_length=15, blank=True)
    created = models.DateTimeField(_("raised"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.TextField(_("what was done"), blank=True, max_length=2000)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["resolved_at", "kind"], name="alert_open_idx")]

    def __str__(self) -> str:
        return self.message


class ReminderKind(models.TextChoices):
    MORNING = "morning", _("Morning self-report SMS")
    AFTERNOON = "afternoon", _("Afternoon reminder")


class ReminderSent(models.Model):
    """One SMS queued to a person under home observation (fangyi.observation.reminders): at
    most one per person, day and kind, written in the transaction that queues the message, so
    a second worker, a repeated call or a crash never sends one twice."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=10, choices=ReminderKind.choices)
    message = models.ForeignKey(
        "notify.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(_("queued"))

    scope_fields = ("person__node__path",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(fields=["person", "day", "kind"], name="reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.day} {self.kind}"
