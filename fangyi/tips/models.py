"""Tips and complaints from residents (舉報、投訴): the configured categories, the tip with its
lifecycle, every visit made on it, and the photos taken there."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node
from fangyi.core.photos import PhotoBase
from fangyi.core.scoping import ScopedQuerySet
from fangyi.people.models import Household


class TipCategory(models.Model):
    """What residents can report, the questions asked for it, and who gets it (configuration).

    `questions` is a list of {"code", "label", "type": "text"|"number"|"yes_no"|"choice",
    "choices": [...], "required": bool}. `route_roles` lists the roles that get a tip of this
    category, each the nearest such user above the tip's place (the grid's worker before the
    station's officer)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    questions = models.JSONField(_("questions"), default=list, blank=True)
    route_roles = models.JSONField(_("routed to"), default=list, blank=True)
    urgent = models.BooleanField(
        _("urgent"), default=False, help_text=_("Dispatched at once and shown first.")
    )
    response_minutes = models.PositiveIntegerField(_("target time on scene (minutes)"), default=120)
    duplicate_hours = models.PositiveIntegerField(
        _("duplicate window (hours)"),
        default=24,
        help_text=_(
            "Tips of this category in the same place within this time are suggested as duplicates."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("tip category")
        verbose_name_plural = _("tip categories")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class TipSource(models.TextChoices):
    PUBLIC = "public", _("Public page")
    PHONE = "phone", _("By phone")
    IN_PERSON = "in_person", _("In person")
    PATROL = "patrol", _("Found on patrol")
    OPEN311 = "open311", _("City system (Open311)")


class TipStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    ON_SCENE = "on_scene", _("On scene")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


# Statuses in which a tip still needs work (the board and day lists show these).
OPEN_STATUSES = (
    TipStatus.NEW,
    TipStatus.ASSIGNED,
    TipStatus.ACCEPTED,
    TipStatus.ON_SCENE,
    TipStatus.IN_PROGRESS,
)


class Resolution(models.TextChoices):
    RECTIFIED = "rectified", _("Rectified")
    EDUCATED = "educated", _("Education given")
    WARNED = "warned", _("Warned")
    REFERRED = "referred", _("Referred")
    UNFOUNDED = "unfounded", _("Unfounded")
    DUPLICATE = "duplicate", _("Duplicate")


class Tip(models.Model):
    """One tip or complaint. `node` is where it happened (a compound, or the grid when only the
    grid is known) and scopes it; `code` is the tracking code the reporter holds."""

    code = models.CharField(_("tracking code"), max_length=16, unique=True, editable=False)
    category = models.ForeignKey(
        TipCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="tips"
    )
    node = models.ForeignKey(
        Node, verbose_name=_("place"), on_delete=models.PROTECT, related_name="tips"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tips",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    description = models.TextField(_("what happened"), max_length=2000)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    reporter_name = models.CharField(_("reporter's name"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=TipSource.choices)
    # HMAC of the sender's address: for the rate limit, without keeping the address itself.
    sender = models.CharField(max_length=64, blank=True, editable=False)

    status = models.CharField(
        _("status"), max_length=12, choices=TipStatus.choices, default=TipStatus.NEW
    )
    resolution = models.CharField(
        _("resolution"), max_length=12, choices=Resolution.choices, blank=True
    )
    answer = models.TextField(_("answer to the reporter"), max_length=2000, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), blank=True, related_name="tips"
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    received_at = models.DateTimeField(_("received"), default=timezone.now)
    due_at = models.DateTimeField(_("on scene by"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("on scene"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # When the reporter first opened the tracking page showing the answer: until then the
    # answer may still be corrected (and each correction is audited).
    answer_read_at = models.DateTimeField(_("answer read"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tip")
        verbose_name_plural = _("tips")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["node", "category", "received_at"], name="tip_dup_idx"),
            models.Index(fields=["status", "received_at"], name="tip_status_idx"),
            models.Index(fields=["sender", "received_at"], name="tip_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.category}"


class TipEvent(models.Model):
    """The tip's history: every change of status, assignment, answer or note, with who and
    when. `public` events are the ones the reporter's tracking page shows (status and answer,
    never names or notes)."""

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=TipStatus.choices)
    note = models.TextField(blank=True, max_length=2000)
    public = models.BooleanField(default=False)

    scope_fields = ("tip__node__path",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.tip_id} {self.status} {self.at:%Y-%m-%d %H:%M}"


class VisitAction(models.TextChoices):
    PERSUADED = "persuaded", _("Persuaded")
    DISPERSED = "dispersed", _("Dispersed")
    NOTICES = "notices", _("Notices posted")
    LEAFLETS = "leaflets", _("Leaflets handed out")
    EDUCATION = "education", _("Education given")
    PENNED = "penned", _("Poultry penned")
    OTHER = "other", _("Other")


class TipVisit(models.Model):
    """One visit on a tip: a tip is visited as often as needed."""

    tip = models.ForeignKey(
        Tip, verbose_name=_("tip"), on_delete=models.CASCADE, related_name="visits"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    found = models.TextField(_("what was found"), max_length=2000)
    actions = models.JSONField(_("what was done"), default=list, blank=True)
    people = models.PositiveIntegerField(_("people reached"), null=True, blank=True)
    notices = models.PositiveIntegerField(_("notices posted"), null=True, blank=True)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit on a tip")
        verbose_name_plural = _("visits on tips")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.tip.code} {self.at:%Y-%m-%d %H:%M}"


class TipPhoto(PhotoBase):
    visit = models.ForeignKey(TipVisit, on_delete=models.CASCADE, related_name="photos")

    scope_fields = ("visit__tip__node__path",)
    objects = ScopedQuerySet.as_manager()

    class Meta(PhotoBase.Meta):
        verbose_name = _("photo")
