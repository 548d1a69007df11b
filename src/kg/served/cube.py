"""Statistical datasets (RDF Data Cube): the structure and observations of a ``qb:DataSet``,
read from the graph, arranged as a table and as the series of a chart.

Generic over the cube: the dimensions and measures come from the data structure
definition (``qb:structure``); without one, the properties of the observations are
used (numbers are measures, the rest dimensions). A dimension whose values are
years or dates becomes the x axis of a line chart; otherwise the dimension with the
most values becomes the categories of a bar chart. Other dimensions that vary make
the series. Totals (an observation whose attribute named like "total" is true) are
left out of the chart, where they would dwarf their parts, and kept in the table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from rdflib import XSD, Literal, URIRef
from rdflib.term import Node

from kg.store import Store

QB = "http://purl.org/linked-data/cube#"
MEASURE_TYPE = QB + "measureType"
TIME_DATATYPES = {XSD.gYear, XSD.date, XSD.dateTime, XSD.gYearMonth}
TIME_PROPERTIES = {"http://purl.org/linked-data/sdmx/2009/dimension#refPeriod",
                   "http://purl.org/linked-data/sdmx/2009/dimension#refTime"}
_SKIP = {"http://www.w3.org/1999/02/22-rdf-syntax-ns#type", QB + "dataSet"}


@dataclass(frozen=True)
class Component:
    property: str
    kind: str  # dimension, measure, attribute
    order: float


@dataclass
class Observation:
    iri: str
    values: dict[str, Node]


@dataclass
class Series:
    key: tuple[Node, ...]
    #: x or category value -> (number, observation IRI)
    points: dict[Node, tuple[float, str]] = field(default_factory=dict)


@dataclass
class Chart:
    kind: str  # line or bar
    x: str  # the property on the x axis (line) or of the categories (bar)
    #: properties whose values name a series (the measure is named by ``measure`` in the key)
    series_properties: list[str]
    categories: list[Node]
    series: list[Series]
    #: dimensions with one value for all observations: (property, value)
    constants: list[tuple[str, Node]]
    measures: list[str]


@dataclass
class Cube:
    iri: str
    components: list[Component]
    observations: list[Observation]

    @property
    def dimensions(self) -> list[str]:
        return [c.property for c in self.components if c.kind == "dimension"]

    @property
    def measures(self) -> list[str]:
        return [c.property for c in self.components if c.kind == "measure"]

    @property
    def attributes(self) -> list[str]:
        return [c.property for c in self.components if c.kind == "attribute"]

    def distinct(self, prop: str) -> list[Node]:
        seen: dict[Node, None] = {}
        for obs in self.observations:
            if prop in obs.values:
                seen.setdefault(obs.values[prop])
        return list(seen)

    def is_total(self, obs: Observation) -> bool:
        return any("total" in local_name(a).lower() and obs.values.get(a) == Literal(True)
                   for a in self.attributes)

    def is_time(self, prop: str) -> bool:
        values = self.distinct(prop)
        return bool(values) and (prop in TIME_PROPERTIES or all(
            isinstance(v, Literal) and v.datatype in TIME_DATATYPES for v in values))

    def chart(self, *, with_totals: bool = False) -> Chart | None:
        """The chart that shows the cube best, or ``None`` when it has no numbers to draw;
        ``with_totals`` keeps the totals (for a table of the same layout)."""
        measures = [m for m in self.measures
                    if any(_number(o.values.get(m)) is not None for o in self.observations)]
        dimensions = [d for d in self.dimensions if d != MEASURE_TYPE]
        if not measures or not dimensions:
            return None
        varying = [d for d in dimensions if len(self.distinct(d)) > 1]
        constants = [(d, self.distinct(d)[0]) for d in dimensions
                     if len(self.distinct(d)) == 1]
        time = [d for d in varying if self.is_time(d)]
        if time:
            kind, x = "line", time[0]
        else:
            kind = "bar"
            x = max(varying or dimensions, key=lambda d: len(self.distinct(d)))
        series_properties = [d for d in varying if d != x]
        by_key: dict[tuple[Node, ...], Series] = {}
        for obs in self.observations:
            if x not in obs.values or (self.is_total(obs) and not with_totals):
                continue
            for measure in measures:
                number = _number(obs.values.get(measure))
                if number is None:
                    continue
                key = tuple(obs.values.get(d, Literal("")) for d in series_properties)
                if len(measures) > 1:
                    key += (URIRef(measure),)
                line = by_key.setdefault(key, Series(key))
                line.points[obs.values[x]] = (number, obs.iri)
        series = sorted(by_key.values(), key=lambda s: tuple(_sort_key(k) for k in s.key))
        categories = [c for c in self.distinct(x)
                      if any(c in line.points for line in series)]
        if kind == "line":
            categories.sort(key=_sort_key)
        elif series:
            # the largest first in the first series: the order a reader compares them in
            categories.sort(key=lambda c: -series[0].points.get(c, (0.0, ""))[0])
        return Chart(kind, x, series_properties, categories, series, constants, measures)


def local_name(iri: str) -> str:
    """The last segment of an IRI, after its last ``#`` or ``/``."""
    for sep in ("#", "/"):
        if sep in iri.rstrip("/#"):
            return iri.rstrip("/#").rsplit(sep, 1)[-1]
    return iri


def _number(term: Node | None) -> float | None:
    if not isinstance(term, Literal):
        return None
    value = term.toPython()
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def _sort_key(term: Node) -> tuple[int, float, str]:
    if isinstance(term, Literal):
        number = _number(term)
        if number is not None:
            return (0, number, "")
        text = str(term)
        if text[:4].isdigit():
            return (0, float(text[:4]), text)
        return (1, 0.0, text)
    return (2, 0.0, str(term))


def read_cube(store: Store, iri: str, inferred_graph: str) -> Cube:
    """The cube as asserted: reasoning (``owl:sameAs`` above all) would add copies of values."""
    components: dict[str, Component] = {}
    query = (
        f"SELECT DISTINCT ?kind ?prop ?order WHERE {{ <{iri}> <{QB}structure> ?dsd . "
        f"?dsd <{QB}component> ?c . "
        f"{{ ?c <{QB}dimension> ?prop BIND('dimension' AS ?kind) }} UNION "
        f"{{ ?c <{QB}measure> ?prop BIND('measure' AS ?kind) }} UNION "
        f"{{ ?c <{QB}attribute> ?prop BIND('attribute' AS ?kind) }} "
        f"OPTIONAL {{ ?c <{QB}order> ?order }} }}")
    for kind, prop, order in store.query(query).rows():
        position = float(order) if isinstance(order, Literal) else 1000.0
        components[str(prop)] = Component(str(prop), str(kind), position)
    values: defaultdict[str, dict[str, Node]] = defaultdict(dict)
    for obs, prop, value in store.query(
            f"SELECT DISTINCT ?obs ?p ?v WHERE {{ GRAPH ?g {{ ?obs <{QB}dataSet> <{iri}> }} "
            f"GRAPH ?h {{ ?obs ?p ?v }} FILTER (?h != <{inferred_graph}>) }}").rows():
        if str(prop) not in _SKIP:
            values[str(obs)].setdefault(str(prop), value)  # type: ignore[arg-type]
    observations = [Observation(o, v) for o, v in sorted(values.items())]
    if not components:
        used = sorted({p for o in observations for p in o.values})
        for name in used:
            numeric = all(_number(o.values[name]) is not None
                          for o in observations if name in o.values)
            components[name] = Component(name, "measure" if numeric else "dimension", 1000.0)
    ordered = sorted(components.values(), key=lambda c: (
        ("dimension", "measure", "attribute").index(c.kind), c.order, c.property))
    return Cube(iri, ordered, observations)
