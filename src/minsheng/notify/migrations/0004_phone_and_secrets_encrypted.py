"""The requester's number on an outbox message, and each unit channel's URL (which carries a
group robot's token) and secret, encrypted at rest; existing rows are encrypted in place
under the newest key of ``MINSHENG_DATA_KEYS``, and decrypted back on reversal."""

import django.core.validators
from django.db import migrations

import minsheng.core.fields
from minsheng.core import crypto

BATCH = 2000
# table → (its encrypted columns, the blind index kept of the first one, if any)
COLUMNS = {
    "notify_outboxmessage": (("phone",), "phone_hash"),
    "notify_unitchannel": (("url", "secret"), None),
}


def _convert(schema_editor, forward: bool) -> None:
    with schema_editor.connection.cursor() as cur:
        for table, (columns, index) in COLUMNS.items():
            cols = ", ".join(columns)
            some = " OR ".join(f"{c} <> ''" for c in columns)
            last = 0
            while True:
                cur.execute(
                    f"SELECT id, {cols} FROM {table} WHERE id > %s AND ({some}) ORDER BY id LIMIT %s",  # noqa: S608
                    [last, BATCH],
                )
                rows = cur.fetchall()
                if not rows:
                    break
                convert = crypto.encrypt if forward else crypto.decrypt
                sets = [f"{c} = %s" for c in columns]
                values = []
                for pk, *texts in rows:
                    row = [convert(t) for t in texts]
                    if forward and index:
                        row.append(crypto.blind_index(texts[0]))
                    values.append((*row, pk))
                if forward and index:
                    sets.append(f"{index} = %s")
                cur.executemany(f"UPDATE {table} SET {', '.join(sets)} WHERE id = %s", values)  # noqa: S608
                last = rows[-1][0]


def encrypt_existing(apps, schema_editor):
    _convert(schema_editor, forward=True)


def decrypt_existing(apps, schema_editor):
    _convert(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0003_seed_message_templates"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="phone_hash",
            field=minsheng.core.fields.BlindIndexField(db_default="", of="phone"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="phone",
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="unitchannel",
            name="secret",
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=200, verbose_name="secret"),
        ),
        migrations.AlterField(
            model_name="unitchannel",
            name="url",
            field=minsheng.core.fields.EncryptedTextField(
                max_length=500,
                validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                verbose_name="URL",
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
