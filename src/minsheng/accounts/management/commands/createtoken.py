from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from minsheng.accounts.actions import create_token, token_days
from minsheng.accounts.models import ApiToken, hash_token


class Command(BaseCommand):
    help = "Create an API token for USERNAME; the token is printed as the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for (shown in lists)")
        parser.add_argument(
            "--days", type=int, default=None, help=f"how long it works (default {token_days()} days)"
        )

    def handle(self, *args, username: str, name: str, days: int | None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        token = create_token(user, name=name, days=days)
        expires = ApiToken.objects.get(key_hash=hash_token(token)).expires_at
        self.stdout.write(f"Expires {expires:%Y-%m-%d %H:%M %Z}. Revoke with: minsheng tokens revoke ID")
        self.stdout.write("Keep this token secret; it is shown once (Authorization: Bearer …):")
        self.stdout.write(token)
