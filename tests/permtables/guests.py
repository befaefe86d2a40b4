"""Permission-table rows for guests (see tests/permtables/__init__.py for what a row is).

{guest} is a flagged guest report of a hotel at the role's compound: for the hotel clerk
inside, his own hotel (北大路賓館 on 北大路沿街); elsewhere, a hotel made at that compound.
{registered_guest} is one the officer registered (the compound's first resident), ready to be
referred. {dsite} is the demo's designated hotel as a quarantine site with a free bed (any
designated hotel takes referrals, whatever the officer's jurisdiction).

Hotel staff report guests and read their own hotel's reports; the police, auxiliary police and
supervisors read and handle those of hotels in their jurisdiction; administrators configure."""

from __future__ import annotations

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401


def _hotel(refs):
    from fangyi.people.models import Place

    place = Place.objects.filter(node=refs.compound, kind="hotel").order_by("pk").first()
    if place is None:
        place = Place.objects.create(
            kind="hotel",
            name=f"表内旅馆{refs.compound.pk}",
            node=refs.compound,
            address="旅馆路1号",
        )
    return place


def _report(refs, **extra):
    from django.utils import timezone

    from fangyi.core.models import User
    from fangyi.core.validators import id_check_digit
    from fangyi.guests.models import GuestReport

    first17 = f"42010619850304{refs.compound.pk % 1000:03d}"
    return GuestReport.objects.create(
        place=_hotel(refs),
        node=refs.compound,
        reported_by=User.objects.get(username="jiudian"),
        name="表内旅客",
        id_type="resident",
        id_number=first17 + id_check_digit(first17),
        from_where="湖北省武汉市",
        travel_since=timezone.localdate(),
        arrived_on=timezone.localdate(),
        flagged=True,
        flag_reason="湖北省",
        **{"status": "flagged", **extra},
    )


def _guest(refs) -> int:
    return _report(refs).pk


def _registered_guest(refs) -> int:
    from django.utils import timezone

    from fangyi.people.models import Person

    return _report(
        refs,
        status="registered",
        person=Person.objects.get(pk=refs["person"]),
        registered_at=timezone.now(),
    ).pk


def _dsite(refs) -> int:
    from fangyi.people.models import Place
    from fangyi.quarantine.models import Bed, BedState, Group, Room
    from fangyi.quarantine.services import site_for_place

    site = site_for_place(Place.objects.get(name="湖北籍旅客定点酒店"))
    site.groups.add(*Group.objects.filter(code__in=["hubei", "risk_area"]))
    if not Bed.objects.filter(site=site, state=BedState.FREE).exists():
        room = Room.objects.create(site=site, number="表内1")
        Bed.objects.create(room=room, site=site, label="1")
    return site.pk


REFS: dict = {"guest": _guest, "registered_guest": _registered_guest, "dsite": _dsite}

REPORT = {
    "name": "新旅客",
    "id_type": "resident",
    "id_number": "11010519491231002X",
    "phone": "13907710001",
    "from_where": "湖北省武汉市",
}
REGISTER = {"id_type": "resident", "temperature": "36.5", "temperature_method": "forehead"}
SETTINGS = {"retention_days": 14, "confirm_hours": 3}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/guests/", "guest.view"),
    Endpoint("GET", "/guests/?todo=1", "guest.view"),
    Endpoint("POST", "/guests/", "guest.report", ok=302, body=REPORT),
    # the form's live check of a resident ID number (no registry lookup)
    Endpoint("GET", "/guests/check-id/?id_number=11010519491231002X", "guest.report"),
    Endpoint("GET", "/guests/{guest}/", "guest.view"),
    Endpoint("POST", "/guests/{guest}/register/", "guest.handle", ok=302, body=REGISTER),
    Endpoint(
        "POST",
        "/guests/{registered_guest}/refer/",
        "guest.handle",
        ok=302,
        body=lambda r: {"site": r["dsite"]},
    ),
    Endpoint("POST", "/guests/{guest}/clear/", "guest.handle", ok=302, body={"reason": "本地人"}),
    Endpoint("GET", "/guests/settings/", "guest.configure"),
    Endpoint("POST", "/guests/settings/", "guest.configure", ok=302, body=SETTINGS),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/guest-reports", "guest.view"),
    Endpoint("GET", "/api/guest-reports?todo=true", "guest.view"),
    Endpoint("POST", "/api/guest-reports", "guest.report", ok=201, body=REPORT),
    Endpoint("GET", "/api/guest-reports/{guest}", "guest.view"),
    Endpoint(
        "POST", "/api/guest-reports/{guest}/register", "guest.handle", body={"temperature": 36.5}
    ),
    Endpoint(
        "POST",
        "/api/guest-reports/{registered_guest}/refer",
        "guest.handle",
        body=lambda r: {"site_id": r["dsite"]},
    ),
    Endpoint("POST", "/api/guest-reports/{guest}/clear", "guest.handle", body={"reason": "本地人"}),
    Endpoint("GET", "/api/guest-settings", "guest.configure"),
    Endpoint("PUT", "/api/guest-settings", "guest.configure", body=SETTINGS),
]
