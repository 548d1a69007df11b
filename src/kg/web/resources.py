"""Dereferenceable IRIs: ``/id/…`` answers 303 to ``/page/…`` (HTML) or ``/data/…`` (RDF).

``/data/…`` negotiates among the RDF formats of :mod:`kg.formats` or takes a
suffix (``.ttl`` ``.nt`` ``.jsonld`` ``.rdf`` ``.trig`` ``.nq``). The server
answers for the base IRI on whatever host it runs: ``/id/x`` is ``BASE/id/x``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, redirect, request
from rdflib import RDF, BNode, Literal, URIRef
from rdflib.term import Node
from werkzeug.wrappers import Response as BaseResponse

from kg import formats
from kg.pipeline.jsonld import context_bytes
from kg.served import JobFailed
from kg.served import cube as qb
from kg.served.describe import LABEL_PROPERTIES, SOURCE_PROPERTIES, Description, Statement
from kg.served.pages import PageData
from kg.sparql.negotiate import choose
from kg.sparql.service import Answer, etag_of
from kg.terms import sorted_terms
from kg.web import prefixes
from kg.web.failures import job_failed
from kg.web.html import HTML, not_acceptable, not_found, page
from kg.web.plot import SeriesData, draw, format_number
from kg.web.state import state
from kg.web.terms import (
    Labels,
    TermView,
    choose_language,
    local_path,
    view,
)

blueprint = Blueprint("resources", __name__)

INFERRED = "inferred"


def entity_iri(path: str) -> str:
    return f"{state().config.base_iri}id/{path}"


def graph_name(graph_iri: str, base: str) -> str:
    """The name of one of our graphs under ``base`` (``inferred``), or the IRI of another."""
    prefix = base + "graph/"
    return graph_iri[len(prefix):] if graph_iri.startswith(prefix) else graph_iri


def exists(iri: str) -> bool:
    return state().served.store.query(
        f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}").boolean


def add_labels(labels: Labels, iris: set[str]) -> None:
    """The asserted labels of ``iris``, read in a query process, added to ``labels``."""
    wanted = sorted(iris - {i for i in iris if labels.known(i)})
    if wanted:
        for subject, _p, label in state().served.call("labels", wanted):
            labels.add(str(subject), label)


def _valid_path(path: str) -> bool:
    """Whether ``path`` can end an IRI: no control characters, spaces or ``<>"{}|\\^```."""
    return bool(path) and not any(c in '<>"{}|\\^`' or c <= " " or "\x7f" <= c <= "\x9f"
                                  for c in path)


@blueprint.errorhandler(JobFailed)
def _not_an_iri(error: JobFailed) -> Response:
    """A path that passes :func:`_valid_path` but that the store still refuses as an IRI."""
    if error.kind != "syntax":
        return job_failed(error)
    return not_found(f"{request.path!r} does not name an entity of this graph.")


@blueprint.get("/id/")
@blueprint.get("/page/")
@blueprint.get("/data/")
def index() -> BaseResponse:
    """The folders of the IRIs list nothing themselves: everything is on the browse page."""
    return redirect("/browse", code=303)


@blueprint.get("/id/<path:path>")
def identifier(path: str) -> BaseResponse:
    """303 See Other to the page or the data, whichever the Accept header prefers."""
    if not _valid_path(path) or not exists(entity_iri(path)):
        return not_found(f"There is nothing at {entity_iri(path)} in this graph.", path)
    chosen = choose(request.headers.get("Accept"), [HTML, *formats.rdf_formats()])
    if chosen is None:
        return not_acceptable([HTML, *formats.rdf_formats()])
    target = f"/page/{path}" if chosen is HTML else f"/data/{path}"
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = redirect(target, code=303)
    response.vary.add("Accept")
    return response


def _split_suffix(path: str) -> tuple[str, formats.Format | None]:
    stem, dot, extension = path.rpartition(".")
    if dot and extension in formats.BY_EXTENSION and "/" not in extension:
        fmt = formats.BY_EXTENSION[extension]
        if fmt.kind in ("rdf", "dataset"):
            return stem, fmt
    return path, None


def rdf_response(body: bytes, fmt: formats.Format) -> Response:
    response = Response(body, mimetype=fmt.media_type)
    response.headers["Content-Type"] = f"{fmt.media_type}; charset=utf-8"
    response.vary.add("Accept")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/context.jsonld")
def jsonld_context() -> Response:
    """The JSON-LD context of the /data documents and the dumps (each embeds it too)."""
    response = Response(context_bytes(state().config), mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/data/<path:path>")
def data(path: str) -> Response:
    stem, fmt = _split_suffix(path)
    iri = entity_iri(stem)
    if not _valid_path(stem):
        return not_found(f"{stem!r} is not a valid name of an entity.", stem)
    if fmt is None:
        fmt = choose(request.headers.get("Accept"), formats.rdf_formats())
        if fmt is None:
            return not_acceptable(formats.rdf_formats())
    chosen = fmt

    def make() -> Response:
        body = state().served.call("data_document", iri, chosen.name, prefixes.declared())
        if body is None:
            return not_found(f"There is nothing at {iri} in this graph.", stem)
        return rdf_response(body, chosen)

    return document(f"data\0{request.full_path}\0{fmt.name}", ("Accept",), make)


def document(key: str, vary: tuple[str, ...], make: Callable[[], Response]) -> Response:
    """A page or data document of the served version. Its ETag names the version (which
    never changes) and ``key``: what else the document depends on, its URI (path and
    query, as HTTP caches key) first. A client that holds it (``If-None-Match``) gets a
    304 and nothing is read; one this web worker made lately is sent again; else ``make``
    makes it (only a 200 made at the version it began with is kept and tagged).
    ``vary``: the request headers it depends on."""
    served, documents = state().served, state().documents
    version = served.version_id
    etag = etag_of(version, key)
    if request.if_none_match.contains_weak(etag.removeprefix("W/").strip('"')):
        response = Response(status=304, headers={"ETag": etag})
        response.vary.update(vary)
        return response
    kept = documents.get(etag)
    if kept is not None:
        response = Response(kept.body, headers=kept.headers)
    else:
        response = make()
        if response.status_code != 200 or served.version_id != version:
            return response
        documents.put(etag, Answer(200, response.content_type or "", response.get_data(),
                                   dict(response.headers.items()), version, etag))
    response.headers["ETag"] = etag
    return response


@dataclass
class FactValue:
    """One value of a property on a page."""

    term: TermView
    #: the named graph it is asserted in (or "inferred")
    graph: str
    #: a nested description (the statements about a blank node), shown in place: (property,
    #: value), the property ``None`` for the written form of a label
    nested: list[tuple[TermView | None, TermView]] = field(default_factory=list)
    #: the value's date, or span, when it is an event or a document with one
    date: str = ""
    #: the sources given to this one statement (by reification)
    sources: list[TermView] = field(default_factory=list)


@dataclass
class FactGroup:
    predicate: TermView
    values: list[FactValue] = field(default_factory=list)


#: properties of a nested description whose value is the description itself (the written
#: form of a SKOS-XL label): shown first, without the property's name
FORM_PROPERTIES = frozenset({"http://www.w3.org/2008/05/skos-xl#literalForm",
                             str(RDF.value)})
#: the reification of a statement: its parts are shown with the statement they describe
REIFICATION = frozenset({RDF.subject, RDF.predicate, RDF.object})


def _span(dates: dict[str, tuple[str, str]], iri: str) -> str:
    start, end = dates.get(iri, ("", ""))
    return f"{start} – {end}" if end else start


def _groups(statements: list[Statement], labels: Labels, *, incoming: bool = False,
            data: PageData | None = None) -> list[FactGroup]:
    nested: dict[Node, list[Statement]] = {}
    cited: dict[tuple[str, str], list[URIRef]] = {}
    if data is not None:
        for s in data.description.nested:
            nested.setdefault(s.subject, []).append(s)
        for p, o, src in data.description.statement_sources:
            cited.setdefault((str(p), str(o)), []).append(src)
    groups: dict[str, FactGroup] = {}
    for s in statements:
        group = groups.setdefault(str(s.predicate), FactGroup(view(s.predicate, labels)))
        other = s.subject if incoming else s.object
        value = FactValue(view(other, labels), graph_name(s.graph, labels.base))
        if isinstance(other, BNode):
            parts = [n for n in nested.get(other, []) if n.predicate != RDF.type]
            parts.sort(key=lambda n: (str(n.predicate) not in FORM_PROPERTIES,
                                      view(n.predicate, labels).text.casefold()))
            value.nested = [(None if str(n.predicate) in FORM_PROPERTIES
                             else view(n.predicate, labels), view(n.object, labels))
                            for n in parts]
        if data is not None and isinstance(other, URIRef):
            value.date = _span(data.dates, str(other))
        value.sources = [view(src, labels)
                         for src in sorted(set(cited.get((str(s.predicate), str(other)), [])))]
        group.values.append(value)
    for group in groups.values():
        group.values.sort(key=lambda v: (v.term.text.casefold(), v.graph))
    return sorted(groups.values(), key=lambda g: g.predicate.text.casefold())


_HEADER_PROPERTIES = {str(RDF.type), *LABEL_PROPERTIES[:1]}


#: properties whose text describes a resource in a sentence or two
SUMMARY_PROPERTIES = ("http://www.w3.org/2000/01/rdf-schema#comment",
                      "http://purl.org/dc/terms/description",
                      "http://www.w3.org/2004/02/skos/core#definition")


def _summary(description: Description, language: str) -> tuple[str, str | None] | None:
    texts = {(s.object.language or ""): str(s.object) for s in description.outgoing
             if str(s.predicate) in SUMMARY_PROPERTIES and isinstance(s.object, Literal)}
    for lang in (language, "en", ""):
        if lang in texts:
            return texts[lang], lang or None
    return None


def _title(description: Description, labels: Labels) -> tuple[str, str | None]:
    """Its label; an observation without one is named by its dataset and its values."""
    iri = str(description.iri)
    if labels.known(iri):
        return labels.pick(iri)
    dataset = next((s.object for s in description.outgoing
                    if str(s.predicate) == qb.QB + "dataSet"), None)
    if dataset is None:
        return labels.pick(iri)
    values = sorted((view(s.predicate, labels).text, view(s.object, labels).text)
                    for s in description.outgoing
                    if s.predicate != RDF.type and s.object != dataset
                    and graph_name(s.graph, labels.base) != INFERRED)
    return (f"{view(dataset, labels).text}: "
            + "; ".join(f"{p} {v}" for p, v in values), None)


@dataclass(frozen=True)
class Identifier:
    """A row of the identifiers section: a link to another dataset."""

    dataset: str
    identifier: str
    href: str
    #: the kind of link (same as, exact match, close match)
    kind: TermView
    #: the statement of the link, with its sources
    evidence: TermView | None
    sources: list[TermView]


def _identifiers(data: PageData, labels: Labels) -> list[Identifier]:
    return [Identifier(link.dataset, link.identifier, str(link.target),
                       view(link.predicate, labels),
                       view(link.statement, labels) if link.statement is not None else None,
                       [view(s, labels) for s in link.sources]) for link in data.links]


def _distinct(types: Iterable[TermView]) -> list[TermView]:
    """The types, one of each name (``document`` is kko:Document, foaf:Document and
    bibo:Document)."""
    seen: dict[str, TermView] = {}
    for t in types:
        seen.setdefault(t.text.casefold(), t)
    return list(seen.values())


def entity_context(data: PageData, labels: Labels) -> dict[str, Any]:
    description = data.description

    def inferred(s: Statement) -> bool:
        return graph_name(s.graph, labels.base) == INFERRED

    linked = {(link.predicate, link.target) for link in data.links}
    outgoing = [s for s in description.outgoing if str(s.predicate) not in _HEADER_PROPERTIES
                and (s.predicate, s.object) not in linked]
    asserted = [s for s in outgoing if not inferred(s)
                and str(s.predicate) not in SOURCE_PROPERTIES
                and not (str(s.predicate) in SUMMARY_PROPERTIES and isinstance(s.object, Literal))]
    inferred_out = [s for s in outgoing if inferred(s)]
    # the parts of link statements are shown as identifiers; a dataset's observations in
    # its table
    incoming = [s for s in description.incoming if s.predicate not in REIFICATION
                and not (data.cube is not None and str(s.predicate) == qb.QB + "dataSet")]
    inferred_types = {s.object for s in description.outgoing
                      if s.predicate == RDF.type and inferred(s)}
    sources = sorted({s.object for s in description.outgoing
                      if str(s.predicate) in SOURCE_PROPERTIES and isinstance(s.object, URIRef)})
    iri = str(description.iri)
    types = _distinct(view(t, labels) for t in description.types if t not in inferred_types)
    named = {t.text.casefold() for t in types}
    return {
        "iri": iri,
        "title": _title(description, labels),
        "summary": _summary(description, labels.language),
        "names": sorted(labels.all(iri).items()),
        "types": types,
        "inferred_types": [t for t in _distinct(view(t, labels)
                                                for t in sorted_terms(inferred_types))
                           if t.text.casefold() not in named],
        "facts": _groups(asserted, labels, data=data),
        "identifiers": _identifiers(data, labels),
        "inferred": _groups(inferred_out, labels, data=data),
        "inferred_incoming": _groups([s for s in incoming if inferred(s)],
                                     labels, incoming=True),
        "incoming": _groups([s for s in incoming if not inferred(s)], labels,
                            incoming=True),
        "sources": [(view(s, labels), view(description.source_parts[str(s)], labels)
                     if str(s) in description.source_parts else None) for s in sources],
    }


@dataclass(frozen=True)
class Cell:
    """A number of the table, the observation it comes from, and the discrepancy records
    that involve it."""

    number: float
    observation: str
    #: (its number in the page's list, the record)
    discrepancies: list[tuple[int, TermView]]


def dataset_context(data: PageData, labels: Labels) -> dict[str, object]:
    """The table and the chart of a statistical dataset, drawn from its observations."""
    cube = data.cube
    assert cube is not None
    iri = str(data.description.iri)
    chart = cube.chart()
    table = cube.chart(with_totals=True)

    recorded = sorted({view(URIRef(d), labels) for involving in data.discrepancies.values()
                       for d in involving}, key=lambda v: v.text.casefold())
    number = {v.iri: n for n, v in enumerate(recorded, 1)}

    def records(observation: str) -> list[tuple[int, TermView]]:
        """The discrepancy records of an observation, each with its number in the list."""
        return sorted((number[d], view(URIRef(d), labels))
                      for d in data.discrepancies.get(observation, []))

    context: dict[str, object] = {
        "columns": [view(URIRef(c.property), labels) for c in cube.components],
        "rows": [(o.iri, [view(o.values[c.property], labels) if c.property in o.values else None
                          for c in cube.components], records(o.iri))
                 for o in cube.observations],
        "observation_count": len(cube.observations),
        "discrepancies": recorded,
    }
    if chart is None or table is None:
        return context
    measure_names = ", ".join(view(URIRef(m), labels).text for m in chart.measures)

    def series_name(key: tuple[Node, ...]) -> str:
        return ", ".join(view(k, labels).text for k in key) or measure_names

    category_names = {c: view(c, labels).text for c in chart.categories}
    positions = {c: float(qb._sort_key(c)[1]) if chart.kind == "line" else float(i)
                 for i, c in enumerate(chart.categories)}
    series = [SeriesData(series_name(s.key),
                         [(category_names[c], positions[c], s.points[c][0])
                          for c in chart.categories if c in s.points]) for s in chart.series]
    title = labels.pick(iri)[0]
    constants = "; ".join(f"{view(URIRef(p), labels).text}: {view(v, labels).text}"
                          for p, v in chart.constants)
    context.update({
        "chart": draw(chart.kind, [category_names[c] for c in chart.categories], series,
                      title=title, y_label=measure_names),
        "chart_kind": chart.kind,
        "constants": constants,
        "pivot_columns": [series_name(s.key) for s in table.series],
        "pivot_axis": view(URIRef(table.x), labels),
        "pivot_rows": [(view(c, labels).text, [
            Cell(s.points[c][0], s.points[c][1], records(s.points[c][1]))
            if c in s.points else None for s in table.series])
            for c in table.categories],
    })
    return context


def read_page(iri: str) -> PageData:
    """What the page of ``iri`` shows, read in a query process in one job."""
    return state().served.call("page", iri)


@blueprint.get("/page/<path:path>")
def entity_page(path: str) -> Response:
    iri = entity_iri(path)
    if not _valid_path(path):
        return not_found(f"{path!r} is not a valid name of an entity.", path)
    # the page's words follow the language; its language switch links the query string
    return document(f"page\0{request.full_path}\0{choose_language(request)}",
                    ("Accept-Language", "Cookie"), lambda: _entity_page(path, iri))


def _entity_page(path: str, iri: str) -> Response:
    data = read_page(iri)
    if not data.description.exists:
        return not_found(f"There is nothing at {iri} in this graph.", path.rsplit("/", 1)[-1])
    labels = Labels(state().config.base_iri, choose_language(request), data.names)
    context = entity_context(data, labels)
    if data.cube is not None:
        context["dataset"] = dataset_context(data, labels)
    downloads = [(f.label, f.media_type, f"/data/{path}.{f.extension}")
                 for f in formats.rdf_formats()]
    return page("entity.html", downloads=downloads, **context)


@blueprint.app_template_filter("local_path")
def local_path_filter(iri: str) -> str:
    return local_path(iri, state().config.base_iri) or iri


@blueprint.app_template_filter("number")
def number_filter(value: float) -> str:
    return format_number(value)
