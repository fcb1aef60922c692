"""``minsheng personaldata PHONE --user ADMIN``: everything held about one phone number, as
JSON, for a person's access request; each case exported is recorded as an access by ADMIN."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from minsheng.accounts.actors import Actor
from minsheng.cases.errors import CaseError
from minsheng.cases.privacy import export_personal_data


class Command(BaseCommand):
    help = "Export, as JSON, everything held about one phone number (a person's access request)."

    def add_arguments(self, parser):
        parser.add_argument("phone")
        parser.add_argument("--user", required=True, help="the administrator answering the request")
        parser.add_argument("--output", "-o", help="write to this file instead of standard output")

    def handle(self, *args, phone: str, user: str, output: str | None, **options):
        person = get_user_model().objects.filter(username=user, is_active=True).first()
        if person is None:
            raise CommandError(f"no active user named {user!r}")
        try:
            held = export_personal_data(Actor.of(person), phone, via="export")
        except CaseError as exc:
            raise CommandError(exc.message) from exc
        text = json.dumps(held, ensure_ascii=False, indent=2)
        if output:
            Path(output).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"{len(held['cases'])} cases written to {output}")
        else:
            self.stdout.write(text)
