"""Rollup tables for the statistics page, and the index they need on clock start times."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cases", "0003_clock_warnings"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupDay",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False)),
                ("dirty", models.BooleanField(default=True)),
                ("built_at", models.DateTimeField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="RollupState",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("last_run_at", models.DateTimeField(null=True)),
                ("complete_through", models.DateField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="Rollup",
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
                ("gset", models.PositiveSmallIntegerField()),
                ("unit_id", models.BigIntegerField(null=True)),
                ("owner_id", models.BigIntegerField(null=True)),
                ("town_id", models.BigIntegerField(null=True)),
                ("matter_id", models.BigIntegerField(null=True)),
                ("channel", models.CharField(blank=True, default="", max_length=16)),
                ("kind", models.CharField(max_length=16)),
                ("n", models.BigIntegerField(default=0)),
                ("ok", models.BigIntegerField(default=0)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["gset", "grain", "period"], name="stats_rollup_period"),
                    models.Index(fields=["unit_id", "gset", "grain", "period"], name="stats_rollup_unit"),
                    models.Index(fields=["town_id", "gset", "grain", "period"], name="stats_rollup_town"),
                    models.Index(fields=["matter_id", "gset", "grain", "period"], name="stats_rollup_matter"),
                ],
            },
        ),
        migrations.CreateModel(
            name="RollupDuration",
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
                ("gset", models.PositiveSmallIntegerField()),
                ("unit_id", models.BigIntegerField(null=True)),
                ("owner_id", models.BigIntegerField(null=True)),
                ("town_id", models.BigIntegerField(null=True)),
                ("matter_id", models.BigIntegerField(null=True)),
                ("channel", models.CharField(blank=True, default="", max_length=16)),
                ("name", models.CharField(max_length=16)),
                ("bucket", models.PositiveSmallIntegerField()),
                ("n", models.BigIntegerField(default=0)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["gset", "grain", "period"], name="stats_dur_period"),
                    models.Index(fields=["unit_id", "gset", "grain", "period"], name="stats_dur_unit"),
                    models.Index(fields=["town_id", "gset", "grain", "period"], name="stats_dur_town"),
                    models.Index(fields=["matter_id", "gset", "grain", "period"], name="stats_dur_matter"),
                ],
            },
        ),
        # Statistics read clocks by the time they started (a day, a period); the cases app
        # has no index on it. Named and dropped here so that the stats app owns what it needs.
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS stats_clock_started ON cases_caseclock (started_at)",
            "DROP INDEX IF EXISTS stats_clock_started",
        ),
    ]
