"""The notifications of fangyi.quarantine (issue 15): a person refusing to go to the reserved
quarantine place, to the police and the supervisors above the person (the day list shows them
the open refusal, fangyi.quarantine.refusals.daylist_section). Registered when the refusals'
service loads (it imports this module at the top)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy, gettext_noop

from fangyi.core.models import Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import emit

from .models import Refusal

ROLES = (Role.POLICE, Role.SUPERVISOR)

REFUSAL = register(
    Kind(
        "quarantine_refusal",
        gettext_lazy("A person refusing quarantine in my area"),
        action="refusal.record",
        roles=ROLES,
    )
)

REFUSED = gettext_noop("%(name)s refuses to go to %(site)s")


def refusal_recorded(refusal: Refusal, name: str, site: str, path: str) -> None:
    """One query for the recipients: the police and supervisors above the person's node."""
    users = (
        User.objects.filter(is_active=True, role__in=ROLES, nodes__path__in=ancestor_paths(path))
        .exclude(pk=refusal.by_id)
        .distinct()
    )
    emit(
        REFUSAL.key,
        recipients=users,
        obj=refusal,
        message=REFUSED,
        params={"name": name, "site": site},
        url=reverse("refusal_detail", args=[refusal.pk]),
        node_path=path,
        dedupe=f"{REFUSAL.key}:{refusal.pk}",
        now=refusal.at,
    )
