"""Template filters that turn audit rows into words a person reads."""

from __future__ import annotations

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

register = template.Library()

VERBS = {
    "created": _("created"),
    "changed": _("changed"),
    "deleted": _("deleted"),
    "merged": _("merged a duplicate into this record"),
    "moved": _("moved"),
    "revoked": _("revoked"),
}
EXTRA_FIELDS = {
    "merged_from": _("merged from record"),
    "merged_into": _("merged into record"),
    "links_moved": _("links moved"),
    "nodes": _("jurisdictions"),
}


def _model(object_type: str):
    for label in ("people", "core"):
        try:
            return apps.get_model(label, object_type)
        except LookupError:
            continue
    return None


@register.filter
def action_label(action: str) -> str:
    """`fangyi.person.created` -> "created" in the user's language."""
    verb = action.rsplit(".", 1)[-1]
    return str(VERBS.get(verb, verb))


@register.filter
def field_label(field: str, object_type: str) -> str:
    if field in EXTRA_FIELDS:
        return str(EXTRA_FIELDS[field])
    model = _model(object_type)
    if model is not None:
        try:
            return str(model._meta.get_field(field).verbose_name)
        except FieldDoesNotExist:
            pass
    return field


@register.simple_tag(takes_context=True)
def change_value(context, value, field: str, object_type: str) -> str:
    """A stored value as words: a choice's label, a linked record's name, "—" for nothing."""
    if value is None or value == "":
        return "—"
    model = _model(object_type)
    if model is None:
        return str(value)
    try:
        f = model._meta.get_field(field)
    except FieldDoesNotExist:
        return str(value)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if f.is_relation and f.many_to_one and isinstance(value, int):
        # One lookup per linked record per page, however many rows mention it.
        cache = context.render_context.setdefault("fangyi_change_values", {})
        key = (f.related_model, value)
        if key not in cache:
            obj = f.related_model._base_manager.filter(pk=value).first()
            cache[key] = str(obj) if obj is not None else f"#{value}"
        return cache[key]
    return str(value)
