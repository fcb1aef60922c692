"""Readings keyed by (device, ts): one B-tree per stored reading instead of three; and
recent readings keyed by (ts, device), where a batch lands before it is merged.

Django cannot turn a table with an ``id`` key into one with a composite key in place, so
this migration builds the new table beside the old one, copies the readings over in one
statement, and drops the old table. On SQLite the new table is ``WITHOUT ROWID`` (the key
is the table itself); on PostgreSQL it is a heap with its primary key index. A city with
billions of readings would rather run the copy in its own maintenance window (or move to
the partitioned table or TimescaleDB hypertable of docs/sensors.md at the same time).
"""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "device_id, ts, flow, level, cod, ph, conductivity, valve"


class CreateModelWithoutRowid(migrations.CreateModel):
    """``CreateModel``, except that on SQLite the table is ``WITHOUT ROWID``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        if schema_editor.connection.vendor == "sqlite" and self.allow_migrate_model(
            schema_editor.connection.alias, model
        ):
            sql, params = schema_editor.table_sql(model)
            schema_editor.execute(f"{sql} WITHOUT ROWID", params or None)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)


def copy_readings(apps, schema_editor):
    new = apps.get_model("sensors", "Reading")._meta.db_table
    old = apps.get_model("sensors", "LegacyReading")._meta.db_table
    schema_editor.execute(f"INSERT INTO {new} ({COLUMNS}) SELECT {COLUMNS} FROM {old}")  # noqa: S608


def copy_back(apps, schema_editor):
    new = apps.get_model("sensors", "Reading")._meta.db_table
    recent = apps.get_model("sensors", "RecentReading")._meta.db_table
    old = apps.get_model("sensors", "LegacyReading")._meta.db_table
    schema_editor.execute(f"INSERT INTO {old} ({COLUMNS}) SELECT {COLUMNS} FROM {new}")  # noqa: S608
    schema_editor.execute(
        f"INSERT INTO {old} ({COLUMNS}) SELECT {COLUMNS} FROM {recent} r WHERE NOT EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {new} n WHERE n.device_id = r.device_id AND n.ts = r.ts)"
    )


def reading_fields(*key):
    """The columns both tables have (``ReadingColumns``), keyed by ``key``."""
    return [
        (
            "pk",
            models.CompositePrimaryKey(*key, blank=True, editable=False, primary_key=True, serialize=False),
        ),
        ("ts", models.DateTimeField()),
        *((q, models.FloatField(null=True)) for q in ("flow", "level", "cod", "ph", "conductivity", "valve")),
        (
            "device",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="sensors.device",
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("sensors", "0002_inbound_batch_shard"),
    ]

    operations = [
        migrations.RenameModel(old_name="Reading", new_name="LegacyReading"),
        CreateModelWithoutRowid(name="Reading", fields=reading_fields("device", "ts")),
        CreateModelWithoutRowid(name="RecentReading", fields=reading_fields("ts", "device")),
        migrations.RunPython(copy_readings, copy_back),
        migrations.DeleteModel(name="LegacyReading"),
    ]
