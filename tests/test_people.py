import datetime as dt

import pytest
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError
from fangyi.core.models import AccessLog, AuditEntry
from fangyi.core.validators import id_check_digit
from fangyi.people import selectors, services
from fangyi.people.models import Household, Person
from fangyi.people.services import PersonInput

pytestmark = pytest.mark.django_db


def valid_id(birth="19850315", seq="123", region="450107"):
    first17 = f"{region}{birth}{seq}"
    return first17 + id_check_digit(first17)


def form_data(**overrides):
    data = {
        "name": "韦小宝",
        "id_type": "resident",
        "id_number": valid_id(),
        "sex": "",
        "birth_date": "",
        "phone": "13977112345",
        "relation": "",
        "notes": "",
        "node": "",
        "household": "",
        "client_id": "",
    }
    data.update(overrides)
    return data


# --- create, with everything the ID number implies ------------------------------------------


def test_it_registers_a_person_into_a_household_from_the_ui(officer, as_user, jiwu_household):
    client = as_user(officer)
    r = client.post("/people/new/", form_data(household=jiwu_household.pk))
    assert r.status_code == 302, r.content.decode()[:2000]
    person = Person.objects.get(id_number=valid_id())
    assert r["Location"] == f"/people/{person.pk}/"
    assert person.household == jiwu_household
    assert person.node == jiwu_household.node
    assert person.birth_date == dt.date(1985, 3, 15)  # derived from the ID number
    assert person.sex == "M"  # 17th digit 3 is odd
    entry = AuditEntry.objects.get(action="fangyi.person.created", object_id=person.pk)
    assert entry.actor == officer
    assert entry.node_path == jiwu_household.node.path
    assert entry.changes["name"] == [None, "韦小宝"]
    # Sensitive values are masked in the trail.
    assert entry.changes["id_number"][1] == "450***********1238"[:3] + "*" * 11 + valid_id()[-4:]
    assert entry.changes["phone"][1] == "139****2345"


def test_a_retry_with_the_same_client_id_stores_one_person(officer, jiwu_household):
    data = dict(
        name="黄大仙",
        id_number=valid_id(seq="555"),
        household=jiwu_household,
        client_id="8d0f6c52-5b8e-4c38-9a4e-0a8d1c1f0a11",
    )
    first = services.person_create(actor=officer, data=PersonInput(**data))
    again = services.person_create(actor=officer, data=PersonInput(**data))
    assert first.pk == again.pk
    assert Person.objects.filter(client_id=data["client_id"]).count() == 1


# --- bad input: every error named, nothing typed lost ---------------------------------------


def test_bad_input_gets_errors_on_each_field_and_keeps_what_was_typed(
    officer, as_user, jiwu_household
):
    client = as_user(officer)
    bad_id = valid_id()[:-1] + ("0" if valid_id()[-1] != "0" else "1")
    before = Person.objects.count()
    r = client.post(
        "/people/new/",
        form_data(
            household=jiwu_household.pk,
            id_number=bad_id,
            phone="1390O71abcd",
            notes="楼下小卖部老板",
        ),
    )
    page = r.content.decode()
    assert r.status_code == 200
    assert Person.objects.count() == before
    assert 'id="fg-id_number"' in page or "fg field-error" in page
    assert page.count("errorlist") >= 2
    assert 'value="韦小宝"' in page  # the name is still there
    assert "楼下小卖部老板" in page  # and the notes


def test_it_collects_every_field_error_at_once(officer, jiwu_household):
    with pytest.raises(DomainError) as exc:
        services.person_create(
            actor=officer,
            data=PersonInput(
                name="徐" * 500,
                id_number=valid_id()[:-1] + "Y",
                phone="call me",
                household=jiwu_household,
            ),
        )
    assert set(exc.value.errors) == {"name", "id_number", "phone"}


def test_it_refuses_a_future_birth_date_and_one_that_contradicts_the_id(officer, jiwu_household):
    with pytest.raises(DomainError) as exc:
        services.person_create(
            actor=officer,
            data=PersonInput(
                name="未来人",
                id_type="passport",
                id_number="E12345678",
                birth_date=timezone.localdate() + dt.timedelta(days=3),
                household=jiwu_household,
            ),
        )
    assert "birth_date" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.person_create(
            actor=officer,
            data=PersonInput(
                name="对不上",
                id_number=valid_id(),
                birth_date=dt.date(1986, 3, 15),
                sex="F",
                household=jiwu_household,
            ),
        )
    assert set(exc.value.errors) == {"birth_date", "sex"}


def test_it_refuses_a_household_outside_the_users_jurisdiction(officer, as_user, beihu_household):
    with pytest.raises(DomainError) as exc:
        services.person_create(
            actor=officer,
            data=PersonInput(name="越界", id_number=valid_id(seq="777"), household=beihu_household),
        )
    assert "household" in exc.value.errors
    r = as_user(officer).post("/people/new/", form_data(household=beihu_household.pk, name="越界"))
    assert r.status_code == 200
    assert 'value="越界"' in r.content.decode()
    assert not Person.objects.filter(name="越界").exists()


def test_an_existing_id_number_is_refused_and_points_to_the_person(officer, as_user, jiwu_person):
    with pytest.raises(Conflict) as exc:
        services.person_create(
            actor=officer,
            data=PersonInput(name="冒名", id_number=jiwu_person.id_number, node=jiwu_person.node),
        )
    assert exc.value.details == {"person_id": jiwu_person.pk}
    r = as_user(officer).post(
        "/people/new/",
        form_data(name="冒名", id_number=jiwu_person.id_number, node=jiwu_person.node_id),
    )
    assert f"/people/{jiwu_person.pk}/" in r.content.decode()


def test_an_existing_id_number_outside_the_jurisdiction_is_not_revealed(
    outsider, jiwu_person, beihu_compound
):
    with pytest.raises(Conflict) as exc:
        services.person_create(
            actor=outsider,
            data=PersonInput(name="冒名", id_number=jiwu_person.id_number, node=beihu_compound),
        )
    assert exc.value.details == {}


def test_typing_a_whole_id_number_in_search_opens_that_person(officer, as_user, jiwu_person):
    r = as_user(officer).get("/people/", {"q": jiwu_person.id_number})
    assert r.status_code == 302
    assert r["Location"] == f"/people/{jiwu_person.pk}/"


def test_the_id_check_says_when_the_number_is_known(officer, as_user, jiwu_person):
    r = as_user(officer).get("/people/check-id/", {"id_number": jiwu_person.id_number})
    assert f"/people/{jiwu_person.pk}/" in r.content.decode()
    r = as_user(officer).get("/people/check-id/", {"id_number": "450107198503151230"})
    assert "errorlist" in r.content.decode()


# --- duplicates and merge -------------------------------------------------------------------


def test_likely_duplicates_are_shown_before_saving(officer, as_user, jiwu_person):
    client = as_user(officer)
    data = form_data(
        name=jiwu_person.name,
        id_type="none",
        id_number="",
        birth_date=jiwu_person.birth_date.isoformat(),
        sex=jiwu_person.sex,
        phone="",
        node=jiwu_person.node_id,
    )
    r = client.post("/people/new/", data)
    assert r.status_code == 200
    assert f"/people/{jiwu_person.pk}/" in r.content.decode()
    assert Person.objects.filter(name=jiwu_person.name).count() == 1
    r = client.post("/people/new/", {**data, "confirm_new": "on"})
    assert r.status_code == 302
    assert Person.objects.filter(name=jiwu_person.name).count() == 2


def test_a_phone_match_is_a_likely_duplicate(officer, jiwu_person):
    dups = services.person_duplicates(
        officer, name="别名", birth_date=None, phone=jiwu_person.phone
    )
    assert jiwu_person in dups


def test_merging_moves_everything_and_is_audited(officer, as_user, jiwu_person):
    dup = services.person_create(
        actor=officer,
        data=PersonInput(
            name=jiwu_person.name,
            id_type="none",
            phone="",
            node=jiwu_person.node,
            birth_date=jiwu_person.birth_date,
            notes="重复登记",
        ),
    )
    keep_notes = jiwu_person.notes
    r = as_user(officer).post(
        f"/people/{jiwu_person.pk}/merge/", {"other": dup.pk, "confirm": "on"}
    )
    assert r.status_code == 302
    assert not Person.objects.filter(pk=dup.pk).exists()
    jiwu_person.refresh_from_db()
    assert jiwu_person.notes == (keep_notes or "重复登记")
    merged = AuditEntry.objects.get(action="fangyi.person.merged", object_id=jiwu_person.pk)
    assert merged.changes["merged_from"] == [dup.pk, None]
    assert AuditEntry.objects.filter(action="fangyi.person.deleted", object_id=dup.pk).exists()
    # The duplicate's own history now shows on the kept person.
    history = selectors.record_history(officer, jiwu_person)
    assert history.filter(object_id=dup.pk, action="fangyi.person.created").exists()


def test_two_different_documents_cannot_be_merged(officer, jiwu_household):
    a, b = jiwu_household.members.all()[:2]
    with pytest.raises(DomainError):
        services.person_merge(actor=officer, keep=a, remove=b)


def test_a_grid_worker_may_not_merge(grid_worker, as_user, jiwu_person):
    r = as_user(grid_worker).get(f"/people/{jiwu_person.pk}/merge/")
    assert r.status_code == 403


# --- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q", ["xhx", "XHX", "xuhongxin", "xuhong", "徐红心", "徐红心", "徐红", "徐"]
)
def test_search_finds_xu_hongxin_by_name_pinyin_or_initials_in_both_scripts(officer, q):
    names = set(selectors.person_list(officer, q=q).values_list("name", flat=True))
    assert "徐红心" in names


@pytest.mark.parametrize("q", ["红心", "红心", "红"])
def test_search_finds_xu_hongxin_by_the_given_name_on_the_page_and_the_api(officer, as_user, q):
    """Issue 12, item 12: only the start of the whole name was matched, so 红心 found nothing."""
    names = set(selectors.person_list(officer, q=q).values_list("name", flat=True))
    assert "徐红心" in names
    client = as_user(officer)
    assert "徐红心" in client.get("/people/", {"q": q}).content.decode()
    api = client.get("/api/persons", {"q": q}).json()
    assert "徐红心" in [p["name"] for p in api["items"]]


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("徐红心", "红心"),
        ("欧阳娜娜", "娜娜"),
        ("司马光", "光"),
        ("王", ""),
        ("anna", ""),
        ("", ""),
    ],
)
def test_the_given_name_key(name, given):
    assert services.given_key(name) == given


def test_search_by_id_tail_and_phone(officer, jiwu_person):
    assert jiwu_person in selectors.person_list(officer, q=jiwu_person.id_number[-6:])
    assert jiwu_person in selectors.person_list(officer, q=jiwu_person.id_number[-4:])
    assert jiwu_person in selectors.person_list(officer, q=jiwu_person.phone)
    assert jiwu_person in selectors.person_list(officer, q=jiwu_person.phone[-4:])


def test_search_never_crosses_the_jurisdiction(outsider, grid_worker, jiwu_person):
    assert not selectors.person_list(outsider, q="徐红心").exists()
    assert (
        not selectors.person_list(outsider, q=jiwu_person.id_number[-6:])
        .filter(pk=jiwu_person.pk)
        .exists()
    )
    # The grid worker of 機務 grid 1 sees 機務小區 but not 南鐵北四區.
    assert selectors.person_list(grid_worker).filter(pk=jiwu_person.pk).exists()
    assert not selectors.person_list(grid_worker).filter(node__name="南铁北四区").exists()


def test_the_search_page_is_a_constant_number_of_queries(
    officer, as_user, django_assert_max_num_queries
):
    client = as_user(officer)
    with django_assert_max_num_queries(12):
        r = client.get("/people/", {"q": "王"})
    assert r.status_code == 200
    assert r.content.decode().count('class="item"') == 30


# --- audit and access log -------------------------------------------------------------------


def test_viewing_a_person_writes_the_access_log(officer, as_user, jiwu_person):
    r = as_user(officer).get(f"/people/{jiwu_person.pk}/")
    assert r.status_code == 200
    log = AccessLog.objects.get(object_type="person", object_id=jiwu_person.pk, user=officer)
    assert log.via == "ui"
    assert log.node_path == jiwu_person.node.path


def test_audit_rows_cannot_be_changed_or_deleted(officer, jiwu_household):
    entry = AuditEntry.objects.filter(object_type="household").first()
    entry.action = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(PermissionError):
        AccessLog.objects.all().delete()


def test_supervisors_read_the_trail_of_their_jurisdiction_only(
    supervisor, as_user, officer, jiwu_person, beihu_person, outsider
):
    as_user(officer).get(f"/people/{jiwu_person.pk}/")
    as_user(outsider).get(f"/people/{beihu_person.pk}/")
    r = as_user(supervisor).get("/audit/", {"tab": "reads"})
    page = r.content.decode()
    assert r.status_code == 200
    assert f"#{jiwu_person.pk} " in page
    assert f"#{beihu_person.pk} " not in page


def test_every_household_and_person_change_is_audited(officer, jiwu):
    h = services.household_create(actor=officer, node=jiwu, address="机务小区9栋1单元101室")
    services.household_update(
        actor=officer, household=h, node=jiwu, address="机务小区9栋1单元102室"
    )
    p = services.person_create(
        actor=officer, data=PersonInput(name="新住户", id_type="none", household=h)
    )
    services.person_update(
        actor=officer,
        person=p,
        data=PersonInput(name="新住户", id_type="none", household=h, phone="13900001111"),
    )
    ids = [h.pk, p.pk]
    services.person_delete(actor=officer.__class__.objects.get(username="suozhang"), person=p)
    services.household_delete(actor=officer, household=h)
    actions = list(
        AuditEntry.objects.filter(object_id__in=ids)
        .filter(object_type__in=["household", "person"])
        .order_by("id")
        .values_list("object_type", "action")
    )
    assert actions[-6:] == [
        ("household", "fangyi.household.created"),
        ("household", "fangyi.household.changed"),
        ("person", "fangyi.person.created"),
        ("person", "fangyi.person.changed"),
        ("person", "fangyi.person.deleted"),
        ("household", "fangyi.household.deleted"),
    ]
    assert not Household.objects.filter(pk=ids[0]).exists()


def test_polyphonic_surnames_use_their_surname_reading(officer, jiwu_household):
    services.person_create(
        actor=officer,
        data=PersonInput(name="覃秀英", id_type="none", household=jiwu_household),
    )
    services.person_create(
        actor=officer,
        data=PersonInput(name="单田芳", id_type="none", household=jiwu_household),
    )
    assert selectors.person_list(officer, q="qxy").filter(name="覃秀英").exists()
    assert selectors.person_list(officer, q="shantianfang").filter(name="单田芳").exists()


def test_the_bulk_path_keeps_good_rows_and_reports_bad_ones_by_row(officer, jiwu_household):
    rows = [
        PersonInput(name="批量甲", id_number=valid_id(seq="901"), household=jiwu_household),
        PersonInput(
            name="批量乙", id_number=valid_id(seq="901")[:-1] + "0", household=jiwu_household
        ),
        PersonInput(name="批量丙", id_number=valid_id(seq="901"), household=jiwu_household),
        PersonInput(name="批量丁", id_type="none", phone="abc", household=jiwu_household),
        PersonInput(name="批量戊", id_type="none", household=jiwu_household),
    ]
    if rows[1].id_number == rows[0].id_number:
        rows[1].id_number = rows[0].id_number[:-1] + "1"
    result = services.persons_bulk_create(actor=officer, rows=rows)
    assert result.created == 2
    assert [(row, sorted(errors)) for row, errors in result.errors] == [
        (2, ["id_number"]),
        (3, ["id_number"]),
        (4, ["phone"]),
    ]
    stored = Person.objects.get(name="批量甲")
    assert (stored.name_pinyin, stored.name_initials) == ("piliangjia", "plj")
    assert stored.birth_date == dt.date(1985, 3, 15)
    entry = AuditEntry.objects.get(action="fangyi.person.created", object_id=stored.pk)
    assert entry.actor == officer
    assert entry.node_path == jiwu_household.node.path
    assert entry.changes["household"] == [None, jiwu_household.pk]
    assert entry.changes["id_number"][1].endswith(stored.id_number[-4:])
    assert "*" in entry.changes["id_number"][1]
