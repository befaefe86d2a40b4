"""Template filters that turn audit rows into words a person reads."""

from __future__ import annotations

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

register = template.Library()

# Every verb an audit action ends with (`fangyi.<kind>.<verb>`); tests/test_audit_words.py
# checks that the verbs of the code and of the lifecycle tables are all here.
VERBS = {
    "created": pgettext_lazy("audit action", "created"),
    "create": pgettext_lazy("audit action", "created"),
    "changed": pgettext_lazy("audit action", "changed"),
    "update": pgettext_lazy("audit action", "changed"),
    "updated": pgettext_lazy("audit action", "changed"),
    "deleted": pgettext_lazy("audit action", "deleted"),
    "merged": pgettext_lazy("audit action", "merged a duplicate into this record"),
    "merge": pgettext_lazy("audit action", "merged into another tip"),
    "moved": pgettext_lazy("audit action", "moved"),
    "revoked": pgettext_lazy("audit action", "revoked"),
    "accept": pgettext_lazy("audit action", "accepted"),
    "answer": pgettext_lazy("audit action", "answered the reporter"),
    "answer_corrected": pgettext_lazy("audit action", "corrected the answer"),
    "application": pgettext_lazy("audit action", "applied"),
    "arrive": pgettext_lazy("audit action", "arrived"),
    "arrived": pgettext_lazy("audit action", "arrived"),
    "assign": pgettext_lazy("audit action", "assigned"),
    "cancel": pgettext_lazy("audit action", "cancelled"),
    "cancelled": pgettext_lazy("audit action", "cancelled"),
    "cleared": pgettext_lazy("audit action", "cleared"),
    "close": pgettext_lazy("audit action", "closed"),
    "closed": pgettext_lazy("audit action", "closed"),
    "configured": pgettext_lazy("audit action", "configured"),
    "confirmed": pgettext_lazy("audit action", "confirmed"),
    "decline": pgettext_lazy("audit action", "declined"),
    "done": pgettext_lazy("audit action", "done"),
    "escalate": pgettext_lazy("audit action", "escalated"),
    "extended": pgettext_lazy("audit action", "extended"),
    "finished": pgettext_lazy("audit action", "finished"),
    "followed_up": pgettext_lazy("audit action", "followed up"),
    "generated": pgettext_lazy("audit action", "generated"),
    "home": pgettext_lazy("audit action", "placed at home"),
    "home_allowed": pgettext_lazy("audit action", "allowed at home"),
    "agreed": pgettext_lazy("audit action", "agreed"),
    "missed": pgettext_lazy("audit action", "missed"),
    "notice_issued": pgettext_lazy("audit action", "issued the notice"),
    "on_scene": pgettext_lazy("audit action", "on scene"),
    "opened": pgettext_lazy("audit action", "opened"),
    "overdue": pgettext_lazy("audit action", "overdue"),
    "police_called": pgettext_lazy("audit action", "called the police"),
    "purged": pgettext_lazy("audit action", "purged"),
    "reassigned": pgettext_lazy("audit action", "reassigned"),
    "referred": pgettext_lazy("audit action", "referred"),
    "register_refused": pgettext_lazy("audit action", "registration refused"),
    "registered": pgettext_lazy("audit action", "registered"),
    "released": pgettext_lazy("audit action", "released"),
    "reopen": pgettext_lazy("audit action", "reopened"),
    "reserved": pgettext_lazy("audit action", "reserved"),
    "resolve": pgettext_lazy("audit action", "resolved"),
    "resolved": pgettext_lazy("audit action", "resolved"),
    "retried": pgettext_lazy("audit action", "sent again"),
    "rooms_added": pgettext_lazy("audit action", "rooms added"),
    "started": pgettext_lazy("audit action", "started"),
    "ended": pgettext_lazy("audit action", "ended"),
    "recorded": pgettext_lazy("audit action", "recorded"),
    "tip_raised": pgettext_lazy("audit action", "made a tip"),
    "support_asked": pgettext_lazy("audit action", "asked for support"),
    "tip_resolved": pgettext_lazy("audit action", "resolved a tip"),
    "set": pgettext_lazy("audit action", "set"),
    "worklog": pgettext_lazy("audit action", "exported the work log"),
    "taken": pgettext_lazy("audit action", "took the shift"),
    "handed_over": pgettext_lazy("audit action", "handed over"),
    "state": pgettext_lazy("audit action", "state changed"),
    "transfer": pgettext_lazy("audit action", "transferred"),
    "transferred": pgettext_lazy("audit action", "transferred"),
    "visit": pgettext_lazy("audit action", "visited"),
}
SYSTEM = "system"  # the actor name of work done by the system (fangyi.core.audit)
EXTRA_FIELDS = {
    "merged_from": _("merged from record"),
    "merged_into": _("merged into record"),
    "links_moved": _("links moved"),
    "nodes": _("jurisdictions"),
}


def _model(object_type: str):
    """The model an audit row names by its lower-case name, in whichever of Fangyi's apps."""
    wanted = (object_type or "").lower()
    for config in apps.get_app_configs():
        if not config.name.startswith("fangyi"):
            continue
        for model in config.get_models():
            if model._meta.model_name == wanted:
                return model
    return None


@register.filter
def action_label(action: str) -> str:
    """`fangyi.person.created` -> "created" in the user's language."""
    verb = action.rsplit(".", 1)[-1]
    return str(VERBS.get(verb, verb))


@register.filter
def actor_label(name: str) -> str:
    """The name of who did it; the system's own work in the user's language."""
    return str(_("system")) if name == SYSTEM else name


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
        # "ended_at" of a field "ended" and the like: the same words as the field without it.
        for suffix in ("_id", "_at", "_by"):
            if field.endswith(suffix):
                try:
                    return str(model._meta.get_field(field[: -len(suffix)]).verbose_name)
                except FieldDoesNotExist:
                    continue
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
    if (
        f.is_relation
        and f.many_to_one
        and isinstance(value, int)
        and model._meta.app_label in ("people", "core")
    ):
        # One lookup per linked record per page, however many rows mention it; only for the
        # registry's own rows (the other apps' audit rows carry their names in the changes).
        cache = context.render_context.setdefault("fangyi_change_values", {})
        key = (f.related_model, value)
        if key not in cache:
            obj = f.related_model._base_manager.filter(pk=value).first()
            cache[key] = str(obj) if obj is not None else f"#{value}"
        return cache[key]
    return str(value)
