"""Dereferenceable IRIs: ``/id/…`` answers 303 to ``/page/…`` (HTML) or ``/data/…`` (RDF).

``/data/…`` negotiates among the RDF formats of :mod:`kg.formats` or takes a
suffix (``.ttl`` ``.nt`` ``.jsonld`` ``.rdf`` ``.trig`` ``.nq``). The server
answers for the base IRI on whatever host it runs: ``/id/x`` is ``BASE/id/x``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, redirect, request
from rdflib import RDF, Literal, URIRef

from kg import formats
from kg.pipeline.jsonld import compact, context_bytes
from kg.served import JobFailed
from kg.served.describe import LABEL_PROPERTIES, SOURCE_PROPERTIES, Description
from kg.sparql.negotiate import choose
from kg.web import cube as qb
from kg.web import prefixes
from kg.web.failures import job_failed
from kg.web.html import HTML, not_acceptable, not_found, page
from kg.web.plot import SeriesData, draw, format_number
from kg.web.state import state
from kg.web.terms import (
    Labels,
    TermView,
    choose_language,
    label_index,
    local_path,
    view,
)

blueprint = Blueprint("resources", __name__)

INFERRED = "inferred"


def _inferred_graph() -> str:
    return str(state().config.graph_iri(INFERRED))


def entity_iri(path: str) -> str:
    return f"{state().config.base_iri}id/{path}"


def graph_name(graph_iri: str) -> str:
    prefix = state().config.base_iri + "graph/"
    return graph_iri[len(prefix):] if graph_iri.startswith(prefix) else graph_iri


def exists(iri: str) -> bool:
    return state().served.store.query(
        f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}").boolean


def describe(iri: str) -> Description:
    """The description of ``iri``, read in a query process."""
    return state().served.call("describe", iri)  # type: ignore[no-any-return]


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
def index() -> Response:
    """The folders of the IRIs list nothing themselves: everything is on the browse page."""
    return redirect("/browse", code=303)


@blueprint.get("/id/<path:path>")
def identifier(path: str) -> Response:
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


def rdf_response(description: Description, fmt: formats.Format) -> Response:
    config = state().config
    graph_iris = config.graph_iris.values()
    if fmt.kind == "dataset":
        rdf = description.to_dataset(graph_iris)
    else:
        rdf = description.to_graph(graph_iris)
    prefixes.bind(rdf)
    if fmt.name == "jsonld":
        body = compact(rdf, config)
    else:
        body = rdf.serialize(format=fmt.rdflib, encoding="utf-8")
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
    description = describe(iri)
    if not description.exists:
        return not_found(f"There is nothing at {iri} in this graph.", stem)
    return rdf_response(description, fmt)


@dataclass
class FactGroup:
    predicate: TermView
    values: list[tuple[TermView, str]] = field(default_factory=list)  # (value, graph name)


def _groups(statements, labels: Labels, *, incoming: bool) -> list[FactGroup]:  # type: ignore[no-untyped-def]
    groups: dict[str, FactGroup] = {}
    for s in statements:
        group = groups.setdefault(str(s.predicate), FactGroup(view(s.predicate, labels)))
        other = s.subject if incoming else s.object
        group.values.append((view(other, labels), graph_name(s.graph)))
    for group in groups.values():
        group.values.sort(key=lambda v: (v[0].text.casefold(), v[1]))
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
                    and graph_name(s.graph) != INFERRED)
    return (f"{view(dataset, labels).text}: "
            + "; ".join(f"{p} {v}" for p, v in values), None)


def entity_context(description: Description, labels: Labels) -> dict[str, object]:
    outgoing = [s for s in description.outgoing if str(s.predicate) not in _HEADER_PROPERTIES]
    asserted = [s for s in outgoing if graph_name(s.graph) != INFERRED
                and str(s.predicate) not in SOURCE_PROPERTIES]
    inferred = [s for s in outgoing if graph_name(s.graph) == INFERRED]
    inferred_types = {s.object for s in description.outgoing
                      if s.predicate == RDF.type and graph_name(s.graph) == INFERRED}
    iri = str(description.iri)
    return {
        "iri": iri,
        "title": _title(description, labels),
        "summary": _summary(description, labels.language),
        "names": sorted(labels.all(iri).items()),
        "types": [view(t, labels) for t in description.types if t not in inferred_types],
        "inferred_types": [view(t, labels) for t in sorted(inferred_types)],
        "facts": _groups(asserted, labels, incoming=False),
        "inferred": _groups(inferred, labels, incoming=False),
        "incoming": _groups(description.incoming, labels, incoming=True),
        "nested": _groups(description.nested, labels, incoming=False),
        "sources": [(view(s, labels), view(description.source_parts[str(s)], labels)
                     if str(s) in description.source_parts else None)
                    for s in description.sources],
        "statement_sources": [(view(p, labels), view(o, labels), view(src, labels))
                              for p, o, src in description.statement_sources],
    }


def dataset_context(iri: str, labels: Labels) -> dict[str, object]:
    """The table and the chart of a statistical dataset, drawn from its observations."""
    store = state().served.store
    cube = qb.read_cube(store, iri, _inferred_graph())
    names = {str(t) for o in cube.observations for t in o.values.values()
             if isinstance(t, URIRef)} | {c.property for c in cube.components}
    add_labels(labels, names)
    chart = cube.chart()
    table = cube.chart(with_totals=True)
    context: dict[str, object] = {
        "columns": [view(URIRef(c.property), labels) for c in cube.components],
        "rows": [(o.iri, [view(o.values[c.property], labels) if c.property in o.values else None
                          for c in cube.components]) for o in cube.observations],
        "observation_count": len(cube.observations),
    }
    if chart is None or table is None:
        return context
    measure_names = ", ".join(view(URIRef(m), labels).text for m in chart.measures)

    def series_name(key: tuple) -> str:  # type: ignore[type-arg]
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
            (s.points[c][0], s.points[c][1]) if c in s.points else None for s in table.series])
            for c in table.categories],
    })
    return context


@blueprint.get("/page/<path:path>")
def entity_page(path: str) -> Response:
    iri = entity_iri(path)
    if not _valid_path(path):
        return not_found(f"{path!r} is not a valid name of an entity.", path)
    store = state().served.store
    description = describe(iri)
    if not description.exists:
        return not_found(f"There is nothing at {iri} in this graph.", path.rsplit("/", 1)[-1])
    labels = label_index(description, state().config.base_iri, choose_language(request))
    context = entity_context(description, labels)
    if qb.is_dataset(store, iri):
        context["dataset"] = dataset_context(iri, labels)
    downloads = [(f.label, f.media_type, f"/data/{path}.{f.extension}")
                 for f in formats.rdf_formats()]
    return page("entity.html", downloads=downloads, **context)


@blueprint.app_template_filter("local_path")
def local_path_filter(iri: str) -> str:
    return local_path(iri, state().config.base_iri) or iri


@blueprint.app_template_filter("number")
def number_filter(value: float) -> str:
    return format_number(value)
