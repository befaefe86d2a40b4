"""Reads of the tree, users, tokens and the audit trail, scoped to the acting user."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from . import access
from .errors import NotFound
from .models import AccessLog, ApiToken, AuditEntry, Node, Role, User, subtree_q


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
        Q(
            pk__in=User.nodes.through.objects.filter(access.node_q(user, "node__path")).values(
                "user_id"
            )
        )
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


def audit_list(user: User, *, action: str = "", node: Node | None = None) -> QuerySet[AuditEntry]:
    if not access.can(user, "audit.view"):
        return AuditEntry.objects.none()
    scope = access.node_q(user, "node_path")
    if user.role == Role.ADMIN:
        # Administrators also see changes that hang on no node (accounts, tokens).
        scope |= Q(node_path="")
    qs = AuditEntry.objects.filter(scope)
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node_path"))
    if action:
        qs = qs.filter(action__startswith=action)
    return qs.order_by("-at", "-id")


def access_log_list(user: User) -> QuerySet[AccessLog]:
    if not access.can(user, "audit.view"):
        return AccessLog.objects.none()
    return AccessLog.objects.filter(access.node_q(user, "node_path")).order_by("-at", "-id")
