"""Fewer grouping sets per grain (see ``models.DAY_GSETS``/``MONTH_GSETS``/``YEAR_GSETS``):
rows built for the old sets are dropped, and the next refresh builds the rollups again."""

from django.db import migrations


def forget_rollups(apps, schema_editor):
    for name in ("Rollup", "RollupDuration", "RollupDay", "RollupPeriod", "RollupState"):
        apps.get_model("stats", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("stats", "0003_owner_as_a_grouping_dimension")]
    operations = [migrations.RunPython(forget_rollups, migrations.RunPython.noop)]
