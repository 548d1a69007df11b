"""The entity index: every main entity (``BASE/id/{slug}``) with its names, types and facts.

Built once per process from a store: the asserted facts, and from the closure the types (so
that a university is also an organization) and the facts between our entities (so that a
university with a campus in Almaty is located in Almaty and in Kazakhstan). Resources in a
folder of ``BASE/id/`` (sources, sites, link evidence…, see docs/iris.md) are not main
entities and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import OWL, RDF, RDFS, SKOS, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF
from rdflib.term import Node

from kg.reconcile.matching import Matcher, Name, name_forms
from kg.store import Store

#: links to other datasets, the strongest first
LINK_PREDICATES = (str(OWL.sameAs), str(SKOS.exactMatch), str(SKOS.closeMatch))
#: the predicates whose values are names of the entity
NAME_PREDICATES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, FOAF.name, DCTERMS.title)
KKO = "https://w3id.org/kazkor/ontology#"
_ORG = "http://www.w3.org/ns/org#"
_SCHEMA = "http://schema.org/"
_BIBO = "http://purl.org/ontology/bibo/"
#: the predicates that say which country something is in or belongs to
COUNTRY_PREDICATES = frozenset({f"{KKO}country", f"{KKO}locatedIn", f"{KKO}hostCountry",
                                "http://www.w3.org/ns/prov#atLocation"})


@dataclass(frozen=True)
class EntityType:
    """A type the service offers by a short id, and the classes that make an entity one."""

    id: str
    name: str
    classes: frozenset[str]


_UNIVERSITY_CLASSES = frozenset({f"{KKO}University", f"{KKO}HigherEducationInstitution",
                                 f"{_SCHEMA}CollegeOrUniversity"})
DEFAULT_TYPES = (
    EntityType("person", "Person", frozenset({str(FOAF.Person), f"{_SCHEMA}Person",
                                              f"{KKO}Person"})),
    # a university is an organization, whatever the ontology says
    EntityType("organization", "Organization", _UNIVERSITY_CLASSES | {
        f"{_ORG}Organization", f"{_ORG}FormalOrganization", str(FOAF.Organization),
        f"{_SCHEMA}Organization", f"{KKO}Organization"}),
    EntityType("university", "University", _UNIVERSITY_CLASSES),
    EntityType("place", "Place", frozenset({f"{KKO}Place", f"{_SCHEMA}Place"})),
    EntityType("event", "Event", frozenset({f"{KKO}Event", f"{_SCHEMA}Event"})),
    EntityType("document", "Document", frozenset({
        f"{KKO}Document", str(FOAF.Document), f"{_BIBO}Document", f"{_BIBO}AcademicArticle",
        f"{_BIBO}Periodical", f"{_BIBO}Collection", f"{_SCHEMA}CreativeWork"})),
)
DEFAULT_TYPE_IDS = {t.id: t for t in DEFAULT_TYPES}


@dataclass
class Entity:
    iri: str
    id: str
    names: list[Name] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    #: asserted facts: predicate IRI -> values (IRIs or literals)
    facts: dict[str, list[Node]] = field(default_factory=lambda: defaultdict(list))

    @property
    def is_person(self) -> bool:
        return bool(self.classes & DEFAULT_TYPE_IDS["person"].classes)

    @property
    def type_ids(self) -> list[str]:
        return [t.id for t in DEFAULT_TYPES if self.classes & t.classes]

    def label(self, lang: str = "en") -> str:
        labels = [n for n in self.names if not n.derived]
        for alternative in (False, True):
            for wanted in (lang, "en", ""):
                for name in labels:
                    if name.lang == wanted and name.alternative == alternative:
                        return name.text
        return labels[0].text if labels else self.id

    def labels_by_language(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for name in sorted(self.names, key=lambda n: n.alternative):
            if not name.derived and name.text not in out[name.lang]:
                out[name.lang].append(name.text)
        return dict(out)


class EntityIndex:
    """The entities of a release, their names folded for matching, and the labels of terms."""

    def __init__(self, base_iri: str, entities: dict[str, Entity],
                 term_labels: dict[str, str]) -> None:
        self.base_iri = base_iri
        self.entity_space = f"{base_iri}id/"
        self.entities = entities
        self.term_labels = term_labels
        #: folded word -> the entities with a name that has it
        self.word_owners: dict[str, set[str]] = defaultdict(set)
        #: every name of every entity, and whose it is
        owners: list[Entity] = []
        for entity in entities.values():
            for name in entity.names:
                owners.append(entity)
                for word in name.key.split():
                    self.word_owners[word].add(entity.id)
        self._owners = owners
        self.matcher = Matcher([n for e in entities.values() for n in e.names])
        #: external identifier (IRI and last segment) -> the entity linked to it, and how
        self.identifiers: dict[str, tuple[Entity, str]] = {}
        for entity in entities.values():
            for predicate in LINK_PREDICATES:
                for target in entity.facts.get(predicate, []):
                    iri = str(target).rstrip("/")
                    for identifier in (iri, iri.rsplit("/", 1)[-1]):
                        self.identifiers.setdefault(identifier, (entity, predicate))

    @classmethod
    def from_store(cls, store: Store, base_iri: str) -> EntityIndex:
        inferred = f"{base_iri}graph/inferred"
        meta = f"{base_iri}graph/meta"
        space = f"{base_iri}id/"
        rows = store.query(
            "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(STRSTARTS(STR(?s), "{space}")) }}').rows()
        by_iri: dict[str, Entity] = {}
        #: entity id -> its names as written: (text, language, alternative)
        written: dict[str, list[tuple[str, str, bool]]] = {}
        for graph, s, p, o in rows:
            entity_id = str(s)[len(space):]
            if str(graph) == meta or "/" in entity_id:
                continue
            if str(graph) == inferred and p != RDF.type and (
                    p == OWL.sameAs or not str(o).startswith(space)):
                continue  # the closure's copies onto linked IRIs, and its literals
            entity = by_iri.setdefault(str(s), Entity(str(s), entity_id))
            if p == RDF.type:
                entity.classes.add(str(o))
            elif p in NAME_PREDICATES and isinstance(o, Literal):
                written.setdefault(entity.id, []).append((str(o), o.language or "",
                                                          p == SKOS.altLabel))
            if p != RDF.type and o not in entity.facts[str(p)]:
                entity.facts[str(p)].append(o)  # type: ignore[arg-type]
        entities = {}
        for entity in by_iri.values():
            for text, lang, alternative in written.get(entity.id, ()):
                entity.names += name_forms(text, lang, alternative=alternative,
                                           person=entity.is_person)
            if entity.names:
                entities[entity.id] = entity
        term_labels: dict[str, str] = {}
        for term, label in store.query(
                "SELECT ?t ?l WHERE { ?t <http://www.w3.org/2000/01/rdf-schema#label> ?l "
                'FILTER(LANGMATCHES(LANG(?l), "en") || LANG(?l) = "") }').rows():
            term_labels.setdefault(str(term), str(label))
        return cls(base_iri, entities, term_labels)

    def scores(self, text: str) -> dict[str, float]:
        """The entities (by id) whose names score as candidates for ``text``, with the best
        score of their names (:mod:`kg.reconcile.matching`)."""
        best: dict[str, float] = {}
        for i, value in self.matcher.scores(text).items():
            entity_id = self._owners[i].id
            best[entity_id] = max(value, best.get(entity_id, 0.0))
        return best

    def entity(self, entity_id: str) -> Entity | None:
        """An entity by its id (the part of its IRI after ``BASE/id/``) or its full IRI."""
        if entity_id.startswith(self.entity_space):
            entity_id = entity_id[len(self.entity_space):]
        return self.entities.get(entity_id)

    def term_label(self, iri: str) -> str:
        if iri in self.term_labels:
            return self.term_labels[iri]
        entity = self.entity(iri)
        if entity is not None:
            return entity.label()
        return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    def has_type(self, entity: Entity, type_id: str) -> bool:
        """``type_id`` is a short id (``person``…), a class IRI, or a ``kko:`` name."""
        if type_id in DEFAULT_TYPE_IDS:
            return bool(entity.classes & DEFAULT_TYPE_IDS[type_id].classes)
        if type_id.startswith("kko:"):
            type_id = KKO + type_id[4:]
        return type_id in entity.classes

    def countries(self, entity: Entity, seen: frozenset[str] = frozenset()) -> list[Entity]:
        """The countries an entity is in or belongs to (``kko:country``, ``kko:locatedIn``,
        ``kko:hostCountry``, ``prov:atLocation``), through the places it is in."""
        found: list[Entity] = []
        for predicate in COUNTRY_PREDICATES & entity.facts.keys():
            for value in entity.facts[predicate]:
                other = self.entity(str(value)) if isinstance(value, URIRef) else None
                if other is None or other.iri in seen or other is entity:
                    continue
                if f"{KKO}Country" in other.classes:
                    found.append(other)
                elif f"{KKO}Place" in other.classes:
                    found += self.countries(other, seen | {entity.iri})
        unique = {c.iri: c for c in found}
        return list(unique.values())

    def linked(self, identifier: str) -> tuple[Entity, str] | None:
        """The entity that an external identifier is linked from, and the link predicate:
        the full IRI (``http://www.wikidata.org/entity/Q232``) or its last segment (``Q232``,
        ``03q0vrn42``, ``1522867``)."""
        return self.identifiers.get(identifier.strip().rstrip("/"))
