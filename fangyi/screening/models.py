"""Door-to-door screening sweeps (上門排查): the sweep, one assignment per household in scope,
and every attempt at a door."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node
from fangyi.core.scoping import ScopedQuerySet
from fangyi.people.models import Household


class SweepStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Sweep(models.Model):
    """A screening of every household under `node`, between two dates, for one purpose."""

    node = models.ForeignKey(
        Node, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="sweeps"
    )
    purpose = models.CharField(_("purpose"), max_length=200)
    starts = models.DateField(_("from"))
    ends = models.DateField(_("until"))
    status = models.CharField(
        _("status"), max_length=10, choices=SweepStatus.choices, default=SweepStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)
    closed = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("sweep")
        verbose_name_plural = _("sweeps")
        ordering = ["-starts", "-id"]

    def __str__(self) -> str:
        return self.purpose


class DoorStatus(models.TextChoices):
    """Where a household stands in a sweep: its last attempt's outcome, or pending."""

    PENDING = "pending", _("Pending")
    VISITED = "visited", _("Visited")
    NOBODY_HOME = "nobody_home", _("Nobody home")
    REFUSED = "refused", _("Refused to open")
    MOVED_AWAY = "moved_away", _("Moved away")


# The outcomes a visit can record (every status but pending).
VISIT_OUTCOMES = [c for c in DoorStatus.choices if c[0] != DoorStatus.PENDING]
# Outcomes that close a household for the sweep; the others need another attempt.
DONE_STATUSES = {DoorStatus.VISITED, DoorStatus.MOVED_AWAY}


class Assignment(models.Model):
    """One household in one sweep: who is to knock, and how it stands.

    `grid` is the household's grid node (denormalised for coverage by grid); `node` is the
    household's own node, for jurisdiction scoping."""

    sweep = models.ForeignKey(
        Sweep, verbose_name=_("sweep"), on_delete=models.CASCADE, related_name="assignments"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="+"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(
        Node, verbose_name=_("grid"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="door_assignments",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DoorStatus.choices, default=DoorStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt = models.DateTimeField(_("last attempt"), null=True, blank=True)
    revisit_due = models.DateField(_("revisit due"), null=True, blank=True)
    needs_police = models.BooleanField(_("needs police support"), default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household in a sweep")
        verbose_name_plural = _("households in a sweep")
        ordering = ["sweep", "household__address", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "household"], name="assignment_unique")
        ]
        indexes = [
            models.Index(fields=["assignee", "status"], name="assignment_todo_idx"),
            models.Index(fields=["sweep", "grid", "status"], name="assignment_cov_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sweep}: {self.household}"


class DoorVisit(models.Model):
    """One attempt at a door, kept whatever its outcome."""

    assignment = models.ForeignKey(
        Assignment,
        verbose_name=_("household in a sweep"),
        on_delete=models.CASCADE,
        related_name="visits",
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="+"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=12, choices=VISIT_OUTCOMES)
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    accuracy = models.PositiveIntegerField(_("accuracy (m)"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("door visit")
        verbose_name_plural = _("door visits")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.household} {self.at:%Y-%m-%d %H:%M}"
