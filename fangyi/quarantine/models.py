"""Quarantine sites (quarantine points and designated hotels) with their rooms and beds, the
placements of people in them (or at home), refusals with every persuasion attempt.

A bed is never given twice: a placement that holds a bed (reserved or active) is unique per bed
in the database itself (a partial unique index, on SQLite and PostgreSQL), and the bed's state
changes only by a conditional UPDATE from the state it is expected to be in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node, Role, User
from fangyi.core.scoping import ScopedQuerySet
from fangyi.people.models import Person, Place


def _site_staff(user: User) -> bool:
    return getattr(user, "role", None) == Role.SITE_STAFF


class SiteQuerySet(ScopedQuerySet):
    """Site staff see their own site (user.place) only; everyone else by the site's node."""

    def scope_q(self, user: User, field: str | None = None) -> Q:
        if field is None and _site_staff(user):
            return Q(place_id=user.place_id) if user.place_id else Q(pk__in=[])
        return super().scope_q(user, field)


class PlacementQuerySet(ScopedQuerySet):
    """Site staff see the placements at their site; everyone else those of a person, or at a
    site, in their jurisdiction."""

    def scope_q(self, user: User, field: str | None = None) -> Q:
        if field is None and _site_staff(user):
            return Q(site__place_id=user.place_id) if user.place_id else Q(pk__in=[])
        return super().scope_q(user, field)


class RefusalQuerySet(ScopedQuerySet):
    """Site staff see no refusals; everyone else those of a person, or at a site, in their
    jurisdiction."""

    def scope_q(self, user: User, field: str | None = None) -> Q:
        if field is None and _site_staff(user):
            return Q(pk__in=[])
        return super().scope_q(user, field)


class Group(models.Model):
    """Configuration: a group of people a site takes (travellers from Hubei, close contacts…)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A quarantine point or designated hotel: a Place of one of those kinds, the groups it
    takes, and where it is (for "nearest first"). `node` is the place's node, for scoping."""

    place = models.OneToOneField(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="site"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    groups = models.ManyToManyField(Group, verbose_name=_("groups taken"), blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    active = models.BooleanField(_("in use"), default=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("quarantine site")
        verbose_name_plural = _("quarantine sites")
        ordering = ["place__name", "id"]

    def __str__(self) -> str:
        return self.place.name


class Room(models.Model):
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="rooms"
    )
    number = models.CharField(_("room"), max_length=20)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["site", "number"]
        constraints = [models.UniqueConstraint(fields=["site", "number"], name="room_unique")]

    def __str__(self) -> str:
        return self.number


class BedState(models.TextChoices):
    FREE = "free", _("Free")
    RESERVED = "reserved", _("Reserved")
    OCCUPIED = "occupied", _("Occupied")
    CLEANING = "cleaning", _("Cleaning")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")


class Bed(models.Model):
    """One bed. `site` is denormalised from the room for counting and choosing."""

    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.CASCADE, related_name="beds"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="beds")
    label = models.CharField(_("bed"), max_length=20)
    state = models.CharField(
        _("state"), max_length=16, choices=BedState.choices, default=BedState.FREE
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("bed")
        verbose_name_plural = _("beds")
        ordering = ["site", "room__number", "label"]
        constraints = [models.UniqueConstraint(fields=["room", "label"], name="bed_unique")]
        indexes = [models.Index(fields=["site", "state"], name="bed_site_state_idx")]

    def __str__(self) -> str:
        return f"{self.room.number}-{self.label}"


class PlacementKind(models.TextChoices):
    SITE = "site", _("At a site")
    HOME = "home", _("At home")


class PlacementStatus(models.TextChoices):
    RESERVED = "reserved", _("Bed reserved, on the way")
    ACTIVE = "active", _("In quarantine")
    REFUSED = "refused", _("Refused")
    RELEASED = "released", _("Released")
    TRANSFERRED = "transferred", _("Transferred")
    CANCELLED = "cancelled", _("Cancelled")


# Placements that hold their bed.
HOLDING = (PlacementStatus.RESERVED, PlacementStatus.ACTIVE)


class PlacementSource(models.TextChoices):
    DECISION = "decision", _("Health decision")
    REFERRAL = "referral", _("Referral (hotel guest, fever clinic…)")
    TRANSFER = "transfer", _("Transfer from another site")
    REFUSAL = "refusal", _("After a refusal")


class Placement(models.Model):
    """A person placed at a site (on a bed) or at home. `node` is the person's node."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="placements"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("where"), max_length=8, choices=PlacementKind.choices)
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
    )
    bed = models.ForeignKey(
        Bed,
        verbose_name=_("bed"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
    )
    group = models.ForeignKey(
        Group,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=10, choices=PlacementSource.choices)
    decision = models.ForeignKey(
        "health.Decision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    observation = models.ForeignKey(
        "observation.Observation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="placements",
    )
    previous = models.ForeignKey(
        "self",
        verbose_name=_("transferred from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=12, choices=PlacementStatus.choices)
    transport = models.CharField(_("transport"), max_length=200, blank=True)
    expected_at = models.DateTimeField(_("expected"), null=True, blank=True)
    reserved_at = models.DateTimeField(_("reserved"), default=timezone.now)
    reserved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    arrival_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("arrival confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    scope_fields = ("node__path", "site__node__path")
    objects = PlacementQuerySet.as_manager()

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["-reserved_at", "-id"]
        constraints = [
            # The guarantee against double booking, whatever the concurrency.
            models.UniqueConstraint(
                fields=["bed"],
                condition=Q(status__in=["reserved", "active"]),
                name="placement_one_per_bed",
            ),
            # And a person holds one placement at a time, even if two are asked at once.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["reserved", "active"]),
                name="placement_one_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status"], name="placement_site_idx"),
            models.Index(fields=["person", "status"], name="placement_person_idx"),
        ]

    def __str__(self) -> str:
        where = self.site.place.name if self.site_id else _("home")
        return f"{self.person} @ {where}"


class RefusalStatus(models.TextChoices):
    OPEN = "open", _("Refusing")
    AGREED = "agreed", _("Agreed")
    HOME_ALLOWED = "home_allowed", _("Home quarantine allowed")
    ENFORCEMENT = "enforcement", _("Referred for enforcement")


class Refusal(models.Model):
    """A person refusing a placement, until it ends as agreed, home quarantine allowed by
    health staff, or an enforcement referral."""

    placement = models.ForeignKey(
        Placement, verbose_name=_("placement"), on_delete=models.PROTECT, related_name="refusals"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason given"), max_length=1000)
    at = models.DateTimeField(_("time"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=14, choices=RefusalStatus.choices, default=RefusalStatus.OPEN
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome_note = models.TextField(_("outcome"), max_length=1000, blank=True)
    # What it ended in: the new placement (agreed, or at home), or the enforcement record.
    new_placement = models.ForeignKey(
        Placement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    support_request = models.ForeignKey(
        "linkage.SupportRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    enforcement_record = models.ForeignKey(
        "enforcement.EnforcementRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    scope_fields = ("node__path", "placement__site__node__path")
    objects = RefusalQuerySet.as_manager()

    class Meta:
        verbose_name = _("refusal")
        verbose_name_plural = _("refusals")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.person} {self.at:%Y-%m-%d}"


class PersuasionOutcome(models.TextChoices):
    STILL_REFUSES = "still_refuses", _("Still refuses")
    AGREED = "agreed", _("Agreed")


class Persuasion(models.Model):
    """One persuasion attempt: who, when, what was explained, how it ended."""

    refusal = models.ForeignKey(
        Refusal, verbose_name=_("refusal"), on_delete=models.CASCADE, related_name="attempts"
    )
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    explained = models.TextField(_("what was explained"), max_length=2000)
    outcome = models.CharField(_("outcome"), max_length=14, choices=PersuasionOutcome.choices)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    scope_fields = ("refusal__node__path", "refusal__placement__site__node__path")
    objects = RefusalQuerySet.as_manager()  # seen with its refusal: never by site staff

    class Meta:
        verbose_name = _("persuasion attempt")
        verbose_name_plural = _("persuasion attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.refusal_id} {self.at:%Y-%m-%d %H:%M}"
