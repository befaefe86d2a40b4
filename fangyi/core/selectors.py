"""Reads of the tree, users, tokens and the audit trail, scoped to the acting user."""

from __future__ import annotations

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from . import access, scoping
from .errors import NotFound
from .models import PATH_STEP, AccessLog, ApiToken, AuditEntry, Node, Role, User, subtree_q


def token_list(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created")


def node_list(user: User, *, parent: Node | None = None, kind: str = "") -> QuerySet[Node]:
    access.require(user, "node.view")
    qs = access.nodes_visible(user)
    if parent is not None:
        qs = qs.filter(parent=parent)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("path")


def user_list(user: User, *, q: str = "") -> QuerySet[User]:
    """Accounts an administrator manages: those with a node inside theirs, or site staff of a
    place inside theirs."""
    access.require(user, "user.manage")
    qs = User.objects.filter(
        Q(pk__in=scoping.visible(User.nodes.through.objects.all(), user).values("user_id"))
        | Q(place__in=access.nodes_visible(user).values("places"))
    ).distinct()
    if q:
        qs = qs.filter(
            Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
        )
    return qs.prefetch_related("nodes").select_related("place").order_by("username")


def user_get(actor: User, pk: int) -> User:
    user = user_list(actor).filter(pk=pk).first()
    if user is None:
        raise NotFound(_("No such user."))
    return user


# Enforcement records (facts, statements, the people described) are for police roles and
# supervisors only: their trail and their reads stay out of the audit pages of anyone else.
ENFORCEMENT_ACTION_PREFIX = "fangyi.enforcement"
ENFORCEMENT_OBJECT_TYPES = ("enforcementrecord", "enforcementphoto")


def audit_list(user: User, *, action: str = "", node: Node | None = None) -> QuerySet[AuditEntry]:
    if not access.can(user, "audit.view"):
        return AuditEntry.objects.none()
    scope = scoping.path_q(user, "node_path")
    if user.role == Role.ADMIN:
        # Administrators also see changes that hang on no node (accounts, tokens).
        scope |= Q(node_path="")
    qs = AuditEntry.objects.filter(scope)
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node_path"))
    if action:
        qs = qs.filter(action__startswith=action)
    if not access.can(user, "enforcement.view"):
        qs = qs.exclude(action__startswith=ENFORCEMENT_ACTION_PREFIX).exclude(
            object_type__in=ENFORCEMENT_OBJECT_TYPES
        )
    return qs.order_by("-at", "-id")


def access_log_list(user: User) -> QuerySet[AccessLog]:
    if not access.can(user, "audit.view"):
        return AccessLog.objects.none()
    qs = scoping.visible(AccessLog.objects.all(), user, "node_path")
    if not access.can(user, "enforcement.view"):
        qs = qs.exclude(object_type__in=ENFORCEMENT_OBJECT_TYPES)
    return qs.order_by("-at", "-id")


def ancestor_paths(path: str) -> list[str]:
    """The paths of a node and of every node above it, nearest first."""

    return [path[:i] for i in range(len(path), 0, -PATH_STEP)]


def nearest_workers(node: Node, roles: list[str] | tuple[str, ...]) -> list[User]:
    """Active users of the given roles whose jurisdiction holds `node`, the nearest first.

    "Nearest" is the user whose own node is deepest above (or at) `node`: the grid worker of
    the grid before the officer of the station. Within a depth, the order of `roles` decides,
    then the username. One query."""
    paths = ancestor_paths(node.path)
    rows = (
        User.objects.filter(is_active=True, role__in=roles, nodes__path__in=paths)
        .annotate(_p=models.F("nodes__path"))
        .order_by("username")
    )
    best: dict[int, tuple[int, int, str, User]] = {}
    for u in rows:
        key = (-len(u._p), list(roles).index(u.role), u.username)
        if u.pk not in best or key < best[u.pk][:3]:
            best[u.pk] = (*key, u)
    return [entry[3] for entry in sorted(best.values(), key=lambda e: e[:3])]
