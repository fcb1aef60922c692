"""Signing in as an attacker would try it: guessing passwords at ``/login/`` and
``/admin/login/`` locks the account (django-axes), every sign-in good and bad is on record,
sessions end after 30 idle minutes and at the latest 8 hours after signing in, and a staff
member who turned on the second factor (TOTP, django-otp) is asked for it wherever they sign
in; administrators must turn it on where the setting requires it (production)."""

from __future__ import annotations

import logging
import time

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_PATHS = ("/login/", "/admin/login/")


@pytest.fixture
def root(city):
    """A superuser who can use the Django admin as well as the pages."""
    return get_user_model().objects.create_superuser(username="root", password=PASSWORD)


@pytest.fixture(autouse=True)
def _production_session_limits(settings):
    settings.MINSHENG_SESSION_IDLE_MINUTES = 30
    settings.MINSHENG_SESSION_MAX_HOURS = 8


def _post_sign_in(client: Client, path: str, username: str, password: str, **extra):
    return client.post(path, {"username": username, "password": password, **extra})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- guessing passwords locks the account ---------------------------------------------------


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_a_hundred_wrong_passwords_then_the_right_one_does_not_sign_in(root, path):
    attacker = Client()
    for _ in range(100):
        _post_sign_in(attacker, path, "root", "wrong-password")
    answer = _post_sign_in(attacker, path, "root", PASSWORD)
    assert answer.status_code == 429
    assert not _signed_in(attacker)
    # The account is locked whoever asks: the owner, from another machine, waits too.
    owner = Client(REMOTE_ADDR="10.1.2.3")
    assert _post_sign_in(owner, path, "root", PASSWORD).status_code == 429
    assert not _signed_in(owner)


def test_the_lock_holds_the_account_not_the_address_and_an_administrator_lifts_it(city):
    attacker = Client()
    for _ in range(5):
        _post_sign_in(attacker, "/login/", "dispatcher", "wrong-password")
    assert _post_sign_in(attacker, "/login/", "dispatcher", PASSWORD).status_code == 429
    # Colleagues behind the same address (the centre's one NAT) still sign in.
    colleague = Client()
    assert _post_sign_in(colleague, "/login/", "operator", PASSWORD).status_code == 302
    assert _signed_in(colleague)
    call_command("axes_reset_username", "dispatcher")
    owner = Client()
    assert _post_sign_in(owner, "/login/", "dispatcher", PASSWORD).status_code == 302
    assert _signed_in(owner)


def test_a_few_typos_then_the_right_password_sign_in_and_start_the_count_again(city):
    person = Client()
    for _ in range(4):
        assert _post_sign_in(person, "/login/", "operator", "typo").status_code == 200
    assert _post_sign_in(person, "/login/", "operator", PASSWORD).status_code == 302
    again = Client()
    for _ in range(4):
        _post_sign_in(again, "/login/", "operator", "typo")
    assert _post_sign_in(again, "/login/", "operator", PASSWORD).status_code == 302


# --- every sign-in, good and bad, is on record ----------------------------------------------


def test_sign_ins_good_and_bad_are_recorded_and_logged(city, caplog):
    caplog.set_level(logging.INFO, logger="minsheng.security")
    c = Client(REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="probe/1")
    _post_sign_in(c, "/login/", "operator", "wrong-password")
    _post_sign_in(c, "/login/", "operator", PASSWORD)
    c.post(reverse("web:logout"))
    failed = AccessFailureLog.objects.get()
    assert (failed.username, failed.ip_address, failed.path_info) == ("operator", "192.0.2.7", "/login/")
    good = AccessLog.objects.get()
    assert (good.username, good.ip_address, good.user_agent) == ("operator", "192.0.2.7", "probe/1")
    assert good.logout_time is not None
    lines = [r.getMessage() for r in caplog.records if r.name == "minsheng.security"]
    assert any("sign-in failed" in m and "operator" in m and "192.0.2.7" in m for m in lines), lines
    assert any("signed in" in m and "operator" in m for m in lines), lines
    assert any("signed out" in m and "operator" in m for m in lines), lines
    assert all("wrong-password" not in m and PASSWORD not in m for m in lines)


def test_a_lockout_is_logged(city, caplog):
    caplog.set_level(logging.INFO, logger="minsheng.security")
    c = Client()
    for _ in range(6):
        _post_sign_in(c, "/login/", "leader", "wrong-password")
    assert AccessAttempt.objects.get(username="leader").failures_since_start >= 5
    assert any(
        r.name == "minsheng.security" and "locked out" in r.getMessage() and "leader" in r.getMessage()
        for r in caplog.records
    )


# --- sessions end when idle, and after a working day ----------------------------------------


def _signed_in_client(city, name: str) -> Client:
    c = Client()
    assert _post_sign_in(c, "/login/", name, PASSWORD).status_code == 302
    return c


def test_a_session_left_idle_for_30_minutes_ends(city, now):
    c = _signed_in_client(city, "dispatcher")
    assert c.get(reverse("web:queue")).status_code == 200
    now.advance(minutes=29)
    assert c.get(reverse("web:queue")).status_code == 200
    now.advance(minutes=31)
    gone = c.get(reverse("web:queue"))
    assert gone.status_code == 302 and gone.url.startswith(reverse("web:login"))
    assert not _signed_in(c)


def test_the_bell_polling_an_open_tab_does_not_keep_the_session_alive(city, now):
    c = _signed_in_client(city, "dispatcher")
    c.get(reverse("web:queue"))
    for _ in range(6):  # the bell asks every minute; five-minute steps are enough here
        now.advance(minutes=5)
        c.get(reverse("notify:bell"), HTTP_HX_REQUEST="true")
    now.advance(minutes=1)
    over_htmx = c.get(reverse("notify:bell"), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="/queue/")
    assert over_htmx.status_code == 204 and over_htmx["HX-Redirect"].startswith(reverse("web:login"))
    assert not _signed_in(c)


def test_a_session_ends_8_hours_after_signing_in_however_busy(city, now, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    c = _signed_in_client(city, "dispatcher")
    for _ in range(8 * 3):
        assert c.get(reverse("web:queue")).status_code == 200
        now.advance(minutes=20)
    now.advance(minutes=1)
    assert c.get(reverse("web:queue")).status_code == 302
    assert not _signed_in(c)


# --- the second factor ------------------------------------------------------------------------


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the person's authenticator app shows (a later step for a second use, since
    a code once accepted is never accepted again)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _enrol(c: Client) -> TOTPDevice:
    page = c.get(reverse("web:two_factor"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(confirmed=False)
    assert device.config_url in page.content.decode().replace("&amp;", "&")
    done = c.post(reverse("web:two_factor"), {"step": "confirm", "code": _code(device)})
    assert done.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_staff_may_turn_on_a_second_factor_and_are_then_asked_for_it(city, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no wait after the wrong code: the test goes on at once
    c = _signed_in_client(city, "dispatcher")
    device = _enrol(c)
    c.post(reverse("web:logout"))
    no_code = Client()
    answer = _post_sign_in(no_code, "/login/", "dispatcher", PASSWORD)
    assert answer.status_code == 200 and not _signed_in(no_code)
    wrong = Client()
    assert _post_sign_in(wrong, "/login/", "dispatcher", PASSWORD, otp_token="000000").status_code == 200
    assert not _signed_in(wrong)
    assert AccessFailureLog.objects.filter(username="dispatcher").count() == 1  # counts toward the lock
    right = Client()
    answer = _post_sign_in(right, "/login/", "dispatcher", PASSWORD, otp_token=_code(device, 1))
    assert answer.status_code == 302 and _signed_in(right)
    assert right.get(reverse("web:queue")).status_code == 200


def test_the_admin_sign_in_page_does_not_skip_a_second_factor(root):
    device = TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    c = Client()
    assert _post_sign_in(c, "/admin/login/", "root", PASSWORD).status_code == 302
    held = c.get("/admin/")
    assert held.status_code == 302 and held.url.startswith(reverse("web:two_factor"))
    assert c.get("/api/v1/cases").status_code == 403
    assert c.post(reverse("web:two_factor"), {"step": "verify", "code": _code(device)}).status_code == 302
    assert c.get("/admin/").status_code == 200


def test_administrators_must_turn_it_on_where_required(city, settings):
    settings.MINSHENG_SECOND_FACTOR_FOR_ADMINS = True
    admin = _signed_in_client(city, "admin")
    held = admin.get(reverse("web:home"))
    assert held.status_code == 302 and held.url.startswith(reverse("web:two_factor"))
    assert admin.get(reverse("web:home"), HTTP_HX_REQUEST="true").status_code == 204
    other = _signed_in_client(city, "dispatcher")
    assert other.get(reverse("web:queue")).status_code == 200  # optional for everyone else
    _enrol(admin)
    assert admin.get(reverse("web:home")).status_code == 302  # to the administrator's own page
    assert not admin.get(reverse("web:home")).url.startswith(reverse("web:two_factor"))


def test_an_administrator_cannot_turn_it_off_where_required(city, settings):
    settings.MINSHENG_SECOND_FACTOR_FOR_ADMINS = True
    admin = _signed_in_client(city, "admin")
    device = _enrol(admin)
    admin.post(reverse("web:two_factor"), {"step": "remove", "code": _code(device, 1)})
    assert TOTPDevice.objects.filter(user=city.users["admin"], confirmed=True).exists()
    settings.MINSHENG_SECOND_FACTOR_FOR_ADMINS = False
    admin.post(reverse("web:two_factor"), {"step": "remove", "code": _code(device, 1)})
    assert not TOTPDevice.objects.filter(user=city.users["admin"]).exists()
