"""Enforcement records (執法記錄) on a tip or a person: the measure, the legal basis cited from
configured notices and laws, the people involved, what they said, evidence photos, the officers,
and a follow-up check. Only police roles and supervisors see them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node
from fangyi.core.photos import PhotoBase
from fangyi.core.scoping import ScopedQuerySet
from fangyi.people.models import Person


class LegalBasis(models.Model):
    """Configuration: a public notice or law that a record can cite."""

    title = models.CharField(_("title"), max_length=200)
    issuer = models.CharField(_("issued by"), max_length=100, blank=True)
    reference = models.CharField(_("reference number"), max_length=100, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    summary = models.TextField(_("summary"), max_length=2000, blank=True)
    url = models.URLField(_("link"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title


class Measure(models.TextChoices):
    EDUCATION = "education", _("Education")
    VERBAL_WARNING = "verbal_warning", _("Verbal warning")
    WRITTEN_WARNING = "written_warning", _("Written warning")
    ORDER_DISPERSE = "order_disperse", _("Order to disperse")
    ORDER_ISOLATE = "order_isolate", _("Order to isolate")
    ADMIN_PENALTY = "admin_penalty", _("Referred for administrative penalty")
    CRIMINAL = "criminal", _("Referred as a criminal case")


class EnforcementRecord(models.Model):
    """One enforcement measure. `node` is where it happened (the tip's or the person's place)."""

    node = models.ForeignKey(
        Node, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    tip = models.ForeignKey(
        "tips.Tip",
        verbose_name=_("tip"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enforcement_records",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enforcement_records",
    )
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    at = models.DateTimeField(_("time"))
    location = models.CharField(_("where"), max_length=200, blank=True)
    legal_bases = models.ManyToManyField(LegalBasis, verbose_name=_("legal basis"), blank=True)
    persons = models.ManyToManyField(
        Person, verbose_name=_("people involved"), blank=True, related_name="+"
    )
    described_people = models.TextField(
        _("other people involved"),
        max_length=2000,
        blank=True,
        help_text=_("People not in the registry: a description of each."),
    )
    statements = models.TextField(_("what they said"), max_length=4000, blank=True)
    facts = models.TextField(_("what happened and what was done"), max_length=4000)
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("officers"), related_name="enforcement_records"
    )
    followup_on = models.DateField(_("follow-up check on"), null=True, blank=True)
    followup_done_at = models.DateTimeField(_("follow-up checked"), null=True, blank=True)
    followup_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    followup_notes = models.TextField(_("follow-up findings"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("enforcement record")
        verbose_name_plural = _("enforcement records")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["followup_on"], name="enforcement_followup_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_measure_display()} {self.at:%Y-%m-%d}"


class EnforcementPhoto(PhotoBase):
    record = models.ForeignKey(EnforcementRecord, on_delete=models.CASCADE, related_name="photos")

    scope_fields = ("record__node__path",)
    objects = ScopedQuerySet.as_manager()

    class Meta(PhotoBase.Meta):
        verbose_name = _("evidence photo")
