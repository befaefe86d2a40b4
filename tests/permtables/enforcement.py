"""Permission-table rows for enforcement (see tests/permtables/__init__.py for what a row is).

{record} is an enforcement record at the role's compound (inside, near or outside its
jurisdiction) with a follow-up check due today; inside, the caller is one of its officers
when his role can be, so that he may record the check. {ephoto} is an evidence photo of it
(a small PNG under DATA_DIR/photos). {enforcement_tip} is a gathering tip at the compound.
{basis} is a legal basis: configuration, not a record on the tree, so there is no "outside"
for it: inside a fresh one, elsewhere an id that does not exist.

Only police roles and supervisors see records, photos and panels; legal bases are public
texts that anyone logged in may list, and administrators configure."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

NOWHERE = 987_654_323  # an id no legal basis has
PHOTO_PATH = "permtable/enforcement.png"


def _tip(refs) -> int:
    from fangyi.tips.models import Tip, TipCategory
    from fangyi.tips.services import new_code

    return Tip.objects.create(
        code=new_code(),
        category=TipCategory.objects.get(code="gathering"),
        node=refs.compound,
        description="有人聚餐",
        source="phone",
        address=f"{refs.compound.name}1栋",
    ).pk


def _officer(refs):
    from fangyi.core.models import User

    user = refs.user
    if refs.where == "inside" and user is not None and user.role in ("police", "auxiliary"):
        return user
    return User.objects.get(pk=refs["user"])


def _record(refs) -> int:
    from fangyi.enforcement.models import EnforcementRecord
    from fangyi.people.models import Person

    officer = _officer(refs)
    record = EnforcementRecord.objects.create(
        node=refs.compound,
        person=Person.objects.get(pk=refs["person"]),
        measure="education",
        at=timezone.now() - dt.timedelta(hours=1),
        facts="劝导聚集人员散去",
        described_people="居民3名",
        followup_on=timezone.localdate(),
        recorded_by=officer,
    )
    record.officers.set([officer])
    return record.pk


def _ephoto(refs) -> int:
    import io

    from django.conf import settings
    from PIL import Image

    from fangyi.enforcement.models import EnforcementPhoto

    target = settings.DATA_DIR / "photos" / PHOTO_PATH
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
        target.write_bytes(buf.getvalue())
    return EnforcementPhoto.objects.create(
        record_id=refs["record"],
        path=PHOTO_PATH,
        content_type="image/png",
        size=target.stat().st_size,
        sha256="0" * 64,
        width=8,
        height=8,
    ).pk


def _basis(refs) -> int:
    from fangyi.enforcement.models import LegalBasis

    if refs.where != "inside":
        return NOWHERE
    return LegalBasis.objects.create(title=f"表内通告{refs.compound.pk}", summary="表内").pk


REFS: dict = {
    "enforcement_tip": _tip,
    "record": _record,
    "ephoto": _ephoto,
    "basis": _basis,
}

RECORD = {
    "measure": "education",
    "facts": "现场劝导聚集人员散去",
    "described_people": "居民3名,未戴口罩",
}
BASIS = {"title": "表内新通告", "issuer": "南宁市公安局西乡塘分局", "order": 5, "active": "on"}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/enforcement/", "enforcement.view"),
    Endpoint("GET", "/enforcement/?measure=education&followup=due", "enforcement.view"),
    Endpoint("GET", "/enforcement/new/", "enforcement.record"),
    Endpoint("GET", "/enforcement/new/?tip={enforcement_tip}", "enforcement.record"),
    Endpoint("GET", "/enforcement/new/?person={person}", "enforcement.record"),
    Endpoint(
        "POST", "/enforcement/new/?person={person}", "enforcement.record", ok=302, body=RECORD
    ),
    # the form's search box: registry persons to add (only those in the caller's jurisdiction)
    Endpoint("GET", "/enforcement/new/people/?q=xhx", "enforcement.record"),
    Endpoint("GET", "/enforcement/{record}/", "enforcement.view"),
    Endpoint(
        "POST",
        "/enforcement/{record}/followup/",
        "enforcement.record",
        ok=302,
        body={"notes": "回访未再聚集"},
    ),
    Endpoint("GET", "/enforcement/photos/{ephoto}/", "enforcement.view"),
    Endpoint("GET", "/enforcement/bases/", "legalbasis.configure"),
    Endpoint("GET", "/enforcement/bases/new/", "legalbasis.configure"),
    Endpoint("POST", "/enforcement/bases/new/", "legalbasis.configure", ok=302, body=BASIS),
    Endpoint("GET", "/enforcement/bases/{basis}/", "legalbasis.configure"),
    Endpoint("POST", "/enforcement/bases/{basis}/", "legalbasis.configure", ok=302, body=BASIS),
    # panels on the tip and person pages
    Endpoint("GET", "/tips/{enforcement_tip}/enforcement/", "enforcement.view"),
    Endpoint("GET", "/people/{person}/enforcement/", "enforcement.view"),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/enforcement-records", "enforcement.view"),
    Endpoint("GET", "/api/enforcement-records?followup=due&person_id={person}", "enforcement.view"),
    Endpoint(
        "POST",
        "/api/enforcement-records",
        "enforcement.record",
        ok=201,
        body=lambda r: {"person_id": r["person"], **RECORD},
    ),
    Endpoint("GET", "/api/enforcement-records/{record}", "enforcement.view"),
    Endpoint(
        "POST",
        "/api/enforcement-records/{record}/followup",
        "enforcement.record",
        body={"notes": "回访未再聚集"},
    ),
    Endpoint("GET", "/api/enforcement-photos/{ephoto}", "enforcement.view"),
    # legal bases are public texts: anyone logged in lists them; administrators configure
    Endpoint("GET", "/api/legal-bases", ANY),
    Endpoint(
        "POST",
        "/api/legal-bases",
        "legalbasis.configure",
        ok=201,
        body={"title": "表内新通告", "issuer": "南宁市公安局西乡塘分局"},
    ),
    Endpoint(
        "PUT",
        "/api/legal-bases/{basis}",
        "legalbasis.configure",
        body={"title": "表内改名通告", "active": False},
    ),
]
