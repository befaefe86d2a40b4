"""The lifecycle tables are what the docs show and what the tests walk.

Every registered table (fangyi.core.transitions) is rendered in docs/lifecycles.md and must
match it. The support request's table is walked whole: every step from every status, taken
by the one it is for, succeeds exactly where the table says it starts, is offered by
`support_request_allowed_steps` exactly there, and elsewhere is refused with 409 and stores
nothing. The placement's table is walked the same way (arrive, cancel, release, with the 400
a placement's wrong status answers).
"""

from __future__ import annotations

import pathlib
import re

import pytest
from django.db import transaction

from fangyi.core.errors import Conflict, DomainError
from fangyi.core.models import AuditEntry, User
from fangyi.core.transitions import TABLES, table_markdown
from fangyi.linkage import services as linkage
from fangyi.linkage.models import RequestStatus, SupportRequest
from fangyi.people.models import Person
from fangyi.quarantine import services as quarantine
from fangyi.quarantine.models import Group, Placement, PlacementStatus, Site
from fangyi.tips import services as tips  # noqa: F401  (registers the tip table)

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "lifecycles.md"


def _docs_section(kind: str) -> str:
    text = DOCS.read_text()
    match = re.search(rf"<!-- table:{kind} -->\n(.*?)\n<!-- end -->", text, re.S)
    assert match, f"docs/lifecycles.md has no table for {kind}"
    return match.group(1).strip()


@pytest.mark.parametrize("table", list(TABLES.values()), ids=lambda t: t.audit_kind)
def test_the_docs_show_each_lifecycle_as_its_table(table, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        assert _docs_section(table.audit_kind) == table_markdown(table)


# Each step as its public function, taken by the one it is for (police answer, the grid
# worker who asked cancels), with valid input.
STEPS = {
    "accept": ("officer", lambda a, r: linkage.support_accept(actor=a, request=r)),
    "decline": (
        "officer",
        lambda a, r: linkage.support_decline(actor=a, request=r, reason="无警力"),
    ),
    "arrive": ("officer", lambda a, r: linkage.support_arrive(actor=a, request=r)),
    "done": ("officer", lambda a, r: linkage.support_done(actor=a, request=r, outcome="已入户")),
    "cancel": ("grid_worker", lambda a, r: linkage.support_cancel(actor=a, request=r)),
}
CASES = [(step, status) for step in STEPS for status in RequestStatus.values]


def test_the_walk_covers_the_whole_table():
    assert set(STEPS) == set(linkage.SUPPORT_STEPS.steps)


@pytest.mark.parametrize("step, status", CASES)
def test_each_support_step_from_each_status(request, grid_worker, jiwu_household, step, status):
    asked = linkage.support_request_create(
        actor=grid_worker, agency="police", urgency="high", need="请协助", household=jiwu_household
    )
    SupportRequest.objects.filter(pk=asked.pk).update(status=status)
    asked.refresh_from_db()
    role, take = STEPS[step]
    actor = request.getfixturevalue(role)
    starts = status in linkage.SUPPORT_STEPS.steps[step].sources
    assert (step in linkage.support_request_allowed_steps(actor, asked)) is starts
    audits = AuditEntry.objects.count()
    if starts:
        with transaction.atomic():
            done = take(actor, asked)
        target = linkage.SUPPORT_STEPS.steps[step].target
        assert SupportRequest.objects.get(pk=asked.pk).status == target == done.status
        assert AuditEntry.objects.filter(action=f"fangyi.supportrequest.{step}").exists()
    else:
        with pytest.raises(Conflict) as refused:
            take(actor, asked)
        assert list(refused.value.errors) == ["status"] and refused.value.status == 409
        assert SupportRequest.objects.get(pk=asked.pk).status == status
        assert AuditEntry.objects.count() == audits


# The placement steps a walk can take from a fresh reservation at the designated hotel:
# arrival (its staff), cancel (health staff); release is refused from every other status.
PLACEMENT_STEPS = {
    "arrive": ("dingdian", lambda a, p: quarantine.placement_arrive(actor=a, placement=p)),
    "cancel": (
        "health",
        lambda a, p: quarantine.placement_cancel(actor=a, placement=p, reason="不需要了"),
    ),
    "release": ("health", lambda a, p: quarantine.placement_release(actor=a, placement=p)),
}
PLACEMENT_CASES = [
    (step, status)
    for step in PLACEMENT_STEPS
    for status in PlacementStatus.values
    if not (step == "release" and status == PlacementStatus.ACTIVE)  # needs a clean follow-up
]


@pytest.fixture
def dingdian(db):
    """The designated hotel's staff (the demo's)."""
    return User.objects.get(username="dingdian")


@pytest.fixture
def hotel_site(db):
    return Site.objects.get(place__name="湖北籍旅客定点酒店")


@pytest.fixture
def hubei(db):
    return Group.objects.get(code="hubei")


@pytest.fixture
def traveller(db):
    return Person.objects.get(name="陈志强")


@pytest.mark.parametrize("step, status", PLACEMENT_CASES)
def test_each_placement_step_from_each_status(
    request, health, traveller, hotel_site, hubei, step, status
):
    p = quarantine.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    Placement.objects.filter(pk=p.pk).update(status=status)
    p.refresh_from_db()
    role, take = PLACEMENT_STEPS[step]
    actor = request.getfixturevalue(role)
    row = quarantine.PLACEMENT_STEPS.steps[step]
    starts = status in row.sources and (row.when is None or row.when(p))
    assert (step in quarantine.placement_allowed_steps(actor, p)) is starts
    audits = AuditEntry.objects.count()
    if starts:
        with transaction.atomic():
            take(actor, p)
        target = quarantine.PLACEMENT_STEPS.steps[step].target
        assert Placement.objects.get(pk=p.pk).status == target
    else:
        with pytest.raises(DomainError) as refused:
            take(actor, p)
        assert list(refused.value.errors) == ["status"] and refused.value.status == 400
        assert Placement.objects.get(pk=p.pk).status == status
        assert AuditEntry.objects.count() == audits
