"""``minsheng restore PATH``: put a backup made by ``minsheng backup`` back (database, photos,
models), after checking it against its manifest (``core/backup.py``). Stop the web server
and the worker first; run ``minsheng migrate`` after."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import backup

from .backup import report_check


class Command(BaseCommand):
    help = "Restore a backup made by 'minsheng backup' (database, photos, models); --check only checks it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the backup's directory (minsheng-<time>)")
        parser.add_argument("--check", action="store_true", help="only check the backup; change nothing")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore even a backup whose database has migrations this version does not know",
        )
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive")

    def handle(self, *args, path: Path, check: bool, force: bool, interactive: bool, **options) -> None:
        checked = report_check(self, path)
        if check:
            return
        if interactive:
            answer = input(
                "This replaces the database, the photos and the models with the backup's. "
                "Type 'yes' to go on: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing was restored.")
        try:
            done = backup.restore(path, force=force)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the {done['database']} database, {done['photos']} photo files and "
            f"{done['model_files']} model files from the backup made {done['created_at']}."
        )
        if checked.manifest.get("media") != "files":
            self.stdout.write("Photos are kept in object storage: restore them from the bucket's versions.")
        self.stdout.write("Now run 'minsheng migrate', then start the server and the worker.")
