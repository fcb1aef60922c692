"""``minsheng loadproposalkinds [PATH]``: the kinds of proposals and their limits (data)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from minsheng.proposals import actions


class Command(BaseCommand):
    help = "Load the kinds of proposals (议案提案) with their limits, each with its matter."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(actions.KINDS))

    def handle(self, *args, **opts):
        codes = actions.load_kinds(opts["path"])
        self.stdout.write(f"{len(codes)} kinds of proposals: {', '.join(codes)}")
