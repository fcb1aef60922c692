"""The rollup key puts town, matter and channel before unit and owner, so that one index
answers the filters; and a partial index finds a case's last feedback before an event
(the unit a rating judges) without reading its other clocks."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0004_fewer_grouping_sets"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="rollup",
            name="stats_rollup_key",
        ),
        migrations.RemoveConstraint(
            model_name="rollupduration",
            name="stats_dur_key",
        ),
        migrations.RemoveIndex(
            model_name="rollup",
            name="stats_rollup_town",
        ),
        migrations.RemoveIndex(
            model_name="rollupduration",
            name="stats_dur_town",
        ),
        migrations.AddConstraint(
            model_name="rollup",
            constraint=models.UniqueConstraint(
                fields=(
                    "gset",
                    "grain",
                    "period",
                    "town_id",
                    "matter_id",
                    "channel",
                    "unit_id",
                    "owner_id",
                    "kind",
                ),
                name="stats_rollup_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="rollupduration",
            constraint=models.UniqueConstraint(
                fields=(
                    "gset",
                    "grain",
                    "period",
                    "town_id",
                    "matter_id",
                    "channel",
                    "unit_id",
                    "owner_id",
                    "name",
                    "bucket",
                ),
                name="stats_dur_unique",
            ),
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS stats_feedback_met ON cases_caseclock (case_id, met_at) "
            "WHERE name = 'feedback'",
            "DROP INDEX IF EXISTS stats_feedback_met",
        ),
    ]
