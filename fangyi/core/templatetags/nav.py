"""The main navigation as one table: which places exist, who may open each, and the few each
role works in every day (issue 12, item 14).

The field trial found up to 18 tabs in one row, logout cut off at 1,280 px, the designated
hotel's 旅客 tab leading to a 403 and the hotel clerk shown empty quarantine tabs. Now a role
sees its own places in the row (PRIMARY) and the rest it may open under 更多 (More); a link is
shown only when the page would answer, which for site staff also depends on their place (a
hotel reports guests, a quarantine point or designated hotel runs a site).
`tests/test_nav.py` opens every link every demo account is shown. Base template:
`{% load nav %}{% main_nav as nav %}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fangyi.core import access
from fangyi.core.models import Role
from fangyi.people.models import END_PLACE_KINDS, PlaceKind

register = template.Library()


@dataclass(frozen=True)
class Item:
    key: str
    label: object  # a lazy translation
    url: str  # a path, or a URL name when it has no slash
    action: str | None  # the POLICY action the page requires; None for everyone logged in
    prefixes: tuple[str, ...]  # the paths that mark it as the current place
    also: Callable | None = None  # a further condition on the user

    def href(self) -> str:
        return self.url if "/" in self.url else reverse(self.url)


def _place_kind(user) -> str:
    place = getattr(user, "place", None)
    return place.kind if place is not None else ""


def _runs_a_site(user) -> bool:
    """Site staff only see the quarantine pages when their place is a site."""
    return user.role != Role.SITE_STAFF or _place_kind(user) in END_PLACE_KINDS


def _reports_guests(user) -> bool:
    """Site staff of an ordinary hotel report guests; at a designated hotel there is no guest
    desk (guests arrive as placements)."""
    return user.role != Role.SITE_STAFF or _place_kind(user) == PlaceKind.HOTEL


ITEMS = [
    Item("home", _("Home"), "home", None, ()),
    Item("people", _("People"), "person_list", "person.view", ("/people/",)),
    Item("households", _("Households"), "household_list", "household.view", ("/households/",)),
    Item("screening", _("Screening"), "/sweeps/", "sweep.view", ("/sweeps/", "/doors/")),
    Item(
        "observation",
        _("Observation"),
        "/observations/",
        "observation.view",
        ("/observations/", "/followups/"),
    ),
    Item("board", _("Board"), "/board/", "board.view", ("/board/",)),
    Item("declarations", _("Declarations"), "/declarations/", "declaration.view",
         ("/declarations/", "/decisions/")),
    Item("patrols", _("Patrols"), "/patrols/", "patrol.view", ("/patrols/",)),
    Item("posts", _("Duty posts"), "/posts/", "post.view", ("/posts/", "/shifts/")),
    Item("tips", _("Tips"), "/tips/", "tip.view", ("/tips/",)),
    Item("support", _("Support"), "/support/", "support.view", ("/support/",)),
    Item("dispatch", _("Dispatch"), "/dispatch/", "dispatch.view", ("/dispatch/",)),
    Item("sites", _("Sites"), "/sites/", "site.view", ("/sites/", "/placements/"), _runs_a_site),
    Item("occupancy", _("Occupancy"), "/occupancy/", "occupancy.view", ("/occupancy/",),
         _runs_a_site),
    Item("guests", _("Guests"), "/guests/", "guest.view", ("/guests/",), _reports_guests),
    Item("guest_settings", _("Guest reports"), "/guests/settings/", "guest.configure",
         ("/guests/settings/",)),
    Item("enforcement", _("Enforcement"), "/enforcement/", "enforcement.view", ("/enforcement/",)),
    Item("places", _("Places"), "place_list", "place.view", ("/places/",)),
    Item("tree", _("Jurisdictions"), "tree", "node.view", ("/jurisdictions/",)),
    Item("users", _("Users"), "user_list", "user.manage", ("/users/",)),
    Item("rules", _("Risk rules"), "/rules/", "risk.view", ("/rules/",)),
    Item("imports", _("Import"), "/imports/", "import.run", ("/imports/",)),
    Item("worklog", _("Work log"), "/worklog/", "worklog.view", ("/worklog/",)),
    Item("audit", _("Audit"), "audit", "audit.view", ("/audit/",)),
    Item("notifications", _("Notifications"), "notification_list", None, ("/notifications/",)),
    Item("notify_kinds", _("Kinds of notification"), "notification_kinds", "notify.configure",
         ("/notifications/kinds/",)),
    Item("deliveries", _("Deliveries"), "/deliveries/", "delivery.view", ("/deliveries/",)),
]  # fmt: skip
BY_KEY = {item.key: item for item in ITEMS}

# The places each role works in every day, in the row; everything else it may open is under
# More. Five or six, so that the row fits a phone's width in Chinese and 1,280 px in English.
PRIMARY: dict[str, tuple[str, ...]] = {
    Role.GRID_WORKER: ("home", "screening", "observation", "people", "tips"),
    Role.POLICE: ("home", "patrols", "tips", "dispatch", "guests", "people"),
    Role.AUXILIARY: ("home", "patrols", "posts", "tips", "dispatch", "enforcement"),
    Role.COMMUNITY_STAFF: ("home", "patrols", "posts", "screening", "tips", "support"),
    Role.HEALTH_STAFF: ("home", "declarations", "observation", "sites", "occupancy", "board"),
    Role.SUPERVISOR: ("home", "board", "screening", "patrols", "tips", "occupancy"),
    Role.SITE_STAFF: ("home", "sites", "occupancy", "guests"),
    Role.ADMIN: ("home", "users", "tree", "places", "rules", "sites"),
}


def visible(user, item: Item) -> bool:
    if item.action is not None and not access.can(user, item.action):
        return False
    return item.also is None or bool(item.also(user))


def nav_for(user, path: str) -> dict:
    """{"primary": [...], "more": [...]}, each {"label", "href", "on"}; `more_on` when the
    current page is one of those under More."""
    shown = [item for item in ITEMS if visible(user, item)]
    # Site staff's home is their site or their guest desk: the same page twice is one tab.
    if user.role == Role.SITE_STAFF:
        shown = [item for item in shown if item.key != "home"]
    primary_keys = PRIMARY.get(user.role, ("home",))

    # The current place is the one with the longest prefix of the path (/guests/settings/ is
    # Guest reports, not Guests).
    matches = [(len(p), item.key) for item in shown for p in item.prefixes if path.startswith(p)]
    current = max(matches)[1] if matches else ("home" if path == "/" else "")

    def entry(item: Item) -> dict:
        return {
            "key": item.key,
            "label": item.label,
            "href": item.href(),
            "on": item.key == current,
        }

    primary = [entry(BY_KEY[k]) for k in primary_keys if BY_KEY[k] in shown]
    more = [entry(item) for item in shown if item.key not in primary_keys]
    return {"primary": primary, "more": more, "more_on": any(e["on"] for e in more)}


@register.simple_tag(takes_context=True)
def main_nav(context) -> dict:
    request = context["request"]
    return nav_for(request.user, request.path)
