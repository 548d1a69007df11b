"""The competency questions (queries/cq/*.rq) asked through the real HTTP endpoint.

Each question's expected answer (the .csv beside it) was typed from the paper, in the
SPARQL 1.1 CSV results format. Rows compare as a multiset, or in order when the query
has ORDER BY.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = sorted((ROOT / "queries" / "cq").glob("*.rq"))
_HEADER = re.compile(r"^#\s*(\w+):\s*(.*)$")


def header(path: Path) -> dict[str, str]:
    """The ``# key: value`` comment lines at the top of a question."""
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line)
        if not match:
            break
        fields[match.group(1)] = match.group(2).strip()
    return fields


def rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def ordered(query: str) -> bool:
    body = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("#"))
    return re.search(r"\bORDER\s+BY\b", body, re.IGNORECASE) is not None


def test_there_are_enough_questions_with_titles_sources_and_answers():
    assert len(QUESTIONS) >= 30
    examples = 0
    for path in QUESTIONS:
        fields = header(path)
        assert re.fullmatch(r"\d\d-[a-z0-9-]+\.rq", path.name), path.name
        assert fields.get("title", "").endswith("?"), f"{path.name} needs a '# title:' question"
        assert fields.get("source"), f"{path.name} needs a '# source:' part of the paper"
        assert path.with_suffix(".csv").is_file(), f"{path.name} has no expected answer"
        examples += fields.get("example") == "yes"
    assert 5 <= examples <= 15


@pytest.mark.parametrize("path", QUESTIONS, ids=[p.stem for p in QUESTIONS])
def test_competency_question(server, path: Path):
    query = path.read_text(encoding="utf-8")
    response = server.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    got = rows(response.content.decode("utf-8"))
    expected = rows(path.with_suffix(".csv").read_text(encoding="utf-8"))
    assert got[0] == expected[0], "the variables differ"
    if ordered(query):
        assert got[1:] == expected[1:]
    else:
        assert Counter(map(tuple, got[1:])) == Counter(map(tuple, expected[1:]))
