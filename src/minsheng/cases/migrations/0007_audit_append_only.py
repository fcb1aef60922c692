"""The two audit records are append-only in the database itself, like the case log
(``0002_events_append_only``): the record of who saw a requester's personal data
(``PersonalDataAccess``) and auditlog's record of what staff changed (``LogEntry``).

UPDATE is refused on both engines; DELETE on PostgreSQL (SQLite keeps it, as for the case
log, so that test databases can be emptied; the code and the admin never delete). One update
stays possible on auditlog's rows: the actor set to NULL when a user is deleted (its
``on_delete=SET_NULL``); the entry keeps ``actor_email``. TRUNCATE is not a row operation and
stays possible (tests empty tables with it).
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION minsheng_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER personal_data_access_no_update BEFORE UPDATE ON cases_personaldataaccess
    FOR EACH ROW EXECUTE FUNCTION minsheng_refuse_audit_change();
CREATE TRIGGER personal_data_access_no_delete BEFORE DELETE ON cases_personaldataaccess
    FOR EACH ROW EXECUTE FUNCTION minsheng_refuse_audit_change();

CREATE OR REPLACE FUNCTION minsheng_refuse_logentry_change() RETURNS trigger AS $$
BEGIN
    IF NEW.actor_id IS NULL AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;  -- the actor's user deleted (SET_NULL)
    END IF;
    RAISE EXCEPTION 'auditlog_logentry is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER auditlog_logentry_no_update BEFORE UPDATE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION minsheng_refuse_logentry_change();
CREATE TRIGGER auditlog_logentry_no_delete BEFORE DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION minsheng_refuse_audit_change();
"""
PG_REVERSE = """
DROP TRIGGER IF EXISTS personal_data_access_no_update ON cases_personaldataaccess;
DROP TRIGGER IF EXISTS personal_data_access_no_delete ON cases_personaldataaccess;
DROP TRIGGER IF EXISTS auditlog_logentry_no_update ON auditlog_logentry;
DROP TRIGGER IF EXISTS auditlog_logentry_no_delete ON auditlog_logentry;
DROP FUNCTION IF EXISTS minsheng_refuse_logentry_change();
DROP FUNCTION IF EXISTS minsheng_refuse_audit_change();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER personal_data_access_no_update BEFORE UPDATE ON cases_personaldataaccess
    BEGIN SELECT RAISE(ABORT, 'cases_personaldataaccess is append-only'); END;""",
    # Any column but the actor (SQLite fires UPDATE OF when a listed column is set) ...
    """CREATE TRIGGER auditlog_logentry_no_update BEFORE UPDATE OF {columns} ON auditlog_logentry
    BEGIN SELECT RAISE(ABORT, 'auditlog_logentry is append-only'); END;""",
    # ... and the actor only to NULL.
    """CREATE TRIGGER auditlog_logentry_actor_kept BEFORE UPDATE OF actor_id ON auditlog_logentry
    WHEN NEW.actor_id IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'auditlog_logentry is append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS personal_data_access_no_update",
    "DROP TRIGGER IF EXISTS auditlog_logentry_no_update",
    "DROP TRIGGER IF EXISTS auditlog_logentry_actor_kept",
]


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            columns = [
                c.name
                for c in connection.introspection.get_table_description(cursor, "auditlog_logentry")
                if c.name != "actor_id"
            ]
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement.format(columns=", ".join(columns)))


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_personal_data_encrypted"),
        ("auditlog", "0017_add_actor_email"),
    ]
    operations = [migrations.RunPython(forward, reverse)]
