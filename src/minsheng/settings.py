"""One settings module, read from the environment (12-factor) and checked at start-up.

Development defaults are safe for a laptop: SQLite under ``var/``, DEBUG off unless asked.
Production (``MINSHENG_ENV=production``) refuses to start with the development secret.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("MINSHENG_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("MINSHENG_VAR", PROJECT_DIR / "var"))

ENV = os.environ.get("MINSHENG_ENV", "development")
MINSHENG_ENV = ENV  # read through core.conf.setting("MINSHENG_ENV", ...), so that tests may set it
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
    "ninja",  # the API's documentation (Swagger UI) from our own static files, no CDN
    "axes",  # sign-in lockout and the record of sign-ins (accounts/signins.py)
    "django_otp",
    "django_otp.plugins.otp_totp",  # the staff's optional second factor (accounts/second_factor.py)
    "auditlog",  # what staff change, append-only (core/audit.py)
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
    "minsheng.knowledge",
    "minsheng.calls",
    "minsheng.followup",
    "minsheng.media",
    "minsheng.field",
    "minsheng.public",
    "minsheng.open311",
    "minsheng.enterprise",
    "minsheng.proposals",
    "minsheng.worker",
    "minsheng.command",
    "minsheng.warning",
    "minsheng.ranking",
    "minsheng.typical",
    "minsheng.transfer",
    "minsheng.province",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "minsheng.accounts.sessions.SessionLimitsMiddleware",
    "minsheng.accounts.second_factor.SecondFactorMiddleware",
    "minsheng.core.audit.AuditMiddleware",  # who changed what, from where (auditlog)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into its page
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
        # Django's, with writers queued instead of polling (core/sqlite/base.py).
        "ENGINE": "minsheng.core.sqlite",
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
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked account before any password is checked.
AUTHENTICATION_BACKENDS = [
    "minsheng.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
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

# --- Accounts: sign-in, sessions, the second factor, transport and headers (accounts/) ---
# A staff session ends after this many idle minutes (a page polled in the background does not
# count as activity) and at the latest this many hours after signing in; 0 turns a limit off.
MINSHENG_SESSION_IDLE_MINUTES = int(os.environ.get("MINSHENG_SESSION_IDLE_MINUTES", 30))
MINSHENG_SESSION_MAX_HOURS = int(os.environ.get("MINSHENG_SESSION_MAX_HOURS", 8))
SESSION_COOKIE_AGE = (MINSHENG_SESSION_MAX_HOURS or 8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True  # shared desks at the centre: closing the browser signs out
# Administrators (role administrator, superusers, Django admin staff) must use a second factor
# (TOTP) where this is on: by default in production. Other staff may turn it on for themselves.
MINSHENG_SECOND_FACTOR_FOR_ADMINS = (
    os.environ.get("MINSHENG_SECOND_FACTOR_FOR_ADMINS", "1" if ENV == "production" else "0") == "1"
)
OTP_TOTP_ISSUER = os.environ.get("MINSHENG_OTP_ISSUER", "Minsheng")
# django-axes: after this many failed sign-ins an account is locked for the cool-off time
# (an administrator lifts it sooner: minsheng axes_reset_username NAME). The lock holds the
# account, not the address: the centre's staff often share one address behind a NAT.
AXES_FAILURE_LIMIT = int(os.environ.get("MINSHENG_SIGNIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = float(os.environ.get("MINSHENG_SIGNIN_LOCK_MINUTES", 30)) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 warns that a lock without the address can be dodged by changing browsers or cookies;
# a lock on the account alone holds whatever the client changes, so the warning does not apply.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure on record, not only the count
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 1_000_000  # keep them: the record is the audit
AXES_CLIENT_IP_CALLABLE = "minsheng.core.clients.client_address"  # behind the city's proxy too
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token", "code"]
AXES_VERBOSE = False  # accounts/signins.py writes the one line per event to minsheng.security
# Production speaks HTTPS only: HSTS for a year (subdomains too), plain HTTP redirected. Behind
# a TLS-terminating proxy set MINSHENG_PROXY_SSL_HEADER=1 so that the proxy's
# X-Forwarded-Proto tells Django the request was HTTPS (the proxy must overwrite the header).
if ENV == "production":
    SECURE_SSL_REDIRECT = os.environ.get("MINSHENG_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = int(os.environ.get("MINSHENG_HSTS_SECONDS", 365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = os.environ.get("MINSHENG_HSTS_PRELOAD", "1") == "1"
if os.environ.get("MINSHENG_PROXY_SSL_HEADER") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def tile_sources(url: str) -> list[str]:
    """Where the report page's map tiles come from, for the policy's ``img-src``: the tile
    URL's origin, a templated subdomain (``t{s}.tianditu.gov.cn``) as a wildcard."""
    if "://" not in url:
        return []
    scheme, _, rest = url.partition("://")
    labels = rest.split("/", 1)[0].split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    host = ".".join(["*", *labels[max(templated) + 1 :]]) if templated else ".".join(labels)
    return [f"{scheme}://{host}"]


# Content-Security-Policy (django-csp) on every answer: scripts and style sheets only from our
# own origin (an inline <script> or <style> needs the request's nonce), no plugins, no framing,
# forms post only here. style="" attributes are allowed (layout only; they cannot run code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:", *tile_sources(os.environ.get("MINSHENG_MAP_TILE_URL", ""))],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# --- end of accounts, sessions and headers ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Requesters' follow tokens never reach a log line (core/redact.py).
    "filters": {"hide_tokens": {"()": "minsheng.core.redact.RedactTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["hide_tokens"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Sign-ins good and bad, lockouts, sign-outs, idle ends, second-factor changes: one line
        # each (accounts/signins.py); MINSHENG_SECURITY_LOG also appends them to that file.
        "minsheng.security": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
if os.environ.get("MINSHENG_SECURITY_LOG"):
    LOGGING["handlers"]["security_file"] = {  # type: ignore[index]
        "class": "logging.handlers.WatchedFileHandler",
        "filename": os.environ["MINSHENG_SECURITY_LOG"],
        "formatter": "plain",
    }
    LOGGING["loggers"]["minsheng.security"]["handlers"] = ["security_file"]  # type: ignore[index]

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
# The command centre's screen (minsheng.command.kept): how long (seconds) its figures and map
# are kept per scope, refreshed behind the request; 0 computes them on every request.
MINSHENG_COMMAND_CACHE_S = int(os.environ.get("MINSHENG_COMMAND_CACHE_S", "60"))
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
# Or name the reverse proxies (addresses or CIDR ranges, comma-separated): a request from one
# of them is counted by the client address its X-Forwarded-For names (core/clients.py).
MINSHENG_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("MINSHENG_TRUSTED_PROXIES", "").split(",") if p.strip()
]
# The follow page's guess limit (public/limits.py): failed look-ups per client per window
# and per case number per window (seconds).
MINSHENG_TRACK_CLIENT_FAILURES = int(os.environ.get("MINSHENG_TRACK_CLIENT_FAILURES", 20))
MINSHENG_TRACK_CLIENT_WINDOW = int(os.environ.get("MINSHENG_TRACK_CLIENT_WINDOW", 15 * 60))
MINSHENG_TRACK_CASE_FAILURES = int(os.environ.get("MINSHENG_TRACK_CASE_FAILURES", 10))
MINSHENG_TRACK_CASE_WINDOW = int(os.environ.get("MINSHENG_TRACK_CASE_WINDOW", 24 * 3600))
# Urgent cases assigned between these local hours go to the unit's people on duty.
MINSHENG_NIGHT_STARTS = 20
MINSHENG_NIGHT_ENDS = 8
# --- end of photos, field and public pages ---

# --- Personal data at rest, its retention, and the audit (core/crypto.py, cases/retention.py,
# core/audit.py) ---
# Keys: MINSHENG_DATA_KEYS (Fernet keys) and MINSHENG_INDEX_KEYS (the phone's keyed hash), each
# comma-separated, newest first, read from the environment by core/crypto.py; `minsheng
# rotatekeys --new-key` prints a key and, after a new one is put in front, re-encrypts. Without
# them keys are derived from SECRET_KEY, which `minsheng check --deploy` refuses in production.
# How long a closed case keeps its requester's name and phone (days; 0 keeps them for good).
MINSHENG_PERSONAL_DATA_DAYS = int(os.environ.get("MINSHENG_PERSONAL_DATA_DAYS", 365))
# django-auditlog: the models whose every change is recorded (who, when, from where, old and new
# value), the secrets among their fields recorded as changed but never written down.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {
        "model": "auth.user",
        "exclude_fields": ["last_login"],
        "mask_fields": ["password"],
        "m2m_fields": ["groups", "user_permissions"],
    },
    {"model": "auth.group", "m2m_fields": ["permissions"]},
    "accounts.unit",
    "accounts.profile",
    {"model": "accounts.apitoken", "exclude_fields": ["last_used_at"], "mask_fields": ["key_hash"]},
    "catalog.matter",
    "places.place",
    "places.namedfeature",
    {"model": "notify.unitchannel", "mask_fields": ["url", "secret"]},
    {"model": "notify.messagetemplate", "exclude_fields": ["updated_at"]},
    "core.holidayschedule",
    "field.dutyshift",
    "sensors.devicetype",
    "sensors.gateway",
    {
        "model": "sensors.device",
        "exclude_fields": ["status", "last_seen_at", "last_values", "valve_position"],
        "mask_fields": ["mqtt_password_hash"],
    },
    {"model": "sensors.sensorkey", "exclude_fields": ["last_used_at"], "mask_fields": ["key_hash"]},
    "sensors.rainperiod",
    {"model": "public.reportingpartner", "mask_fields": ["phone"]},
)
AUDITLOG_MASK_CALLABLE = "minsheng.core.audit.mask_secret"
AUDITLOG_DISABLE_ON_RAW_SAVE = True  # fixtures and data loads are not staff's changes
# --- end of personal data and audit ---
