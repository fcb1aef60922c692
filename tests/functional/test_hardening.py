"""What a security review checks on a fresh install besides signing in: passwords Django's
validators accept, no demo accounts in production, production's transport and header settings
(``minsheng check --deploy`` clean), a Content-Security-Policy on every page, and the API's
documentation only for signed-in staff, from our own static files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db

PRODUCTION_SECRET = "x" * 20 + "-production-secret-for-the-check-" + "y" * 20
# Real keys, as a server's environment holds them (``minsheng rotatekeys --new-key``).
PRODUCTION_KEYS = {
    "MINSHENG_DATA_KEYS": "3Mcop5xlSZ4dyuvvDG3trQqX0oQ8Kv8Zb7oqB7pWx9E=",
    "MINSHENG_INDEX_KEYS": "k0tzG9wOZ1yq2M6s5e3lV8bX1cQ4uJ7nR2aP9dF6hYI=",
}


def _production_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINSHENG_", "DJANGO_"))}
    env.update(
        MINSHENG_ENV="production",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="minsheng.example.gov.cn",
        MINSHENG_VAR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
        DJANGO_SETTINGS_MODULE="minsheng.settings",
        **PRODUCTION_KEYS,
    )
    env.update(extra)
    return env


# --- passwords --------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["12345678", "password1234", "minsheng", "qwertyuiop12"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_a_long_uncommon_password_is_accepted(city):
    validate_password("平湖 hotline, spring tide 2026", user=city.users["operator"])


def test_a_password_like_the_user_name_is_refused(city):
    with pytest.raises(ValidationError):
        validate_password("dispatcher2026", user=city.users["dispatcher"])


# --- no demo city in production ---------------------------------------------------------------


def test_the_demo_city_refuses_to_load_in_production(db, settings):
    from minsheng.demo.actions import DemoRefused, load_demo

    settings.MINSHENG_ENV = "production"
    with pytest.raises(CommandError, match="production"):
        call_command("loaddemo")
    with pytest.raises(DemoRefused):
        load_demo()
    assert not get_user_model().objects.exists()


def test_loaddemo_refuses_when_the_environment_says_production(tmp_path):
    """The command reads MINSHENG_ENV from the environment, as a server sets it, and refuses
    before it touches the database (which here has no tables at all)."""
    run = subprocess.run(
        [sys.executable, "-m", "minsheng", "loaddemo"],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode != 0
    assert "never loaded in production" in run.stderr, run.stderr


# --- production settings ----------------------------------------------------------------------


def test_check_deploy_is_clean_in_production(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "minsheng", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


@pytest.mark.parametrize(
    ("change", "check_id"),
    [
        ({"MINSHENG_DATA_KEYS": ""}, "minsheng.E001"),
        ({"MINSHENG_INDEX_KEYS": ""}, "minsheng.E001"),
        ({"MINSHENG_DATA_KEYS": "not-a-fernet-key"}, "minsheng.E002"),
    ],
)
def test_check_deploy_refuses_personal_data_keys_derived_or_malformed(tmp_path, change, check_id):
    run = subprocess.run(
        [sys.executable, "-m", "minsheng", "check", "--deploy"],
        env=_production_env(tmp_path, **change),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert check_id in run.stdout + run.stderr


def test_production_settings_force_https_and_short_sessions(tmp_path):
    names = [
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_AGE",
        "MINSHENG_SESSION_IDLE_MINUTES",
        "MINSHENG_SECOND_FACTOR_FOR_ADMINS",
    ]
    run = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings;"
            f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))",
        ],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    values = json.loads(run.stdout)
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_AGE"] == 8 * 3600
    assert values["MINSHENG_SESSION_IDLE_MINUTES"] == 30
    assert values["MINSHENG_SECOND_FACTOR_FOR_ADMINS"] is True


def test_an_https_request_is_answered_with_hsts_and_plain_http_is_redirected(city, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    plain = Client().get(reverse("web:login"))
    assert plain.status_code == 301 and plain.url.startswith("https://")
    secure = Client().get(reverse("web:login"), secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")


# --- Content-Security-Policy ------------------------------------------------------------------


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("url", ["/login/", "/track/", "/report/"])
def test_every_page_carries_a_content_security_policy_without_inline_script(city, url):
    answer = Client().get(url)
    assert answer.status_code == 200
    policy = _directives(answer["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert not re.search(r"https?://", answer["Content-Security-Policy"])  # no CDN allowed in


def test_the_map_tiles_of_the_report_page_are_allowed_when_the_city_sets_them(city, settings):
    from minsheng.settings import tile_sources

    assert tile_sources("https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&z={z}") == [
        "https://*.tianditu.gov.cn"
    ]
    assert tile_sources("") == []


# --- the API's documentation ------------------------------------------------------------------


def test_the_api_documentation_is_for_signed_in_staff_only(city):
    anonymous = Client()
    for url in ("/api/v1/docs", "/api/v1/openapi.json"):
        answer = anonymous.get(url)
        assert answer.status_code == 302 and answer.url.startswith(reverse("web:login")), url
    nobody = Client()
    get_user_model().objects.create_user(username="nobody", password=PASSWORD)
    nobody.force_login(get_user_model().objects.get(username="nobody"))
    assert nobody.get("/api/v1/openapi.json").status_code == 403  # signed in, but no role
    staff = Client()
    staff.force_login(city.users["operator"])
    assert staff.get("/api/v1/openapi.json").status_code == 200


def test_the_api_documentation_loads_swagger_ui_from_our_own_static_files(city):
    staff = Client()
    staff.force_login(city.users["operator"])
    page = staff.get("/api/v1/docs").content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    styles = re.findall(r'<link[^>]*href="([^"]+)"', page)
    assert scripts and all(s.startswith("/static/") for s in scripts), scripts
    assert all(s.startswith("/static/") for s in styles), styles
    assert "cdn" not in page.lower()
