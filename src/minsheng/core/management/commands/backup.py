"""``minsheng backup``: the database, the photos and the classifier's models into one
directory with a manifest (``core/backup.py``); ``--check PATH`` checks a backup."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import backup
from minsheng.core.conf import setting


def default_root() -> Path:
    return Path(setting("MINSHENG_BACKUP_DIR", str(Path(settings.MEDIA_ROOT).parent / "backups")))


def report_check(command: BaseCommand, path: Path) -> backup.Checked:
    checked = backup.verify(path)
    if not checked.ok:
        raise CommandError(f"{path}: the backup failed its check:\n  " + "\n  ".join(checked.problems))
    files = checked.manifest.get("files", [])
    size = sum(int(f.get("size", 0)) for f in files)
    command.stdout.write(
        f"{path}: OK ({len(files)} files, {size / 1e6:.1f} MB, made {checked.manifest.get('created_at')}, "
        f"{checked.manifest['database']['engine']} database)"
    )
    return checked


class Command(BaseCommand):
    help = "Back up the database, the photos and the classifier's models (or --check a backup)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            type=Path,
            default=None,
            help="the directory the backups are kept in (MINSHENG_BACKUP_DIR; by default var/backups)",
        )
        parser.add_argument("--keep", type=int, default=None, help="keep only the newest N backups there")
        parser.add_argument("--check", type=Path, default=None, metavar="PATH", help="check this backup")

    def handle(self, *args, to: Path | None, keep: int | None, check: Path | None, **options) -> None:
        if check is not None:
            report_check(self, check)
            return
        if keep is not None and keep < 1:
            raise CommandError("--keep must be 1 or more.")
        try:
            made = backup.make_backup(to or default_root(), keep=keep)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        report_check(self, made)
        self.stdout.write(str(made))
