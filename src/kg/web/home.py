"""The home page, search over labels, class listings and the sitemap: how people and
crawlers find every entity page."""

from __future__ import annotations

import os
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from rdflib import URIRef

from kg.pipeline.dumps import read_manifest
from kg.sparql.negotiate import choose
from kg.web.cube import QB
from kg.web.description import labels_of
from kg.web.html import HTML, JSON, page
from kg.web.search import SearchIndex
from kg.web.terms import Labels, TermView, choose_language, local_path, view

blueprint = Blueprint("home", __name__)

DCTERMS_DESCRIPTION = "http://purl.org/dc/terms/description"


@dataclass
class Site:
    """What the pages need about the whole graph, computed once per process."""

    search: SearchIndex
    #: (class IRI, number of entities) of the entities' asserted classes
    classes: list[tuple[str, int]]
    #: every entity IRI under ``BASE/id/`` that is the subject of a triple, sorted
    entities: list[str]
    #: the entities without an asserted class, listed on the browse page so that every
    #: entity is reachable by following links
    unclassified: list[str]


def _served():  # type: ignore[no-untyped-def]
    return current_app.extensions["kg"]


def _asserted() -> str:
    """A filter that keeps the asserted graphs (not the inferred one) bound to ``?g``."""
    return f"FILTER (?g != <{_served().config.graph_iri('inferred')}>)"


def site() -> Site:
    cached = current_app.extensions.get("kg.site")
    if cached is not None and cached[0] == os.getpid():
        return cached[1]
    store = _served().store
    base = _served().config.base_iri
    space = base + "id/"
    entities = sorted(str(s) for (s,) in store.query(
        f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER STRSTARTS(STR(?s), '{space}') }}").rows())
    classes = [(str(c), int(n)) for c, n in store.query(
        f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} {_asserted()} "
        f"FILTER (STRSTARTS(STR(?s), '{space}') && isIRI(?c)) }} GROUP BY ?c").rows()]
    typed = {str(s) for (s,) in store.query(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a ?c }} {_asserted()} }}").rows()}
    built = Site(SearchIndex.build(store, base, _served().config.graph_iri("inferred")),
                 classes, entities,
                 [e for e in entities if e not in typed])
    current_app.extensions["kg.site"] = (os.getpid(), built)
    return built


def _labels(iris: set[str]) -> Labels:
    labels = Labels(_served().config.base_iri, choose_language(request))
    for subject, _p, label in labels_of(_served().store, iris,
                                        _served().config.graph_iri("inferred")):
        labels.add(str(subject), label)
    return labels


def _views(iris: list[str], labels: Labels) -> list[TermView]:
    return [view(URIRef(i), labels) for i in iris]


@blueprint.get("/")
def home() -> Response:
    served = _served()
    store = served.store
    base = served.config.base_iri
    space = base + "id/"
    the_site = site()
    datasets = [str(d) for (d,) in store.query(
        f"SELECT DISTINCT ?d WHERE {{ ?d a <{QB}DataSet> }} ORDER BY ?d").rows()]
    # statistical resources have their own list: datasets, and the links of observations,
    # would crowd out the people, places and documents
    statistical = f"?x a <{QB}Observation> }} UNION {{ ?x a <{QB}DataSet> "
    connected = [(str(e), int(n)) for e, n in store.query(
        f"SELECT ?e (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ {{ ?e ?p ?x }} UNION {{ ?x ?p ?e }} }} "
        f"{_asserted()} FILTER (isIRI(?e) && STRSTARTS(STR(?e), '{space}')) "
        f"FILTER NOT EXISTS {{ {{ {statistical.replace('?x', '?e')} }} }} "
        f"FILTER NOT EXISTS {{ {{ {statistical} }} }} }} "
        "GROUP BY ?e ORDER BY DESC(?n) ?e LIMIT 12").rows()]
    description = next((str(d) for (d,) in store.query(
        f"SELECT ?d WHERE {{ GRAPH <{base}graph/meta> {{ <{base}> <{DCTERMS_DESCRIPTION}> ?d }} }}"
    ).rows()), "")
    graphs = served.report["triples"]
    labels = _labels({*datasets, *(e for e, _ in connected), *(c for c, _ in the_site.classes)})
    manifest = read_manifest(served.release.path)
    return page(
        "home.html",
        description=description,
        triples=store.count(),
        entity_count=len(the_site.entities),
        class_count=len(the_site.classes),
        graphs=[(name, graphs.get(name, 0)) for name in served.report["graphs"]],
        datasets=_views(datasets, labels),
        connected=[(view(URIRef(e), labels), n) for e, n in connected],
        classes=sorted(((view(URIRef(c), labels), n) for c, n in the_site.classes),
                       key=lambda c: -c[1])[:12],
        dumps=manifest["dumps"] if manifest else [],
    )


@blueprint.get("/search")
def search() -> Response:
    text = request.args.get("q", "").strip()
    language = choose_language(request)
    the_site = site()
    hits = the_site.search.search(text[:200], language) if text else []
    labels = _labels({t for h in hits for t in h.types})
    base = _served().config.base_iri
    if choose(request.headers.get("Accept"), [HTML, JSON]) is JSON:
        return jsonify(query=text, hits=[
            {"iri": h.iri, "label": h.label, "lang": h.lang, "score": h.score,
             "page": local_path(h.iri, base), "types": list(h.types)} for h in hits])
    results = [(h, local_path(h.iri, base) or h.iri, _views(list(h.types), labels))
               for h in hits]
    return page("search.html", query=text, results=results)


@blueprint.get("/browse")
def browse() -> Response:
    """Classes with their number of entities; ``?class=IRI`` lists the entities of one."""
    the_site = site()
    chosen = request.args.get("class")
    base = _served().config.base_iri
    if chosen is None:
        labels = _labels({*(c for c, _ in the_site.classes), *the_site.unclassified})
        classes = sorted(((view(URIRef(c), labels), n, url_for("home.browse", **{"class": c}))
                          for c, n in the_site.classes), key=lambda c: c[0].text.casefold())
        unclassified = sorted(_views(the_site.unclassified, labels),
                              key=lambda v: v.text.casefold())
        return page("browse.html", classes=classes, members=unclassified, chosen=None)
    if chosen not in {c for c, _ in the_site.classes}:
        from kg.web.html import not_found

        return not_found(f"No entity of this graph has the class {chosen}.", "")
    members = sorted(str(s) for (s,) in _served().store.query(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a <{chosen}> }} {_asserted()} "
        f"FILTER STRSTARTS(STR(?s), '{base}id/') }}").rows())
    labels = _labels({*members, chosen})
    entries = sorted(_views(members, labels), key=lambda v: v.text.casefold())
    return page("browse.html", classes=None, members=entries, chosen=view(URIRef(chosen), labels))


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    """Every entity page, for crawlers (sitemaps.org protocol)."""
    base = _served().config.base_iri
    root = request.host_url.rstrip("/")
    urls = ["/", "/browse", "/ontology", "/dumps/", "/.well-known/void"]
    urls += [local_path(e, base) or "" for e in site().entities]
    from markupsafe import escape

    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "".join(f"<url><loc>{escape(root + u)}</loc></url>\n" for u in urls)
            + "</urlset>\n")
    return Response(body, mimetype="application/xml")


@blueprint.get("/robots.txt")
def robots() -> Response:
    return Response(f"User-agent: *\nAllow: /\nSitemap: {request.host_url}sitemap.xml\n",
                    mimetype="text/plain")
