"""Permission-table rows for refusals (see tests/permtables/__init__.py for what a row is).

{placement} is a reserved placement of a new person of the role's compound at a new quarantine
point of that compound (site staff inside: at a site of their own place), with a second free
bed; {refusal} an open refusal of such a placement (its bed free again), so that agreeing
finds a bed. Site staff see their site's notice but may not issue a self-report link (403)."""

from __future__ import annotations

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401


def _site(refs):
    from fangyi.people.models import Place
    from fangyi.quarantine.models import Bed, Group, Room, Site

    user = refs.user
    if refs.where == "inside" and user is not None and user.role == "site_staff" and user.place_id:
        place = user.place
    else:
        place = Place.objects.create(
            kind="quarantine_site",
            name=f"权限隔离点{refs.compound.pk}",
            node=refs.compound,
            address="隔离路1号",
        )
    site = Site.objects.filter(place=place).first() or Site.objects.create(
        place=place, node=place.node
    )
    group, _made = Group.objects.get_or_create(code="perm-contacts", defaults={"name": "密接"})
    site.groups.add(group)
    room = Room.objects.create(site=site, number=f"P{Room.objects.count() + 1}")
    beds = [Bed.objects.create(room=room, site=site, label=str(i)) for i in (1, 2)]
    return site, group, beds[0]


def _make_placement(refs, status: str = "reserved"):
    from fangyi.people.models import Household
    from fangyi.quarantine.models import Placement
    from tests.test_permissions import make_person

    household = Household.objects.filter(node=refs.compound).order_by("pk").first()
    person = make_person("拒隔离者", household=household, node=None if household else refs.compound)
    site, group, bed = _site(refs)
    bed.state = "reserved" if status == "reserved" else "free"
    bed.save(update_fields=["state"])
    return Placement.objects.create(
        person=person,
        node=person.node,
        kind="site",
        site=site,
        bed=bed,
        group=group,
        source="decision",
        status=status,
    )


def _placement(refs) -> int:
    return _make_placement(refs).pk


def _refusal(refs) -> int:
    from fangyi.core.models import User
    from fangyi.quarantine.models import Refusal

    placement = _make_placement(refs, status="refused")
    by, _made = User.objects.get_or_create(
        username=f"refuser-{refs.compound.pk}", defaults={"role": "grid_worker"}
    )
    return Refusal.objects.create(
        placement=placement,
        person=placement.person,
        node=placement.node,
        reason="不愿前往隔离点",
        by=by,
    ).pk


def _law() -> int:
    from fangyi.enforcement.models import LegalBasis

    return LegalBasis.objects.filter(active=True).order_by("order", "pk").first().pk


REFS: dict = {"placement": _placement, "refusal": _refusal}

NOT_SITE = {"hotel_clerk": 403}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/placements/{placement}/refuse/", "refusal.record"),
    Endpoint(
        "POST", "/placements/{placement}/refuse/", "refusal.record", ok=302, body={"reason": "不去"}
    ),
    Endpoint("GET", "/placements/{placement}/notice/", "notice.print"),
    Endpoint("POST", "/placements/{placement}/notice/", "notice.print", ok_for=NOT_SITE),
    Endpoint("GET", "/refusals/", "refusal.record"),
    Endpoint("GET", "/refusals/?status=open", "refusal.record"),
    Endpoint("GET", "/refusals/{refusal}/", "refusal.record"),
    Endpoint(
        "POST",
        "/refusals/{refusal}/attempts/",
        "refusal.record",
        ok=302,
        body=lambda r: {
            "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "explained": "讲解了隔离规定",
            "outcome": "still_refuses",
        },
    ),
    Endpoint("POST", "/refusals/{refusal}/agree/", "refusal.record", ok=302),
    Endpoint("POST", "/refusals/{refusal}/home/", "decision.make", ok=302, body={"reason": "独居"}),
    Endpoint(
        "POST",
        "/refusals/{refusal}/refer/",
        "enforcement.record",
        ok=302,
        body=lambda r: {"measure": "order_isolate", "legal_bases": [_law()]},
    ),
    Endpoint("POST", "/refusals/{refusal}/call-police/", "refusal.record", ok=302),
]

API: list[Endpoint] = [
    Endpoint(
        "POST",
        "/api/placements/{placement}/refusals",
        "refusal.record",
        ok=201,
        body={"reason": "不去"},
    ),
    Endpoint("GET", "/api/refusals", "refusal.record"),
    Endpoint("GET", "/api/refusals?status=open", "refusal.record"),
    Endpoint("GET", "/api/refusals/{refusal}", "refusal.record"),
    Endpoint(
        "POST",
        "/api/refusals/{refusal}/attempts",
        "refusal.record",
        ok=201,
        body=lambda r: {
            "at": timezone.now().isoformat(),
            "explained": "讲解了潜伏期",
            "outcome": "still_refuses",
        },
    ),
    Endpoint("POST", "/api/refusals/{refusal}/agree", "refusal.record", body={}),
    Endpoint(
        "POST", "/api/refusals/{refusal}/allow-home", "decision.make", body={"reason": "独居"}
    ),
    Endpoint(
        "POST",
        "/api/refusals/{refusal}/refer",
        "enforcement.record",
        body=lambda r: {"measure": "order_isolate", "legal_basis_ids": [_law()]},
    ),
    Endpoint("POST", "/api/refusals/{refusal}/call-police", "refusal.record", body={}),
    Endpoint("POST", "/api/placements/{placement}/notice", "notice.print", ok_for=NOT_SITE),
]
