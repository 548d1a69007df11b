"""Links to other datasets: the offline check behind ``kg links check``, and the linkset dump.

A link is a triple of the links graph whose predicate is ``owl:sameAs`` or a SKOS mapping
property, from one of our entities (``BASE/id/…``) to an identifier of a target dataset
(Wikidata, GeoNames, ROR, VIAF, DBpedia). Its evidence is an ``rdf:Statement`` of the same
graph that names the link (``rdf:subject``/``rdf:predicate``/``rdf:object``) and says where
the identifier was verified (``dcterms:bibliographicCitation`` or ``dcterms:source``), from
which record (``prov:wasDerivedFrom``) and when (``prov:generatedAtTime``). See docs/links.md.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from rdflib import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD, Graph, Literal, URIRef

from kg.config import Config
from kg.pipeline.load import load_sources
from kg.store import Store
from kg.terms import sorted_terms

#: the predicates that make a triple of the links graph a link
LINK_PREDICATES = (OWL.sameAs, SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch,
                   SKOS.narrowMatch, SKOS.relatedMatch)


@dataclass(frozen=True)
class Target:
    """A dataset we link to: how to recognise its IRIs, and the one form they must take."""

    name: str
    #: an IRI that starts with one of these belongs to the target, whatever its form
    hosts: tuple[str, ...]
    form: re.Pattern[str]
    example: str
    #: the IRI that stands for the whole target dataset (void:objectsTarget)
    dataset: str

    @property
    def column(self) -> str:
        """The column of the reference table that holds this target's identifiers."""
        return self.name.lower()

    def identifier(self, iri: str) -> str:
        """The identifier in a well-formed IRI: ``Q232``, ``1522867``, ``03q0vrn42``…"""
        return iri.rstrip("/").rsplit("/", 1)[1]


TARGETS = (
    Target("Wikidata", ("http://www.wikidata.org/", "https://www.wikidata.org/",
                        "http://wikidata.org/", "https://wikidata.org/"),
           re.compile(r"http://www\.wikidata\.org/entity/Q[1-9][0-9]*"),
           "http://www.wikidata.org/entity/Q232", "http://www.wikidata.org/"),
    Target("GeoNames", ("http://sws.geonames.org/", "https://sws.geonames.org/",
                        "http://www.geonames.org/", "https://www.geonames.org/",
                        "http://geonames.org/", "https://geonames.org/"),
           re.compile(r"https://sws\.geonames\.org/[1-9][0-9]*/"),
           "https://sws.geonames.org/1522867/", "https://www.geonames.org/"),
    Target("ROR", ("http://ror.org/", "https://ror.org/"),
           re.compile(r"https://ror\.org/0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}"),
           "https://ror.org/03q0vrn42", "https://ror.org/"),
    Target("VIAF", ("http://viaf.org/", "https://viaf.org/", "http://www.viaf.org/",
                    "https://www.viaf.org/"),
           re.compile(r"http://viaf\.org/viaf/[1-9][0-9]*"),
           "http://viaf.org/viaf/102333412", "http://viaf.org/"),
    Target("DBpedia", ("http://dbpedia.org/", "https://dbpedia.org/"),
           re.compile(r"http://dbpedia\.org/resource/[^\s/?#<>\"{}|\\^`][^\s?#<>\"{}|\\^`]*"),
           "http://dbpedia.org/resource/Kazakhstan", "http://dbpedia.org/"),
)

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def ror_checksum_ok(ror_id: str) -> bool:
    """A ROR id ends with the ISO 7064 Mod 97-10 checksum of the base-32 number before it."""
    number = 0
    for char in ror_id[:-2]:
        number = number * 32 + _CROCKFORD.index(char)
    return int(ror_id[-2:]) == 98 - (number * 100) % 97


def target_of(iri: str) -> Target | None:
    return next((t for t in TARGETS if iri.startswith(t.hosts)), None)


def form_problem(iri: str, target: Target) -> str | None:
    """Why ``iri`` is not in the form ``target`` uses, or ``None`` when it is."""
    if not target.form.fullmatch(iri):
        return f"not a {target.name} identifier IRI; the form is <{target.example}>"
    if target.name == "ROR" and not ror_checksum_ok(iri.rsplit("/", 1)[1]):
        return "the ROR id's checksum (its last two digits) is wrong: a mistyped id"
    return None


@dataclass(frozen=True)
class Link:
    entity: URIRef
    predicate: URIRef
    identifier: URIRef

    def describe(self) -> str:
        return f"<{self.entity}> {_curie(self.predicate)} <{self.identifier}>"


@dataclass(frozen=True)
class Problem:
    link: Link | None
    message: str

    def describe(self) -> str:
        return f"{self.link.describe()}: {self.message}" if self.link else self.message


@dataclass
class LinkReport:
    links: list[Link] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: entities that links start from but that the data graph does not describe
    missing_entities: list[URIRef] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_entities

    def per_target(self) -> dict[str, int]:
        counts = Counter((t.name if (t := target_of(str(link.identifier))) else "unknown")
                         for link in self.links)
        return dict(sorted(counts.items()))

    def to_text(self) -> str:
        per_target = ", ".join(f"{name} {n}" for name, n in self.per_target().items())
        lines = [f"{len(self.links)} links checked ({per_target or 'none'})"]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  - {p.describe()}" for p in self.problems]
        if self.missing_entities:
            lines.append(f"{len(self.missing_entities)} linked entit(y/ies) missing from the "
                         "data graph (no rdf:type there; add the entity or remove its links):")
            lines += [f"  - <{e}>" for e in self.missing_entities]
        if self.ok:
            lines.append("all links are well-formed, unambiguous and have their evidence")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({
            "links": len(self.links),
            "per_target": self.per_target(),
            "problems": [{"link": p.link.describe() if p.link else None, "message": p.message}
                         for p in self.problems],
            "missing_entities": [str(e) for e in self.missing_entities],
            "ok": self.ok,
        }, indent=2)


def _curie(predicate: URIRef) -> str:
    for prefix, ns in (("owl:", str(OWL)), ("skos:", str(SKOS))):
        if predicate.startswith(ns):
            return prefix + predicate[len(ns):]
    return f"<{predicate}>"


def _evidence_problems(links_graph: Graph, link: Link) -> list[str]:
    statements = [
        s for s in links_graph.subjects(RDF.subject, link.entity)
        if (s, RDF.predicate, link.predicate) in links_graph
        and (s, RDF.object, link.identifier) in links_graph
    ]
    if not statements:
        return ["no evidence: no rdf:Statement in the links graph describes this link"]
    problems = []
    for statement in statements:
        where = (*links_graph.objects(statement, DCTERMS.bibliographicCitation),
                 *links_graph.objects(statement, DCTERMS.source))
        if not where:
            problems.append(f"evidence <{statement}> does not say where the identifier was "
                            "verified (dcterms:bibliographicCitation or dcterms:source)")
        if not any(isinstance(o, URIRef) for o in links_graph.objects(statement,
                                                                       PROV.wasDerivedFrom)):
            problems.append(f"evidence <{statement}> names no record it was derived from "
                            "(prov:wasDerivedFrom)")
        when = list(links_graph.objects(statement, PROV.generatedAtTime))
        if not any(isinstance(w, Literal) and w.datatype == XSD.dateTime for w in when):
            problems.append(f"evidence <{statement}> does not say when the identifier was "
                            "verified (prov:generatedAtTime as an xsd:dateTime)")
    return problems


def check_graphs(links_graph: Graph, data_graph: Graph, base_iri: str) -> LinkReport:
    """Check every link of ``links_graph`` against the target forms, each other, its evidence
    and the entities of ``data_graph``."""
    report = LinkReport()
    entity_space = f"{base_iri}id/"
    for predicate in LINK_PREDICATES:
        for s, o in links_graph.subject_objects(predicate):
            if isinstance(s, URIRef) and isinstance(o, URIRef):
                report.links.append(Link(s, predicate, o))
            else:
                report.problems.append(Problem(None, f"{s.n3()} {_curie(predicate)} {o.n3()}: "
                                                     "a link joins two IRIs"))
    report.links.sort(key=lambda link: (str(link.entity), str(link.identifier)))

    by_entity_target: dict[tuple[URIRef, str], set[URIRef]] = defaultdict(set)
    by_identifier: dict[URIRef, set[URIRef]] = defaultdict(set)
    for link in report.links:
        if not str(link.entity).startswith(entity_space):
            report.problems.append(Problem(link, f"the subject is not one of our entities "
                                                 f"(IRIs under <{entity_space}>)"))
        target = target_of(str(link.identifier))
        if target is None:
            known = ", ".join(t.name for t in TARGETS)
            report.problems.append(Problem(link, f"not an IRI of a known target dataset "
                                                 f"({known})"))
        elif problem := form_problem(str(link.identifier), target):
            report.problems.append(Problem(link, problem))
        else:
            by_entity_target[(link.entity, target.name)].add(link.identifier)
        by_identifier[link.identifier].add(link.entity)
        report.problems += [Problem(link, p) for p in _evidence_problems(links_graph, link)]

    for (entity, target_name), identifiers in sorted(by_entity_target.items()):
        if len(identifiers) > 1:
            listed = ", ".join(f"<{i}>" for i in sorted(identifiers))
            report.problems.append(Problem(None, f"<{entity}> is linked to {len(identifiers)} "
                                                 f"different {target_name} identifiers: "
                                                 f"{listed}; keep the one with evidence"))
    for identifier, entities in sorted(by_identifier.items()):
        if len(entities) > 1:
            listed = ", ".join(f"<{e}>" for e in sorted(entities))
            report.problems.append(Problem(None, f"<{identifier}> is linked from "
                                                 f"{len(entities)} of our entities: {listed}; "
                                                 "one identifier names one entity"))

    asserted = {(link.entity, link.predicate, link.identifier) for link in report.links}
    for statement in sorted_terms(set(links_graph.subjects(RDF.type, RDF.Statement))):
        triple = (links_graph.value(statement, RDF.subject),
                  links_graph.value(statement, RDF.predicate),
                  links_graph.value(statement, RDF.object))
        if triple[1] in LINK_PREDICATES and triple not in asserted:
            report.problems.append(Problem(None, f"evidence <{statement}> describes a link "
                                                 "that the links graph does not assert"))

    linked = sorted({link.entity for link in report.links
                     if str(link.entity).startswith(entity_space)})
    report.missing_entities = [e for e in linked if (e, RDF.type, None) not in data_graph]
    return report


def reference_problems(links_graph: Graph, links: list[Link], table: Path) -> list[Problem]:
    """Each link's identifier must be the one that the reference table of verified
    identifiers gives in the row its evidence was derived from (the row's ``rdfs:label`` is
    the table's ``entity`` cell)."""
    with table.open(encoding="utf-8", newline="") as f:
        rows = {row["entity"]: row for row in csv.DictReader(f, delimiter="\t")}
    problems = []
    for link in links:
        target = target_of(str(link.identifier))
        if target is None or form_problem(str(link.identifier), target):
            continue  # reported already
        statements = [s for s in links_graph.subjects(RDF.object, link.identifier)
                      if (s, RDF.subject, link.entity) in links_graph]
        records = {r for s in statements for r in links_graph.objects(s, PROV.wasDerivedFrom)}
        names = {str(n) for r in records for n in links_graph.objects(r, RDFS.label)}
        if not names:
            problems.append(Problem(link, "its evidence names no row of the reference table "
                                          "(prov:wasDerivedFrom a record with an rdfs:label)"))
            continue
        for name in sorted(names):
            row = rows.get(name)
            verified = (row or {}).get(target.column, "").strip()
            if row is None:
                problems.append(Problem(link, f"the reference table {table.name} has no row "
                                              f"{name!r}"))
            elif verified != target.identifier(str(link.identifier)):
                problems.append(Problem(link, f"the reference table gives {target.name} "
                                              f"{verified or 'nothing (not verified)'} for "
                                              f"{name!r}"))
    return problems


def check_links(config: Config, reference: Path | None = None) -> LinkReport:
    """Check the links of the sources (``data/ttl/links*.ttl``) against the data graph and,
    when given, the reference table of verified identifiers."""
    loaded = load_sources(config)
    report = check_graphs(loaded.graphs["links"], loaded.graphs["data"], config.base_iri)
    if reference is not None:
        report.problems += reference_problems(loaded.graphs["links"], report.links, reference)
    return report


@dataclass(frozen=True)
class Linkset:
    """The links to one target dataset by one predicate: a ``void:Linkset``."""

    target: Target
    predicate: URIRef
    triples: int

    @property
    def uri_space(self) -> str:
        """The target's URI space, as its well-formed identifiers start."""
        return self.target.example.rstrip("/").rsplit("/", 1)[0] + "/"


def linksets(links_graph: Graph) -> list[Linkset]:
    """The linksets of a links graph, for VoID. Only link triples count: the evidence
    (``rdf:object``, ``dcterms:source``…) points at the targets too, but is not a link."""
    counts: Counter[tuple[str, URIRef]] = Counter()
    for predicate in LINK_PREDICATES:
        for _, o in links_graph.subject_objects(predicate):
            if isinstance(o, URIRef) and (target := target_of(str(o))) is not None:
                counts[(target.name, predicate)] += 1
    by_name = {t.name: t for t in TARGETS}
    return [Linkset(by_name[name], predicate, n)
            for (name, predicate), n in sorted(counts.items())]


def dump_linkset(store: Store, config: Config, out: BinaryIO,
                 format_name: str = "ntriples") -> None:
    """Write the links graph of a release (the linkset dump: links and their evidence)."""
    store.dump(out, format_name, graph=config.graph_iri("links"))
