from django.core.management.base import BaseCommand, CommandError

from minsheng.demo.actions import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoRefused, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo city (places, units, list of matters, accounts, a few cases). Idempotent. "
        "Refused in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet-accounts", action="store_true")

    def handle(self, *args, quiet_accounts: bool = False, **options):
        try:
            result = load_demo()
        except DemoRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(
            f"demo city loaded: {result['places']} places, {result['accounts_created']} new "
            f"accounts, {result['cases_created']} new cases"
        )
        if not quiet_accounts:
            self.stdout.write(f"demo accounts (password for all: {DEMO_PASSWORD}):")
            for acc in DEMO_ACCOUNTS:
                self.stdout.write(f"  {acc.username:<12} {acc.display_name}")
