"""Households, persons and places (hotels, quarantine sites, fever clinics)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import KeyField, Node
from fangyi.core.scoping import ScopedQuerySet


class Household(models.Model):
    """A dwelling and the people registered in it, hung on a compound or grid node."""

    node = models.ForeignKey(
        Node,
        verbose_name=_("compound or grid"),
        on_delete=models.PROTECT,
        related_name="households",
    )
    address = models.CharField(_("address"), max_length=200)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["address", "id"]
        indexes = [models.Index(fields=["node", "address"], name="household_node_idx")]

    def __str__(self) -> str:
        return self.address


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class IdType(models.TextChoices):
    RESIDENT = "resident", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO = "hk_macao", _("Hong Kong / Macao permit")
    TAIWAN = "taiwan", _("Taiwan permit")
    OTHER = "other", _("Other document")
    NONE = "none", _("No document")


class Person(models.Model):
    name = models.CharField(_("full name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    id_type = models.CharField(
        _("document type"), max_length=10, choices=IdType.choices, default=IdType.RESIDENT
    )
    id_number = models.CharField(_("document number"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relation = models.CharField(_("relation to the household"), max_length=20, blank=True)
    node = models.ForeignKey(
        Node, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="persons"
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)

    # Search keys, derived from name / id_number / phone by the service on every save.
    name_norm = KeyField(max_length=50, editable=False)  # simplified script
    name_pinyin = KeyField(max_length=200, editable=False)  # "xuhongxin"
    name_initials = KeyField(max_length=50, editable=False)  # "xhx"
    name_given = KeyField(max_length=50, blank=True, default="", editable=False)  # "红心"
    id_number_rev = KeyField(max_length=32, blank=True, editable=False)
    phone_rev = KeyField(max_length=20, blank=True, editable=False)

    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["name_pinyin", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"],
                condition=~Q(id_number=""),
                name="person_unique_document",
            ),
        ]
        indexes = [
            models.Index(fields=["name_norm"], name="person_name_idx"),
            models.Index(fields=["name_pinyin"], name="person_pinyin_idx"),
            models.Index(fields=["name_initials"], name="person_initials_idx"),
            models.Index(fields=["name_given"], name="person_given_idx"),
            models.Index(fields=["id_number"], name="person_idnum_idx"),
            models.Index(fields=["id_number_rev"], name="person_idrev_idx"),
            models.Index(fields=["phone_rev"], name="person_phonerev_idx"),
            models.Index(fields=["phone"], name="person_phone_idx"),
            models.Index(fields=["name_norm", "birth_date"], name="person_dup_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int | None:
        from django.utils import timezone

        if not self.birth_date:
            return None
        today = timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class PlaceKind(models.TextChoices):
    HOTEL = "hotel", _("Hotel")
    DESIGNATED_HOTEL = "designated_hotel", _("Designated hotel")
    QUARANTINE_SITE = "quarantine_site", _("Quarantine point")
    FEVER_CLINIC = "fever_clinic", _("Fever clinic")


# The places a person is sent to for central quarantine (a decision's "central" outcome).
CENTRAL_PLACE_KINDS = (PlaceKind.QUARANTINE_SITE, PlaceKind.DESIGNATED_HOTEL)
# The places an observation runs at (kind "place"), and a quarantine site is made of: the same.
END_PLACE_KINDS = CENTRAL_PLACE_KINDS


class Place(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices)
    name = models.CharField(_("name"), max_length=100)
    node = models.ForeignKey(
        Node, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="places"
    )
    address = models.CharField(_("address"), max_length=200)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    capacity = models.PositiveIntegerField(
        _("beds"),
        null=True,
        blank=True,
        help_text=_("For quarantine points and designated hotels."),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    is_active = models.BooleanField(_("in use"), default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name
