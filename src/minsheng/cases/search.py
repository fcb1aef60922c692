"""The case search's index of words: character bigrams (分词索引) of the number, the request's
text and the address, so that a word of two characters (窨井, most Chinese words) is looked
up in an index on both databases instead of found by reading cases.

Every case keeps its searchable text as index terms in one column (``Case.search_grams``,
:class:`SearchGramsField`, computed from the row on every save and every set-based insert,
as the blind indexes are):

- a run of letters and digits gives its overlapping bigrams that hold a non-ASCII
  character, 井盖冒水 → ``井盖 盖冒 冒水``, 3号楼 → ``3号 号楼`` (one character alone
  gives nothing);
- each ASCII part of a run (a case number, a Latin word) gives its suffixes of two
  characters or more, lower case, each cut at :data:`ASCII_CUT` characters: ``ms2026…``,
  ``s2026…``, ``2026…`` … so that any part of it is the start of one of them.

A query is turned into terms the same way (:func:`query_terms`): its bigrams and its
ASCII parts of two characters or more, each of the latter a prefix term. Any text that
contains the query (ignoring ASCII case) holds every one of these terms, so the index
returns every case the substring condition would, and a few more: the search then applies
that condition (``icontains`` on number, text and address) to what the index found, and its
results are exactly what they were without the index. A query with no term (one character,
punctuation) is searched as before, by the newest-first scan.

The index (migration ``cases/0012``): on PostgreSQL a GIN index on
``array_to_tsvector(string_to_array(search_grams, ' '))`` (the terms as lexemes, no parser),
queried with a ``tsquery`` of the terms joined by ``&``; on SQLite an FTS5 table with
``search_grams`` as its external content, kept in step by triggers on ``cases_case``, queried
with ``MATCH``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Q, QuerySet
from django.db.models.sql.where import WhereNode

ASCII_CUT = 24
"""ASCII terms are cut at this many characters (a query's too): a longer run still matches,
by its first 24 characters."""

SQLITE_TABLE = "cases_case_search"
PG_VECTOR = "array_to_tsvector(string_to_array({column}, ' '))"


def _runs(text: str) -> list[str]:
    """The maximal runs of letters and digits, lower case (a character whose lower case is
    longer kept as it is)."""
    out: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch.isalnum():
            low = ch.lower()
            current.append(low if len(low) == 1 else ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def _terms(run: str) -> list[tuple[str, bool]]:
    """A run's bigrams with a non-ASCII character in them (窨井, 3号, a座), and each part of
    two ASCII characters or more as a prefix term."""
    out: list[tuple[str, bool]] = []
    start = None  # where the ASCII part being read began
    for i, ch in enumerate(run):
        if ch.isascii():
            if start is None:
                start = i
        else:
            if start is not None and i - start >= 2:
                out.append((run[start:i], True))
            start = None
        if i and not (ch.isascii() and run[i - 1].isascii()):
            out.append((run[i - 1 : i + 1], False))
    if start is not None and len(run) - start >= 2:
        out.append((run[start:], True))
    return out


def grams(*texts: str | None) -> str:
    """The index terms of ``texts``, space-separated, each once: the bigrams, and every
    suffix of two characters or more of each ASCII part (so that any part of it is the
    start of one)."""
    seen: dict[str, None] = {}
    for text in texts:
        for run in _runs(text or ""):
            for term, is_ascii in _terms(run):
                if is_ascii:
                    for i in range(len(term) - 1):
                        seen[term[i : i + ASCII_CUT]] = None
                else:
                    seen[term] = None
    return " ".join(seen)


def query_terms(value: str) -> list[tuple[str, bool]]:
    """The terms every text containing ``value`` holds, each with whether it is a prefix
    (an ASCII part); empty when ``value`` has none (one character, punctuation)."""
    terms = (t for run in _runs(value) for t in _terms(run))
    return list(dict.fromkeys((t[:ASCII_CUT] if prefix else t, prefix) for t, prefix in terms))


class SearchGramsField(models.TextField):
    """The index terms (:func:`grams`) of the fields named ``of``, set on every save (and
    by the intake's set-based writer, which prepares each value through ``pre_save``)."""

    description = "Search terms of other fields"

    def __init__(self, *args: Any, of: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.of = tuple(of)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("null", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["of"] = self.of
        for key, value in (("blank", True), ("null", True), ("editable", False)):
            if kwargs.get(key) == value:
                del kwargs[key]
        return name, path, args, kwargs

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        value = grams(*(getattr(model_instance, name) for name in self.of))
        setattr(model_instance, self.attname, value)
        return value


def _pg_tsquery(terms: list[tuple[str, bool]]) -> str:
    # The terms are letters and digits only: nothing to escape inside the quotes.
    return " & ".join(f"'{t}':*" if prefix else f"'{t}'" for t, prefix in terms)


def _fts5_query(terms: list[tuple[str, bool]]) -> str:
    return " AND ".join(f'"{t}"*' if prefix else f'"{t}"' for t, prefix in terms)


class IndexedMatch(models.Expression):
    """The case holds every term (a ``tsquery`` on PostgreSQL, an FTS5 query on SQLite),
    read off the index of migration 0012."""

    output_field = models.BooleanField()

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query
        # PostgreSQL reads the terms' column through its GIN index; SQLite the case's id
        # among those the FTS5 table holds the terms for.
        self.column = models.F("search_grams" if connection.vendor == "postgresql" else "pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, conn: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.column)
        if conn.vendor == "postgresql":
            return f"{PG_VECTOR.format(column=column)} @@ CAST(%s AS tsquery)", [*params, self.query]
        found = f"SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH %s"  # noqa: S608 (our own name)
        return f"{column} IN ({found})", [*params, self.query]


def served(qs: QuerySet[Any]) -> bool:
    """Whether ``qs`` is narrowed by the search index (its page then needs no newest-first
    scan: the database reads the matching cases off the index)."""

    def found(node: Any) -> bool:
        if isinstance(node, WhereNode):
            return any(found(child) for child in node.children)
        flatten = getattr(node, "flatten", None)  # not on NothingNode (``.none()``)
        return flatten is not None and any(isinstance(e, IndexedMatch) for e in flatten())

    return found(qs.query.where)


def indexed(value: str) -> Q | None:
    """The condition that a case holds every term of ``value``, read off the index, or
    ``None`` when ``value`` has no term or the database has no such index."""
    terms = query_terms(value)
    if not terms:
        return None
    if connection.vendor == "postgresql":
        return Q(IndexedMatch(_pg_tsquery(terms)))
    if connection.vendor == "sqlite":
        return Q(IndexedMatch(_fts5_query(terms)))
    return None
