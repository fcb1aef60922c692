"""``minsheng backup`` and ``minsheng restore``: a round trip puts back the database, the
photos and the classifier's models as they were; a damaged or foreign backup is refused and
changes nothing. Runs on the test database's engine (SQLite, or PostgreSQL when DATABASE_URL
names one, through pg_dump and pg_restore)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from PIL import Image

from minsheng.cases import actions
from minsheng.cases.models import Case, CaseEvent
from minsheng.core import backup
from minsheng.media.models import Photo
from tests.common.factories import intake

pytestmark = pytest.mark.django_db(transaction=True)


def jpeg(name: str, colour=(90, 90, 90)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), colour).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def var(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MINSHENG_MODEL_DIR = tmp_path / "models"
    version = tmp_path / "models" / "v0001"
    version.mkdir(parents=True)
    (version / "model.joblib").write_bytes(b"\x80\x04model-one")
    (version / "meta.json").write_text('{"version": "v0001"}')
    return tmp_path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def make_backup(var: Path, *extra: str) -> Path:
    return Path(run("backup", "--to", str(var / "backups"), *extra).strip().splitlines()[-1])


def test_a_round_trip_puts_back_the_database_photos_and_models(city, now, var):
    from minsheng.field.actions import add_site_photo

    case = intake(city)
    roads = city.actor("roads")
    if case.owner_unit is None:
        actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["roads"].pk)
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["field_roads"])
    photo = add_site_photo(city.actor("field_roads"), case.pk, photo=jpeg("site.jpg"), client_key="s1")
    case.refresh_from_db()
    events = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    photos, models = tree(var / "media"), tree(var / "models")
    assert photos and any(name.endswith(".jpg") for name in photos)

    path = make_backup(var)
    assert path.parent == var / "backups" and backup.NAME_RE.match(path.name)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["database"]["engine"] in ("sqlite", "postgresql")
    assert {f["path"] for f in manifest["files"]} >= {f"media/{n}" for n in photos} | {
        f"models/{n}" for n in models
    }
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert "OK" in run("backup", "--check", str(path))

    # Life goes on after the backup: a new case, the first one moves on, photos and models change.
    later = intake(city, phone="13900002222", point="west.a")
    actions.feedback_case(roads, case.pk, note="已更换")
    for name in photos:
        (var / "media" / name).unlink()
    (var / "media" / "stray.jpg").write_bytes(b"not from the backup")
    (var / "models" / "v0002").mkdir()
    (var / "models" / "v0002" / "model.joblib").write_bytes(b"model-two")
    (var / "models" / "v0001" / "meta.json").write_text("damaged")

    said = run("restore", str(path), "--no-input")
    assert "Restored" in said and "migrate" in said
    assert list(Case.objects.values_list("pk", flat=True)) == [case.pk]
    assert not Case.objects.filter(pk=later.pk).exists()
    restored = Case.objects.get(pk=case.pk)
    assert (restored.state, restored.version, restored.feedback_text) == (case.state, case.version, "")
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == events
    assert Photo.objects.filter(pk=photo.pk).exists()
    assert tree(var / "media") == photos
    assert tree(var / "models") == models
    # The restored database is a working one: the case moves on from where it was.
    assert actions.feedback_case(roads, case.pk, note="已更换").state == "feedback"


def test_a_damaged_backup_fails_its_check_and_restores_nothing(city, now, var):
    intake(city)
    path = make_backup(var)
    later = intake(city, phone="13900002222", point="west.a")
    model = path / "models" / "v0001" / "model.joblib"
    model.write_bytes(model.read_bytes() + b"!")
    (path / "media" / "added.jpg").parent.mkdir(parents=True, exist_ok=True)
    (path / "media" / "added.jpg").write_bytes(b"x")
    with pytest.raises(CommandError) as failed:
        run("backup", "--check", str(path))
    assert "models/v0001/model.joblib: changed" in str(failed.value)
    assert "media/added.jpg: not in the manifest" in str(failed.value)
    with pytest.raises(CommandError):
        run("restore", str(path), "--no-input")
    assert Case.objects.filter(pk=later.pk).exists()
    assert (var / "models" / "v0001" / "model.joblib").read_bytes() == b"\x80\x04model-one"


def test_a_missing_database_file_fails_the_check(city, now, var):
    path = make_backup(var)
    manifest = json.loads((path / "manifest.json").read_text())
    (path / manifest["database"]["file"]).unlink()
    checked = backup.verify(path)
    assert not checked.ok and f"{manifest['database']['file']}: missing" in checked.problems


def test_a_backup_from_a_newer_version_is_restored_only_when_forced(city, now, var):
    case = intake(city)
    path = make_backup(var)
    manifest_file = path / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["migrations"].append("cases.9999_from_the_future")
    manifest_file.write_text(json.dumps(manifest))
    later = intake(city, phone="13900002222", point="west.a")
    with pytest.raises(CommandError, match="9999_from_the_future"):
        run("restore", str(path), "--no-input")
    assert Case.objects.filter(pk=later.pk).exists()
    run("restore", str(path), "--no-input", "--force")
    assert list(Case.objects.values_list("pk", flat=True)) == [case.pk]


def test_nightly_backups_keep_the_newest(city, now, var):
    made = []
    for _ in range(3):
        made.append(make_backup(var, "--keep", "2"))
        now.advance(days=1)
    assert backup.list_backups(var / "backups") == made[1:]
    assert not made[0].exists()
    assert not [p for p in (var / "backups").iterdir() if p.name.startswith(".")]
