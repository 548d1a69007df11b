"""Property-based fuzzing of the HTTP interface (Hypothesis), against the real server.

The property and the request strategies are those of ``bench/fuzz.py`` (10,000 cases);
CI sends a few hundred: never a 5xx besides 502/503/504, never a hang, every error with
a Content-Type and a message.
"""

from __future__ import annotations

import pytest
from bench.fuzz import Tally, fuzz, problem, send
from tests.conftest import Server

CASES = 400


@pytest.mark.slow
def test_random_and_mutated_requests_get_well_formed_answers(server: Server):
    tally = Tally()
    fuzz(server.url, CASES, tally)
    assert tally.cases >= CASES * 0.9
    assert tally.problems == []
    # the cases reach the protocol: malformed queries are refused, valid ones answered
    assert tally.statuses[400] > 0 and tally.statuses[200] > 0


def test_the_property_catches_a_server_error(server: Server):
    """The check is not vacuous: a 500 would be caught."""
    import requests
    from bench.fuzz import FuzzRequest

    answer = send(requests.Session(), server.url, FuzzRequest("GET", "/health"))
    assert problem(answer) is None
    answer.status_code = 500
    assert problem(answer) is not None


@pytest.mark.parametrize("fmt", ["nquads", "trig", "turtle", "jsonld", "rdfxml", "ntriples"])
def test_service_description_in_every_rdf_format(server: Server, fmt: str):
    """Found by the fuzzer: ?format=nquads on the bare endpoint was a 500."""
    import rdflib

    r = server.get("/sparql", params={"format": fmt})
    assert r.status_code == 200, r.text
    dataset = rdflib.Dataset()
    dataset.parse(data=r.content, format={"nquads": "nquads", "trig": "trig", "turtle": "turtle",
                                          "jsonld": "json-ld", "rdfxml": "xml",
                                          "ntriples": "nt"}[fmt])
    assert len(dataset) > 0 or sum(len(g) for g in dataset.graphs()) > 0
