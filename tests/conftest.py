"""The fixed cast and the demo city, loaded once per test database.

Every non-transactional test runs inside a transaction on top of the demo city (Nanning's
Xixiangtang district, Wuliting station, 機務小區, 南鐵北四區, 北大路) and is rolled back after.
"""

from __future__ import annotations

import pytest
from django.test import Client

from fangyi.core.models import Node, User
from fangyi.people.models import Household, Person, Place

PASSWORD = "fangyi-demo-2020"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from fangyi.demo import build_demo

    with django_db_blocker.unblock():
        if not Node.objects.exists():
            build_demo()


def _user(username: str) -> User:
    return User.objects.get(username=username)


# The cast: an officer of Wuliting station, his auxiliary, a grid worker of 機務 grid 1,
# community staff of 機務社區, health staff of the district, the hotel clerk on 北大路,
# the station's supervisor, the city administrator, and an outsider officer of 北湖 station.
@pytest.fixture
def officer(db):
    return _user("xuhongxin")


@pytest.fixture
def auxiliary(db):
    return _user("fujing")


@pytest.fixture
def grid_worker(db):
    return _user("wanggeyuan")


@pytest.fixture
def community_staff(db):
    return _user("shequ")


@pytest.fixture
def health(db):
    return _user("weijian")


@pytest.fixture
def hotel_clerk(db):
    return _user("jiudian")


@pytest.fixture
def supervisor(db):
    return _user("suozhang")


@pytest.fixture
def admin(db):
    return _user("admin")


@pytest.fixture
def outsider(db):
    return _user("beihu")


def node(name: str) -> Node:
    return Node.objects.get(name=name)


@pytest.fixture
def jiwu(db) -> Node:
    """机务小区, the compound in grid 1 of 机务社区."""
    return node("机务小区")


@pytest.fixture
def nantie4(db) -> Node:
    return node("南铁北四区")


@pytest.fixture
def beihu_compound(db) -> Node:
    return node("北湖小区")


@pytest.fixture
def jiwu_household(jiwu) -> Household:
    return Household.objects.filter(node=jiwu).order_by("pk").first()


@pytest.fixture
def beihu_household(beihu_compound) -> Household:
    return Household.objects.filter(node=beihu_compound).order_by("pk").first()


@pytest.fixture
def jiwu_person(jiwu_household) -> Person:
    return jiwu_household.members.order_by("pk").first()


@pytest.fixture
def beihu_person(beihu_household) -> Person:
    return beihu_household.members.order_by("pk").first()


@pytest.fixture
def hotel(db) -> Place:
    return Place.objects.get(name="北大路宾馆")


def login(user: User) -> Client:
    """A client logged in as `user`, with the second factor done where the role needs it."""
    client = Client()
    client.force_login(user)
    if user.role in ("supervisor", "admin"):
        from django_otp import DEVICE_ID_SESSION_KEY

        device = user.totpdevice_set.filter(confirmed=True).first()
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def english_login(user: User) -> Client:
    """login(user), reading the pages in English (the source language) whatever the default."""
    from django.conf import settings

    client = login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def as_user():
    return login


@pytest.fixture(autouse=True)
def _english_messages():
    """Service-level messages are asserted in English; pages follow the request's language."""
    from django.utils import translation

    with translation.override("en"):
        yield
