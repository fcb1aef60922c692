"""Seed the shipped Chinese text of the overdue-callback warning (``callback_overdue``), as
the other message kinds were seeded, so that administrators edit it in the admin; a row an
administrator already has is left alone. The text is the one in ``notify/defaults.py`` at
the time of writing (a migration keeps its own copy)."""

from django.db import migrations

KIND = "callback_overdue"
TITLE = "漏接回拨超时：{{ phone }}"
BODY = (
    "来电 {{ phone }}{% if missed_count > 1 %}（共 {{ missed_count }} 次）{% endif %}未接通，"
    "应于 {{ due_at_local }} 前回拨，现已超时。请尽快在漏接回拨队列中回拨。"
)


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    if not MessageTemplate.objects.filter(kind=KIND).exists():
        MessageTemplate.objects.create(kind=KIND, title=TITLE, body=BODY)


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0001_calls_and_callbacks"),
        ("notify", "0003_seed_message_templates"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
