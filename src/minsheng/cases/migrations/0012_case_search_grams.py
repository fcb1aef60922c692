"""The case search's index of words (issue #15): ``Case.search_grams`` holds the character
bigrams of the number, the request's text and the address (``minsheng.cases.search``), and
an index over them answers a word of two characters (窨井) on both databases.

- The column is added empty (nullable, so neither database rewrites the table), then filled
  in chunks of 5,000 cases read and written by id.
- PostgreSQL: a GIN index on ``array_to_tsvector(string_to_array(search_grams, ' '))``, the
  terms as lexemes with no text-search parser in between; built after the fill.
- SQLite: an FTS5 table ``cases_case_search`` with ``cases_case.search_grams`` as its
  external content (``detail=none``: the search asks only whether a case holds every term),
  built in one ``rebuild`` after the fill, and kept in step by triggers on insert, on a
  change of the terms, and on delete.
"""

from django.db import migrations

from minsheng.cases.search import SearchGramsField, grams

CHUNK = 5000

PG_INDEX = "case_search_grams_gin"
SQLITE_TRIGGERS = {
    "cases_case_search_ai": """
        CREATE TRIGGER cases_case_search_ai AFTER INSERT ON cases_case BEGIN
            INSERT INTO cases_case_search(rowid, search_grams) VALUES (new.id, new.search_grams);
        END""",
    "cases_case_search_ad": """
        CREATE TRIGGER cases_case_search_ad AFTER DELETE ON cases_case BEGIN
            INSERT INTO cases_case_search(cases_case_search, rowid, search_grams)
                VALUES ('delete', old.id, old.search_grams);
        END""",
    "cases_case_search_au": """
        CREATE TRIGGER cases_case_search_au AFTER UPDATE OF search_grams ON cases_case
        WHEN old.search_grams IS NOT new.search_grams BEGIN
            INSERT INTO cases_case_search(cases_case_search, rowid, search_grams)
                VALUES ('delete', old.id, old.search_grams);
            INSERT INTO cases_case_search(rowid, search_grams) VALUES (new.id, new.search_grams);
        END""",
}


def fill(apps, schema_editor):
    conn = schema_editor.connection
    last = 0
    with conn.cursor() as cur:
        while True:
            cur.execute(
                "SELECT id, number, text, address FROM cases_case WHERE id > %s ORDER BY id LIMIT %s",
                [last, CHUNK],
            )
            rows = cur.fetchall()
            if not rows:
                break
            values = [(grams(number, text, address), pk) for pk, number, text, address in rows]
            if conn.vendor == "postgresql":
                cur.execute(
                    "UPDATE cases_case SET search_grams = v.g FROM unnest(%s::text[], %s::bigint[]) AS v(g, id)"
                    " WHERE cases_case.id = v.id",
                    [[g for g, _ in values], [pk for _, pk in values]],
                )
            else:
                cur.executemany("UPDATE cases_case SET search_grams = %s WHERE id = %s", values)
            last = rows[-1][0]


def index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON cases_case"
            " USING gin (array_to_tsvector(string_to_array(search_grams, ' ')))"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE cases_case_search USING fts5(search_grams, content='cases_case',"
            " content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0)"
        )
        schema_editor.execute("INSERT INTO cases_case_search(cases_case_search) VALUES ('rebuild')")
        for sql in SQLITE_TRIGGERS.values():
            schema_editor.execute(sql)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    elif vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute("DROP TABLE IF EXISTS cases_case_search")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_open_state_unit_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="search_grams",
            field=SearchGramsField(of=("number", "text", "address")),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(index, drop_index),
    ]
