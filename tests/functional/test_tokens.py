"""API tokens expire, die with a password change, and are listed and revoked by their owner
and by an administrator: on the tokens page and with ``minsheng tokens``."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from minsheng.accounts.actions import create_token
from minsheng.accounts.models import ApiToken, RevokedBecause, hash_token
from minsheng.accounts.queries import user_for_token
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db


def api_status(token: str) -> int:
    """What the API answers the token (a read any role may make)."""
    return Client().get("/api/v1/sensors/devices", headers={"Authorization": f"Bearer {token}"}).status_code


def row(token: str) -> ApiToken:
    return ApiToken.objects.get(key_hash=hash_token(token))


def page_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- expiry ------------------------------------------------------------------------------


def test_a_token_works_for_90_days_and_then_is_401(city, now):
    token = create_token(city.users["roads"])
    assert api_status(token) == 200
    now.advance(days=89, hours=23, minutes=59)
    assert api_status(token) == 200
    now.advance(minutes=1)
    assert api_status(token) == 401
    assert row(token).state(now()) == "expired"


def test_the_lifetime_is_a_setting_and_createtoken_takes_days(city, now, settings):
    settings.MINSHENG_API_TOKEN_DAYS = 7
    short = create_token(city.users["roads"])
    out = StringIO()
    call_command("createtoken", "roads", "--days", "30", "--name", "巡查系统", stdout=out)
    longer = out.getvalue().strip().splitlines()[-1]
    assert "Expires 2026-12-23" in out.getvalue()
    assert row(longer).name == "巡查系统"
    now.advance(days=7)
    assert api_status(short) == 401
    assert api_status(longer) == 200
    now.advance(days=23)
    assert api_status(longer) == 401
    with pytest.raises(CommandError):
        call_command("createtoken", "roads", "--days", "0", stdout=StringIO())


def test_a_token_is_one_query_that_brings_its_users_profile_and_unit(city, now, django_assert_num_queries):
    roads = city.users["roads"]
    token = create_token(roads)
    assert user_for_token(token) == roads  # the first use is noted (a write)
    now.advance(seconds=30)
    with django_assert_num_queries(1):
        user = user_for_token(token)
        assert user == roads and user.is_active and user.get_username() == "roads"
        assert user.profile.role == roads.profile.role and user.profile.unit == roads.profile.unit
        assert user.profile.user is user
    assert user_for_token(token + "x") is None


def test_a_token_of_a_user_without_a_profile_names_them_with_no_role(city, now, django_assert_num_queries):
    bare = get_user_model().objects.create_user("bare", password=PASSWORD)
    token = create_token(bare)
    user_for_token(token)
    now.advance(seconds=30)
    with django_assert_num_queries(1):
        user = user_for_token(token)
        assert user == bare and not hasattr(user, "profile")
    assert api_status(token) == 403


def test_deactivating_the_user_stops_the_token_at_the_next_request(city, now):
    roads = city.users["roads"]
    token = create_token(roads)
    assert api_status(token) == 200
    roads.is_active = False
    roads.save()
    assert api_status(token) == 401


# --- a new password revokes every token --------------------------------------------------


def test_a_password_change_revokes_the_users_tokens_and_no_one_elses(city, now):
    roads = city.users["roads"]
    first, second = create_token(roads), create_token(roads)
    other = create_token(city.users["water"])
    roads.set_password("a new and long passphrase 2026")
    roads.save()
    assert api_status(first) == 401 and api_status(second) == 401
    assert row(first).revoked_because == RevokedBecause.PASSWORD
    assert api_status(other) == 200
    # A token made after the change works.
    assert api_status(create_token(roads)) == 200


def test_the_admins_set_password_form_revokes_too(city, now):
    roads = city.users["roads"]
    token = create_token(roads)
    admin = city.users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    url = reverse("admin:auth_user_password_change", args=[roads.pk])
    new = "correct horse battery staple 2026"
    answer = page_for(admin).post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert answer.status_code == 302, answer.content
    assert api_status(token) == 401


class OneRoundPBKDF2(PBKDF2PasswordHasher):
    iterations = 1


def test_rehashing_an_unchanged_password_at_sign_in_keeps_the_tokens(city, now, settings):
    """Django rehashes a password on sign-in when the hasher changes (a Django upgrade
    raises the iteration count): the password is the same, so the tokens stay."""
    roads = city.users["roads"]
    token = create_token(roads)
    settings.PASSWORD_HASHERS = [
        f"{OneRoundPBKDF2.__module__}.OneRoundPBKDF2",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert roads.password.startswith("md5$")
    assert roads.check_password(PASSWORD)  # what sign-in calls: rehashes and saves
    roads.refresh_from_db()
    assert roads.password.startswith("pbkdf2_sha256$1$")
    assert api_status(token) == 200


# --- minsheng tokens list | revoke ----------------------------------------------------------


def tokens_command(*args: str) -> str:
    out = StringIO()
    call_command("tokens", *args, stdout=out)
    return out.getvalue()


def listed(output: str) -> dict[str, str]:
    """prefix → state, from ``minsheng tokens list``."""
    lines = output.strip().splitlines()[1:]
    return {m.group(1): m.group(2) for m in (re.search(r"(ms_\S+)\s+\S+\s+(\S+)", ln) for ln in lines) if m}


def test_the_command_lists_tokens_with_their_state_and_revokes_by_id_prefix_or_user(city, now):
    roads_1 = create_token(city.users["roads"], name="巡查系统")
    roads_2 = create_token(city.users["roads"])
    water = create_token(city.users["water"])
    old = create_token(city.users["operator"], days=1)
    now.advance(days=2)
    out = tokens_command("list")
    states = listed(out)
    assert states == {
        roads_1[:10]: "active",
        roads_2[:10]: "active",
        water[:10]: "active",
        old[:10]: "expired",
    }
    assert "巡查系统" in out and roads_1 not in out
    assert set(listed(tokens_command("list", "--user", "roads"))) == {roads_1[:10], roads_2[:10]}
    assert old[:10] not in listed(tokens_command("list", "--active"))

    assert "Revoked 1 token." in tokens_command("revoke", str(row(roads_1).pk))
    assert api_status(roads_1) == 401 and api_status(roads_2) == 200
    assert "Revoked 1 token." in tokens_command("revoke", water[:10])
    assert api_status(water) == 401
    assert row(water).revoked_because == RevokedBecause.ADMIN
    assert listed(tokens_command("list"))[water[:10]] == "revoked"
    another = create_token(city.users["roads"])
    assert "Revoked 2 tokens." in tokens_command("revoke", "--user", "roads")
    assert api_status(roads_2) == 401 and api_status(another) == 401
    with pytest.raises(CommandError):
        tokens_command("revoke", "ms_nothing")
    with pytest.raises(CommandError):
        tokens_command("revoke")


# --- the tokens page -------------------------------------------------------------------------


def test_the_page_creates_a_token_shown_once_that_works(city, now):
    client = page_for(city.users["roads"])
    made = client.post(reverse("accounts:new_token"), {"name": "巡查系统"})
    assert made.status_code == 201
    token = re.search(r"<code>(ms_[\w-]+)</code>", made.content.decode()).group(1)
    assert api_status(token) == 200
    assert row(token).name == "巡查系统" and row(token).user == city.users["roads"]
    assert made["Cache-Control"].startswith("max-age=0") and "no-store" in made["Cache-Control"]
    again = client.get(reverse("accounts:tokens")).content.decode()
    assert token not in again and f"{token[:10]}…" in again


def test_a_person_sees_and_revokes_only_their_own_tokens(city, now):
    mine = create_token(city.users["roads"])
    theirs = create_token(city.users["water"])
    client = page_for(city.users["roads"])
    page = client.get(reverse("accounts:tokens")).content.decode()
    assert mine[:10] in page and theirs[:10] not in page
    refused = client.post(reverse("accounts:revoke_token", args=[row(theirs).pk]))
    assert refused.status_code == 404
    assert api_status(theirs) == 200
    done = client.post(reverse("accounts:revoke_token", args=[row(mine).pk]))
    assert done.status_code == 302
    assert api_status(mine) == 401
    assert row(mine).revoked_because == RevokedBecause.OWNER
    shown = client.get(reverse("accounts:tokens")).content.decode()
    assert f'id="token-{row(mine).pk}" data-state="revoked"' in shown


def test_the_administrator_sees_and_revokes_everyones_tokens(city, now):
    roads = create_token(city.users["roads"])
    water = create_token(city.users["water"])
    client = page_for(city.users["admin"])
    page = client.get(reverse("accounts:tokens")).content.decode()
    assert roads[:10] in page and water[:10] in page
    only_water = client.get(reverse("accounts:tokens"), {"user": "water"}).content.decode()
    assert water[:10] in only_water and roads[:10] not in only_water
    assert client.post(reverse("accounts:revoke_token", args=[row(roads).pk])).status_code == 302
    assert api_status(roads) == 401
    assert row(roads).revoked_because == RevokedBecause.ADMIN


def test_the_page_needs_a_sign_in(city):
    answer = Client().get(reverse("accounts:tokens"))
    assert answer.status_code == 302 and answer.url.startswith(reverse("web:login"))
    assert Client().post(reverse("accounts:new_token")).status_code == 302
    assert ApiToken.objects.count() == 0
