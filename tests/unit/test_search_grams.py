"""The search's index terms: every text that contains a query holds every term of the
query, so the index never hides a case the substring search would list."""

from __future__ import annotations

import random

from minsheng.cases.search import ASCII_CUT, grams, query_terms
from minsheng.classify.model import load_corpus


def holds(doc_terms: set[str], term: str, prefix: bool) -> bool:
    if not prefix:
        return term in doc_terms
    return any(t.startswith(term) for t in doc_terms)


def test_a_two_character_word_is_one_term_and_one_character_none():
    assert query_terms("窨井") == [("窨井", False)]
    assert query_terms("化粪池") == [("化粪", False), ("粪池", False)]
    assert query_terms("井") == [] and query_terms("，") == [] and query_terms("a") == []
    assert query_terms("3号楼") == [("3号", False), ("号楼", False)]
    assert set(grams("窨井盖", "MS2026").split()) == {"窨井", "井盖", "ms2026", "s2026", "2026", "026", "26"}
    assert set(grams("A座3号").split()) == {"a座", "座3", "3号"}


def test_latin_words_and_numbers_are_found_by_any_part_ignoring_case():
    doc = set(grams("MS20261207000123", "Wi-Fi 信号 BAD", "A座").split())
    for query in ("ms2026", "00012", "0123", "wi", "fi", "Bad", "wi-fi 信号"):
        terms = query_terms(query)
        assert terms and all(holds(doc, t, p) for t, p in terms), query
    assert not all(holds(doc, t, p) for t, p in query_terms("good"))


def test_every_substring_of_the_corpus_holds_its_query_terms():
    rng = random.Random(15)
    texts = [row["text"] for row in load_corpus("train")]
    texts += ["BN000000099999 " + t for t in texts[:50]]
    texts.append("x" * (ASCII_CUT * 3) + "ABCdef")
    for text in rng.sample(texts, 300) + texts[-1:]:
        doc = set(grams(text).split())
        for _ in range(10):
            start = rng.randrange(len(text))
            query = text[start : start + rng.randint(1, 8)]
            for variant in (query, query.upper(), query.lower()):
                assert all(holds(doc, t, p) for t, p in query_terms(variant)), (text, variant)
