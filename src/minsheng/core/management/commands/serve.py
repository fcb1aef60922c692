"""``minsheng serve``: the production-grade HTTP server (gunicorn), not runserver."""

from __future__ import annotations

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand


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
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("accesslog", "-")
                self.cfg.set("timeout", 60)

            def load(self):
                return application

        self.stdout.write(f"Minsheng serving on http://{host}:{port}/")
        _App().run()
