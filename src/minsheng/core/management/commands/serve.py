"""``minsheng serve``: the production-grade HTTP server (gunicorn), not runserver.

Its access log never holds a requester's follow token (``core/redact.py``)."""

from __future__ import annotations

import gc
import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from gunicorn.glogging import Logger

from minsheng.core.redact import redact


class RedactedAtoms(dict):
    """The access log's fields (gunicorn's atoms: request line, path, referrer, headers, the
    whole WSGI environment) as gunicorn's ``SafeAtoms`` gives them to the line's format (a
    header's name in any case, ``-`` for one missing, quotes escaped), with the follow tokens
    cut out. Only the few fields the format names are redacted and escaped, when it names
    them, not the fifty or so of every request."""

    def __getitem__(self, key: str) -> Any:
        value = self.get(key.lower() if key.startswith("{") else key, "-")
        return redact(value).replace('"', '\\"') if isinstance(value, str) else value


class RedactingGunicornLogger(Logger):
    """gunicorn's logger, with the follow tokens cut out of every access-log field (request
    line, path, referrer, headers) before the line is formatted."""

    atoms_wrapper_class = RedactedAtoms


def configure(cfg: Any, *, host: str, port: int, workers: int, threads: int) -> None:
    """gunicorn's settings for Minsheng: the access log to standard output, tokens hidden."""
    cfg.set("bind", f"{host}:{port}")
    cfg.set("workers", workers)
    cfg.set("threads", threads)
    cfg.set("accesslog", "-")
    cfg.set("logger_class", RedactingGunicornLogger)
    cfg.set("timeout", 60)


class Command(BaseCommand):
    help = "Serve Minsheng over HTTP with gunicorn (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))

    def handle(self, *args, host: str, port: int, workers: int, threads: int, **options):
        from gunicorn.app.base import BaseApplication

        from minsheng.wsgi import application

        call_command("collectstatic", interactive=False, verbosity=0)

        class _App(BaseApplication):
            def load_config(self):
                configure(self.cfg, host=host, port=port, workers=workers, threads=threads)

            def load(self):
                return application

        self.stdout.write(f"Minsheng serving on http://{host}:{port}/")
        # Everything loaded so far (Django, the apps, the URL map) lives as long as the
        # workers: out of the collector's sight, so that a request's collections walk only
        # what requests made (and the forked workers share those pages).
        gc.collect()
        gc.freeze()
        _App().run()
