"""Case numbers from a sequence per day on PostgreSQL (``cases.numbering``, issue #15).

The days the old counter row has already numbered cases on (the last two: today, and
yesterday for a migration run just after midnight) get their sequence now, starting after
the counter's last number, so that no number is given twice. SQLite keeps the counter.
"""

import datetime as dt

from django.db import migrations

CARRIED_DAYS = 2


def carry_over(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    counter = apps.get_model("cases", "DailyCounter")
    latest = counter.objects.order_by("-day").values_list("day", flat=True).first()
    if latest is None:
        return
    for row in counter.objects.filter(day__gt=latest - dt.timedelta(days=CARRIED_DAYS)):
        name = f"cases_number_{row.day:%Y%m%d}"
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {int(row.last) + 1}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_list_indexes")]

    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
