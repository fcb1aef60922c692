"""``minsheng tokens list`` and ``minsheng tokens revoke``: the API tokens, for an administrator.

Tokens are created with ``minsheng createtoken USERNAME`` (or on the tokens page)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minsheng.accounts.actions import revoke_tokens
from minsheng.accounts.models import ApiToken, RevokedBecause, TokenState
from minsheng.core import clock


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "List API tokens (with their state) or revoke them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        listing = sub.add_parser("list", help="tokens, newest first")
        listing.add_argument("--user", help="only this user's tokens")
        listing.add_argument("--active", action="store_true", help="only tokens that still work")
        revoke = sub.add_parser("revoke", help="revoke tokens by id or prefix, or all of a user's")
        revoke.add_argument("tokens", nargs="*", help="token ids or prefixes (ms_…), as listed")
        revoke.add_argument("--user", help="with no token named: every token of this user")

    def handle(self, *args, what: str, **options):
        if what == "list":
            self._list(options.get("user"), options["active"])
        else:
            self._revoke(options["tokens"], options.get("user"))

    def _list(self, username: str | None, active_only: bool) -> None:
        at = clock.now()
        tokens = ApiToken.objects.select_related("user")
        if username:
            tokens = tokens.filter(user__username=username)
        if active_only:
            tokens = tokens.filter(revoked=False, expires_at__gt=at)
        self.stdout.write(
            f"{'id':>6}  {'prefix':<10}  {'user':<16}  {'state':<8}  {'created':<16}  "
            f"{'expires':<16}  {'last used':<16}  name"
        )
        for t in tokens:
            state = t.state(at)
            if state == TokenState.REVOKED and t.revoked_because:
                state_text = f"{state.value} ({t.revoked_because})"
            else:
                state_text = state.value
            self.stdout.write(
                f"{t.pk:>6}  {t.prefix:<10}  {t.user.get_username():<16}  {state_text:<8}  "
                f"{_when(t.created_at):<16}  {_when(t.expires_at):<16}  {_when(t.last_used_at):<16}  {t.name}"
            )

    def _revoke(self, named: list[str], username: str | None) -> None:
        if not named and not username:
            raise CommandError("name the tokens (id or prefix), or --user for all of a user's")
        tokens = ApiToken.objects.all()
        if username:
            tokens = tokens.filter(user__username=username)
        if named:
            ids = [int(n) for n in named if n.isdigit()]
            prefixes = [n for n in named if not n.isdigit()]
            found = tokens.filter(pk__in=ids) | tokens.filter(prefix__in=prefixes)
            known = {str(pk) for pk in found.values_list("pk", flat=True)} | set(
                found.values_list("prefix", flat=True)
            )
            missing = [n for n in named if n not in known]
            if missing:
                raise CommandError(f"no such token: {', '.join(missing)}")
            tokens = found
        count = revoke_tokens(tokens, because=RevokedBecause.ADMIN)
        self.stdout.write(f"Revoked {count} token{'s' if count != 1 else ''}.")
