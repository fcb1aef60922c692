"""An article's history is append-only in the database itself, not only in the code: an
UPDATE of a version row is refused on both engines (rows are never deleted either: the
article refers to them and the admin offers no way to)."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION minsheng_refuse_article_version_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'article versions are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER article_version_no_update BEFORE UPDATE ON knowledge_articleversion
    FOR EACH ROW EXECUTE FUNCTION minsheng_refuse_article_version_change();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS article_version_no_update ON knowledge_articleversion;
DROP FUNCTION IF EXISTS minsheng_refuse_article_version_change();
"""
SQLITE_FORWARD = """
CREATE TRIGGER article_version_no_update BEFORE UPDATE ON knowledge_articleversion
BEGIN SELECT RAISE(ABORT, 'article versions are append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS article_version_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_articles")]
    operations = [migrations.RunPython(forward, reverse)]
