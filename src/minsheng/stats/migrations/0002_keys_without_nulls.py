"""Rollup keys without NULLs (0 and "" stand for none), unique, so that a rebuilt day can
add its change to its month and year in place. The rollups are a cache: they are emptied
here and the next refresh builds them again."""

from django.db import migrations, models


def forget_rollups(apps, schema_editor):
    for name in ("Rollup", "RollupDuration", "RollupDay", "RollupState"):
        apps.get_model("stats", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forget_rollups, migrations.RunPython.noop),
        migrations.CreateModel(
            name="RollupPeriod",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "grain",
                    models.CharField(choices=[("d", "day"), ("m", "month"), ("y", "year")], max_length=1),
                ),
                ("period", models.DateField()),
                ("built_at", models.DateTimeField()),
            ],
        ),
        migrations.RemoveIndex(
            model_name="rollup",
            name="stats_rollup_period",
        ),
        migrations.RemoveIndex(
            model_name="rollupduration",
            name="stats_dur_period",
        ),
        migrations.AlterField(
            model_name="rollup",
            name="matter_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="rollup",
            name="owner_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="rollup",
            name="town_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="rollup",
            name="unit_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="rollupduration",
            name="matter_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="rollupduration",
            name="owner_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="rollupduration",
            name="town_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="rollupduration",
            name="unit_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="rollup",
            constraint=models.UniqueConstraint(
                fields=(
                    "gset",
                    "grain",
                    "period",
                    "unit_id",
                    "owner_id",
                    "town_id",
                    "matter_id",
                    "channel",
                    "kind",
                ),
                name="stats_rollup_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="rollupduration",
            constraint=models.UniqueConstraint(
                fields=(
                    "gset",
                    "grain",
                    "period",
                    "unit_id",
                    "owner_id",
                    "town_id",
                    "matter_id",
                    "channel",
                    "name",
                    "bucket",
                ),
                name="stats_dur_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="rollupperiod",
            constraint=models.UniqueConstraint(fields=("grain", "period"), name="stats_period_unique"),
        ),
        # Which cases changed since the last refresh: every change writes an event.
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS stats_event_at ON cases_caseevent (at)",
            "DROP INDEX IF EXISTS stats_event_at",
        ),
    ]
