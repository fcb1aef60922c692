"""The requester's name and phone encrypted at rest, the phone found through its keyed hash,
and the mark of a case whose personal data the retention rule erased.

Existing rows are encrypted in place under the newest key of ``MINSHENG_DATA_KEYS`` (set it
before migrating a live city: without it the key is derived from ``SECRET_KEY``). Reversing
decrypts them back.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import minsheng.core.fields
from minsheng.core import crypto

BATCH = 2000


def _convert(schema_editor, forward: bool) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cur:
        last = 0
        while True:
            cur.execute(
                "SELECT id, requester_name, requester_phone FROM cases_case"
                " WHERE id > %s AND (requester_name <> '' OR requester_phone <> '') ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cur.fetchall()
            if not rows:
                return
            values: list[tuple[Any, ...]]
            if forward:
                values = [
                    (crypto.encrypt(name), crypto.encrypt(phone), crypto.blind_index(phone), pk)
                    for pk, name, phone in rows
                ]
                cur.executemany(
                    "UPDATE cases_case SET requester_name = %s, requester_phone = %s,"
                    " requester_phone_hash = %s WHERE id = %s",
                    values,
                )
            else:
                values = [(crypto.decrypt(name), crypto.decrypt(phone), pk) for pk, name, phone in rows]
                cur.executemany(
                    "UPDATE cases_case SET requester_name = %s, requester_phone = %s WHERE id = %s", values
                )
            last = rows[-1][0]


def encrypt_existing(apps, schema_editor):
    _convert(schema_editor, forward=True)


def decrypt_existing(apps, schema_editor):
    _convert(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_member_clocks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="personaldataaccess",
            options={
                "ordering": ["-at", "-id"],
                "verbose_name": "personal data access",
                "verbose_name_plural": "personal data accesses",
            },
        ),
        migrations.AddField(
            model_name="case",
            name="personal_data_erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="case",
            name="requester_phone_hash",
            field=minsheng.core.fields.BlindIndexField(db_default="", of="requester_phone"),
        ),
        migrations.AlterField(
            model_name="case",
            name="requester_name",
            field=minsheng.core.fields.EncryptedTextField(
                blank=True, max_length=64, verbose_name="requester name"
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="requester_phone",
            field=minsheng.core.fields.EncryptedTextField(
                blank=True, max_length=20, verbose_name="requester phone"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
        migrations.AlterField(
            model_name="personaldataaccess",
            name="at",
            field=models.DateTimeField(verbose_name="at"),
        ),
        migrations.AlterField(
            model_name="personaldataaccess",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.case",
                verbose_name="case",
            ),
        ),
        migrations.AlterField(
            model_name="personaldataaccess",
            name="field",
            field=models.CharField(default="requester_phone", max_length=32, verbose_name="what"),
        ),
        migrations.AlterField(
            model_name="personaldataaccess",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AlterField(
            model_name="personaldataaccess",
            name="via",
            field=models.CharField(max_length=16, verbose_name="via"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("personal_data_erased_at__isnull", True), ("state", "closed")),
                fields=["closed_at"],
                name="case_personal_data_kept",
            ),
        ),
        migrations.AddIndex(
            model_name="personaldataaccess",
            index=models.Index(fields=["case", "at"], name="cases_perso_case_id_75d80f_idx"),
        ),
        migrations.AddIndex(
            model_name="personaldataaccess",
            index=models.Index(fields=["user", "at"], name="cases_perso_user_id_d5f109_idx"),
        ),
    ]
