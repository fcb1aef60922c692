"""The case's owner becomes a grouping dimension like the town (only scoped views need it),
and the rollup rows are read by owner and by channel. Rows built before mean something
else: they are emptied here and the next refresh builds them again."""

from django.db import migrations, models


def forget_rollups(apps, schema_editor):
    for name in ("Rollup", "RollupDuration", "RollupDay", "RollupPeriod", "RollupState"):
        apps.get_model("stats", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0002_keys_without_nulls"),
    ]

    operations = [
        migrations.RunPython(forget_rollups, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="rollup",
            index=models.Index(fields=["owner_id", "gset", "grain", "period"], name="stats_rollup_owner"),
        ),
        migrations.AddIndex(
            model_name="rollup",
            index=models.Index(fields=["channel", "gset", "grain", "period"], name="stats_rollup_channel"),
        ),
        migrations.AddIndex(
            model_name="rollupduration",
            index=models.Index(fields=["owner_id", "gset", "grain", "period"], name="stats_dur_owner"),
        ),
        migrations.AddIndex(
            model_name="rollupduration",
            index=models.Index(fields=["channel", "gset", "grain", "period"], name="stats_dur_channel"),
        ),
    ]
