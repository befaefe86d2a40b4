"""Writes to the jurisdiction tree, users and API tokens. One function per action."""

from __future__ import annotations

import secrets
import uuid

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import audit_record, created, diff, snapshot
from .errors import DomainError, NotFound
from .models import NODE_CHILD_KINDS, PATH_STEP, ApiToken, Node, NodeKind, Role, User, subtree_q
from .validators import check_length, normalize_phone

NODE_FIELDS = ["kind", "name", "code", "parent"]


def _check_child_kind(parent: Node | None, kind: str) -> None:
    if kind not in NodeKind.values:
        raise DomainError(_("Unknown kind of jurisdiction."), field="kind")
    if parent is None:
        if kind != NodeKind.CITY:
            raise DomainError(_("Only a city can be the root of the tree."), field="parent")
        return
    if kind not in NODE_CHILD_KINDS[NodeKind(parent.kind)]:
        raise DomainError(
            _("A jurisdiction of kind “%(parent)s” cannot hold one of kind “%(child)s”.")
            % {"parent": NodeKind(parent.kind).label, "child": NodeKind(kind).label},
            field="kind",
        )


@transaction.atomic
def node_create(
    *,
    actor: User | None,
    kind: str,
    name: str,
    parent: Node | None,
    code: str = "",
    audit: bool = True,
) -> Node:
    name = check_length(name, "name", 100, required=True)
    code = check_length(code, "code", 32)
    _check_child_kind(parent, kind)
    node = Node.objects.create(
        kind=kind,
        name=name,
        code=code,
        parent=parent,
        path=f"tmp-{uuid.uuid4().hex}",
        depth=(parent.depth + 1) if parent else 0,
    )
    node.path = (parent.path if parent else "") + str(node.pk).zfill(PATH_STEP)
    Node.objects.filter(pk=node.pk).update(path=node.path)
    if audit:
        audit_record(
            actor,
            "fangyi.node.created",
            node,
            node_path=node.path,
            changes=created(snapshot(node, NODE_FIELDS)),
        )
    return node


@transaction.atomic
def node_update(*, actor: User, node: Node, name: str, code: str = "") -> Node:
    before = snapshot(node, NODE_FIELDS)
    node.name = check_length(name, "name", 100, required=True)
    node.code = check_length(code, "code", 32)
    node.save(update_fields=["name", "code"])
    audit_record(
        actor,
        "fangyi.node.changed",
        node,
        node_path=node.path,
        changes=diff(before, snapshot(node, NODE_FIELDS)),
    )
    return node


@transaction.atomic
def node_move(*, actor: User, node: Node, new_parent: Node) -> Node:
    """Hang `node` under `new_parent`; its whole subtree moves with it in one UPDATE."""
    node = Node.objects.select_for_update().get(pk=node.pk)
    if new_parent.path.startswith(node.path):
        raise DomainError(_("A jurisdiction cannot move inside itself."), field="parent")
    _check_child_kind(new_parent, node.kind)
    before = snapshot(node, NODE_FIELDS)
    old_path = node.path
    new_path = new_parent.path + str(node.pk).zfill(PATH_STEP)
    delta = new_parent.depth + 1 - node.depth
    Node.objects.filter(subtree_q(old_path)).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
        depth=F("depth") + delta,
    )
    Node.objects.filter(pk=node.pk).update(parent=new_parent)
    node.refresh_from_db()
    audit_record(
        actor,
        "fangyi.node.moved",
        node,
        node_path=node.path,
        changes=diff(before, snapshot(node, NODE_FIELDS)),
    )
    return node


USER_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "phone",
    "role",
    "place",
    "is_active",
]


def _user_snapshot(user: User) -> dict:
    data = snapshot(user, USER_FIELDS)
    data["nodes"] = sorted(user.nodes.values_list("pk", flat=True)) if user.pk else []
    return data


def _user_validate(*, role: str, nodes: list[Node], place) -> None:
    if role not in Role.values:
        raise DomainError(_("Unknown role."), field="role")
    if role == Role.SITE_STAFF:
        if place is None:
            raise DomainError(_("Hotel and site staff need their place."), field="place")
    elif not nodes:
        raise DomainError(_("Choose at least one jurisdiction."), field="nodes")


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    nodes: list[Node] | None = None,
    place=None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    check_password: bool = True,
) -> User:
    nodes = nodes or []
    username = check_length(username, "username", 150, required=True)
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(_("This username is taken."), field="username")
    _user_validate(role=role, nodes=nodes, place=place)
    user = User(
        username=username,
        role=role,
        place=place,
        first_name=check_length(first_name, "first_name", 150),
        last_name=check_length(last_name, "last_name", 150),
        email=email,
        phone=normalize_phone(phone),
    )
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    user.is_staff = role == Role.ADMIN
    user.save()
    user.nodes.set(nodes)
    audit_record(
        actor,
        "fangyi.user.created",
        user,
        node_path=nodes[0].path if nodes else "",
        changes=created(_user_snapshot(user)),
    )
    return user


@transaction.atomic
def user_update(
    *,
    actor: User,
    user: User,
    role: str,
    nodes: list[Node],
    place=None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    is_active: bool = True,
) -> User:
    before = _user_snapshot(user)
    _user_validate(role=role, nodes=nodes, place=place)
    if user.pk == actor.pk and (not is_active or role != actor.role):
        raise DomainError(_("You cannot demote or deactivate yourself."), field="role")
    user.role, user.place, user.is_active = role, place, is_active
    user.first_name = check_length(first_name, "first_name", 150)
    user.last_name = check_length(last_name, "last_name", 150)
    user.email, user.phone = email, normalize_phone(phone)
    user.is_staff = role == Role.ADMIN
    user.save()
    user.nodes.set(nodes)
    audit_record(
        actor,
        "fangyi.user.changed",
        user,
        node_path=nodes[0].path if nodes else "",
        changes=diff(before, _user_snapshot(user)),
    )
    return user


@transaction.atomic
def token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is never stored and shown only once."""
    name = check_length(name, "name", 100, required=True)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    full = f"fy_{prefix}_{secret}"
    token = ApiToken.objects.create(
        user=actor, name=name, prefix=prefix, digest=ApiToken.hash(full)
    )
    audit_record(
        actor,
        "fangyi.token.created",
        token,
        object_repr=f"{name} ({prefix})",
        changes=created({"name": name, "prefix": prefix}),
    )
    return token, full


@transaction.atomic
def token_revoke(*, actor: User, pk: int) -> ApiToken:
    token = ApiToken.objects.filter(user=actor, pk=pk, revoked__isnull=True).first()
    if token is None:
        raise NotFound(_("No such token."))
    token.revoked = timezone.now()
    token.save(update_fields=["revoked"])
    audit_record(actor, "fangyi.token.revoked", token, object_repr=str(token))
    return token


def token_authenticate(raw: str) -> User | None:
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "fy":
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=parts[1], revoked__isnull=True)
        .first()
    )
    if token is None or not secrets.compare_digest(token.digest, ApiToken.hash(raw)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    # Touch at most once a minute, so a busy client does not write on every call.
    if token.last_used is None or (now - token.last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user


def otp_required(user: User) -> bool:
    from django.conf import settings

    if not user.is_authenticated:
        return False
    return settings.FANGYI_OTP_ALL_STAFF or user.role in settings.FANGYI_OTP_REQUIRED_ROLES
