"""The jurisdiction tree, users and roles, API tokens, and the audit trail."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Each level of a node's path is its id, zero-padded to this many digits. Paths are made of
# digits only, so that byte order and every database collation agree, and a subtree is the
# half-open range [path, path_upper(path)), which a plain B-tree index answers on SQLite and
# PostgreSQL alike (no LIKE, no walking the tree in Python).
PATH_STEP = 8


def path_upper(path: str) -> str:
    """The smallest path greater than every path in the subtree rooted at `path`."""
    last = int(path[-PATH_STEP:]) + 1
    return path[:-PATH_STEP] + str(last).zfill(PATH_STEP)


def subtree_q(path: str, field: str = "path") -> Q:
    return Q(**{f"{field}__gte": path, f"{field}__lt": path_upper(path)})


class KeyField(models.CharField):
    """A CharField compared byte by byte on every backend.

    Search keys and tree paths are queried with ranges ([prefix, prefix + U+10FFFF)). SQLite
    compares text by code point already; on PostgreSQL the column gets COLLATE "C" so a
    database created with a language collation still orders them by code point and the
    B-tree index serves the range. Migrations stay the same on both backends.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class NodeKind(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    STATION = "station", _("Police station / sub-district")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")
    COMPOUND = "compound", _("Compound or building")


# A node of each kind may have children of the next kinds only.
NODE_CHILD_KINDS = {
    NodeKind.CITY: [NodeKind.DISTRICT],
    NodeKind.DISTRICT: [NodeKind.STATION],
    NodeKind.STATION: [NodeKind.COMMUNITY],
    NodeKind.COMMUNITY: [NodeKind.GRID],
    NodeKind.GRID: [NodeKind.COMPOUND],
    NodeKind.COMPOUND: [],
}


class Node(models.Model):
    """A place in the jurisdiction tree (轄區): city, district, station, community, grid, compound."""

    kind = models.CharField(_("kind"), max_length=16, choices=NodeKind.choices)
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = KeyField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def subtree(self) -> models.QuerySet[Node]:
        return Node.objects.filter(subtree_q(self.path))

    def ancestor_paths(self) -> list[str]:
        return [self.path[: i + PATH_STEP] for i in range(0, len(self.path), PATH_STEP)]

    def ancestors(self) -> list[Node]:
        """Root first, self last; one query."""
        return list(Node.objects.filter(path__in=self.ancestor_paths()).order_by("depth"))

    def is_within(self, other: Node) -> bool:
        return self.path.startswith(other.path)


class Role(models.TextChoices):
    POLICE = "police", _("Community police officer")
    AUXILIARY = "auxiliary", _("Auxiliary police")
    GRID_WORKER = "grid_worker", _("Grid worker")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    HEALTH_STAFF = "health_staff", _("Health staff")
    SITE_STAFF = "site_staff", _("Hotel / site staff")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


# The roles that work in the field (visits, follow-ups, tips), in the order a door's worker is
# looked for when none is named: the grid worker first, then police, the community, health.
FIELD_ROLES = (
    Role.GRID_WORKER,
    Role.POLICE,
    Role.AUXILIARY,
    Role.COMMUNITY_STAFF,
    Role.HEALTH_STAFF,
)


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    nodes = models.ManyToManyField(
        Node, verbose_name=_("jurisdictions"), blank=True, related_name="users"
    )
    place = models.ForeignKey(
        "people.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("For hotel and site staff: the one place they work at."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """Chinese names read family name first with no space: 徐紅心, not 紅心 徐."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if any("\u3400" <= ch <= "\u9fff" for ch in first + last):
            return (last + first) or self.username
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("audit rows are append-only")

    def delete(self):
        raise PermissionError("audit rows are append-only")


class ImmutableModel(models.Model):
    """Rows that are written once and never changed or deleted through the app."""

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("audit rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit rows are append-only")


class AuditEntry(ImmutableModel):
    """One change: who did what to which record, with the fields that changed (masked)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=32)
    object_id = models.BigIntegerField(null=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # The jurisdiction path of the record when it changed: supervisors read the trail of their
    # own subtree with the same range query as everything else.
    node_path = KeyField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["node_path", "at"], name="audit_node_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"


class AccessLog(ImmutableModel):
    """One read of a person's record, from a page or the API."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    user_name = models.CharField(max_length=150, blank=True)
    object_type = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, blank=True)
    node_path = KeyField(max_length=255, blank=True)
    via = models.CharField(max_length=8)  # "ui" or "api"
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="access_object_idx"),
            models.Index(fields=["node_path", "at"], name="access_node_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_name} {self.object_type}:{self.object_id}"
