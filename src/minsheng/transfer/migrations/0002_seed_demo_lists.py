"""Seed the demo transfer lists (a representative subset modelled on Tianjin's published
lists; see data/lists.json). The city edits them in the admin; ``loadtransferlists`` loads
a file of its own."""

import json
from pathlib import Path

from django.db import migrations

LISTS = Path(__file__).resolve().parent.parent / "data" / "lists.json"


def seed(apps, schema_editor):
    Category = apps.get_model("transfer", "TransferCategory")
    Item = apps.get_model("transfer", "TransferItem")
    data = json.loads(LISTS.read_text(encoding="utf-8"))
    for direction in ("to_hotline", "to_police"):
        for cpos, cat in enumerate(data.get(direction, [])):
            category, _ = Category.objects.get_or_create(
                direction=direction, code=cat["code"], defaults={"name": cat["name"], "position": cpos}
            )
            for ipos, item in enumerate(cat["items"]):
                Item.objects.get_or_create(
                    code=item["code"],
                    defaults={
                        "category": category,
                        "name": item["name"],
                        "matter_code": item.get("matter", ""),
                        "disposition": item.get("disposition", "close"),
                        "position": ipos,
                    },
                )


class Migration(migrations.Migration):
    dependencies = [("transfer", "0001_transfer_lists_and_transfers")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
