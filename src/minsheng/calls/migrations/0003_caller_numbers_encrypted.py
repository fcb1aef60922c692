"""Callers' numbers encrypted at rest (``Call.caller``, ``CallbackTask.phone``), found through
their keyed hash; "one open callback per number" held on the hash; the mark of a number the
retention rule erased, and the partial indexes its scan reads; the call states' labels with
their own translation context.

Existing rows are encrypted in place under the newest key of ``MINSHENG_DATA_KEYS`` (set it
before migrating a live city: without it the key is derived from ``SECRET_KEY``), in batches.
Reversing decrypts them back.
"""

from typing import Any

from django.db import migrations, models

import minsheng.core.fields
from minsheng.core import crypto

BATCH = 2000
# (table, the number's column, its hash's column)
NUMBERS = (("calls_call", "caller", "caller_hash"), ("calls_callbacktask", "phone", "phone_hash"))


def _convert(schema_editor, forward: bool) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cur:
        for table, column, hashed in NUMBERS:
            last = 0
            while True:
                cur.execute(
                    f"SELECT id, {column} FROM {table} WHERE id > %s AND {column} <> '' ORDER BY id LIMIT %s",  # noqa: S608
                    [last, BATCH],
                )
                rows = cur.fetchall()
                if not rows:
                    break
                values: list[tuple[Any, ...]]
                if forward:
                    values = [(crypto.encrypt(number), crypto.blind_index(number), pk) for pk, number in rows]
                    cur.executemany(
                        f"UPDATE {table} SET {column} = %s, {hashed} = %s WHERE id = %s",  # noqa: S608
                        values,
                    )
                else:
                    values = [(crypto.decrypt(token), pk) for pk, token in rows]
                    cur.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", values)  # noqa: S608
                last = rows[-1][0]


def encrypt_existing(apps, schema_editor):
    _convert(schema_editor, forward=True)


def decrypt_existing(apps, schema_editor):
    _convert(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0002_seed_callback_template"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="callbacktask",
            name="callback_one_open_per_phone",
        ),
        migrations.AddField(
            model_name="call",
            name="caller_hash",
            field=minsheng.core.fields.BlindIndexField(db_default="", of="caller"),
        ),
        migrations.AddField(
            model_name="call",
            name="number_erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="callbacktask",
            name="number_erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="callbacktask",
            name="phone_hash",
            field=minsheng.core.fields.BlindIndexField(db_default="", of="phone"),
        ),
        migrations.AlterField(
            model_name="call",
            name="caller",
            field=minsheng.core.fields.EncryptedTextField(
                blank=True, max_length=20, verbose_name="caller number"
            ),
        ),
        migrations.AlterField(
            model_name="call",
            name="state",
            field=models.CharField(
                choices=[
                    ("ringing", "Ringing"),
                    ("answered", "In conversation"),
                    ("ended", "Ended"),
                    ("missed", "Missed"),
                    ("dropped", "Dropped"),
                ],
                max_length=16,
                verbose_name="state",
            ),
        ),
        migrations.AlterField(
            model_name="callbacktask",
            name="phone",
            field=minsheng.core.fields.EncryptedTextField(max_length=20, verbose_name="phone"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
        migrations.AddIndex(
            model_name="call",
            index=models.Index(
                condition=models.Q(("caller_hash", ""), _negated=True),
                fields=["ended_at"],
                name="call_number_kept",
            ),
        ),
        migrations.AddIndex(
            model_name="callbacktask",
            index=models.Index(
                condition=models.Q(
                    models.Q(("state", "open"), _negated=True), models.Q(("phone_hash", ""), _negated=True)
                ),
                fields=["closed_at"],
                name="callback_number_kept",
            ),
        ),
        migrations.AddConstraint(
            model_name="callbacktask",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "open")),
                fields=("phone_hash",),
                name="callback_one_open_per_phone",
            ),
        ),
    ]
