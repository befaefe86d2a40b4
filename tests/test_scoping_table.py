"""Every model is either personal data with a scoped road (`Model.objects.visible_to(user)`), or
listed here as not personal, with the reason. A new model that is in neither table fails, and so
does a personal model whose road is missing or whose scope fields do not resolve.

The edge (views and API modules) reads personal models only through that road: a
`Person.objects.filter(...)` in a view fails `test_the_edge_reads_personal_models_only_through_
visible_to`, whatever it is followed by, unless `.visible_to(` comes in the same expression."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import EmptyResultSet

from fangyi.core import access
from fangyi.core.scoping import ScopedQuerySet

# label -> whose jurisdiction a row belongs to (what visible_to reads)
PERSONAL = {
    "people.Household": "its node",
    "people.Person": "their node",
    "people.Place": "its node (hotels, sites and workplaces with their staff's names)",
    "health.Declaration": "the declaring person's node at the time",
    "health.Decision": "the person's node",
    "health.SelfReportLink": "the person's node",
    "screening.Sweep": "its node",
    "screening.Assignment": "the household's node",
    "screening.DoorVisit": "the household's node",
    "observation.Observation": "the person's node",
    "observation.FollowUp": "the observation's node (site staff: their site's people)",
    "observation.Alert": "the observation's node",
    "observation.ReminderSent": "the person's node (the days he was sent the self-report SMS)",
    "transfer.ImportJob": "the node the sheet was imported into",
    "tips.Tip": "the node it concerns",
    "tips.TipEvent": "its tip's node",
    "tips.TipVisit": "its tip's node",
    "tips.TipPhoto": "its visit's tip's node",
    "linkage.SupportRequest": "the asking and the asked node",
    "enforcement.EnforcementRecord": "its node",
    "enforcement.EnforcementPhoto": "its record's node",
    "quarantine.Site": "its node (site staff: their place)",
    "quarantine.Placement": "the person's node or the site's",
    "quarantine.Refusal": "the person's node or the site's",
    "quarantine.Persuasion": "its refusal's",
    "guests.GuestReport": "the hotel's node (hotel staff: their hotel)",
    "patrols.Patrol": "the area it set out over (with the staff who went)",
    "patrols.PatrolEvent": "the compound it happened in (what people said, photos)",
    "patrols.PatrolPhoto": "its event's compound",
    "patrols.RoutePoint": "its patrol's area (where the staff walked)",
    "patrols.PatrolPlan": "its compound (who answers for it)",
    "patrols.DutyPost": "its place",
    "patrols.DutyShift": "its post's place (who is on duty when)",
    "patrols.ShiftTally": "its shift's place",
    "patrols.PostRegistration": "the post's place (a person found there)",
}

NOT_PERSONAL = {
    "core.Node": "the jurisdiction tree itself, seen by all signed-in users",
    "core.User": "staff accounts, managed by core.access (accounts pages are admin-only)",
    "core.ApiToken": "a user's own tokens, read by user, never by node",
    "core.AuditEntry": "core's own rows, scoped by node_path through scoping.visible",
    "core.AccessLog": "core's own rows, scoped by node_path through scoping.visible",
    "health.RiskArea": "configuration",
    "health.Symptom": "configuration",
    "health.RiskSettings": "configuration",
    "tips.TipCategory": "configuration",
    "linkage.ResponseTarget": "configuration",
    "enforcement.LegalBasis": "configuration",
    "quarantine.Group": "configuration",
    "quarantine.Room": "a site's rooms: no person, read through the site",
    "quarantine.Bed": "a site's beds: no person (the placement holds the person)",
    "guests.GuestSettings": "configuration",
    "notify.KindSetting": "configuration",
    "notify.Notification": "a user's own inbox, read by recipient, never by node",
    "notify.Message": "the outbox: administrators read the delivery log, by no node",
    "notify.Preference": "a user's own settings",
    "notify.BlockedNumber": "numbers that asked to stop: no name, no record",
}


def _models():
    return [m for m in apps.get_models() if m.__module__.startswith("fangyi.")]


def test_every_model_is_in_one_table():
    labels = {m._meta.label for m in _models()}
    unlisted = labels - PERSONAL.keys() - NOT_PERSONAL.keys()
    assert not unlisted, f"say whether these hold personal data: {sorted(unlisted)}"
    assert not PERSONAL.keys() & NOT_PERSONAL.keys()
    assert not (PERSONAL.keys() | NOT_PERSONAL.keys()) - labels, "a listed model is gone"


@pytest.mark.parametrize("label", sorted(PERSONAL))
def test_a_personal_model_has_a_scoped_road(label, officer, hotel_clerk):
    model = apps.get_model(label)
    qs = model.objects.all()
    assert isinstance(qs, ScopedQuerySet), f"{label}: objects = ScopedQuerySet.as_manager()"
    # the road resolves on the database and narrows: the officer's node is in the condition
    for user in (officer, hotel_clerk):
        assert _narrowed(model.objects.visible_to(user)), f"{label} not narrowed for {user.role}"
        list(model.objects.visible_to(user)[:1])
    sql = str(model.objects.visible_to(officer).query)
    assert any(path in sql for path in access.user_paths(officer)), sql


def _narrowed(qs) -> bool:
    try:
        return "WHERE" in str(qs.query)
    except EmptyResultSet:  # narrowed to nothing (a clerk sees no refusal)
        return True


PERSONAL_NAMES = {label.split(".")[1] for label in PERSONAL}
EDGE = sorted(
    p
    for p in Path(__file__).resolve().parents[1].joinpath("fangyi").rglob("*.py")
    if p.name.startswith(("views", "api")) and "migrations" not in p.parts
)


def _unscoped_reads(path: Path) -> list[str]:
    """`<PersonalModel>.objects…` chains in `path` without `.visible_to(` in the same chain."""
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
            and node.value.id in PERSONAL_NAMES
        ):
            continue
        # climb to the outermost expression of the chain this `.objects` starts
        chain = node
        while isinstance(parents.get(chain), (ast.Attribute, ast.Call, ast.Subscript)):
            chain = parents[chain]
        if ".visible_to(" not in (ast.get_source_segment(source, chain) or ""):
            found.append(f"{path.parent.name}/{path.name}:{node.lineno} {node.value.id}.objects")
    return found


def test_the_edge_reads_personal_models_only_through_visible_to():
    bad = [hit for path in EDGE for hit in _unscoped_reads(path)]
    assert not bad, "read these through a selector or .visible_to(user):\n" + "\n".join(bad)
