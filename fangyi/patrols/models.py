"""Patrol and publicity (巡逻宣传) and duty posts (值守劝导), the two daily duties of the seed that
the other apps do not carry.

A patrol is one round of an officer (or community staff) over some compounds of his
jurisdiction, with the people who went with him; the phone adds route points while the page is
open, and the events of the round (a gathering dispersed, publicity given, people persuaded to
wear masks, a shop checked, something noticed) each carry their time, place and photos. A
patrol plan says how often a compound must be patrolled; coverage is read from the patrols.

A duty post (卡点) is a gate, road or market where people are checked during its staffed hours;
its shifts say who is on duty when, and the shift's tallies (persons and vehicles checked,
temperatures taken, people turned back, outsiders registered) are rows, one per tap, so that a
retried tap counts once. A person found at the post with a fever or from a risk area is
registered there with a declaration (PostRegistration), and the health rules take over.

Everything hangs on `node`: the compound (or community) where it happened, scoped like the
other apps' records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node
from fangyi.core.photos import PhotoBase
from fangyi.core.scoping import ScopedQuerySet
from fangyi.people.models import Person


def _coordinate() -> models.DecimalField:
    """A latitude or longitude the phone may not give: six decimals (about 0.1 m)."""
    return models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)


class Patrol(models.Model):
    """One patrol round. `node` is the area (a community or a compound) it set out over;
    `compounds` are those it covered: chosen at the start, and every compound an event was
    recorded in."""

    node = models.ForeignKey(
        Node, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    compounds = models.ManyToManyField(
        Node, verbose_name=_("compounds covered"), blank=True, related_name="patrols"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("led by"),
        on_delete=models.PROTECT,
        related_name="patrols_led",
    )
    companions = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("with"),
        blank=True,
        related_name="patrols_joined",
    )
    others = models.CharField(
        _("others with the patrol"),
        max_length=200,
        blank=True,
        help_text=_("Volunteers and others not in Fangyi, e.g. “2 volunteers”."),
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    summary = models.TextField(_("summary"), max_length=2000, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["leader", "started_at"], name="patrol_leader_idx"),
            models.Index(fields=["ended_at"], name="patrol_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.node.name} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    @property
    def under_way(self) -> bool:
        return self.ended_at is None


class RoutePoint(models.Model):
    """A position of the patrol's phone: added at each event and every few minutes while the
    patrol page is open. The same (patrol, time) twice is one point."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="route")
    at = models.DateTimeField()
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    accuracy = models.PositiveIntegerField(null=True, blank=True)

    scope_fields = ("patrol__node__path",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "at"], name="routepoint_once"),
        ]

    def __str__(self) -> str:
        return f"{self.latitude},{self.longitude}"


class EventKind(models.TextChoices):
    GATHERING = "gathering", _("Gathering dispersed")
    PUBLICITY = "publicity", _("Publicity given")
    MASKS = "masks", _("People without masks persuaded")
    INSPECTION = "inspection", _("Shop or market checked")
    OTHER = "other", _("Something else noticed")


class Activity(models.TextChoices):
    CARDS = "cards", _("Playing cards")
    MAHJONG = "mahjong", _("Mahjong")
    MEAL = "meal", _("A meal or drinking")
    MARKET = "market", _("A market or stall")
    CHATTING = "chatting", _("Chatting in a group")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    WENT_HOME = "went_home", _("Went home")
    DISPERSED = "dispersed", _("Dispersed")
    REFUSED = "refused", _("Refused")


class Method(models.TextChoices):
    TALK = "talk", _("Talking to people")
    LOUDSPEAKER = "loudspeaker", _("Loudspeaker")
    LEAFLETS = "leaflets", _("Leaflets handed out")
    POSTERS = "posters", _("Posters or notices posted")
    BANNER = "banner", _("Banner")
    WECHAT = "wechat", _("WeChat group")


class InspectionResult(models.TextChoices):
    COMPLIANT = "compliant", _("In order")
    CORRECTED = "corrected", _("Corrected on the spot")
    NOT_COMPLIANT = "not_compliant", _("Not in order")


class PatrolEvent(models.Model):
    """One thing found and done on a patrol. Which fields matter depends on `kind`: people,
    activity, statements and outcome for a gathering; method, reached and materials for
    publicity; people for masks; result for a shop checked; notes for every kind."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="events")
    node = models.ForeignKey(
        Node, verbose_name=_("compound"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("what"), max_length=12, choices=EventKind.choices)
    at = models.DateTimeField(_("time"))
    address = models.CharField(_("where"), max_length=200, blank=True)
    latitude = _coordinate()
    longitude = _coordinate()
    accuracy = models.PositiveIntegerField(null=True, blank=True)
    people = models.PositiveIntegerField(_("people"), null=True, blank=True)
    activity = models.CharField(
        _("what they were doing"), max_length=10, choices=Activity.choices, blank=True
    )
    statements = models.TextField(_("what was said"), max_length=2000, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    methods = models.JSONField(_("how"), default=list, blank=True)
    reached = models.PositiveIntegerField(_("people reached"), null=True, blank=True)
    materials = models.PositiveIntegerField(
        _("materials handed out or posted"), null=True, blank=True
    )
    result = models.CharField(
        _("result"), max_length=14, choices=InspectionResult.choices, blank=True
    )
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    # What the event led to: a tip raised or resolved, an enforcement record, a support request.
    tip = models.ForeignKey(
        "tips.Tip", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enforcement = models.ForeignKey(
        "enforcement.EnforcementRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    support = models.ForeignKey(
        "linkage.SupportRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A tip already open at the place that the event settled (not the one it raised).
    resolved_tip = models.ForeignKey(
        "tips.Tip", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol event")
        verbose_name_plural = _("patrol events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["node", "at"], name="patrolevent_node_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.at):%H:%M}"


class PatrolPhoto(PhotoBase):
    event = models.ForeignKey(PatrolEvent, on_delete=models.CASCADE, related_name="photos")

    scope_fields = ("event__node__path",)
    objects = ScopedQuerySet.as_manager()

    class Meta(PhotoBase.Meta):
        verbose_name = _("patrol photo")


class PatrolPlan(models.Model):
    """How often a compound must be patrolled, and the officer who answers for it. A compound
    is overdue when its last patrol began longer ago than 24 hours / times_per_day."""

    node = models.OneToOneField(
        Node, verbose_name=_("compound"), on_delete=models.CASCADE, related_name="patrol_plan"
    )
    times_per_day = models.PositiveSmallIntegerField(_("patrols a day"), default=2)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible officer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patrol_plans",
    )
    active = models.BooleanField(_("active"), default=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol plan")
        verbose_name_plural = _("patrol plans")
        ordering = ["node__path"]

    def __str__(self) -> str:
        return f"{self.node.name} ×{self.times_per_day}"


class PostKind(models.TextChoices):
    GATE = "gate", _("Compound gate")
    ROAD = "road", _("Road checkpoint")
    MARKET = "market", _("Market")
    STATION = "station", _("Station or stop")
    OTHER = "other", _("Other")


class DutyPost(models.Model):
    """A duty post (卡点 / 值守点). Between `staffed_from` and `staffed_to` every day it must have
    a shift; outside them nobody is expected."""

    node = models.ForeignKey(
        Node, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=PostKind.choices)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = _coordinate()
    longitude = _coordinate()
    staffed_from = models.TimeField(_("staffed from"), default="07:00")
    staffed_to = models.TimeField(_("staffed until"), default="22:00")
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty post")
        verbose_name_plural = _("duty posts")
        ordering = ["node__path", "name", "id"]

    def __str__(self) -> str:
        return self.name


class DutyShift(models.Model):
    """A shift at a post: from–to and who is on duty. `taken_at` is when someone on it began
    (checked in on the phone); `ended_at` when it was handed over, with the note."""

    post = models.ForeignKey(
        DutyPost, verbose_name=_("post"), on_delete=models.CASCADE, related_name="shifts"
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")  # the post's
    starts = models.DateTimeField(_("from"))
    ends = models.DateTimeField(_("until"))
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("on duty"), blank=True, related_name="shifts"
    )
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    handover_note = models.TextField(_("handover note"), max_length=2000, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        ordering = ["starts", "id"]
        indexes = [models.Index(fields=["post", "starts"], name="shift_post_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="shift_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        start = timezone.localtime(self.starts)
        return f"{self.post.name} {start:%m-%d %H:%M}"


class Tally(models.TextChoices):
    PERSONS = "persons", _("Persons checked")
    VEHICLES = "vehicles", _("Vehicles checked")
    TEMPERATURES = "temperatures", _("Temperatures taken")
    TURNED_BACK = "turned_back", _("Persuaded to turn back")
    OUTSIDERS = "outsiders", _("Outsiders registered")


class ShiftTally(models.Model):
    """One tap (or a number typed in) on a shift's counter. The counters are sums of these, so
    a tap retried with its client_id counts once; a negative delta corrects a wrong tap."""

    shift = models.ForeignKey(DutyShift, on_delete=models.CASCADE, related_name="tallies")
    kind = models.CharField(max_length=12, choices=Tally.choices)
    delta = models.IntegerField()
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    scope_fields = ("shift__node__path",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["shift", "kind"], name="tally_shift_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.delta:+d}"


class PostRegistration(models.Model):
    """A person found at a post (a traveller from a risk area, a fever) registered there, with
    the declaration taken on the spot; the health rules and decisions go on from it."""

    shift = models.ForeignKey(DutyShift, on_delete=models.CASCADE, related_name="registrations")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")  # the post's
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    declaration = models.ForeignKey(
        "health.Declaration", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration at a post")
        verbose_name_plural = _("registrations at posts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.at:%Y-%m-%d %H:%M}"
