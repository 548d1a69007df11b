"""The home page, search over labels, class listings and the sitemap: how people and
crawlers find every entity page.

``/search`` is bounded: the text's length (400 above :data:`MAX_SEARCH_CHARS`), the page
number (:data:`MAX_PAGE_DIGITS`) and the searches one client has running
(:mod:`kg.web.per_client`: 429).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from rdflib import URIRef

from kg.pipeline.dumps import read_manifest
from kg.served.cube import QB
from kg.served.jobs import Overview
from kg.served.search import PAGE_SIZE, Results
from kg.sparql.negotiate import choose
from kg.web.html import HTML, JSON, page
from kg.web.per_client import bounded
from kg.web.resources import add_labels
from kg.web.state import state
from kg.web.terms import Labels, TermView, choose_language, local_path, view

blueprint = Blueprint("home", __name__)

#: the longest search text (labels are shorter)
MAX_SEARCH_CHARS = 200
#: the most digits of a page number
MAX_PAGE_DIGITS = 6

DCTERMS_DESCRIPTION = "http://purl.org/dc/terms/description"


def _asserted() -> str:
    """A filter that keeps the asserted graphs (not the inferred one) bound to ``?g``."""
    return f"FILTER (?g != <{state().config.graph_iri('inferred')}>)"


def overview() -> Overview:
    """The classes and entities of the current version (computed once per version in each
    query process)."""
    return state().served.call("overview")


def _labels(iris: set[str]) -> Labels:
    labels = Labels(state().config.base_iri, choose_language(request))
    add_labels(labels, iris)
    return labels


def _views(iris: list[str], labels: Labels) -> list[TermView]:
    return [view(URIRef(i), labels) for i in iris]


@blueprint.get("/")
def home() -> Response:
    served = state().served
    store = served.store
    base = state().config.base_iri
    space = base + "id/"
    the_site = overview()
    report = served.report()
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
    labels = _labels({*datasets, *(e for e, _ in connected), *(c for c, _ in the_site.classes)})
    manifest = read_manifest(served.current().path)
    return page(
        "home.html",
        description=description,
        triples=report.triple_count,
        entity_count=len(the_site.entities),
        class_count=len(the_site.classes),
        graphs=[(name, report.triples.get(name, 0)) for name in report.graphs],
        datasets=_views(datasets, labels),
        connected=[(view(URIRef(e), labels), n) for e, n in connected],
        classes=sorted(((view(URIRef(c), labels), n) for c, n in the_site.classes),
                       key=lambda c: -c[1])[:12],
        dumps=manifest["dumps"] if manifest else [],
    )


def _refuse(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _page_number() -> int | None:
    """``?page=`` as a positive number (1 without it), or ``None`` when it is not one."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_PAGE_DIGITS or int(raw) < 1:
        return None
    return int(raw)


@blueprint.get("/search")
@bounded(_refuse)
def search() -> Response:
    """Names in any language (the reconciliation service's matcher), 50 hits a page
    (``?page=``); observations and link statements only with ``?all=1``."""
    text = request.args.get("q", "").strip()
    if len(text) > MAX_SEARCH_CHARS:
        return _refuse(f"the search text is {len(text)} characters long; names are searched "
                       f"with at most {MAX_SEARCH_CHARS} characters", 400)
    number = _page_number()
    if number is None:
        return _refuse(f"page must be a positive whole number of at most {MAX_PAGE_DIGITS} "
                       "digits (the first page is 1)", 400)
    everything = request.args.get("all") == "1"
    language = choose_language(request)
    found: Results = (state().served.call("search", text, language, number, everything)
                      if text else Results([], 0, 1, 1, 0))
    base = state().config.base_iri
    if choose(request.headers.get("Accept"), [HTML, JSON]) is JSON:
        return jsonify(
            query=text, page=found.page, pages=found.pages, total=found.total,
            left_out=found.left_out, hits=[
                {"iri": h.iri, "label": h.label, "lang": h.lang, "score": h.score,
                 "page": local_path(h.iri, base), "types": list(h.types),
                 **({"matched": h.matched, "matched_lang": h.matched_lang}
                    if h.matched else {})} for h in found.hits])
    labels = _labels({t for h in found.hits for t in h.types})
    results = [(h, local_path(h.iri, base) or h.iri, _views(list(h.types), labels))
               for h in found.hits]

    def link(**changes: object) -> str:
        args: dict[str, Any] = {"q": text, **({"all": "1"} if everything else {}), **changes}
        return url_for("home.search", **{k: v for k, v in args.items() if v is not None})

    return page("search.html", query=text, results=results, found=found,
                first=(found.page - 1) * PAGE_SIZE + 1,
                previous=link(page=found.page - 1) if found.page > 1 else None,
                next=link(page=found.page + 1) if found.page < found.pages else None,
                include=link(all="1", page=None) if found.left_out else None)


def _browse_url(class_iri: str) -> str:
    """The browse page of the entities of one class (``class`` is a Python keyword)."""
    values: dict[str, Any] = {"class": class_iri}
    return url_for("home.browse", **values)


@blueprint.get("/browse")
def browse() -> Response:
    """Classes with their number of entities; ``?class=IRI`` lists the entities of one."""
    the_site = overview()
    chosen = request.args.get("class")
    base = state().config.base_iri
    if chosen is None:
        labels = _labels({*(c for c, _ in the_site.classes), *the_site.unclassified})
        classes = sorted(((view(URIRef(c), labels), n, _browse_url(c))
                          for c, n in the_site.classes), key=lambda c: c[0].text.casefold())
        unclassified = sorted(_views(the_site.unclassified, labels),
                              key=lambda v: v.text.casefold())
        return page("browse.html", classes=classes, members=unclassified, chosen=None)
    if chosen not in {c for c, _ in the_site.classes}:
        from kg.web.html import not_found

        return not_found(f"No entity of this graph has the class {chosen}.", "")
    members = sorted(str(s) for (s,) in state().served.store.query(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a <{chosen}> }} {_asserted()} "
        f"FILTER STRSTARTS(STR(?s), '{base}id/') }}").rows())
    labels = _labels({*members, chosen})
    entries = sorted(_views(members, labels), key=lambda v: v.text.casefold())
    return page("browse.html", classes=None, members=entries, chosen=view(URIRef(chosen), labels))


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    """Every entity page, for crawlers (sitemaps.org protocol)."""
    base = state().config.base_iri
    root = request.host_url.rstrip("/")
    urls = ["/", "/browse", "/ontology", "/dumps/", "/.well-known/void"]
    urls += [local_path(e, base) or "" for e in overview().entities]
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
