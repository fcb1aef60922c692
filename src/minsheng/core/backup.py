"""Backup and restore (备份与恢复): the database, the photos and the classifier's models, as
one directory with a manifest that says what each file must be.

A backup is a directory ``minsheng-<UTC time>/`` holding

* ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the server
  runs) or ``database.pgdump`` (``pg_dump --format=custom``: one consistent snapshot);
* ``media/``: the photos (``MEDIA_ROOT``), copied *after* the database, so that every photo
  a row of the dump names is there (a photo saved in between is merely extra). Photos kept
  in object storage (``MINSHENG_S3_BUCKET``) are not copied: the bucket keeps its own
  versions, and the manifest says so;
* ``models/``: the published versions of the classifier (``MINSHENG_MODEL_DIR``);
* ``manifest.json``: the format, when, which Minsheng, the database engine, the migrations
  the database had, and every file with its size and SHA-256.

It is written into a temporary directory beside its final place and renamed into place when
complete, so a backup that exists is whole; ``keep`` removes the oldest beyond that many.
``verify`` checks a backup against its manifest (every file there, none changed, none added,
the database copy readable: SQLite's ``integrity_check``, ``pg_restore --list``). ``restore``
verifies first and refuses a backup that fails, one from another database engine, or one
whose database has migrations this code does not know (a newer Minsheng) unless forced; then
it puts back the database (SQLite: the backup API into the live file; PostgreSQL:
``pg_restore --clean --single-transaction``, all or nothing), and makes ``MEDIA_ROOT`` and
the model directory hold exactly the backup's files.

Not in a backup: the secrets (``SECRET_KEY`` and the other keys from the environment); keep
them in the city's secret store, since a restored database is read with them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

import minsheng
from minsheng.core import clock

FORMAT = "minsheng-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
NAME_RE = re.compile(r"^minsheng-\d{8}T\d{6}Z(?:-\d+)?$")
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
CHUNK = 1024 * 1024
FILE_STORAGE = "django.core.files.storage.FileSystemStorage"


class BackupError(Exception):
    """A backup that cannot be made, checked or restored; the message says why."""


@dataclass(frozen=True)
class Checked:
    """What ``verify`` found: the manifest, and the problems (none when the backup is good)."""

    manifest: dict[str, Any]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


# --- where things are -----------------------------------------------------------------------


def media_root() -> Path | None:
    """The photos' directory, or ``None`` when photos are kept in object storage."""
    backend = settings.STORAGES.get("default", {}).get("BACKEND", FILE_STORAGE)
    return Path(settings.MEDIA_ROOT) if backend == FILE_STORAGE else None


def model_dir() -> Path:
    return Path(getattr(settings, "MINSHENG_MODEL_DIR", Path(settings.MEDIA_ROOT).parent / "models"))


def _database(alias: str = "default") -> dict[str, Any]:
    return connections[alias].settings_dict


def _vendor(alias: str = "default") -> str:
    return connections[alias].vendor


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore (the password never on a command line)."""
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGDATABASE", db.get("NAME")),
        ("PGSSLMODE", (db.get("OPTIONS") or {}).get("sslmode")),
    ):
        if value:
            env[var] = str(value)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(f"{args[0]} is not installed (PostgreSQL's client programs are needed).") from exc


# --- files ----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _files_under(root: Path) -> list[Path]:
    """Every regular file under ``root`` (temporary and hidden entries left out), sorted."""
    if not root.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                out.append(Path(dirpath) / name)
    return out


def _copy_tree(src: Path | None, dst: Path) -> int:
    dst.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in _files_under(src) if src is not None else []:
        target = dst / path.relative_to(src)  # type: ignore[arg-type]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        count += 1
    return count


def _mirror(src: Path, dst: Path) -> int:
    """Make ``dst`` hold exactly ``src``'s files: copy what differs, delete what is extra."""
    dst.mkdir(parents=True, exist_ok=True)
    wanted = {p.relative_to(src) for p in _files_under(src)}
    for rel in sorted(wanted):
        source, target = src / rel, dst / rel
        same_size = target.is_file() and target.stat().st_size == source.stat().st_size
        if same_size and sha256_of(target) == sha256_of(source):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".restoring-{target.name}")
        shutil.copy2(source, tmp)
        os.replace(tmp, target)
    for dirpath, dirnames, filenames in os.walk(dst, topdown=False):
        here = Path(dirpath)
        for name in filenames:
            if (here / name).relative_to(dst) not in wanted:
                (here / name).unlink()
        for name in dirnames:
            sub = here / name
            if sub.is_dir() and not sub.is_symlink() and not any(sub.iterdir()):
                sub.rmdir()
    return len(wanted)


# --- the database ---------------------------------------------------------------------------


def applied_migrations(alias: str = "default") -> list[str]:
    recorder = MigrationRecorder(connections[alias])
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


def known_migrations() -> set[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def _dump_database(into: Path, alias: str = "default") -> dict[str, Any]:
    db, vendor = _database(alias), _vendor(alias)
    if vendor == "sqlite":
        target = into / SQLITE_FILE
        source = sqlite3.connect(str(db["NAME"]))
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
            source.close()
        return {"engine": "sqlite", "file": SQLITE_FILE}
    if vendor == "postgresql":
        target = into / PG_FILE
        done = _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"],
            _pg_env(db),
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return {"engine": "postgresql", "file": PG_FILE}
    raise BackupError(f"Backing up a {vendor} database is not supported.")


def _check_database(path: Path, manifest: dict[str, Any]) -> list[str]:
    engine = (manifest.get("database") or {}).get("engine")
    if engine == "sqlite":
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
            try:
                result = con.execute("PRAGMA integrity_check").fetchone()
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            return [f"{path.name}: not a readable SQLite database ({exc})"]
        return [] if result and result[0] == "ok" else [f"{path.name}: integrity check says {result}"]
    if engine == "postgresql":
        done = _run(["pg_restore", "--list", str(path)], dict(os.environ))
        if done.returncode != 0:
            return [f"{path.name}: pg_restore cannot read it: {done.stderr.strip()}"]
        return []
    return [f"unknown database engine in the manifest: {engine!r}"]


def _restore_database(path: Path, engine: str, alias: str = "default") -> None:
    db = _database(alias)
    connections.close_all()
    if engine == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        live = sqlite3.connect(str(db["NAME"]), timeout=30)
        try:
            source.backup(live)
        finally:
            live.close()
            source.close()
        return
    done = _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={db['NAME']}",
            str(path),
        ],
        _pg_env(db),
    )
    if done.returncode != 0:
        raise BackupError(
            "pg_restore failed and changed nothing (one transaction). Restore into an empty "
            f"database if this one's tables differ from the backup's: {done.stderr.strip()}"
        )


# --- backup, verify, restore ----------------------------------------------------------------


def _new_name(root: Path) -> str:
    base = f"minsheng-{clock.now().astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    name, n = base, 1
    while (root / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def list_backups(root: Path) -> list[Path]:
    """The complete backups under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and NAME_RE.match(p.name) and (p / MANIFEST).is_file()]
    return sorted(found, key=lambda p: p.name)


def make_backup(root: Path, *, keep: int | None = None, alias: str = "default") -> Path:
    """Write a backup under ``root`` and answer its directory; then keep only the newest
    ``keep`` backups there (when given)."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = Path(tempfile.mkdtemp(prefix=".tmp-backup-", dir=root))  # mode 0700: personal data
    try:
        database = _dump_database(work, alias)  # first: every photo it names is copied after
        media = media_root()
        _copy_tree(media, work / "media")
        _copy_tree(model_dir(), work / "models")
        files = [
            {"path": p.relative_to(work).as_posix(), "size": p.stat().st_size, "sha256": sha256_of(p)}
            for p in _files_under(work)
        ]
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": clock.now().isoformat(),
            "minsheng": minsheng.__version__,
            "database": database,
            "migrations": applied_migrations(alias),
            "media": "files" if media is not None else "object storage (not copied)",
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        final = root / _new_name(root)
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if keep is not None and keep > 0:
        for old in list_backups(root)[:-keep]:
            shutil.rmtree(old)
    return final


def verify(path: Path) -> Checked:
    """Check a backup against its manifest."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Checked({}, [f"{path}: no {MANIFEST}: not a backup, or not a complete one"])
    except (OSError, ValueError) as exc:
        return Checked({}, [f"{MANIFEST}: unreadable ({exc})"])
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        return Checked(manifest, [f"{MANIFEST}: not a {FORMAT} version {FORMAT_VERSION} manifest"])
    problems = []
    listed = {}
    for entry in manifest.get("files", []):
        listed[entry["path"]] = entry
    present = {p.relative_to(path).as_posix() for p in _files_under(path)} - {MANIFEST}
    for rel in sorted(set(listed) - present):
        problems.append(f"{rel}: missing")
    for rel in sorted(present - set(listed)):
        problems.append(f"{rel}: not in the manifest")
    for rel in sorted(set(listed) & present):
        file = path / rel
        if file.stat().st_size != listed[rel]["size"] or sha256_of(file) != listed[rel]["sha256"]:
            problems.append(f"{rel}: changed since the backup was made (size or SHA-256 differs)")
    db_file = (manifest.get("database") or {}).get("file", "")
    if not db_file or db_file not in listed:
        problems.append("the manifest names no database file")
    elif db_file in present and not problems:
        problems.extend(_check_database(path / db_file, manifest))
    return Checked(manifest, problems)


def restore(path: Path, *, force: bool = False, alias: str = "default") -> dict[str, Any]:
    """Put a verified backup back: database, photos, models. Answers what was restored."""
    checked = verify(path)
    if not checked.ok:
        problems = "\n  ".join(checked.problems)
        raise BackupError(f"The backup failed its check; nothing was restored:\n  {problems}")
    manifest = checked.manifest
    engine = manifest["database"]["engine"]
    if engine != _vendor(alias):
        raise BackupError(
            f"The backup holds a {engine} database; this installation uses {_vendor(alias)}. "
            "Nothing was restored."
        )
    unknown = sorted(set(manifest.get("migrations", [])) - known_migrations())
    if unknown and not force:
        raise BackupError(
            "The backup's database has migrations this Minsheng does not know (it was made by a "
            "newer version): " + ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "") + ". "
            "Install that version, or pass --force. Nothing was restored."
        )
    _restore_database(path / manifest["database"]["file"], engine, alias)
    media = media_root()
    photos = _mirror(path / "media", media) if media is not None and manifest.get("media") == "files" else 0
    models = _mirror(path / "models", model_dir())
    return {"database": engine, "photos": photos, "model_files": models, "created_at": manifest["created_at"]}
