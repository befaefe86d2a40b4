"""Linkage (聯動機制): one agency asking another for support on a household, a person or a tip,
with a target response time from configuration, and every step's time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangyi.core.models import Node, Role, User
from fangyi.core.scoping import ScopedQuerySet
from fangyi.people.models import Household, Person


class SupportRequestQuerySet(ScopedQuerySet):
    """Requests whose place is in the user's jurisdiction, that the user asked for, or whose
    requester's side (from_node) is in the user's jurisdiction."""

    def scope_q(self, user: User, field: str | None = None) -> Q:
        if field is not None:
            return super().scope_q(user, field)
        return (
            super().scope_q(user, "node__path")
            | Q(requested_by=user)
            | super().scope_q(user, "from_node__path")
        )


class Agency(models.TextChoices):
    POLICE = "police", _("Police")
    HEALTH = "health", pgettext_lazy("agency", "Health")
    COMMUNITY = "community", _("Community")
    USER = "user", _("A named person")


# The roles that answer for each agency. Supervisors answer for every agency of their area.
AGENCY_ROLES: dict[str, set[str]] = {
    Agency.POLICE: {Role.POLICE, Role.AUXILIARY},
    Agency.HEALTH: {Role.HEALTH_STAFF},
    Agency.COMMUNITY: {Role.COMMUNITY_STAFF, Role.GRID_WORKER},
}


def agency_of(role: str) -> str:
    """The agency a role belongs to ("" for roles that belong to none)."""
    for agency, roles in AGENCY_ROLES.items():
        if role in roles:
            return agency
    return ""


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")


class ResponseTarget(models.Model):
    """Configuration: how many minutes a request of each urgency may take to be answered on
    scene (arrived) or done."""

    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, unique=True)
    minutes = models.PositiveIntegerField(_("target (minutes)"))

    class Meta:
        verbose_name = _("response target")
        verbose_name_plural = _("response targets")
        ordering = ["minutes"]

    def __str__(self) -> str:
        return f"{self.get_urgency_display()}: {self.minutes}"


# Used when the configuration has no row for an urgency.
DEFAULT_MINUTES = {Urgency.URGENT: 10, Urgency.HIGH: 30, Urgency.NORMAL: 120}


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Waiting")
    ACCEPTED = "accepted", _("Accepted")
    ARRIVED = "arrived", _("Arrived")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


# Requests whose timer still runs (not yet arrived, done, declined or cancelled).
RUNNING = (RequestStatus.OPEN, RequestStatus.ACCEPTED)
# Requests still on the board.
ACTIVE = (RequestStatus.OPEN, RequestStatus.ACCEPTED, RequestStatus.ARRIVED)


class SupportRequest(models.Model):
    """A request for support. `node` is where the support is needed (the household's, the
    person's or the tip's place) and scopes the request; `from_node` is the requester's own
    node above it, so the supervisors of both sides see an overdue request."""

    node = models.ForeignKey(
        Node, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    from_node = models.ForeignKey(
        Node, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.CharField(_("asked of"), max_length=10, choices=Agency.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("named person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_requests_to_me",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="support_requests_made",
    )
    requester_agency = models.CharField(max_length=10, blank=True)

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tip = models.ForeignKey(
        "tips.Tip",
        verbose_name=_("tip"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_requests",
    )
    # A door refused in a screening sweep, when the request was made from it.
    assignment = models.ForeignKey(
        "screening.Assignment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_requests",
    )

    need = models.TextField(_("what is needed"), max_length=1000)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    target_minutes = models.PositiveIntegerField(_("target (minutes)"))
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=500, blank=True)
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), max_length=1000, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = SupportRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="support_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_agency_display()}: {self.need[:40]}"
