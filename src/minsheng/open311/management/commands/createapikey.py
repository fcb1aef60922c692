"""``minsheng createapikey NAME --unit CODE``: an Open311 partner's api_key, shown once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from minsheng.open311 import actions


class Command(BaseCommand):
    help = "Create an Open311 api_key for a partner unit; the key is printed once, only its hash is kept."

    def add_arguments(self, parser):
        parser.add_argument("name", help="what the key is for (unique), e.g. the partner's app")
        parser.add_argument("--unit", required=True, help="the partner unit's code")
        parser.add_argument("--revoke", action="store_true", help="revoke the key of this name instead")

    def handle(self, *args, **opts):
        if opts["revoke"]:
            try:
                key = actions.revoke_api_key(opts["name"])
            except actions.ApiKey.DoesNotExist:
                raise CommandError(f"No key named {opts['name']}.") from None
            self.stdout.write(f"revoked {key}")
            return
        try:
            _key, raw = actions.create_api_key(opts["name"], unit_code=opts["unit"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(raw)
