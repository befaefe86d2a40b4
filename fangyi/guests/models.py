"""Hotel guest reports: hotel staff report arriving guests; the rules flag guests from risk
areas and the station's officer registers them, takes their temperature and refers them to a
designated hotel, which confirms their arrival. Guests not flagged are deleted after the
configured retention period."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node, Role, User
from fangyi.core.scoping import ScopedQuerySet
from fangyi.people.models import Person, Place


class GuestReportQuerySet(ScopedQuerySet):
    """Hotel staff see their own hotel's reports (user.place); everyone else by the node."""

    def scope_q(self, user: User, field: str | None = None) -> Q:
        if field is None and getattr(user, "role", None) == Role.SITE_STAFF:
            return Q(place_id=user.place_id) if user.place_id else Q(pk__in=[])
        return super().scope_q(user, field)


class GuestSettings(models.Model):
    """Configuration, one row."""

    retention_days = models.PositiveIntegerField(_("days a guest not flagged is kept"), default=14)
    confirm_hours = models.PositiveIntegerField(
        _("hours the designated hotel has to confirm an arrival"), default=3
    )

    class Meta:
        verbose_name = _("guest report settings")

    def __str__(self) -> str:
        return f"{self.retention_days} / {self.confirm_hours}"

    @classmethod
    def get(cls) -> GuestSettings:
        return cls.objects.order_by("pk").first() or cls.objects.create()


class GuestStatus(models.TextChoices):
    REPORTED = "reported", _("Reported, not flagged")
    FLAGGED = "flagged", _("Flagged, officer notified")
    REGISTERED = "registered", _("Registered by the officer")
    REFERRED = "referred", _("Referred to a designated hotel")
    ARRIVED = "arrived", _("Arrived at the designated hotel")
    CLEARED = "cleared", _("Cleared by the officer")


class GuestReport(models.Model):
    """One arriving guest reported by a hotel. `node` is the hotel's node (the station's officer
    above it is notified)."""

    place = models.ForeignKey(
        Place, verbose_name=_("hotel"), on_delete=models.PROTECT, related_name="guest_reports"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)
    name = models.CharField(_("name"), max_length=50)
    id_type = models.CharField(_("document type"), max_length=20)
    id_number = models.CharField(_("document number"), max_length=30)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    from_where = models.CharField(_("coming from"), max_length=100)
    travel_since = models.DateField(_("travelling since"), null=True, blank=True)
    arrived_on = models.DateField(_("arrived on"))
    room = models.CharField(_("room"), max_length=20, blank=True)
    notes = models.TextField(_("notes"), max_length=1000, blank=True)

    flagged = models.BooleanField(_("flagged"), default=False)
    flag_reason = models.CharField(_("why flagged"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=GuestStatus.choices, default=GuestStatus.REPORTED
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("registered as"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="guest_reports",
    )
    registered_at = models.DateTimeField(_("registered"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placement = models.ForeignKey(
        "quarantine.Placement",
        verbose_name=_("referral"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="guest_reports",
    )
    referred_at = models.DateTimeField(_("referred"), null=True, blank=True)
    confirm_by = models.DateTimeField(_("to be confirmed by"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("flagged as not confirmed"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = GuestReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("guest report")
        verbose_name_plural = _("guest reports")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["status", "reported_at"], name="guest_status_idx"),
            models.Index(fields=["place", "reported_at"], name="guest_place_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.arrived_on}"
