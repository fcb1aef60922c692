"""The event log is append-only in the database itself, not only in the code.

UPDATE is refused on both engines. DELETE is refused on PostgreSQL by a row trigger; TRUNCATE
(used only when a test database is emptied) is not a row operation and stays possible.
SQLite has no TRUNCATE, so there a DELETE trigger would make test databases impossible to
reset; the code never deletes events and the admin offers no way to.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION minsheng_refuse_event_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER case_event_no_update BEFORE UPDATE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION minsheng_refuse_event_change();
CREATE TRIGGER case_event_no_delete BEFORE DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION minsheng_refuse_event_change();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS case_event_no_update ON cases_caseevent;
DROP TRIGGER IF EXISTS case_event_no_delete ON cases_caseevent;
DROP FUNCTION IF EXISTS minsheng_refuse_event_change();
"""
SQLITE_FORWARD = """
CREATE TRIGGER case_event_no_update BEFORE UPDATE ON cases_caseevent
BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS case_event_no_update;"


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
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
