"""Writing the audit trail and the access log.

Services call `audit_record` inside their transaction, so a change and its audit row commit
together or not at all. Sensitive values are masked before they are stored.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.db import models

from .models import AccessLog, AuditEntry, User
from .validators import mask_tail

# Set by RequestContextMiddleware; services do not take the request.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)

MASKED_FIELDS = {"id_number", "phone", "id_number_rev", "phone_rev", "reporter_phone"}
HIDDEN_FIELDS = {"password", "digest", "name_pinyin", "name_initials", "name_norm", "name_given"}


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def _mask(field: str, value: Any) -> Any:
    if field in MASKED_FIELDS and isinstance(value, str):
        return mask_tail(value)
    return value


@lru_cache(maxsize=256)
def _attnames(model: type[models.Model], fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((f, model._meta.get_field(f).attname) for f in fields)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The stored values of `fields` (foreign keys as ids), ready for JSON."""
    return {f: _plain(getattr(obj, att)) for f, att in _attnames(type(obj), tuple(fields))}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed, masked."""
    out = {}
    for key in sorted(set(before) | set(after)):
        if key in HIDDEN_FIELDS:
            continue
        old, new = before.get(key), after.get(key)
        if old in (None, "") and new in (None, ""):
            continue  # blank before and after: nothing a reader needs to see
        if old != new:
            out[key] = [_mask(key, old), _mask(key, new)]
    return out


def created(values: dict[str, Any]) -> dict[str, list[Any]]:
    """diff({}, values), written out: it runs once per row on the bulk path."""
    return {
        key: [None, _mask(key, value)]
        for key, value in sorted(values.items())
        if value is not None and value != "" and key not in HIDDEN_FIELDS
    }


def masked_items(items: Iterable[tuple[str, Any, bool]]) -> list[tuple[str, Any, bool]]:
    """(key, value, repeats) items of a bulk path that encodes its own JSON (health's
    declarations), with the masking every audit row gets: hidden fields dropped, masked
    fields' values masked."""
    return [(k, _mask(k, v), r) for k, v, r in items if k not in HIDDEN_FIELDS]


# The columns of an audit row as the bulk paths insert them (core.bulk.insert_many).
AUDIT_COLUMNS = (
    "at",
    "actor",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "node_path",
    "changes",
    "ip",
)


class AuditRows:
    """Audit rows for the bulk paths, as insert_many tuples of AUDIT_COLUMNS, built as
    `audit_entry` builds one: the actor's id and name ("system" without one), the request's
    IP, the object's text cut to 200. The changes come from `created` (a dict) or
    `masked_items` (pre-encoded JSON), so the masking is the one of every other audit row.

    The registry and the declarations each wrote these tuples by hand beside this module."""

    columns = AUDIT_COLUMNS

    def __init__(self, actor: User | None):
        self.actor_id = actor.pk if actor is not None and actor.pk else None
        self.actor_name = actor.username if self.actor_id else "system"  # type: ignore[union-attr]
        self.ip = current_ip.get()

    def row(
        self,
        at: dt.datetime,
        action: str,
        object_type: str,
        object_id: int,
        object_repr: str,
        node_path: str,
        changes: Any,
    ) -> tuple:
        return (
            at,
            self.actor_id,
            self.actor_name,
            action,
            object_type,
            object_id,
            object_repr[:200],
            node_path,
            changes,
            self.ip,
        )


def audit_entry(
    actor: User | None,
    action: str,
    obj: models.Model | None,
    *,
    changes: dict | None = None,
    node_path: str = "",
    object_type: str | None = None,
    object_id: int | None = None,
    object_repr: str | None = None,
) -> AuditEntry:
    """An unsaved AuditEntry, for callers that write many with bulk_create."""
    return AuditEntry(
        actor=actor if actor and actor.pk else None,
        actor_name=(actor.username if actor and actor.pk else "system"),
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=object_id if object_id is not None else (obj.pk if obj is not None else None),
        object_repr=(object_repr if object_repr is not None else str(obj or ""))[:200],
        node_path=node_path,
        changes=changes or {},
        ip=current_ip.get(),
    )


def audit_record(actor: User | None, action: str, obj: models.Model | None, **kwargs) -> AuditEntry:
    entry = audit_entry(actor, action, obj, **kwargs)
    entry.save()
    return entry


def access_record(user: User, obj: models.Model, *, node_path: str, via: str) -> None:
    AccessLog.objects.create(
        user=user,
        user_name=user.username,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        node_path=node_path,
        via=via,
        ip=current_ip.get(),
    )
