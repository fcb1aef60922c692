"""Processes a test starts (the worker, the ingest): on the test's database and clock."""

from __future__ import annotations

from django.db import connection

from minsheng.core import clock


def child_env() -> dict[str, str]:
    """The environment for a ``minsheng`` process started by a test: the test's database
    (``DATABASE_URL``) and the test's clock (``MINSHENG_CLOCK``, from ``clock.child_env``),
    so that the child's limits fall due as they would at the test's moment, on any date."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        url = f"postgresql://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = clock.child_env()
    env["DATABASE_URL"] = url
    return env
