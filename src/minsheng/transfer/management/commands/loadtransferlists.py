from django.core.management.base import BaseCommand

from minsheng.transfer.actions import LISTS, load_lists


class Command(BaseCommand):
    help = (
        "Load or update the 110 <-> 12345 transfer lists from a JSON file (default: the shipped demo lists)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(LISTS))

    def handle(self, *args, **options):
        counts = load_lists(options["path"])
        to_hotline, to_police = counts.get("to_hotline", 0), counts.get("to_police", 0)
        self.stdout.write(f"110 to the hotline: {to_hotline} items; the hotline to 110: {to_police} items")
