"""``minsheng serve``: the production-grade HTTP server (gunicorn), not runserver.

Its access log never holds a requester's follow token (``core/redact.py``)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from gunicorn.glogging import Logger

from minsheng.core.redact import redact_atoms


class RedactingGunicornLogger(Logger):
    """gunicorn's logger, with the follow tokens cut out of every access-log field (request
    line, path, referrer, headers) before the line is formatted."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        return redact_atoms(super().atoms(resp, req, environ, request_time))


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
        _App().run()
