"""The ontology and the data of the paper: provenance, labels, and the axioms reasoning needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef

from kg.config import Config
from kg.pipeline.build import BuildError, build
from kg.pipeline.load import load_sources

KKO = Namespace("https://w3id.org/kazkor/ontology#")
KKID = Namespace("https://w3id.org/kazkor/id/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
VANN = Namespace("http://purl.org/vocab/vann/")
PROV = Namespace("http://www.w3.org/ns/prov#")
PAPER = URIRef(KKID + "paper")
LANGUAGES = {"en", "ru", "kk", "ko"}


@pytest.fixture(scope="module")
def graphs(config: Config) -> dict[str, Graph]:
    return load_sources(config).graphs


def test_every_resource_of_the_data_says_where_in_the_paper_it_comes_from(graphs):
    data = graphs["data"]
    # a statistical dataset says where it comes from; its observations and structure are
    # parts of it (the Data Cube shapes check them); the project that made the graph (the
    # author of its interpretations) is not in the paper
    makers = set(data.subjects(RDF.type, PROV.Organization))
    missing = {s for s in data.subjects() if isinstance(s, URIRef) and s != PAPER
               and not s.startswith(KKID + "dataset/") and s not in makers
               and (s, DCTERMS.source, None) not in data}
    assert makers == {KKID["kazkor-kg"]}
    assert not missing


def test_every_source_is_a_part_of_the_paper_or_the_paper(graphs):
    data = graphs["data"]
    parts = set(data.subjects(KKO.partOf, None)) | {PAPER}
    cited = set(data.subjects(RDF.type, KKO.CitedSource))
    assert set(data.objects(None, DCTERMS.source)) <= parts | cited


def test_countries_cities_and_main_actors_have_labels_in_four_languages(graphs):
    data = graphs["data"]
    for slug in ("kazakhstan", "south-korea", "north-korea", "kyrgyzstan", "uzbekistan",
                 "tajikistan", "astana", "almaty", "seoul", "bishkek", "tashkent",
                 "nursultan-nazarbayev", "friedrich-ebert", "un-security-council",
                 "ministry-of-foreign-affairs-korea", "kazakh-language", "korean-language"):
        langs = {o.language for o in data.objects(KKID[slug], RDFS.label)
                 if isinstance(o, Literal)}
        assert langs == LANGUAGES, slug


def test_every_own_term_is_documented(graphs):
    onto = graphs["ontology"]
    # classes and properties; the codes of the statistics' code lists are SKOS concepts
    concepts = set(onto.subjects(RDF.type, SKOS.Concept)) | set(
        onto.subjects(RDF.type, SKOS.ConceptScheme))
    terms = {s for s in onto.subjects(RDF.type, None)
             if isinstance(s, URIRef) and s.startswith(str(KKO)) and s not in concepts}
    assert len(terms) > 50
    for term in terms:
        labels = [o for o in onto.objects(term, RDFS.label) if o.language == "en"]
        assert len(labels) == 1, f"{term} needs exactly one English label"
        assert any(o.language == "en" for o in onto.objects(term, RDFS.comment)), term
        if (term, RDF.type, OWL.Class) not in onto:
            assert (term, RDFS.domain, None) in onto, f"{term} has no domain"
            assert (term, RDFS.range, None) in onto, f"{term} has no range"


def test_the_ontology_has_its_metadata(graphs):
    onto = graphs["ontology"]
    ontology = URIRef("https://w3id.org/kazkor/ontology")
    for prop in (DCTERMS.title, DCTERMS.description, OWL.versionIRI, OWL.versionInfo,
                 DCTERMS.license, DCTERMS.creator, DCTERMS.issued, DCTERMS.modified,
                 VANN.preferredNamespacePrefix, VANN.preferredNamespaceUri):
        assert (ontology, prop, None) in onto, prop


def test_a_fact_without_provenance_stops_the_build(project: Path, tmp_path: Path):
    path = project / "data" / "ttl" / "events.ttl"
    text = path.read_text(encoding="utf-8")
    before = ('    kko:locatedIn kkid:seoul ;\n'
              '    dcterms:source kksec:introduction, kkfn:3 .')
    assert before in text
    path.write_text(text.replace(before, "    kko:locatedIn kkid:seoul .", 1), encoding="utf-8")
    with pytest.raises(BuildError) as e:
        build(Config(root=project, release_dir=tmp_path / "rel"))
    violations = e.value.report.violations
    assert len(violations) == 1
    assert violations[0].focus_node.endswith("commission-session-2010")
    assert violations[0].file.endswith("events.ttl")
    assert "dcterms:source" in violations[0].message
