import datetime as dt

import pytest
import time_machine
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangyi.core.models import ApiToken, AuditEntry, User
from fangyi.core.services import token_create, user_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice) -> str:
    return (
        f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    )


def test_passwords_are_hashed_with_argon2(officer):
    assert officer.password.startswith("argon2")


def test_a_field_officer_logs_in_with_a_password(officer):
    client = Client()
    r = client.post("/login/", {"username": "xuhongxin", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_says_so_without_saying_which_part(db):
    r = Client().post("/login/", {"username": "xuhongxin", "password": "wrong-password"})
    assert r.status_code == 200
    assert "errorlist" in r.content.decode()


def test_repeated_failures_lock_the_account_out_for_a_while(db, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "xuhongxin", "password": "nope-nope-nope"})
    r = client.post("/login/", {"username": "xuhongxin", "password": PASSWORD})
    assert r.status_code == 429
    assert client.get("/").status_code == 302  # still not logged in
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=settings.AXES_COOLOFF_TIME * 60 + 1)
    with time_machine.travel(later):
        r = client.post("/login/", {"username": "xuhongxin", "password": PASSWORD})
        assert r.status_code == 302


def test_a_supervisor_must_give_the_second_factor(supervisor):
    client = Client()
    r = client.post("/login/", {"username": "suozhang", "password": PASSWORD})
    assert r["Location"].startswith("/login/otp/")
    # Nothing else is reachable before the code.
    assert client.get("/people/")["Location"] == "/login/otp/"
    assert client.get("/api/me").status_code == 401
    r = client.post("/login/otp/", {"token": "000000"})
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    device = TOTPDevice.objects.get(user=supervisor)
    # django-otp throttles after a failure: the next try must wait a moment.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)):
        r = client.post("/login/otp/", {"token": code_for(device)})
    assert r.status_code == 302
    assert client.get("/people/").status_code == 200
    assert client.get("/api/me").json()["username"] == "suozhang"


def test_a_new_supervisor_is_sent_to_set_up_two_factor(admin):
    from tests.conftest import node

    user_create(
        actor=admin,
        username="newchief",
        password="a-long-passphrase-2020",
        role="supervisor",
        nodes=[node("五里亭派出所")],
    )
    client = Client()
    client.post("/login/", {"username": "newchief", "password": "a-long-passphrase-2020"})
    r = client.get("/people/")
    assert r["Location"] == "/account/2fa/setup/"
    r = client.get("/account/2fa/setup/")
    assert r.status_code == 200 and "<svg" in r.content.decode()
    device = TOTPDevice.objects.get(user__username="newchief", confirmed=False)
    r = client.post("/account/2fa/setup/", {"token": code_for(device)})
    assert r.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/people/").status_code == 200


def test_a_setting_can_require_two_factor_of_all_staff(officer, settings):
    settings.FANGYI_OTP_ALL_STAFF = True
    client = Client()
    client.post("/login/", {"username": "xuhongxin", "password": PASSWORD})
    assert client.get("/")["Location"] == "/account/2fa/setup/"


def test_sessions_end_after_inactivity_and_after_an_absolute_limit(officer, settings):
    client = Client()
    client.post("/login/", {"username": "xuhongxin", "password": PASSWORD})
    assert client.get("/").status_code == 200
    start = dt.datetime.now(dt.UTC)
    # Active every 20 minutes: the idle limit is never reached, the absolute one is.
    for minutes in range(20, settings.FANGYI_SESSION_ABSOLUTE_SECONDS // 60, 20):
        with time_machine.travel(start + dt.timedelta(minutes=minutes)):
            assert client.get("/").status_code == 200
    with time_machine.travel(
        start + dt.timedelta(seconds=settings.FANGYI_SESSION_ABSOLUTE_SECONDS + 60)
    ):
        r = client.get("/")
        assert r.status_code == 302 and "expired" in r["Location"]


def test_an_idle_session_expires(officer, settings):
    client = Client()
    client.post("/login/", {"username": "xuhongxin", "password": PASSWORD})
    with time_machine.travel(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    ):
        assert client.get("/").status_code == 302


def test_api_tokens_are_stored_hashed_shown_once_and_revocable(officer, as_user):
    client = as_user(officer)
    r = client.post("/account/", {"name": "巡查App"})
    page = r.content.decode()
    token = ApiToken.objects.get(user=officer, name="巡查App")
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith(f"fy_{token.prefix}_")
    assert secret not in token.digest and token.digest == ApiToken.hash(secret)
    api = Client()
    assert (
        api.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["username"] == "xuhongxin"
    )
    assert secret not in client.get("/account/").content.decode()
    client.post("/account/", {"action": "revoke", "token": token.pk})
    assert api.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert AuditEntry.objects.filter(action="fangyi.token.revoked", object_id=token.pk).exists()


def test_a_token_of_a_deactivated_user_stops_working(officer, admin):
    _token, secret = token_create(actor=officer, name="x")
    User.objects.filter(pk=officer.pk).update(is_active=False)
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_a_forged_token_is_refused(officer):
    token, secret = token_create(actor=officer, name="x")
    forged = secret[:-2] + ("aa" if not secret.endswith("aa") else "bb")
    assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401
    assert Client().get("/api/me", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
