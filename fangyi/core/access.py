"""The access policy: what each role may do, and which rows each user may see.

This module is the one place that decides. Selectors and services ask it; views and API
endpoints never filter on their own.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils.translation import gettext as _

from .errors import Forbidden, NotFound
from .models import FIELD_ROLES as FIELD_ROLES_IN_ORDER
from .models import Node, Role, User, subtree_q

R = Role
# The field roles as a set, for the policy below (fangyi.core.models keeps their order).
FIELD_ROLES = set(FIELD_ROLES_IN_ORDER)
# Who goes out on patrol and stands at duty posts (the seed's officer, his auxiliary police and
# the community's staff).
PATROL_ROLES = {R.POLICE, R.AUXILIARY, R.COMMUNITY_STAFF}

# action -> roles allowed. Inside an allowed role, the rows are still limited to the user's
# jurisdiction (see node_q). Administrators configure; they do not read people's records.
POLICY: dict[str, set[str]] = {
    "person.view": FIELD_ROLES | {R.SUPERVISOR},
    "person.edit": FIELD_ROLES | {R.SUPERVISOR},
    "person.merge": {R.POLICE, R.HEALTH_STAFF, R.COMMUNITY_STAFF, R.SUPERVISOR},
    "person.delete": {R.SUPERVISOR},
    "household.view": FIELD_ROLES | {R.SUPERVISOR},
    "household.edit": FIELD_ROLES | {R.SUPERVISOR},
    "household.delete": {R.SUPERVISOR, R.POLICE, R.COMMUNITY_STAFF},
    "place.view": FIELD_ROLES | {R.SUPERVISOR, R.ADMIN, R.SITE_STAFF},
    "place.edit": {R.SUPERVISOR, R.ADMIN},
    "node.view": FIELD_ROLES | {R.SUPERVISOR, R.ADMIN},
    "node.edit": {R.ADMIN},
    "user.manage": {R.ADMIN},
    "audit.view": {R.SUPERVISOR, R.ADMIN},
    # screening sweeps: supervisors open, assign and close; field roles knock on doors
    "sweep.view": FIELD_ROLES | {R.SUPERVISOR},
    "sweep.manage": {R.SUPERVISOR},
    "visit.record": FIELD_ROLES | {R.SUPERVISOR},
    # declarations, the rules' proposal, and health staff's decision
    "declaration.view": FIELD_ROLES | {R.SUPERVISOR},
    "declaration.record": FIELD_ROLES | {R.SUPERVISOR},
    "decision.make": {R.HEALTH_STAFF},
    "selfreport.issue": FIELD_ROLES | {R.SUPERVISOR},
    "risk.view": FIELD_ROLES | {R.SUPERVISOR, R.ADMIN},
    "risk.configure": {R.ADMIN},
    # medical observation
    "observation.view": FIELD_ROLES | {R.SUPERVISOR},
    "observation.manage": {R.HEALTH_STAFF, R.SUPERVISOR},
    # site staff record the daily checks of the people at their own site (user.place)
    "followup.record": FIELD_ROLES | {R.SUPERVISOR, R.SITE_STAFF},
    "board.view": {R.HEALTH_STAFF, R.SUPERVISOR},
    "alert.handle": {R.HEALTH_STAFF, R.SUPERVISOR},
    # sheets in and out
    "import.run": FIELD_ROLES | {R.SUPERVISOR},
    "export.run": FIELD_ROLES | {R.SUPERVISOR},
    # tips and complaints: anyone in the field takes them in and works them; the station's
    # officers, community staff and supervisors assign, merge, close and reopen
    "tip.view": FIELD_ROLES | {R.SUPERVISOR},
    "tip.record": FIELD_ROLES | {R.SUPERVISOR},
    "tip.handle": FIELD_ROLES | {R.SUPERVISOR},
    "tip.manage": {R.POLICE, R.COMMUNITY_STAFF, R.SUPERVISOR},
    "tipcategory.configure": {R.ADMIN},
    # linkage support requests; who may answer one also depends on the agency it is addressed to
    "support.view": FIELD_ROLES | {R.SUPERVISOR},
    "support.request": FIELD_ROLES | {R.SUPERVISOR},
    "support.respond": FIELD_ROLES | {R.SUPERVISOR},
    "dispatch.view": {R.POLICE, R.AUXILIARY, R.COMMUNITY_STAFF, R.SUPERVISOR},
    "linkage.configure": {R.ADMIN},
    # enforcement records: police roles and supervisors only
    "enforcement.view": {R.POLICE, R.AUXILIARY, R.SUPERVISOR},
    "enforcement.record": {R.POLICE, R.AUXILIARY, R.SUPERVISOR},
    "legalbasis.configure": {R.ADMIN},
    # quarantine sites and placements; site staff see only their own site (user.place)
    "site.view": FIELD_ROLES | {R.SUPERVISOR, R.SITE_STAFF, R.ADMIN},
    "site.configure": {R.ADMIN},
    "bed.manage": {R.SITE_STAFF, R.SUPERVISOR},
    "placement.view": FIELD_ROLES | {R.SUPERVISOR, R.SITE_STAFF},
    "placement.manage": {R.HEALTH_STAFF, R.SUPERVISOR},
    "placement.arrive": {R.SITE_STAFF, R.HEALTH_STAFF, R.SUPERVISOR},
    "refusal.record": FIELD_ROLES | {R.SUPERVISOR},
    "notice.print": FIELD_ROLES | {R.SUPERVISOR, R.SITE_STAFF},
    "occupancy.view": FIELD_ROLES | {R.SUPERVISOR, R.SITE_STAFF},
    # hotel guest reports: the hotel reports, the station's police handle
    "guest.report": {R.SITE_STAFF},
    "guest.view": {R.SITE_STAFF, R.POLICE, R.AUXILIARY, R.SUPERVISOR},
    "guest.handle": {R.POLICE, R.AUXILIARY, R.SUPERVISOR},
    "guest.configure": {R.ADMIN},
    # patrols and publicity: police, auxiliary police and community staff patrol; grid workers
    # see the patrols of their grid; supervisors plan which compounds need how many a day
    "patrol.view": PATROL_ROLES | {R.GRID_WORKER, R.SUPERVISOR},
    "patrol.record": PATROL_ROLES | {R.SUPERVISOR},
    "patrol.plan": {R.SUPERVISOR},
    # duty posts: supervisors set up posts and shifts; whoever is on duty keeps the shift log
    "post.view": PATROL_ROLES | {R.GRID_WORKER, R.SUPERVISOR},
    "post.manage": {R.SUPERVISOR},
    "shift.record": PATROL_ROLES | {R.GRID_WORKER, R.SUPERVISOR},
    # the work log: each person reads his own; a supervisor reads anyone's under him
    "worklog.view": FIELD_ROLES | {R.SUPERVISOR},
    # notifications: everyone reads his own inbox and sets his own channels; administrators
    # configure the kinds and read the delivery log (resident numbers masked)
    "notify.configure": {R.ADMIN},
    "delivery.view": {R.ADMIN},
}


def can(user: User, action: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.role in POLICY[action]


def require(user: User, action: str) -> None:
    if not can(user, action):
        raise Forbidden(_("Your role may not do this."))


def user_paths(user: User) -> list[str]:
    """The paths of the user's nodes, cached on the user object for the request."""
    cached = getattr(user, "_fangyi_paths", None)
    if cached is None:
        cached = sorted(user.nodes.values_list("path", flat=True))
        # A node inside another of the user's nodes adds nothing.
        kept: list[str] = []
        for p in cached:
            if not any(p.startswith(k) for k in kept):
                kept.append(p)
        cached = kept
        user._fangyi_paths = cached  # type: ignore[attr-defined]
    return cached


def node_q(user: User, field: str = "node__path") -> Q:
    """Rows whose node lies inside one of the user's nodes. No nodes: nothing."""
    paths = user_paths(user)
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (subtree_q(p, field) for p in paths))


def path_visible(user: User, path: str) -> bool:
    return any(path.startswith(p) for p in user_paths(user))


def nodes_visible(user: User):
    return Node.objects.filter(node_q(user, "path"))


def node_get(user: User, pk: int) -> Node:
    node = nodes_visible(user).filter(pk=pk).first()
    if node is None:
        raise NotFound(_("No such jurisdiction."))
    return node


def check_node_in_scope(user: User, node: Node, field: str = "node") -> None:
    """For writes: the target node must be inside the user's jurisdiction.

    Reported as a field error, since it is the user's choice of node that is wrong."""
    if not path_visible(user, node.path):
        raise NotFound(_("This jurisdiction is not one of yours."), field=field)
