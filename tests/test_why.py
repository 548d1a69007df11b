"""The explanation of inferred facts on the web: entity pages link each one to /why."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from conftest import Server

KKO = "https://w3id.org/kazkor/ontology#"
KKID = "https://w3id.org/kazkor/id/"
AGREEMENT = KKID + "agreement-cultural-scientific-technological-1995"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def why_links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'<a class="why" href="([^"]+)"', page)]


def test_inferred_facts_link_to_their_explanation(server: Server) -> None:
    page = server.get("/page/official-visit-1995").text
    links = why_links(page)
    assert links, "an entity with inferred facts links them to /why"
    for link in links:
        query = parse_qs(urlsplit(link).query)
        assert query["s"] == [KKID + "official-visit-1995"]
    signed = [link for link in links if "documentSigned" in link]
    assert signed
    r = server.get(signed[0])
    assert r.status_code == 200
    assert "Why does this hold?" in r.text and "inverse" in r.text and "asserted in" in r.text


def test_subclass_chain_down_to_asserted_facts(server: Server) -> None:
    r = server.get("/why", params={"s": AGREEMENT, "p": RDF_TYPE, "o": f"<{KKO}BilateralDocument>"},
                   headers={"Accept": "application/json"})
    assert r.status_code == 200
    explanation = r.json()
    assert explanation["status"] == "inferred"
    proof = explanation["proof"]
    # both rules derive it (CooperationAgreement ⊑ … ⊑ BilateralDocument, and the domain of
    # kko:party); the explanation gives a shortest proof and names the other
    assert proof["rule"]["family"] in ("subclass", "domain")
    assert explanation["also_by"], "the other rule is named"

    def leaves(step: dict) -> list[dict]:
        return [step] if "asserted_in" in step else [x for p in step["premises"]
                                                     for x in leaves(p)]

    asserted = leaves(proof)
    assert {"data", "ontology"} <= {leaf["asserted_in"] for leaf in asserted}
    assert any(leaf["triple"][0] == f"<{AGREEMENT}>" and leaf["asserted_in"] == "data"
               for leaf in asserted)


def test_asserted_and_unknown_facts_are_said_so(server: Server) -> None:
    asserted = server.get("/why", params={"s": AGREEMENT, "p": RDF_TYPE,
                                          "o": f"<{KKO}CooperationAgreement>"},
                          headers={"Accept": "application/json"}).json()
    assert asserted["status"] == "asserted"
    unknown = server.get("/why", params={"s": AGREEMENT, "p": RDF_TYPE,
                                         "o": "<http://xmlns.com/foaf/0.1/Person>"},
                         headers={"Accept": "application/json"}).json()
    assert unknown["status"] == "not-entailed"


def test_bad_requests_are_400(server: Server) -> None:
    assert server.get("/why").status_code == 400
    assert server.get("/why", params={"s": '"literal"', "p": RDF_TYPE, "o": "<x:y>"}) \
        .status_code == 400
