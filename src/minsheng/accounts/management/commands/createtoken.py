from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from minsheng.accounts.actions import create_token


class Command(BaseCommand):
    help = "Create an API token for USERNAME; the token is printed as the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        token = create_token(user)
        self.stdout.write("Keep this token secret; it is shown once (Authorization: Bearer …):")
        self.stdout.write(token)
