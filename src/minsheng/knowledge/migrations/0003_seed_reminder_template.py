"""Seed the shipped Chinese text of the knowledge base's reminder (``article_expiring``) as
the other message kinds were seeded; a row an administrator already has is left alone."""

from django.db import migrations

KIND = "article_expiring"


def seed(apps, schema_editor):
    from minsheng.notify.defaults import DEFAULT_TEMPLATES

    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    if not MessageTemplate.objects.filter(kind=KIND).exists():
        title, body = DEFAULT_TEMPLATES[KIND]
        MessageTemplate.objects.create(kind=KIND, title=title, body=body)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0002_versions_append_only"),
        ("notify", "0003_seed_message_templates"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
