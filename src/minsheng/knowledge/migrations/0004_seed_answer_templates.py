"""Seed the shipped Chinese text of the messages an answer on the spot sends
(``knowledge_answer``: the article's answer by SMS; ``case_answered``: the case number and
the follow link); a row an administrator already has is left alone."""

from django.db import migrations

KINDS = ("knowledge_answer", "case_answered")


def seed(apps, schema_editor):
    from minsheng.notify.defaults import DEFAULT_TEMPLATES

    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    for kind in KINDS:
        if not MessageTemplate.objects.filter(kind=kind).exists():
            title, body = DEFAULT_TEMPLATES[kind]
            MessageTemplate.objects.create(kind=kind, title=title, body=body)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0003_seed_reminder_template")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
