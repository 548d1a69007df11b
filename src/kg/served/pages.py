"""What an entity page shows, read in one job: the description of the resource, and what the
page adds to it.

- the **links to other datasets** (``owl:sameAs``, ``skos:exactMatch``, ``skos:closeMatch``
  to IRIs outside the base), each with the dataset it belongs to (named by the VoID
  description's ``void:uriSpace`` and ``dcterms:title``), the identifier in it, and the
  statement of the link (``rdf:Statement`` of the links graph) with its sources;
- the **dates** of the resources it points to (an agreement signed during a visit shows
  the visit's dates);
- for a statistical dataset, its **cube** (:mod:`kg.served.cube`) and the **discrepancy
  records** (``kko:Discrepancy``) that involve each observation;
- the labels of everything these add.

One job, so that a page costs one round trip to a query process (:mod:`kg.served.jobs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import OWL, SKOS, URIRef

from kg.served import cube as qb
from kg.served.describe import (
    SOURCE_PROPERTIES,
    Description,
    LabelReader,
    describe,
    names_by_language,
    one_of,
)
from kg.store import Store

#: links to other datasets, the strongest first
LINK_PREDICATES = (OWL.sameAs, SKOS.exactMatch, SKOS.closeMatch)
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
VOID_URI_SPACE = "http://rdfs.org/ns/void#uriSpace"
#: where a resource's date (or the start of its span) is, the first found winning
START_PROPERTIES = ("startDate", PROV + "startedAtTime", "date", "yearMonth", "year",
                    DCTERMS + "date")
#: where the end of its span is
END_PROPERTIES = ("endDate", PROV + "endedAtTime")


@dataclass(frozen=True)
class Link:
    """A link to another dataset, as the identifiers section shows it."""

    predicate: URIRef
    target: URIRef
    #: the dataset's name (its VoID title), or the target's host when VoID has none
    dataset: str
    #: the target as an identifier of that dataset (``Q232``, ``1522867``)
    identifier: str
    #: the statement that describes the link (its evidence), when there is one
    statement: URIRef | None = None
    sources: tuple[URIRef, ...] = ()


@dataclass
class PageData:
    description: Description
    links: list[Link] = field(default_factory=list)
    #: resource IRI -> its date, or the start and end of its span ("" when it has no end)
    dates: dict[str, tuple[str, str]] = field(default_factory=dict)
    cube: qb.Cube | None = None
    #: observation IRI -> the discrepancy records that involve it
    discrepancies: dict[str, list[str]] = field(default_factory=dict)
    #: the labels of everything the page mentions: IRI -> language -> the best label (the
    #: description's own label triples are not sent too: a page shows names, and a label
    #: made again from a message cost the web worker more than its name)
    names: dict[str, dict[str, str]] = field(default_factory=dict)


def _values(iris: set[str]) -> str:
    return " ".join(f"<{i}>" for i in sorted(iris) if ">" not in i and " " not in i)


def uri_spaces(store: Store, meta_graph: str) -> dict[str, str]:
    """URI space -> the name of the dataset it belongs to (the meta graph's VoID)."""
    spaces = {}
    for space, title in store.query(
            f"SELECT ?space ?title WHERE {{ GRAPH <{meta_graph}> {{ ?d <{VOID_URI_SPACE}> ?space "
            f"OPTIONAL {{ ?d <{DCTERMS}title> ?title }} }} }}").rows():
        spaces[str(space)] = str(title) if title is not None else ""
    return spaces


def links(description: Description, base: str, inferred_graph: str,
          spaces: dict[str, str]) -> list[Link]:
    """The asserted links of the described resource to IRIs outside ``base``."""
    evidence: dict[tuple[str, str], tuple[URIRef | None, list[URIRef]]] = {}
    for reified, predicate, value, source_property, source in description.reifications:
        if not isinstance(reified, URIRef):
            continue
        entry = evidence.setdefault((str(predicate), str(value)), (reified, []))
        if str(source_property) == SOURCE_PROPERTIES[0] and isinstance(source, URIRef) \
                and source not in entry[1]:
            entry[1].append(source)
    found = []
    for s in description.outgoing:
        if s.predicate not in LINK_PREDICATES or not isinstance(s.object, URIRef) \
                or str(s.object).startswith(base) or s.graph == inferred_graph:
            continue
        target = str(s.object)
        space = max((sp for sp in spaces if target.startswith(sp)), key=len, default="")
        dataset = spaces.get(space) or target.split("/")[2]
        identifier = target[len(space):].strip("/") if space else target
        statement, cited = evidence.get((str(s.predicate), target), (None, []))
        found.append(Link(s.predicate, s.object, dataset, identifier or target, statement,
                          tuple(sorted(cited))))
    unique = {(link.predicate, link.target): link for link in found}
    return sorted(unique.values(), key=lambda link: (
        link.dataset.casefold(), LINK_PREDICATES.index(link.predicate), link.identifier))


def dates(store: Store, iris: set[str], kko: str) -> dict[str, tuple[str, str]]:
    """The date, or the span, of each of ``iris`` that has one."""
    starts = [p if "/" in p else kko + p for p in START_PROPERTIES]
    ends = [p if "/" in p else kko + p for p in END_PROPERTIES]
    values = _values(iris)
    if not values:
        return {}
    found: dict[str, dict[str, str]] = {}
    for x, p, d in store.query(
            f"SELECT ?x ?p ?d WHERE {{ VALUES ?x {{ {values} }} ?x ?p ?d "
            f"FILTER ({one_of('?p', (*starts, *ends))} && isLiteral(?d)) }}").rows():
        found.setdefault(str(x), {}).setdefault(str(p), str(d))
    spans = {}
    for subject, by_property in found.items():
        start = next((by_property[p] for p in starts if p in by_property), "")
        end = next((by_property[p] for p in ends if p in by_property), "")
        if start or end:
            spans[subject] = (start or end, end if start and end != start else "")
    return spans


def discrepancies(store: Store, dataset: str, kko: str) -> dict[str, list[str]]:
    """Observation -> the discrepancy records that involve it."""
    found: dict[str, list[str]] = {}
    for obs, record in store.query(
            f"SELECT DISTINCT ?obs ?d WHERE {{ ?obs <{qb.QB}dataSet> <{dataset}> . "
            f"?d a <{kko}Discrepancy> ; <{kko}involves> ?obs }} ORDER BY ?d").rows():
        found.setdefault(str(obs), []).append(str(record))
    return found


def page(store: Store, iri: str, base: str, labels: LabelReader,
         spaces: dict[str, str]) -> PageData:
    """Everything the page of ``iri`` shows."""
    kko = base + "ontology#"
    inferred_graph = labels.inferred_graph
    data = PageData(describe(store, iri, labels))
    if not data.description.exists:
        return data
    description = data.description
    data.links = links(description, base, inferred_graph, spaces)
    pointed = {str(s.object) for s in description.outgoing
               if isinstance(s.object, URIRef) and str(s.object).startswith(base)}
    data.dates = dates(store, pointed, kko)
    extra: set[str] = set()
    if URIRef(qb.QB + "DataSet") in description.types:
        data.cube = qb.read_cube(store, iri, inferred_graph)
        data.discrepancies = discrepancies(store, iri, kko)
        extra |= {str(t) for o in data.cube.observations for t in o.values.values()
                  if isinstance(t, URIRef)} | {c.property for c in data.cube.components}
        extra |= {d for records in data.discrepancies.values() for d in records}
    extra |= {str(link.statement) for link in data.links if link.statement is not None}
    extra |= {str(s) for link in data.links for s in link.sources}
    extra -= description.mentioned()
    if extra:
        description.labels += labels(extra)
    data.names = names_by_language(description.labels)
    description.labels = []
    return data
