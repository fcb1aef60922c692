"""``minsheng retrain``: rebuild the classifier from the shipped corpus plus the city's own
cases, score it and the model in service on requests neither learned from, and publish it
as the next version (running servers pick it up without a restart) unless it is worse
there."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from minsheng.routing.actions import retrain


class Command(BaseCommand):
    help = (
        "Retrain the request classifier from the corpus and the city's cases; publish it unless it "
        "scores worse than the model in service on the held-apart requests (--force: publish anyway)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, default=5, help="model versions to keep")
        parser.add_argument("--force", action="store_true", help="publish even if it scores worse")

    def handle(self, *args, keep: int, force: bool, **options):
        report = retrain(force=force, keep=keep)
        for name in report.after:
            b, a = report.before[name], report.after[name]
            self.stdout.write(
                f"{name} (n={a['n']}): top-1 {b['top1']:.3f} → {a['top1']:.3f}, "
                f"alone {b['coverage']:.3f} → {a['coverage']:.3f} at precision "
                f"{b['precision']} → {a['precision']}"
            )
        if report.published:
            self.stdout.write(
                f"published {report.published}: {report.examples} examples from the city's cases"
                + (f" ({report.held_back} held back to judge it)" if report.held_back else "")
            )
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        if not report.published:
            raise CommandError("not published: worse than the model in service on " + "; ".join(report.worse))
