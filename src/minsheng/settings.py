"""One settings module, read from the environment (12-factor) and checked at start-up.

Development defaults are safe for a laptop: SQLite under ``var/``, DEBUG off unless asked.
Production (``MINSHENG_ENV=production``) refuses to start with the development secret.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("MINSHENG_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("MINSHENG_VAR", PROJECT_DIR / "var"))

ENV = os.environ.get("MINSHENG_ENV", "development")
DEV_SECRET = "dev-only-not-secret-minsheng"  # noqa: S105  (rejected in production below)
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
DEBUG = os.environ.get("DEBUG", "0") == "1"
if ENV == "production" and (SECRET_KEY == DEV_SECRET or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 32+ characters in production.")

if os.environ.get("MINSHENG_CLOCK"):
    # A moved clock (core.clock) is for tests and demos: checked here so that a typo fails at
    # start-up, and never allowed in production.
    from minsheng.core.clock import parse_instant

    try:
        parse_instant(os.environ["MINSHENG_CLOCK"])
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    if ENV == "production":
        raise ImproperlyConfigured("MINSHENG_CLOCK moves the clock for tests; it is refused in production.")

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
if ENV != "production":
    ALLOWED_HOSTS += ["testserver", "[::1]"]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "minsheng.core",
    "minsheng.places",
    "minsheng.accounts",
    "minsheng.catalog",
    "minsheng.cases",
    "minsheng.notify",
    "minsheng.routing",
    "minsheng.api",
    "minsheng.web",
    "minsheng.demo",
    "minsheng.stats",
    "minsheng.sensors",
    "minsheng.groups",
    "minsheng.media",
    "minsheng.field",
    "minsheng.public",
    "minsheng.worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "minsheng.urls"
WSGI_APPLICATION = "minsheng.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "minsheng.notify.context_processors.unread",
                "minsheng.web.context_processors.calendar_notices",
            ],
        },
    },
]


def _database() -> dj_database_url.DBConfig:
    url = os.environ.get("DATABASE_URL")
    if url and not url.startswith("sqlite"):
        return dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    name = dj_database_url.parse(url)["NAME"] if url else str(VAR_DIR / "minsheng.sqlite3")
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {
            # WAL lets readers work while the worker writes; IMMEDIATE takes the write lock
            # at BEGIN so two writers queue instead of failing half-way with "locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # A file, not memory, so that tests can run the worker as a separate process; one
        # per test process, so that two test runs on one machine never share it.
        "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if ENV == "production"
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = ENV != "production"
if ENV != "production":
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it to exist

# A cache shared by every process of the server (rate limits must hold across gunicorn
# workers): Redis when CACHE_URL names one, else files under var/.
if os.environ.get("CACHE_URL", "").startswith("redis"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = ENV == "production"
CSRF_COOKIE_SECURE = ENV == "production"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The city this deployment serves (data, not code branches).
MINSHENG_CITY_NAME = os.environ.get("MINSHENG_CITY_NAME", "平湖市")
MINSHENG_CASE_PREFIX = os.environ.get("MINSHENG_CASE_PREFIX", "MS")
# Zero-touch dispatch (零接触派单): a case the router is sure of goes to its unit with no
# human step. Off = shadow mode: the router still records its decision for dispatchers.
MINSHENG_AUTO_DISPATCH = os.environ.get("MINSHENG_AUTO_DISPATCH", "1") == "1"
# Statistics: how old (seconds) today's figures may be when the page reads them from the
# rollup the refresh keeps for today; 0 counts today live on every view. PostgreSQL (a city
# in production, up to millions of cases a year): 120; SQLite (the embedded default): live.
MINSHENG_STATS_TODAY_ROLLUP_S = int(
    os.environ.get(
        "MINSHENG_STATS_TODAY_ROLLUP_S",
        "120" if DATABASES["default"]["ENGINE"].endswith("postgresql") else "0",
    )
)
MINSHENG_STATS_PARALLEL = os.environ.get("MINSHENG_STATS_PARALLEL", "1") == "1"
MINSHENG_MODEL_DIR = Path(os.environ.get("MINSHENG_MODEL_DIR", VAR_DIR / "models"))

# --- Photos, the field worker's phone and the public pages (minsheng.media/field/public) ---
# Photos are re-encoded (EXIF and GPS stripped) before they reach the default storage and
# are served only through views that check who may see the case: never from MEDIA_URL.
# For S3-compatible storage install ``django-storages[s3]`` and set the bucket below; the
# bucket stays private (the views stream the files, no public URL is ever handed out).
if os.environ.get("MINSHENG_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["MINSHENG_S3_BUCKET"],
            "endpoint_url": os.environ.get("MINSHENG_S3_ENDPOINT") or None,
            "region_name": os.environ.get("MINSHENG_S3_REGION") or None,
            "access_key": os.environ.get("MINSHENG_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("MINSHENG_S3_SECRET_KEY") or None,
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
MINSHENG_PHOTO_MAX_BYTES = int(os.environ.get("MINSHENG_PHOTO_MAX_BYTES", 10 * 1024 * 1024))
MINSHENG_PHOTO_MAX_PIXELS = int(os.environ.get("MINSHENG_PHOTO_MAX_PIXELS", 50_000_000))
MINSHENG_PHOTO_MAX_SIDE = 2560  # stored photos are scaled down to this (pixels, long side)
MINSHENG_PHOTO_THUMB_SIDE = 320
MINSHENG_REPORT_MAX_PHOTOS = 3
# Base map of the report page: the city's boundaries and roads drawn as vectors; a tile
# layer is added when a URL is set. Tiles must be WGS-84/CGCS2000 (e.g. 天地图), not GCJ-02.
MINSHENG_MAP_TILE_URL = os.environ.get("MINSHENG_MAP_TILE_URL", "")
MINSHENG_MAP_TILE_ATTRIBUTION = os.environ.get("MINSHENG_MAP_TILE_ATTRIBUTION", "")
# Public pages: limits per client address and per phone number (django-ratelimit rates),
# and the friction step after a burst of anonymous reports from one address.
MINSHENG_PUBLIC_RATE_IP = os.environ.get("MINSHENG_PUBLIC_RATE_IP", "20/h")
MINSHENG_PUBLIC_RATE_PHONE = os.environ.get("MINSHENG_PUBLIC_RATE_PHONE", "5/10m")
MINSHENG_FRICTION_AFTER = int(os.environ.get("MINSHENG_FRICTION_AFTER", 3))
MINSHENG_FRICTION_WINDOW = 3600  # seconds over which anonymous reports are counted
MINSHENG_FRICTION_WAIT = int(os.environ.get("MINSHENG_FRICTION_WAIT", 15))  # seconds
# Behind a reverse proxy, name the header carrying the client's address (set by the proxy,
# e.g. HTTP_X_REAL_IP); the limits are per address, so this must not be client-controlled.
if os.environ.get("RATELIMIT_IP_META_KEY"):
    RATELIMIT_IP_META_KEY = os.environ["RATELIMIT_IP_META_KEY"]
# Urgent cases assigned between these local hours go to the unit's people on duty.
MINSHENG_NIGHT_STARTS = 20
MINSHENG_NIGHT_ENDS = 8
# --- end of photos, field and public pages ---
