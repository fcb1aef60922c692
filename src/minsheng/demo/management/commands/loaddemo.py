from django.core.management.base import BaseCommand

from minsheng.demo.actions import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo city (places, units, list of matters, accounts, a few cases). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-accounts", action="store_true")

    def handle(self, *args, quiet_accounts: bool = False, **options):
        result = load_demo()
        self.stdout.write(
            f"demo city loaded: {result['places']} places, {result['accounts_created']} new "
            f"accounts, {result['cases_created']} new cases"
        )
        if not quiet_accounts:
            self.stdout.write(f"demo accounts (password for all: {DEMO_PASSWORD}):")
            for acc in DEMO_ACCOUNTS:
                self.stdout.write(f"  {acc.username:<12} {acc.display_name}")
