"""Reconciliation, suggest and data extension over an :class:`EntityIndex`.

The request and response shapes are those of the W3C Entity Reconciliation Service API 0.2
(the version OpenRefine 3.x speaks); HTTP is left to ``kg.web.reconcile``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rdflib import OWL, SKOS, XSD, Literal, URIRef
from rdflib.term import Node

from kg.reconcile import names
from kg.reconcile.index import DEFAULT_TYPES, KKO, Entity, EntityIndex
from kg.reconcile.matching import best_score, query_keys

#: a candidate at or above this score, and far enough ahead of the next, is a match
MATCH_SCORE = 90.0
MATCH_MARGIN = 8.0
#: the score of a query whose words are all in one name, one of them in no other entity's
DISTINCTIVE_SCORE = 92.0
DEFAULT_LIMIT = 5
#: without a type in the query, what an entity of none of the default types (a language, a
#: genre, a concept) is trusted against the people, organizations, places, events and
#: documents that archives' columns hold
UNTYPED_WEIGHT = 0.95
#: a query that is an identifier we link to (``Q232``, a ROR id…), by link predicate:
#: the same entity, or (skos:closeMatch) a near one that the archivist confirms
IDENTIFIER_SCORES = {str(OWL.sameAs): 100.0, str(SKOS.exactMatch): 100.0,
                     str(SKOS.closeMatch): 80.0}
#: virtual properties: computed from the facts rather than stored under one predicate
COUNTRY = "country"
DATE = "date"
_PREFIXES = {
    "kko": KKO, "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#", "owl": "http://www.w3.org/2002/07/owl#",
    "dcterms": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/",
    "prov": "http://www.w3.org/ns/prov#", "org": "http://www.w3.org/ns/org#",
}
_DATE_TYPES = {XSD.date, XSD.dateTime, XSD.gYear, XSD.gYearMonth}
_SPAN_STARTS = (f"{KKO}startDate", "http://www.w3.org/ns/prov#startedAtTime")
_SPAN_ENDS = (f"{KKO}endDate", "http://www.w3.org/ns/prov#endedAtTime")
_DATE_PARTS = re.compile(r"(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(Z|[+-]\d{2}:\d{2})?")


class QueryError(ValueError):
    """A reconciliation, suggest or extend request that the service cannot read."""


def distinctive_subset(query_key: str, entity: Entity, index: EntityIndex) -> bool:
    """Every word of the query is in one name of the entity, and one of them (of four
    letters or more) is in no other entity's names: ``Hankuk University`` for the Hankuk
    University of Foreign Studies."""
    words = set(query_key.split())
    if len(words) < 2:
        return False  # one word may name something larger: a family, a group of companies
    if not any(words <= set(n.key.split()) for n in entity.names):
        return False
    return any(len(w) >= 4 and index.word_owners.get(w) == {entity.id} for w in words)


def _iso_date_time(value: str) -> str:
    """A date, year or year-month as the full ISO date-time that the API's ``date`` values
    take: ``1993-11-05`` -> ``1993-11-05T00:00:00Z``, ``2007`` -> ``2007-01-01T00:00:00Z``."""
    match = _DATE_PARTS.fullmatch(value)
    if "T" in value or match is None:
        return value
    year, month, day, zone = match.groups()
    return f"{year}-{month or '01'}-{day or '01'}T00:00:00{zone or 'Z'}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Candidate:
    entity: Entity
    score: float
    match: bool = False


class ReconciliationService:
    def __init__(self, index: EntityIndex) -> None:
        self.index = index

    # -- types and properties ------------------------------------------------------------

    def type_json(self, type_id: str) -> dict[str, str]:
        for t in DEFAULT_TYPES:
            if t.id == type_id:
                return {"id": t.id, "name": t.name}
        return {"id": type_id, "name": self.index.term_label(type_id)}

    def entity_types(self, entity: Entity) -> list[dict[str, str]]:
        return [self.type_json(t) for t in entity.type_ids]

    def property_iri(self, pid: str) -> str:
        if pid in (COUNTRY, DATE) or "://" in pid:
            return pid
        prefix, _, local = pid.partition(":")
        if prefix in _PREFIXES and local:
            return _PREFIXES[prefix] + local
        raise QueryError(f"unknown property {pid!r}: use country, date, a full IRI or a "
                         f"prefixed name ({', '.join(sorted(_PREFIXES))})")

    def property_label(self, pid: str) -> str:
        if pid == COUNTRY:
            return "Country"
        if pid == DATE:
            return "Date"
        return self.index.term_label(self.property_iri(pid))

    # -- reconciliation --------------------------------------------------------------------

    def reconcile(self, query: dict[str, Any] | str) -> dict[str, Any]:
        if isinstance(query, str):
            query = {"query": query}
        if not isinstance(query, dict):
            raise QueryError("a reconciliation query is a JSON object with a 'query' string")
        text = query.get("query")
        if not isinstance(text, str) or not text.strip():
            raise QueryError("a reconciliation query needs a non-empty 'query' string")
        limit = query.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise QueryError("'limit' must be a positive integer")
        types = [t for t in _as_list(query.get("type") or []) if t]
        if not all(isinstance(t, str) for t in types):
            raise QueryError("'type' must be a type id or a list of type ids")
        constraints = query.get("properties") or []
        if not isinstance(constraints, list) or not all(
                isinstance(c, dict) and "pid" in c and "v" in c for c in constraints):
            raise QueryError("'properties' must be a list of objects with 'pid' and 'v'")
        for c in constraints:
            self.property_iri(c["pid"])

        keys = query_keys(text)
        scores = self.index.scores(text)
        linked = self.index.linked(text)
        if linked:
            scores[linked[0].id] = max(scores.get(linked[0].id, 0.0),
                                       IDENTIFIER_SCORES[linked[1]])
        candidates = []
        for entity_id, score in scores.items():
            entity = self.index.entities[entity_id]
            if types and not any(self.index.has_type(entity, t) for t in types):
                continue
            if not types and not entity.type_ids:
                score *= UNTYPED_WEIGHT
            if score < DISTINCTIVE_SCORE and any(distinctive_subset(k, entity, self.index)
                                                 for k in keys):
                score = DISTINCTIVE_SCORE
            for constraint in constraints:
                agrees = self.property_agrees(entity, constraint["pid"], constraint["v"])
                score *= {True: 1.0, False: 0.6, None: 0.95}[agrees]
            candidates.append(Candidate(entity, round(score, 1)))
        candidates.sort(key=lambda c: (-c.score, c.entity.id))
        if candidates and candidates[0].score >= MATCH_SCORE and (
                len(candidates) == 1 or candidates[0].score - candidates[1].score >= MATCH_MARGIN):
            candidates[0].match = True
        return {"result": [self.candidate_json(c) for c in candidates[:limit]]}

    def reconcile_batch(self, queries: dict[str, Any]) -> dict[str, Any]:
        """A batch of queries by key, answered by key."""
        return {key: self.reconcile(query) for key, query in queries.items()}

    def preview(self, entity_id: str) -> dict[str, Any] | None:
        """What the preview of an entity shows, or ``None`` when there is no such entity."""
        entity = self.index.entity(entity_id)
        if entity is None:
            return None
        return {"id": entity.id, "iri": entity.iri, "label": entity.label(),
                "description": self.description(entity),
                "labels": entity.labels_by_language()}

    def candidate_json(self, candidate: Candidate) -> dict[str, Any]:
        entity = candidate.entity
        return {"id": entity.id, "name": entity.label(), "type": self.entity_types(entity),
                "score": candidate.score, "match": candidate.match,
                "description": self.description(entity)}

    def description(self, entity: Entity) -> str:
        types = ", ".join(t["name"] for t in self.entity_types(entity)) or ", ".join(
            sorted({self.index.term_label(c) for c in entity.classes}))
        countries = ", ".join(c.label() for c in self.index.countries(entity))
        return "; ".join(part for part in (types, countries) if part)

    def property_agrees(self, entity: Entity, pid: str, wanted: Any) -> bool | None:
        """Whether the entity's values of ``pid`` agree with ``wanted`` (``None``: it has
        none)."""
        values = self.values(entity, pid)
        if not values:
            return None
        wanted_values = _as_list(wanted)
        if pid == DATE and any(self._within_span(entity, str(w)) for w in wanted_values):
            return True
        return any(self._value_agrees(value, w) for value in values for w in wanted_values)

    @staticmethod
    def _within_span(entity: Entity, wanted: str) -> bool:
        """A date inside the span of an event (``kko:startDate``…``kko:endDate``, or
        ``prov:startedAtTime``…``prov:endedAtTime``)."""
        starts = [v for p in _SPAN_STARTS for v in entity.facts.get(p, [])]
        ends = [v for p in _SPAN_ENDS for v in entity.facts.get(p, [])]
        return any(str(start)[:len(wanted)] <= wanted <= str(end)[:len(wanted)]
                   for start in starts for end in ends)

    def _value_agrees(self, value: Node | Entity, wanted: Any) -> bool:
        if isinstance(wanted, dict):
            wanted = wanted.get("id", wanted.get("name", ""))
        wanted_text = str(wanted).strip()
        if isinstance(value, Entity) or (isinstance(value, URIRef)
                                         and self.index.entity(str(value))):
            entity = value if isinstance(value, Entity) else self.index.entity(str(value))
            assert entity is not None
            if wanted_text in (entity.id, entity.iri):
                return True
            return best_score(query_keys(wanted_text), entity.names) >= 85
        if isinstance(value, Literal) and value.datatype in _DATE_TYPES:
            return str(value).startswith(wanted_text) or wanted_text.startswith(str(value)[:10])
        if isinstance(value, URIRef):
            return str(value) == wanted_text
        return names.key(str(value)) == names.key(wanted_text)

    def values(self, entity: Entity, pid: str) -> list[Node | Entity]:
        if pid == COUNTRY:
            return list(self.index.countries(entity))
        if pid == DATE:
            return [v for vs in entity.facts.values() for v in vs
                    if isinstance(v, Literal) and v.datatype in _DATE_TYPES]
        return list(entity.facts.get(self.property_iri(pid), []))

    # -- suggest -------------------------------------------------------------------------

    def suggest_entities(self, prefix: str, type_id: str | None = None,
                         limit: int = 10) -> dict[str, Any]:
        prefix_key = names.key(prefix)
        if not prefix_key:
            return {"result": []}
        ranked: list[tuple[int, str, Entity]] = []
        for entity in self.index.entities.values():
            if type_id and not self.index.has_type(entity, type_id):
                continue
            rank = min((0 if n.key.startswith(prefix_key) else 1
                        for n in entity.names if not n.derived
                        and (n.key.startswith(prefix_key)
                             or any(w.startswith(prefix_key) for w in n.key.split())
                             or n.key.replace(" ", "").startswith(prefix_key.replace(" ", "")))),
                       default=None)
            if rank is not None:
                ranked.append((rank, entity.label().lower(), entity))
        ranked.sort(key=lambda r: (r[0], r[1]))
        entities = [e for _, _, e in ranked[:limit]]
        if not entities:  # a typo in the prefix: fall back to fuzzy matching
            query = {"query": prefix, "limit": limit, **({"type": type_id} if type_id else {})}
            found = self.reconcile(query)["result"]
            entities = [self.index.entities[c["id"]] for c in found if c["score"] >= 70]
        return {"result": [{"id": e.id, "name": e.label(), "description": self.description(e),
                            "notable": self.entity_types(e)} for e in entities]}

    def suggest_types(self, prefix: str, limit: int = 10) -> dict[str, Any]:
        wanted = prefix.strip().lower()
        offered = [{"id": t.id, "name": t.name} for t in DEFAULT_TYPES]
        classes = sorted({c for e in self.index.entities.values() for c in e.classes})
        offered += [{"id": c, "name": self.index.term_label(c)} for c in classes]
        return {"result": [t for t in offered if t["name"].lower().startswith(wanted)
                           or t["id"].lower().startswith(wanted)
                           or any(w.startswith(wanted) for w in t["name"].lower().split())]
                [:limit]}

    def all_properties(self, type_id: str | None = None) -> list[str]:
        counts: dict[str, int] = {}
        for entity in self.index.entities.values():
            if type_id and not self.index.has_type(entity, type_id):
                continue
            if self.index.countries(entity):
                counts[COUNTRY] = counts.get(COUNTRY, 0) + 1
            for pid in entity.facts:
                counts[pid] = counts.get(pid, 0) + 1
        return sorted(counts, key=lambda p: (-counts[p], p))

    def suggest_properties(self, prefix: str, limit: int = 10) -> dict[str, Any]:
        wanted = prefix.strip().lower()
        found = [{"id": p, "name": self.property_label(p)} for p in self.all_properties()]
        return {"result": [p for p in found if p["name"].lower().startswith(wanted)
                           or any(w.startswith(wanted) for w in p["name"].lower().split())
                           or p["id"].lower().rsplit("#", 1)[-1].rsplit("/", 1)[-1]
                           .startswith(wanted)][:limit]}

    # -- data extension ------------------------------------------------------------------

    def propose_properties(self, type_id: str | None, limit: int = 20) -> dict[str, Any]:
        """The properties of entities of ``type_id`` (of all entities when ``None``), the
        most used first."""
        properties = [{"id": p, "name": self.property_label(p)}
                      for p in self.all_properties(type_id)][:limit]
        return {**({"type": type_id} if type_id else {}), "limit": limit,
                "properties": properties}

    def extend(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or not isinstance(request.get("ids"), list) \
                or not isinstance(request.get("properties"), list):
            raise QueryError("an extend request is a JSON object with 'ids' (a list of entity "
                             "ids) and 'properties' (a list of objects with an 'id')")
        pids = []
        for prop in request["properties"]:
            if not isinstance(prop, dict) or not isinstance(prop.get("id"), str):
                raise QueryError("each property of an extend request is an object with an 'id'")
            self.property_iri(prop["id"])
            pids.append(prop["id"])
        rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for entity_id in request["ids"]:
            entity = self.index.entity(str(entity_id))
            rows[str(entity_id)] = {
                pid: [self.value_json(v) for v in self.values(entity, pid)] if entity else []
                for pid in pids}
        return {"meta": [{"id": pid, "name": self.property_label(pid)} for pid in pids],
                "rows": rows}

    def value_json(self, value: Node | Entity) -> dict[str, Any]:
        if isinstance(value, Entity):
            return {"id": value.id, "name": value.label()}
        if isinstance(value, URIRef):
            entity = self.index.entity(str(value))
            return {"id": entity.id, "name": entity.label()} if entity else {"str": str(value)}
        if isinstance(value, Literal):
            if value.datatype in _DATE_TYPES:
                return {"date": _iso_date_time(str(value))}
            python = value.toPython()
            if isinstance(python, bool):
                return {"bool": python}
            if isinstance(python, int):
                return {"int": python}
            if isinstance(python, float):
                return {"float": python}
        return {"str": str(value)}
