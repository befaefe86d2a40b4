"""Risk rules (configuration), health declarations, decisions, and personal self-report links.

All the numbers of an epidemic live here as rows an administrator edits, never in code:
risk areas with the dates from which they count, the symptom list, the observation days, the
fever threshold, how many follow-ups a day.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node
from fangyi.core.scoping import ScopedQuerySet
from fangyi.people.models import Person, Place


class RiskArea(models.Model):
    """A place from which travel counts as exposure from `counts_from` (until `counts_until`)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    division = models.CharField(
        _("division code"),
        max_length=6,
        blank=True,
        help_text=_(
            "GB/T 2260 code of a province, prefecture or county: every place under it is covered."
        ),
    )
    aliases = models.CharField(
        _("other names"),
        max_length=300,
        blank=True,
        help_text=_("Separated by commas, e.g. 湖北省, 湖北, 武漢, 武汉."),
    )
    counts_from = models.DateField(_("counts from"))
    counts_until = models.DateField(_("counts until"), null=True, blank=True)
    is_active = models.BooleanField(_("in force"), default=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("risk area")
        verbose_name_plural = _("risk areas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Symptom(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("symptom")
        verbose_name_plural = _("symptoms")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class RiskSettings(models.Model):
    """The one row of numbers the rules use. `RiskSettings.current()` reads (or makes) it."""

    observation_days = models.PositiveSmallIntegerField(
        _("observation days"), default=14, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    fever_threshold = models.DecimalField(
        _("fever threshold (°C)"),
        max_digits=3,
        decimal_places=1,
        default=Decimal("37.3"),
        validators=[MinValueValidator(Decimal("36.0")), MaxValueValidator(Decimal("39.0"))],
    )
    followups_per_day = models.PositiveSmallIntegerField(
        _("follow-ups a day"), default=1, validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    missed_escalation = models.PositiveSmallIntegerField(
        _("missed follow-ups in a row that go to a supervisor"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    self_report_days = models.PositiveSmallIntegerField(
        _("days a self-report link is valid"),
        default=21,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    travel_since = models.DateField(
        _("ask for travel since"),
        null=True,
        blank=True,
        help_text=_("e.g. the start of the Spring Festival travel season."),
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("risk settings")
        verbose_name_plural = _("risk settings")

    def __str__(self) -> str:
        return str(_("risk settings"))

    @classmethod
    def current(cls) -> RiskSettings:
        obj = cls.objects.order_by("pk").first()
        if obj is None:
            obj = cls.objects.create()
        return obj


class Outcome(models.TextChoices):
    """What the rules propose and health staff decide, from mildest to strongest."""

    CLEARED = "cleared", _("Cleared")
    HOME = "home", _("Observation at home")
    CENTRAL = "central", _("Centralised observation")
    FEVER_CLINIC = "fever_clinic", _("Fever clinic")
    ASSESSMENT = "assessment", _("Health assessment needed")


# The decisions that put the person under observation (at home; at a site, "centralised").
OBSERVED_OUTCOMES = (Outcome.HOME, Outcome.CENTRAL)


class TempMethod(models.TextChoices):
    FOREHEAD = "forehead", _("Forehead")
    EAR = "ear", _("Ear")
    ARMPIT = "armpit", _("Armpit")
    ORAL = "oral", _("Oral")


class DeclarationSource(models.TextChoices):
    VISIT = "visit", _("At a door visit")
    SELF = "self", _("Self-report link")
    IMPORT = "import", _("Imported sheet")
    STAFF = "staff", _("Entered by staff")
    POST = "post", _("At a duty post")


class DeclarationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")


class Declaration(models.Model):
    """What a person declares: temperature, symptoms, travel, contacts. With the rules' proposal.

    `travel` is a list of {"place", "from", "to", "transport"} (ISO dates), `contacts` a list of
    {"kind": "confirmed"|"suspected", "who", "date", "place"}, `symptoms` a list of Symptom
    codes. A self-report arrives PENDING and a worker confirms it."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="declarations"
    )
    node = models.ForeignKey(
        Node, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        "screening.DoorVisit",
        verbose_name=_("door visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="declarations",
    )
    source = models.CharField(
        _("source"), max_length=10, choices=DeclarationSource.choices, default="visit"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeclarationStatus.choices, default="confirmed"
    )
    declared_on = models.DateField(_("date"))
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    temperature_method = models.CharField(
        _("measured at"), max_length=10, choices=TempMethod.choices, blank=True
    )
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    travel_since = models.DateField(_("travel since"), null=True, blank=True)
    travel = models.JSONField(_("travel"), default=list, blank=True)
    contacts = models.JSONField(_("contact with cases"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    proposal = models.CharField(_("proposal"), max_length=15, choices=Outcome.choices)
    proposal_reason = models.TextField(_("reason"), blank=True)
    last_exposure = models.DateField(_("last exposure"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("declaration")
        verbose_name_plural = _("declarations")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-recorded_at"], name="decl_person_idx"),
            models.Index(fields=["node", "status"], name="decl_node_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.declared_on}"


class Decision(models.Model):
    """Health staff confirm or change the rules' proposal: who, when, why."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="decisions"
    )
    node = models.ForeignKey(
        Node, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    declaration = models.ForeignKey(
        Declaration,
        verbose_name=_("declaration"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    proposal = models.CharField(_("proposal"), max_length=15, choices=Outcome.choices, blank=True)
    outcome = models.CharField(_("decision"), max_length=15, choices=Outcome.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    last_exposure = models.DateField(_("last exposure"), null=True, blank=True)
    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"))
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_outcome_display()}"


class SelfReportLink(models.Model):
    """A personal link (and QR code) a worker hands out; no account needed.

    Only the SHA-256 of the token is stored; the link is shown when it is made. Making a new
    link for the same person revokes the old one."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="self_links"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(_("expires"))
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    scope_fields = ("person__node__path",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("self-report link")
        verbose_name_plural = _("self-report links")

    def __str__(self) -> str:
        return f"{self.person} ({self.expires:%Y-%m-%d})"
