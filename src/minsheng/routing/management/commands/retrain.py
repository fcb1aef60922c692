"""``minsheng retrain``: rebuild the classifier from the shipped corpus plus the city's own
cases, publish it as the next version (running servers pick it up without a restart), and
print its held-out scores."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from minsheng.classify.model import Classifier
from minsheng.routing import classifier
from minsheng.routing.training import catalog_from_db, examples_from_db


class Command(BaseCommand):
    help = "Retrain the request classifier from the corpus and the city's cases; publish it."

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, default=5, help="model versions to keep")

    def handle(self, *args, keep: int, **options):
        examples = examples_from_db()
        model = Classifier.train(examples, catalog_from_db())
        store = classifier.store()
        name = store.publish(model)
        store.prune(keep=keep)
        heldout = model.meta.get("heldout", {})
        self.stdout.write(f"published {name}: {len(examples)} examples from the city's cases")
        self.stdout.write(json.dumps({"version": name, "heldout": heldout}, ensure_ascii=False))
