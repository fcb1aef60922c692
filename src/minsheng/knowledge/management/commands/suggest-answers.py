"""``minsheng suggest-answers --input FILE.jsonl``: one line ``{"id", "text"}`` in, one line
``{"id", "articles": [{"code", "title", "score"}], "answerable"}`` out, for every line."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from minsheng.knowledge.queries import engine


class Command(BaseCommand):
    help = "Suggest knowledge articles for the texts of a JSON-lines file ('-' reads standard input)."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="JSON lines {id, text}; - for stdin")

    def handle(self, *args, input: str, **options):
        try:
            stream = sys.stdin if input == "-" else open(input, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        suggester = engine()
        bad = 0
        with stream:
            for n, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    text = row["text"]
                except (ValueError, KeyError, TypeError):
                    bad += 1
                    self.stderr.write(f"line {n}: not a JSON object with a 'text'")
                    continue
                result = {"id": row.get("id"), **suggester.suggest(str(text)).as_dict()}
                self.stdout.write(json.dumps(result, ensure_ascii=False))
        if bad:
            raise CommandError(f"{bad} line(s) could not be read")
