"""``minsheng loadenterprisematters [PATH]``: the enterprise matters (涉企事项) and their limits
into the list of matters, from the shipped data file or the city's own."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from minsheng.catalog.actions import CatalogError
from minsheng.enterprise import actions


class Command(BaseCommand):
    help = "Load the enterprise matters and their own time limits into the list of matters."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(actions.MATTERS))

    def handle(self, *args, **opts):
        try:
            codes = actions.load_enterprise_matters(opts["path"])
        except CatalogError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{len(codes)} enterprise matters: {', '.join(codes)}")
