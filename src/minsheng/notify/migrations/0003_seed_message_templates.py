"""Seed the shipped Chinese message texts, one per kind; rows an administrator already has
are left as they are."""

from django.db import migrations


def seed(apps, schema_editor):
    from minsheng.notify.defaults import DEFAULT_TEMPLATES

    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    have = set(MessageTemplate.objects.values_list("kind", flat=True))
    MessageTemplate.objects.bulk_create(
        [
            MessageTemplate(kind=kind, title=title, body=body)
            for kind, (title, body) in DEFAULT_TEMPLATES.items()
            if kind not in have
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0002_delivery_channels_templates"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
