"""``minsheng rotatekeys``: re-encrypt every encrypted value under the newest key of
``MINSHENG_DATA_KEYS`` and recompute every blind index under the newest key of
``MINSHENG_INDEX_KEYS``. ``--new-key`` prints a fresh key and changes nothing.

A rotation: put the new key in front of each list (``MINSHENG_DATA_KEYS=new,old``), restart
the web and worker processes, run this, then take the old key out and restart again. Values
stay readable and findable throughout: every listed key opens and finds.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from minsheng.core import crypto
from minsheng.core.fields import BlindIndexField, EncryptedTextField

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt personal data and secrets under the newest key, and recompute the blind indexes."

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="print a fresh key and change nothing")

    def handle(self, *args, new_key: bool, **options):
        if new_key:
            self.stdout.write(crypto.generate_key())
            return
        if not crypto.keys_from_environment():
            self.stderr.write(
                "MINSHENG_DATA_KEYS and MINSHENG_INDEX_KEYS are not both set: the keys in use are derived "
                "from SECRET_KEY."
            )
        for model in apps.get_models():
            encrypted = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not encrypted:
                continue
            indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
            names = [f.attname for f in encrypted]
            done = 0
            last = None
            while True:
                rows = model._base_manager.order_by("pk")
                if last is not None:
                    rows = rows.filter(pk__gt=last)
                batch = list(rows.values_list("pk", *names)[:BATCH])
                if not batch:
                    break
                with transaction.atomic():
                    for pk, *plain in batch:
                        # Written back through the fields: encrypted under the newest key.
                        values = dict(zip(names, plain, strict=True))
                        for index in indexes:
                            values[index.attname] = crypto.blind_index(values.get(index.of) or "")
                        model._base_manager.filter(pk=pk).update(**values)
                done += len(batch)
                last = batch[-1][0]
            self.stdout.write(f"{model._meta.label}: {done} rows re-encrypted ({', '.join(names)})")
