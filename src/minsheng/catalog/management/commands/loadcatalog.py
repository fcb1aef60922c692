from django.core.management.base import BaseCommand, CommandError

from minsheng.catalog.actions import DEMO_CATALOG, CatalogError, load_catalog


class Command(BaseCommand):
    help = "Load (create or update) the list of matters from a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEMO_CATALOG))
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="deactivate matters that the file no longer lists",
        )

    def handle(self, *args, path: str, deactivate_missing: bool, **options):
        try:
            report = load_catalog(path, deactivate_missing=deactivate_missing)
        except CatalogError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"matters: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.deactivated)} deactivated; new units: {', '.join(report.new_units) or '-'}"
        )
