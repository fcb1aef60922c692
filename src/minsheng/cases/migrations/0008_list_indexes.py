"""Indexes that match each list's filter and order (issue #15), and on PostgreSQL the
trigram indexes behind the case search.

The search matches part of the number, the request's text or the address
(``CaseFilter.search``: ``UPPER(col) LIKE UPPER('%…%')``). On PostgreSQL ``pg_trgm``'s GIN
indexes on ``UPPER(col)`` answer a search of three characters or more (Chinese included:
pg_trgm hashes each multibyte character) without reading the table; a two-character word
(窨井) has no trigram, and the newest-first scan bounded by the page finds it instead. The
extension needs the right to create it: without it the indexes are skipped and the search
still works, by that scan. SQLite gets nothing here (see ``docs/PERFORMANCE.md``).
"""

from django.conf import settings
from django.db import migrations, models, transaction

TRIGRAM_COLUMNS = ("number", "text", "address")


def trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # no right to create it: the search scans instead
        return
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS case_{column}_trgm ON cases_case USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS case_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_token_expiry_and_revocation"),
        ("cases", "0007_audit_append_only"),
        ("catalog", "0001_initial"),
        ("places", "0002_named_features"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="case",
            name="cases_case_state_ee99fb_idx",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="cases_case_owner_u_083bf2_idx",
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["-created_at", "-id"], name="case_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["state", "-created_at", "-id"], name="case_state_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["state", "-urgent", "created_at"], name="case_state_queue"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["owner_unit", "state", "-urgent", "created_at"], name="case_unit_queue"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["owner_unit", "-created_at", "-id"], name="case_unit_newest"),
        ),
        migrations.AddIndex(
            model_name="caseclock",
            index=models.Index(
                condition=models.Q(("met_at__isnull", True), ("stopped_at__isnull", True)),
                fields=["case", "due_at"],
                name="clock_running_case",
            ),
        ),
        migrations.AddIndex(
            model_name="caseclock",
            index=models.Index(
                condition=models.Q(("met_at__isnull", True), ("stopped_at__isnull", True)),
                fields=["due_at", "case"],
                name="clock_running_due",
            ),
        ),
        migrations.RunPython(trigram_indexes, drop_trigram_indexes),
    ]
