"""``minsheng loadknowledge PATH``: create or update the knowledge articles of a JSON Lines
file (the demo city's by default), published, each keeping its line's ``id`` as its code."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from minsheng.knowledge.actions import DEMO_ARTICLES, KnowledgeFileError, load_articles


class Command(BaseCommand):
    help = "Load (create or update, published) knowledge articles from a JSON Lines file."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEMO_ARTICLES))

    def handle(self, *args, path: str, **options):
        try:
            report = load_articles(path)
        except KnowledgeFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"articles: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged; new units: {', '.join(report.new_units) or '-'}"
        )
