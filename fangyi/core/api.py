"""API for the caller's account, API tokens, the jurisdiction tree, users, the audit trail and
the administrative divisions."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.people.selectors import place_get

from . import access, divisions, selectors, services
from .errors import NotFound
from .models import Node, User

router = Router(tags=["core"])


class ErrorOut(Schema):
    detail: str
    errors: list[dict] = []
    details: dict = {}


class StepsOut(Schema):
    """The steps the caller may take on the record now, in the lifecycle's order: what the page
    shows as buttons, from the same table the service guards with."""

    status: str
    allowed_steps: list[str]


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class MeOut(Schema):
    id: int
    username: str
    name: str
    role: str
    node_ids: list[int]
    place_id: int | None
    permissions: list[str]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created: dt.datetime
    last_used: dt.datetime | None
    revoked: dt.datetime | None


class TokenIn(Schema):
    name: str


class TokenCreated(TokenOut):
    token: str = Field(..., description="The secret, shown this once and never again.")


class NodeOut(Schema):
    id: int
    kind: str
    name: str
    code: str
    parent_id: int | None
    depth: int


class NodeIn(Schema):
    kind: str
    name: str
    code: str = ""
    parent_id: int


class NodeUpdateIn(Schema):
    name: str
    code: str = ""


class NodeMoveIn(Schema):
    parent_id: int


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    phone: str
    role: str
    node_ids: list[int]
    place_id: int | None
    is_active: bool

    @staticmethod
    def resolve_node_ids(obj: User) -> list[int]:
        return [n.pk for n in obj.nodes.all()]


class UserIn(Schema):
    username: str
    password: str
    role: str
    node_ids: list[int] = []
    place_id: int | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""


class UserUpdateIn(Schema):
    role: str
    node_ids: list[int] = []
    place_id: int | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    is_active: bool = True


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor_name: str
    action: str
    object_type: str
    object_id: int | None
    object_repr: str
    changes: dict


class AccessOut(Schema):
    id: int
    at: dt.datetime
    user_name: str
    object_type: str
    object_id: int
    object_repr: str
    via: str


class DivisionOut(Schema):
    code: str = Field(..., examples=["420500"])
    name: str = Field(..., examples=["宜昌市"])
    name_hant: str = Field(..., examples=["宜昌市"])
    short: str = Field(..., examples=["宜昌"])
    pinyin: str = Field(..., examples=["yichang"])
    level: str = Field(..., examples=["prefecture"])
    full_name: str = Field(..., examples=["湖北省宜昌市"])
    current: bool


def _division_out(d: divisions.Division) -> dict:
    return {
        "code": d.code,
        "name": d.name,
        "name_hant": d.name_hant,
        "short": d.short,
        "pinyin": d.pinyin,
        "level": d.level,
        "full_name": d.full_name,
        "current": d.current,
    }


@router.get("/divisions", response=list[DivisionOut], auth=None)
def division_list(request, q: str = Query("", max_length=50), limit: int = Query(20, ge=1, le=100)):
    """Divisions in force (GB/T 2260) whose code, name in either script, short name or pinyin
    matches `q`: what a picker of origins and risk areas offers. Public: the list is."""
    return [_division_out(d) for d in divisions.search(q, limit)]


@router.get("/divisions/{code}", response={200: DivisionOut, 404: ErrorOut}, auth=None)
def division_get(request, code: str):
    """One division by its six-digit code, retired codes (as old ID numbers carry) included."""
    d = divisions.get(code)
    if d is None:
        raise NotFound(_("No division has this code."))
    return _division_out(d)


@router.get("/me", response=MeOut)
def me(request):
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "node_ids": list(user.nodes.values_list("pk", flat=True)),
        "place_id": user.place_id,
        "permissions": [a for a in access.POLICY if access.can(user, a)],
    }


@router.get("/tokens", response=list[TokenOut])
def token_list(request):
    return list(selectors.token_list(request.user))


@router.post("/tokens", response={201: TokenCreated, **ERRORS})
def token_create(request, payload: TokenIn):
    token, secret = services.token_create(actor=request.user, name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": secret})


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS})
def token_revoke(request, token_id: int):
    services.token_revoke(actor=request.user, pk=token_id)
    return Status(204, None)


@router.get("/nodes", response=list[NodeOut])
@paginate(LimitOffsetPagination)
def node_list(request, parent_id: int | None = None, kind: str = ""):
    """The jurisdictions the caller may see, in tree order."""
    access.require(request.user, "node.view")
    parent = access.node_get(request.user, parent_id) if parent_id else None
    return selectors.node_list(request.user, parent=parent, kind=kind)


@router.get("/nodes/{node_id}", response={200: NodeOut, **ERRORS})
def node_get(request, node_id: int):
    access.require(request.user, "node.view")
    return access.node_get(request.user, node_id)


def _node_for_edit(request, pk: int, field: str = "parent_id") -> Node:
    access.require(request.user, "node.edit")
    try:
        return access.node_get(request.user, pk)
    except NotFound:
        raise NotFound(_("No such jurisdiction."), field=field) from None


@router.post("/nodes", response={201: NodeOut, **ERRORS})
def node_create(request, payload: NodeIn):
    parent = _node_for_edit(request, payload.parent_id)
    return Status(
        201,
        services.node_create(
            actor=request.user,
            kind=payload.kind,
            name=payload.name,
            code=payload.code,
            parent=parent,
        ),
    )


@router.put("/nodes/{node_id}", response={200: NodeOut, **ERRORS})
def node_update(request, node_id: int, payload: NodeUpdateIn):
    node = _node_for_edit(request, node_id, "node_id")
    return services.node_update(actor=request.user, node=node, name=payload.name, code=payload.code)


@router.post("/nodes/{node_id}/move", response={200: NodeOut, **ERRORS})
def node_move(request, node_id: int, payload: NodeMoveIn):
    node = _node_for_edit(request, node_id, "node_id")
    parent = _node_for_edit(request, payload.parent_id)
    return services.node_move(actor=request.user, node=node, new_parent=parent)


def _user_refs(request, node_ids: list[int], place_id: int | None):
    nodes = list(access.nodes_visible(request.user).filter(pk__in=node_ids))
    if len(nodes) != len(set(node_ids)):
        raise NotFound(_("No such jurisdiction."), field="node_ids")
    place = None
    if place_id is not None:
        try:
            place = place_get(request.user, place_id)
        except NotFound:
            raise NotFound(_("No such place."), field="place_id") from None
    return nodes, place


@router.get("/users", response={200: list[UserOut], **ERRORS})
@paginate(LimitOffsetPagination)
def user_list(request, q: str = ""):
    return selectors.user_list(request.user, q=q)


@router.post("/users", response={201: UserOut, **ERRORS})
def user_create(request, payload: UserIn):
    access.require(request.user, "user.manage")
    nodes, place = _user_refs(request, payload.node_ids, payload.place_id)
    return Status(
        201,
        services.user_create(
            actor=request.user,
            username=payload.username,
            password=payload.password,
            role=payload.role,
            nodes=nodes,
            place=place,
            first_name=payload.first_name,
            last_name=payload.last_name,
            email=payload.email,
            phone=payload.phone,
        ),
    )


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS})
def user_get(request, user_id: int):
    return selectors.user_get(request.user, user_id)


@router.put("/users/{user_id}", response={200: UserOut, **ERRORS})
def user_update(request, user_id: int, payload: UserUpdateIn):
    user = selectors.user_get(request.user, user_id)
    nodes, place = _user_refs(request, payload.node_ids, payload.place_id)
    return services.user_update(
        actor=request.user,
        user=user,
        role=payload.role,
        nodes=nodes,
        place=place,
        first_name=payload.first_name,
        last_name=payload.last_name,
        email=payload.email,
        phone=payload.phone,
        is_active=payload.is_active,
    )


@router.get("/audit", response={200: list[AuditOut], **ERRORS})
@paginate(LimitOffsetPagination)
def audit_list(request, action: str = ""):
    """Changes inside the caller's jurisdiction (supervisors and administrators)."""
    access.require(request.user, "audit.view")
    return selectors.audit_list(request.user, action=action)


@router.get("/access-log", response={200: list[AccessOut], **ERRORS})
@paginate(LimitOffsetPagination)
def access_log(request):
    """Reads of personal records inside the caller's jurisdiction."""
    access.require(request.user, "audit.view")
    return selectors.access_log_list(request.user)
