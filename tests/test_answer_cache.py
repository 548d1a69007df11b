"""The per-worker cache of answers, keyed by ETag (release, generation, query, format, dataset)."""

from __future__ import annotations

from kg.sparql.service import Answer, AnswerCache


def answer(size: int) -> Answer:
    return Answer(200, "text/csv", b"x" * size)


def test_least_recently_used_answers_leave_first():
    cache = AnswerCache(max_entries=2)
    cache.put("a", answer(1))
    cache.put("b", answer(1))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", answer(1))
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None


def test_large_answers_are_not_kept_and_bytes_are_bounded():
    cache = AnswerCache(max_entries=10, max_bytes=100, max_answer_bytes=60)
    cache.put("big", answer(61))
    assert cache.get("big") is None
    cache.put("a", answer(60))
    cache.put("b", answer(60))
    assert cache.get("a") is None and cache.get("b") is not None


def test_same_query_same_answer_over_http(server):
    params = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    first = server.get("/sparql", params=params, headers={"Accept": "text/csv"})
    second = server.get("/sparql", params=params, headers={"Accept": "text/csv"})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and first.headers["ETag"] == second.headers["ETag"]
    other = server.get("/sparql", params=params, headers={"Accept": "text/tab-separated-values"})
    assert other.headers["ETag"] != first.headers["ETag"]
    assert other.text.splitlines()[1].split("^^")[0].strip('"') == first.text.splitlines()[1]
