"""The peer: django-helpdesk on the same city as bench/scale.py, measured the same way.

Why: issue #15 asks for Minsheng's list pages and intake beside a peer's figures from the
same run, on the same machine and the same load. django-helpdesk is the Django ticket
tracker a city would otherwise pick up; it runs on the same Django, the same databases and
the same HTTP server, so what differs is the application.

    python3 bench/helpdesk_peer.py                              # SQLite file under var/bench/
    python3 bench/helpdesk_peer.py --database-url postgresql://postgres@127.0.0.1/helpdesk_bench
    python3 bench/helpdesk_peer.py --reuse --skip-intake        # lists again, no rebuild
    .venv/bin/python bench/scale.py --peer                      # Minsheng and the peer, one run

Any Python 3.10+ runs it (only the standard library outside the throwaway venv).

Method:

1. a throwaway venv, ``var/bench/helpdesk-venv``, gets django-helpdesk 2.6.1 from PyPI
   with Django, Django REST framework, gunicorn and psycopg pinned to the versions in
   Minsheng's own lock (``PINS`` below), and a minimal Django project is written to
   ``var/bench/helpdesk-project``: helpdesk's apps, mounted at ``/``, the database settings
   Minsheng uses (SQLite in WAL with ``synchronous=NORMAL`` and IMMEDIATE transactions;
   PostgreSQL with persistent connections), e-mail to the dummy backend, DRF's token
   authentication, teams mode off (it needs the optional pinax-teams), the rest of
   helpdesk's settings left at their defaults (no ATOMIC_REQUESTS: a create commits each
   row on its own, as a stock install does). The script then runs itself again inside
   that venv;
2. the database (a PostgreSQL database must have "helpdesk" in its name: it is dropped
   and created again) is emptied and migrated, and the same city as ``bench/scale.py`` is
   written with ``bulk_create``: ``--tickets`` tickets (default 100,000), ``--open`` of
   them open (default 25,000, created over the past 20 days, the rest closed over the past
   year), one queue per family of matters (18), texts from Minsheng's classifier corpus
   (``src/minsheng/classify/corpus/train.jsonl``, as scale.py), 20 handlers they are
   assigned to (4% of open tickets unassigned), a staff dispatcher; every ticket has the
   "Ticket Opened" follow-up helpdesk writes, and a closed one its closing follow-up too;
3. as the signed-in dispatcher, through Django's test ``Client``: two warm-up requests,
   then ``--repeat`` timed ones, p50/p95 in ms and the number of SQL queries, of the staff
   ticket list ``/tickets/`` (the page, then the rows it loads by AJAX from
   ``/datatables_ticket_list/<query>``: a staff member waits for both, reported apart and
   as their sum), the search ``/tickets/?q=窨井`` (page and rows likewise), the dashboard
   ``/dashboard/`` and the open-ticket API ``GET /api/tickets/?status=1,2``; these two
   take seconds (the dashboard reads every closed ticket to average its age, the API
   every open ticket, one query each, before paging), so they get one warm-up and only
   ``--slow-repeat`` timed requests, and their p95 is the slowest of those few. Queries
   are counted and timed by an execute wrapper (no cap on how many);
4. ticket create over real HTTP: gunicorn with 2 workers x 2 threads (as ``minsheng
   serve`` in scale.py) and ``--clients`` client threads POSTing ``--requests`` tickets to
   helpdesk's REST API, ``POST /api/tickets/``, with DRF's token authentication (the peer
   of ``POST /api/v1/cases`` with a bearer token: JSON in, the created ticket as JSON out,
   through helpdesk's own TicketForm, follow-up and notifications; the public submit form
   would add a CSRF round trip and an HTML page, and HTTP Basic would hash a password on
   every request). The client names the queue (helpdesk does not route); the texts are the
   corpus's held-out part, as scale.py. creates/s, p50/p95 ms, and the CPU the gunicorn
   processes spent per create.

Prints one JSON document (progress on stderr). Not a test: nothing here asserts a time.
On a shared machine, read the load averages printed beside the figures. What it costs on
this 2-core machine (load average 7-11 from other work): the venv half a minute the first
time; the 100,000 tickets 63 s on PostgreSQL, 83 s on SQLite; a whole run 7-9 minutes,
most of it the dashboard and the open-ticket API.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
VENV = VAR / "helpdesk-venv"
PROJECT = VAR / "helpdesk-project"
CORPUS = ROOT / "src" / "minsheng" / "classify" / "corpus"
# helpdesk itself, and what both sides run on at the versions of Minsheng's requirements/dev.lock.
PINS = [
    "django-helpdesk==2.6.1",
    "Django==5.2.20",
    "djangorestframework==3.18.3",
    "gunicorn==27.0.1",
    "psycopg[binary]==3.3.9",
]
SEARCH = "窨井"
STARTED = time.monotonic()

# The load, the request and the CPU reading as scale.py's (its top level is the standard
# library only, so it imports in the throwaway venv as well).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import _free_port, _load, _post, _tree_cpu, machine, pct  # noqa: E402


def log(msg: str) -> None:
    print(f"[peer {time.monotonic() - STARTED:7.1f} s] {msg}", file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument("--open", type=int, default=25_000)
    p.add_argument("--database-url", default="", help="postgresql://…/helpdesk_bench (default: SQLite)")
    p.add_argument("--reuse", action="store_true", help="keep the city if it has --tickets (else build)")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--slow-repeat", type=int, default=5, help="timed requests of the dashboard and API")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=600)
    p.add_argument("--workers", type=int, default=2, help="gunicorn's processes (as scale.py's)")
    p.add_argument("--threads", type=int, default=2, help="threads in each of them")
    p.add_argument("--skip-lists", action="store_true")
    p.add_argument("--skip-intake", action="store_true")
    p.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


# --- outside: the throwaway venv and project -------------------------------------------------


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / ".pins"
    wanted = "\n".join(PINS)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    VAR.mkdir(parents=True, exist_ok=True)
    log(f"creating {VENV.relative_to(ROOT)} with {', '.join(PINS)}…")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    stamp.write_text(wanted)
    return python


def database_settings(url: str) -> dict[str, Any]:
    """The same settings Minsheng's settings.py makes from DATABASE_URL."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR / "helpdesk.sqlite3"),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    u = urllib.parse.urlsplit(url)
    if not u.scheme.startswith("postgres"):
        raise SystemExit("--database-url: a postgresql:// URL (SQLite is the default)")
    name = u.path.lstrip("/")
    if "helpdesk" not in name:
        raise SystemExit(f"refusing database {name!r}: the peer's database has 'helpdesk' in its name")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": urllib.parse.unquote(u.username or ""),
        "PASSWORD": urllib.parse.unquote(u.password or ""),
        "HOST": u.hostname or "",
        "PORT": str(u.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


SETTINGS = '''"""Written by bench/helpdesk_peer.py: a minimal project around django-helpdesk."""

SECRET_KEY = "helpdesk-peer-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "hdbench.urls"
WSGI_APPLICATION = "hdbench.wsgi.application"
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
            ],
        },
    },
]
DATABASES = {"default": %(database)r}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
SITE_ID = 1
STATIC_URL = "/static/"
MEDIA_ROOT = %(media)r
LOGIN_URL = "/login/"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# Teams mode (on by default) needs the optional pinax-teams app; a queue per family of
# matters stands for the units here.
HELPDESK_TEAMS_MODE_ENABLED = False
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}
'''

URLS = """from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
"""

WSGI = """import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")
application = get_wsgi_application()
"""

MANAGE = """import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""


def write_project(url: str) -> None:
    pkg = PROJECT / "hdbench"
    pkg.mkdir(parents=True, exist_ok=True)
    database = database_settings(url)
    (pkg / "__init__.py").write_text("")
    (pkg / "settings.py").write_text(SETTINGS % {"database": database, "media": str(VAR / "helpdesk-media")})
    (pkg / "urls.py").write_text(URLS)
    (pkg / "wsgi.py").write_text(WSGI)
    (PROJECT / "manage.py").write_text(MANAGE)


def outside(args: argparse.Namespace) -> None:
    python = ensure_venv()
    write_project(args.database_url)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="hdbench.settings", PYTHONPATH=str(PROJECT))
    env.pop("DATABASE_URL", None)  # the project's settings name the database
    sys.stdout.flush()
    argv = [str(python), str(Path(__file__).resolve()), "--inside", *sys.argv[1:]]
    os.execve(str(python), argv, env)  # noqa: S606 (this script again, inside the venv it made)


# --- inside: the city ------------------------------------------------------------------------


def corpus(part: str) -> list[dict[str, str]]:
    with open(CORPUS / f"{part}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def recreate(url: str) -> None:
    if not url:
        path = VAR / "helpdesk.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    db = database_settings(url)
    admin = urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def family(code: str) -> str:
    return code.split(".", 1)[0]


def build_city(total: int, open_: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from helpdesk.models import FollowUp, Queue, Ticket
    from rest_framework.authtoken.models import Token

    call_command("migrate", verbosity=0)
    User = get_user_model()
    rng = random.Random(15)
    rows = corpus("train")
    queues = {}
    for name in sorted({family(r["code"]) for r in rows}):
        queues[name] = Queue.objects.create(title=name, slug=name.replace("_", "-"))
    # create_user, not bulk_create: helpdesk's post_save signal gives each its settings row.
    dispatcher = User.objects.create_user("dispatcher", "dispatcher@example.com", None, is_staff=True)
    Token.objects.create(user=dispatcher)
    handlers = [
        User.objects.create_user(f"handler{k:02d}", f"handler{k:02d}@example.com", None, is_staff=True)
        for k in range(20)
    ]
    now = timezone.now()
    # Ticket.created and .modified are auto_now(_add): bulk_create would stamp them all now.
    stamped = [Ticket._meta.get_field("created"), Ticket._meta.get_field("modified")]
    for field in stamped:
        field.auto_now = field.auto_now_add = False
    log(f"writing {total:,} tickets ({open_:,} open)…")
    chunk = 5000
    for start in range(0, total, chunk):
        tickets: list[Ticket] = []
        for i in range(start, min(total, start + chunk)):
            row = rows[i % len(rows)]
            is_open = i >= total - open_
            if is_open:
                at = now - dt.timedelta(minutes=rng.uniform(1, 20 * 24 * 60))
                status = Ticket.REOPENED_STATUS if rng.random() < 0.05 else Ticket.OPEN_STATUS
                modified = at + dt.timedelta(minutes=5)
                assigned = None if rng.random() < 0.04 else handlers[i % len(handlers)]
            else:
                at = now - dt.timedelta(minutes=rng.uniform(20 * 24 * 60, 365 * 24 * 60))
                status = Ticket.CLOSED_STATUS
                modified = at + dt.timedelta(days=3)
                assigned = handlers[i % len(handlers)]
            tickets.append(
                Ticket(
                    title=row["text"][:40],
                    queue=queues[family(row["code"])],
                    created=at,
                    modified=modified,
                    submitter_email=f"caller{rng.randrange(60_000)}@example.com",
                    assigned_to=assigned,
                    status=status,
                    description=row["text"],
                    priority=1 if rng.random() < 0.05 else 3,
                    due_date=at + dt.timedelta(days=7),
                )
            )
        Ticket.objects.bulk_create(tickets, batch_size=1000)
        if tickets[0].pk is None:  # a backend without RETURNING: read the ids back
            keys = [t.secret_key for t in tickets]
            ids = dict(Ticket.objects.filter(secret_key__in=keys).values_list("secret_key", "pk"))
            for t in tickets:
                t.pk = ids[t.secret_key]
        followups: list[FollowUp] = []
        for t in tickets:
            followups.append(
                FollowUp(
                    ticket_id=t.pk,
                    title="Ticket Opened",
                    date=t.created,
                    comment=t.description,
                    public=True,
                    user=dispatcher,
                )
            )
            if t.status == Ticket.CLOSED_STATUS:
                followups.append(
                    FollowUp(
                        ticket_id=t.pk,
                        title="Ticket Closed",
                        date=t.modified,
                        comment="已办结",
                        public=True,
                        user=t.assigned_to,
                        new_status=Ticket.CLOSED_STATUS,
                    )
                )
        FollowUp.objects.bulk_create(followups, batch_size=2000)
        log(f"  {start + len(tickets):,}")
    for field in stamped:
        field.auto_now_add = field.name == "created"
        field.auto_now = field.name == "modified"
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


# --- inside: lists ---------------------------------------------------------------------------


def _rows_url(page_html: bytes) -> str:
    """The URL the list page's DataTable asks for its rows, with the parameters DataTables
    sends on the first draw (its own ordering is empty: the saved query's order applies)."""
    match = re.search(rb'"(/datatables_ticket_list/[A-Za-z0-9+/=]*)"', page_html)
    if not match:
        raise SystemExit("the ticket list page names no datatables_ticket_list URL")
    return match.group(1).decode() + "?draw=1&start=0&length=25&search%5Bvalue%5D=&search%5Bregex%5D=false"


def bench_lists(repeat: int, slow_repeat: int) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="dispatcher"))

    def timed(path: str) -> tuple[Any, float, float, float, int]:
        spent = [0, 0.0]

        def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent[0] += 1
                spent[1] += time.perf_counter() - t

        with connection.execute_wrapper(wrapper):
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.get(path)
            ms = (time.perf_counter() - t0) * 1000
            cpu = (time.process_time() - c0) * 1000
        return r, ms, cpu, spent[1] * 1000, int(spent[0])

    def row(label: str, r: Any, times: list[float], cpu: list[float], db: list[float], queries: int) -> dict:
        out = {
            "page": label,
            "status": r.status_code,
            "p50_ms": round(pct(times, 0.5), 1),
            "p95_ms": round(pct(times, 0.95), 1),
            "cpu_p50_ms": round(pct(cpu, 0.5), 1),
            "db_p50_ms": round(pct(db, 0.5), 1),
            "queries": queries,
            "kb": round(len(r.content) / 1024, 1),
        }
        log(json.dumps(out, ensure_ascii=False))
        return out

    out: list[dict[str, Any]] = []
    # A list a staff member opens: the page, then the rows its DataTable fetches.
    for label, path in (
        ("staff ticket list /tickets/", "/tickets/"),
        (f"search /tickets/?q={SEARCH}", f"/tickets/?q={urllib.parse.quote(SEARCH)}"),
    ):
        rows_path = _rows_url(client.get(path).content)
        for _ in range(2):
            client.get(path)
            client.get(rows_path)
        page: dict[str, list[float]] = {"t": [], "c": [], "d": []}
        rows: dict[str, list[float]] = {"t": [], "c": [], "d": []}
        both: list[float] = []
        for _ in range(repeat):
            rp, tp, cp, dp, qp = timed(path)
            rr, tr, cr, dr, qr = timed(rows_path)
            for acc, vals in ((page, (tp, cp, dp)), (rows, (tr, cr, dr))):
                for key, v in zip("tcd", vals, strict=True):
                    acc[key].append(v)
            both.append(tp + tr)
        out.append(row(f"{label} page", rp, page["t"], page["c"], page["d"], qp))
        rows_row = row(f"{label} rows (datatables JSON)", rr, rows["t"], rows["c"], rows["d"], qr)
        rows_row["records_filtered"] = json.loads(rr.content)["recordsFiltered"]
        out.append(rows_row)
        total = {
            "page": f"{label} page + rows",
            "p50_ms": round(pct(both, 0.5), 1),
            "p95_ms": round(pct(both, 0.95), 1),
            "queries": qp + qr,
        }
        log(json.dumps(total, ensure_ascii=False))
        out.append(total)
    for label, path, n, warm in (
        ("dashboard /dashboard/", "/dashboard/", slow_repeat, 1),
        ("GET /api/tickets/?status=1,2 (open)", "/api/tickets/?status=1,2", slow_repeat, 1),
    ):
        if n <= 0:
            continue
        for _ in range(warm):
            client.get(path)
        times, cpu, db = [], [], []
        for _ in range(n):
            r, t, c, d, q = timed(path)
            times.append(t)
            cpu.append(c)
            db.append(d)
        out.append(row(label, r, times, cpu, db, q))
    return out


# --- inside: intake --------------------------------------------------------------------------


def _bodies(n: int, seed: int) -> list[dict[str, Any]]:
    from helpdesk.models import Queue

    rng = random.Random(seed)
    queues = dict(Queue.objects.values_list("slug", "pk"))
    rows = corpus("heldout")
    out = []
    for i in range(n):
        row = rows[i % len(rows)]
        out.append(
            {
                "queue": queues[family(row["code"]).replace("_", "-")],
                "title": row["text"][:40],
                "description": row["text"],
                "submitter_email": f"caller{rng.randrange(60_000)}@example.com",
                "priority": 3,
            }
        )
    return out


def bench_intake(clients: int, requests: int, workers: int = 2, threads: int = 2) -> dict[str, Any]:
    from rest_framework.authtoken.models import Token

    token = Token.objects.get(user__username="dispatcher").key
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--chdir", str(PROJECT),
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--threads", str(threads),
            "--timeout", "60",
            "--access-logfile", "-",
            "hdbench.wsgi:application",
        ],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/tickets/"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        for body in _bodies(8, 1):  # both workers warm
            status, raw = _post(url, token, body, scheme="Token")
            if status != 201:
                raise SystemExit(f"ticket create answered {status}: {raw[:500]!r}")
        bodies = _bodies(requests, 2)
        cpu0 = _tree_cpu(server.pid)
        elapsed, lat, errors = _load(
            lambda b: _post(url, token, b, scheme="Token")[0] == 201, bodies, clients
        )
        cpu1 = _tree_cpu(server.pid)
        app_cpu = None
        if cpu1 > cpu0 and lat:  # 0 where /proc is not
            app_cpu = round((cpu1 - cpu0) * 1000 / len(lat), 1)
        result = {
            "endpoint": "POST /api/tickets/ (DRF, token auth)",
            "server": f"gunicorn {workers} workers x {threads} threads",
            "requests": requests,
            "clients": clients,
            "errors": errors,
            "per_second": round(len(lat) / elapsed, 1),
            "p50_ms": round(pct(lat, 0.5), 1) if lat else None,
            "p95_ms": round(pct(lat, 0.95), 1) if lat else None,
            "app_cpu_ms_per_create": app_cpu,
        }
        log(f"ticket create: {result}")
        return result
    finally:
        server.terminate()
        server.wait(timeout=20)


# --- inside: main ----------------------------------------------------------------------------


def built(url: str, tickets: int) -> bool:
    """Whether the database already holds at least ``tickets`` tickets (``--reuse`` builds if
    not: a city of another size is not reused)."""
    if not url:
        path = VAR / "helpdesk.sqlite3"
        if not path.exists():
            return False
        lite = sqlite3.connect(path)
        try:
            if not lite.execute("SELECT 1 FROM sqlite_master WHERE name = 'helpdesk_ticket'").fetchone():
                return False
            return lite.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()[0] >= tickets
        finally:
            lite.close()
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT to_regclass('helpdesk_ticket') IS NOT NULL").fetchone()
            if not (row and row[0]):
                return False
            count = conn.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()
            return bool(count and count[0] >= tickets)
    except psycopg.OperationalError:
        return False


def inside(args: argparse.Namespace) -> None:
    build = not args.reuse or not built(args.database_url, args.tickets)
    if build:
        recreate(args.database_url)
    import warnings

    import django

    # helpdesk's dashboard filters on dates without a zone: Django warns on every request.
    warnings.filterwarnings("ignore", message=r"DateTimeField .* received a naive datetime")
    django.setup()
    from django.db import connection
    from helpdesk.models import Ticket

    result: dict[str, Any] = {"peer": f"django-helpdesk {PINS[0].split('==')[1]}", "pins": PINS}
    if build:
        t0 = time.perf_counter()
        build_city(args.tickets, args.open)
        result["build_seconds"] = round(time.perf_counter() - t0)
        log(f"city built in {result['build_seconds']} s")
    result |= {
        "database": connection.vendor,
        "tickets": Ticket.objects.count(),
        "open": Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).count(),
        "machine": machine(),
    }
    if not args.skip_lists:
        result["lists"] = bench_lists(args.repeat, args.slow_repeat)
    if not args.skip_intake:
        result["intake"] = bench_intake(args.clients, args.requests, args.workers, args.threads)
    result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["reproduce"] = f"python3 bench/helpdesk_peer.py --tickets {args.tickets} --open {args.open}" + (
        f" --database-url {args.database_url}" if args.database_url else ""
    )
    print(json.dumps(result, ensure_ascii=False, indent=1))


def main() -> None:
    args = parse_args()
    if args.inside:
        inside(args)
    else:
        outside(args)


if __name__ == "__main__":
    main()
