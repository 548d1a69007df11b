"""Versions on the web: the history (``/releases``), a version's stable IRI
(``/release/<version>``, its dumps and its mementos), the changesets
(``/dumps/changes/``) and Memento (RFC 7089) on ``/id``, ``/page`` and ``/data``.

``/id/…``, ``/page/…`` and ``/data/…`` are their own TimeGates (RFC 7089 §4.1.1, 302-style
negotiation): with ``Accept-Datetime`` they answer 302 to the memento of the version served
at that time (``/release/<version>/page/…``). A memento is the view the current resource
has, called with its version pinned (:meth:`kg.served.ServedDataset.pinned`): the view
functions are wrapped (:func:`install`), not rewritten. ``/timemap/{id,page,data}/…``
lists the mementos (``application/link-format``). An entity that the current version no
longer has, but an older one had, answers 410 Gone with a link to its last memento.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import wraps
from typing import cast
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    jsonify,
    redirect,
    request,
    send_from_directory,
)
from rdflib import DCTERMS, Graph, URIRef
from werkzeug.wrappers import Response as BaseResponse

from kg import formats
from kg.pipeline.dumps import DUMPS_DIR, read_manifest
from kg.pipeline.history import (
    DCAT,
    History,
    Revision,
    Step,
    citation,
    describe_version,
    first_steps,
    version_iri,
)
from kg.pipeline.release import Version
from kg.served import JobFailed
from kg.served.jobs import Timeline
from kg.sparql.negotiate import choose
from kg.web.html import HTML, JSON, TEXT, not_acceptable, page
from kg.web.resources import _split_suffix, entity_iri
from kg.web.state import state

blueprint = Blueprint("versions", __name__)

#: the views that are their own TimeGates, by the first segment of their path
TIMEGATES = {"id": "resources.identifier", "page": "resources.entity_page",
             "data": "resources.data"}
LINK_FORMAT = "application/link-format"
#: a version's name: the release's input hash, and the update's number
VERSION_NAME = re.compile(r"[0-9a-f]{16}(-[0-9]+)?")
#: characters left as they are in a path put in a header
_PATH_SAFE = "/:@!$&'()*+,;=~"

_original_views: dict[str, Callable[..., BaseResponse]] = {}


def install(app: Flask) -> None:
    """Register the blueprint and make ``/id``, ``/page`` and ``/data`` TimeGates."""
    app.register_blueprint(blueprint)
    for kind, endpoint in TIMEGATES.items():
        # the views of /id, /page and /data (kg.web.resources) answer with a response object
        view = cast("Callable[..., BaseResponse]", app.view_functions[endpoint])
        _original_views[kind] = view
        app.view_functions[endpoint] = _timegate(kind, view)


# ---- the history ------------------------------------------------------------------------------

def _history() -> History:
    return History(state().served.releases)


def http_date(iso: str) -> str:
    """An ISO 8601 time as an HTTP date (``Tue, 11 Sep 2001 20:36:10 GMT``)."""
    return format_datetime(_utc(iso), usegmt=True)


def _utc(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _version(name: str) -> tuple[Step | None, Version | None]:
    """The step that made the version ``name`` and its folder (``None`` when removed);
    404 for a name that is no version of this server."""
    if not VERSION_NAME.fullmatch(name):
        abort(404)
    made = _history().made(name)
    folder = state().served.releases.version(name)
    kept = folder if (folder.path / "report.json").is_file() else None
    if made is None and kept is None:
        abort(404)
    return made, kept


def _created(made: Step | None, kept: Version | None) -> str:
    if made is not None:
        return made.created
    assert kept is not None
    return kept.report.created


def _gone(name: str) -> Response:
    """410 for the data of a version that retention removed; its record stays."""
    message = (f"version {name} is no longer kept on this server (KG_KEEP_VERSIONS): its "
               f"record, citation and changesets stay at /release/{name}, and it can be "
               "rebuilt from the first version's N-Quads dump and the changesets "
               "(docs/versions.md)\n")
    response = Response(message, status=410, mimetype="text/plain")
    response.headers["Link"] = f'<{_host()}/release/{name}>; rel="describedby"'
    return response


def _host() -> str:
    return request.host_url.rstrip("/")


# ---- Memento ----------------------------------------------------------------------------------

def _entity(kind: str, path: str) -> str:
    """The IRI a TimeGate's path names (``/data/x.ttl`` names ``x``)."""
    return entity_iri(_split_suffix(path)[0] if kind == "data" else path)


def _timeline(kind: str, path: str) -> Timeline | None:
    """The history and the mementos of the entity, or ``None`` when its path is no IRI."""
    try:
        return state().served.call("timeline", _entity(kind, path))
    except JobFailed as e:
        if e.kind in ("syntax", "invalid"):
            return None
        raise


def _location(kind: str, path: str, version: str | None = None) -> str:
    prefix = f"/release/{version}" if version else ""
    target = f"{_host()}{prefix}/{kind}/{quote(path, safe=_PATH_SAFE)}"
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return target


def _links(kind: str, path: str, timeline: Timeline | None = None,
           this: str | None = None) -> str:
    """The Link header of a TimeGate or a memento: the original resource (its own TimeGate),
    the TimeMap and, with the timeline, the first, last, previous and next mementos."""
    original = f"{_host()}/{kind}/{quote(path, safe=_PATH_SAFE)}"
    links = [f'<{original}>; rel="original timegate"',
             f'<{_host()}/timemap/{kind}/{quote(path, safe=_PATH_SAFE)}>; rel="timemap"; '
             f'type="{LINK_FORMAT}"']
    mementos = _by_time(timeline.mementos) if timeline else []
    if not mementos:
        return ", ".join(links)
    names = [v for v, _ in mementos]
    marked: dict[str, list[str]] = {names[0]: ["first"], names[-1]: []}
    marked[names[-1]].append("last")
    if this in names:
        at = names.index(this)
        if at > 0:
            marked.setdefault(names[at - 1], []).append("prev")
        if at + 1 < len(names):
            marked.setdefault(names[at + 1], []).append("next")
    for version, created in mementos:
        if version in marked and version != this:
            relation = " ".join([*marked[version], "memento"])
            links.append(f'<{_host()}/release/{version}/{kind}/'
                         f'{quote(path, safe=_PATH_SAFE)}>; rel="{relation}"; '
                         f'datetime="{http_date(created)}"')
    return ", ".join(links)


def _by_time(mementos: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(mementos, key=lambda m: _utc(m[1]))


def select_memento(timeline: Timeline, when: datetime) -> tuple[str, str] | None:
    """The memento for ``when``: the version served then when it holds the entity, else the
    nearest memento before ``when``, else the first after it."""
    mementos = _by_time(timeline.mementos)
    if not mementos:
        return None
    served = timeline.steps[0][0] if timeline.steps else None
    for version, at in timeline.steps:
        if _utc(at) <= when:
            served = version
    chosen = next((m for m in mementos if m[0] == served), None)
    if chosen is not None:
        return chosen
    earlier = [m for m in mementos if _utc(m[1]) <= when]
    return earlier[-1] if earlier else mementos[0]


def _accept_datetime(text: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def _timegate(kind: str, view: Callable[..., BaseResponse]) -> Callable[..., BaseResponse]:
    """``view`` as its own TimeGate: with ``Accept-Datetime``, 302 to the memento of the
    version served then; without, the view's answer with the TimeGate's links, or 410 for
    an entity that an older version had."""

    @wraps(view)
    def timegate(path: str) -> BaseResponse:
        asked = request.headers.get("Accept-Datetime")
        if asked is None:
            response = view(path)
            if response.status_code == 404:
                return _removed(kind, path, response)
            response.vary.add("Accept-Datetime")
            response.headers["Link"] = _links(kind, path)
            _expose(response)
            return response
        when = _accept_datetime(asked)
        if when is None:
            return Response(f"Accept-Datetime must be an HTTP date in GMT, such as "
                            f"'Tue, 11 Sep 2001 20:35:00 GMT', not {asked!r}\n", status=400,
                            mimetype="text/plain")
        timeline = _timeline(kind, path)
        chosen = select_memento(timeline, when) if timeline else None
        if chosen is None:
            response = view(path)  # the view's own 404
            response.vary.add("Accept-Datetime")
            return response
        response = redirect(_location(kind, path, chosen[0]), code=302)
        response.vary.add("Accept-Datetime")
        response.headers["Link"] = _links(kind, path, timeline)
        return response

    return timegate


def _removed(kind: str, path: str, not_found: BaseResponse) -> BaseResponse:
    """410 Gone, with its last memento, for an entity an older version had; else the 404."""
    timeline = _timeline(kind, path)
    if timeline is None or not timeline.mementos:
        return not_found
    last, created = _by_time(timeline.mementos)[-1]
    where = _location(kind, path, last)
    message = (f"{_entity(kind, path)} is no longer in this graph: the current version does "
               f"not have it. Its last memento is version {last} ({created[:10]}): {where}")
    if choose(request.headers.get("Accept"), [HTML, TEXT]) is HTML:
        response = page("not_found.html", status=410, message=message,
                        query=path.rsplit("/", 1)[-1])
    else:
        response = Response(message + "\n", status=410, mimetype="text/plain")
    response.vary.add("Accept-Datetime")
    response.headers["Link"] = _links(kind, path, timeline)
    return response


@blueprint.get("/release/<name>/<any(id, page, data):kind>/<path:path>")
def memento(name: str, kind: str, path: str) -> BaseResponse:
    """The memento of ``/{kind}/{path}`` in version ``name``: the current view with the
    version pinned, with ``Memento-Datetime`` and the links of RFC 7089 §4.1.1."""
    made, kept = _version(name)
    if kept is None:
        return _gone(name)
    with state().served.pinned(kept):
        response = _original_views[kind](path)
    if response.status_code in (301, 302, 303, 307, 308) and response.location:
        target = response.location
        if target.startswith(("/page/", "/data/")):
            response.headers["Location"] = f"/release/{name}{target}"
    if response.status_code < 400:
        response.headers["Memento-Datetime"] = http_date(_created(made, kept))
        response.headers["Link"] = _links(kind, path, _timeline(kind, path), this=name)
        _expose(response)
    return response


def _expose(response: BaseResponse) -> None:
    """Scripts of other sites that may read the data may read its Memento headers too."""
    if response.headers.get("Access-Control-Allow-Origin") == "*":
        response.headers["Access-Control-Expose-Headers"] = "Link, Memento-Datetime"


@blueprint.get("/timemap/<any(id, page, data):kind>/<path:path>")
def timemap(kind: str, path: str) -> Response:
    """The TimeMap of ``/{kind}/{path}`` (RFC 7089 §5): the original resource, its TimeGate,
    and every memento with its datetime, oldest first."""
    timeline = _timeline(kind, path)
    mementos = _by_time(timeline.mementos) if timeline else []
    if not mementos:
        return Response(f"{_entity(kind, path)} has no memento on this server\n", status=404,
                        mimetype="text/plain")
    quoted = quote(path, safe=_PATH_SAFE)
    rows = [f'<{_host()}/{kind}/{quoted}>; rel="original"',
            f'<{_host()}/timemap/{kind}/{quoted}>; rel="self"; type="{LINK_FORMAT}"; '
            f'from="{http_date(mementos[0][1])}"; until="{http_date(mementos[-1][1])}"',
            f'<{_host()}/{kind}/{quoted}>; rel="timegate"']
    for number, (version, created) in enumerate(mementos):
        relation = " ".join([*(["first"] if number == 0 else []),
                             *(["last"] if number == len(mementos) - 1 else []), "memento"])
        rows.append(f'<{_host()}/release/{version}/{kind}/{quoted}>; rel="{relation}"; '
                    f'datetime="{http_date(created)}"')
    response = Response(",\n".join(rows) + "\n", mimetype=LINK_FORMAT)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# ---- the history, a version, its dumps, the changesets ---------------------------------------

def _step_record(step: Step, kept: bool, current: str | None) -> dict[str, object]:
    base = state().config.base_iri
    host = _host()
    return {
        "number": step.number, "version": step.version,
        "iri": str(version_iri(base, step.version)), "page": f"{host}/release/{step.version}",
        "kind": step.kind, "previous": step.previous, "served_from": step.at,
        "created": step.created, "triples": step.triples, "current": step.version == current,
        "kept": kept, "dumps": f"{host}/release/{step.version}/dumps/" if kept else None,
        "added": step.added, "removed": step.removed,
        "changes": {name: {"url": f"{host}/dumps/changes/{name}", "sha256": digest}
                    for name, digest in step.files.items()},
        "citation": citation(base, step.version, step.created),
    }


def _current_name() -> str | None:
    try:
        return state().served.version_id
    except JobFailed:
        return None


def _records() -> tuple[list[Step], list[dict[str, object]], str | None]:
    history = _history()
    steps = history.steps()
    current = _current_name()
    return steps, [_step_record(s, history.kept(s.version), current) for s in steps], current


def _history_graph(steps: list[Step]) -> Graph:
    config = state().config
    names = {iri: name for name, iri in config.graph_iris.items()}
    graph = Graph()
    graph.bind("dcat", DCAT)
    graph.bind("dcterms", DCTERMS)
    graph.bind("prov", "http://www.w3.org/ns/prov#")
    graph.bind("void", "http://rdfs.org/ns/void#")
    for step in first_steps(steps):
        graph += describe_version(config.base_iri, Revision(
            step.version, step.created, step.previous, step.added, step.removed,
            step.changeset), names)
    if steps:
        graph.add((URIRef(config.base_iri), DCAT.hasCurrentVersion,
                   version_iri(config.base_iri, steps[-1].version)))
    return graph


def _rdf(graph: Graph, fmt: formats.Format) -> Response:
    response = Response(graph.serialize(format=fmt.rdflib, encoding="utf-8"),
                        content_type=f"{fmt.media_type}; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/releases")
def releases() -> Response:
    """Every step of the history, newest first: HTML, JSON, or RDF (DCAT and PROV)."""
    steps, records, current = _records()
    rdf = [f for f in formats.rdf_formats() if f.kind == "rdf"]
    chosen = choose(request.headers.get("Accept"), [HTML, JSON, *rdf])
    if chosen is None:
        return not_acceptable([HTML, JSON, *rdf])
    if chosen is JSON:
        response = jsonify(dataset=state().config.base_iri, current=current,
                           steps=records[::-1])
    elif chosen is HTML:
        response = page("releases.html", steps=records[::-1], current=current)
    else:
        response = _rdf(_history_graph(steps), chosen)
    response.vary.add("Accept")
    return response


@blueprint.get("/release/<name>")
def release(name: str) -> Response:
    """A version's stable IRI: its record (when, what it changed, its citation, its dumps
    and changesets), HTML, JSON or RDF; it stays when retention removes the version's data."""
    made, kept = _version(name)
    steps = _history().steps()
    current = _current_name()
    served = [_step_record(s, kept is not None, current) for s in steps if s.version == name]
    created = _created(made, kept)
    rdf = [f for f in formats.rdf_formats() if f.kind == "rdf"]
    chosen = choose(request.headers.get("Accept"), [HTML, JSON, *rdf])
    if chosen is None:
        return not_acceptable([HTML, JSON, *rdf])
    manifest = read_manifest(kept.path) if kept is not None else None
    base = state().config.base_iri
    if chosen is JSON:
        response = jsonify(version=name, iri=str(version_iri(base, name)), created=created,
                           kept=kept is not None, steps=served, dumps=manifest,
                           citation=citation(base, name, created))
    elif chosen is HTML:
        response = page("release.html", name=name, created=created, steps=served,
                        kept=kept is not None, manifest=manifest, current=current,
                        citation=citation(base, name, created))
    else:
        graph = _history_graph([s for s in steps if s.version == name])
        if made is None:
            graph += describe_version(base, Revision(name, created), {})
        response = _rdf(graph, chosen)
    response.vary.add("Accept")
    return response


@blueprint.get("/release/<name>/")
def release_folder(name: str) -> BaseResponse:
    return redirect(f"/release/{name}", code=301)


@blueprint.get("/release/<name>/dumps/")
def release_dumps(name: str) -> BaseResponse:
    """The dumps of a version, as ``/dumps/`` lists the current one's."""
    _made, kept = _version(name)
    if kept is None:
        return _gone(name)
    manifest = read_manifest(kept.path) or {"version": name, "dumps": []}
    if choose(request.headers.get("Accept"), [HTML, JSON]) is JSON:
        return jsonify(manifest)
    return redirect(f"/release/{name}#dumps", code=303)


@blueprint.get("/release/<name>/dumps/<file>")
def release_dump(name: str, file: str) -> Response:
    _made, kept = _version(name)
    if kept is None:
        return _gone(name)
    manifest = read_manifest(kept.path)
    if manifest is None:
        abort(404)
    by_file = {d["file"]: d for d in [*manifest["dumps"], *filter(None, [manifest.get("linkset")])]}
    if file not in {*by_file, manifest["checksums"], *filter(None, [manifest.get("context")])}:
        abort(404)
    dump = by_file.get(file)
    plain = "application/ld+json" if file == manifest.get("context") else "text/plain"
    response = send_from_directory(kept.path / DUMPS_DIR, file,
                                   mimetype="application/gzip" if dump else plain,
                                   etag=dump["sha256"] if dump else True, conditional=True,
                                   max_age=31536000)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


#: the checksums of every changeset file
CHANGES_CHECKSUMS = "kazkor-kg-changes.sha256"


@blueprint.get("/dumps/changes/")
def changes() -> BaseResponse:
    """The changesets in the order a mirror applies them, from the first version's N-Quads
    dump (JSON for programs; people get the history page)."""
    steps, records, current = _records()
    if choose(request.headers.get("Accept"), [HTML, JSON]) is HTML:
        return redirect("/releases#changes", code=303)
    first = steps[0].version if steps else None
    return jsonify(base={"version": first,
                         "dump": f"{_host()}/release/{first}/dumps/kazkor-kg-{first}.nq.gz"}
                   if first else None,
                   current=current, checksums=f"{_host()}/dumps/changes/{CHANGES_CHECKSUMS}",
                   steps=records)


@blueprint.get("/dumps/changes")
def changes_without_slash() -> BaseResponse:
    return redirect("/dumps/changes/", code=301)


@blueprint.get("/dumps/changes/<name>")
def changeset(name: str) -> Response:
    """A changeset file (immutable: cached for a year), or the checksums of them all."""
    history = _history()
    steps = history.steps()
    if name == CHANGES_CHECKSUMS:
        body = "".join(f"{digest}  {file}\n" for s in steps for file, digest in s.files.items())
        return Response(body, mimetype="text/plain")
    digest = next((s.files[name] for s in steps if name in s.files), None)
    if digest is None:
        abort(404)
    mimetype = "application/gzip"
    response = send_from_directory(history.changes, name, mimetype=mimetype, etag=digest,
                                   conditional=True, max_age=31536000)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# ---- the dataset for search engines, and its citation ------------------------------------------

def dataset_record() -> dict[str, str]:
    """The current version's citation and its schema.org ``Dataset`` description (JSON-LD
    for the home page: Google's Dataset fields, the version included)."""
    served = state().served
    config = state().config
    version = served.current()
    report = served.report()
    steps = _history().steps()
    made = next((s for s in steps if s.version == version.id), None)
    created = made.created if made else report.created
    published = steps[0].created if steps else created
    host = _host()
    manifest = read_manifest(version.path) or {"dumps": []}
    described = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": config.base_iri,
        "name": "KazKor KG",
        "description": ("A knowledge graph of the cultural and humanitarian cooperation "
                        "between the Republic of Kazakhstan and the Republic of Korea, built "
                        "from one research paper: agreements, institutions, people, events "
                        "and statistics, with their sources, as Linked Data with a SPARQL "
                        "endpoint."),
        "url": f"{host}/",
        "identifier": str(version_iri(config.base_iri, version.id)),
        "version": version.id,
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "isAccessibleForFree": True,
        "creator": {"@type": "Organization", "name": "KazKor KG project",
                    "url": config.base_iri},
        "keywords": ["Kazakhstan", "Republic of Korea", "cultural cooperation",
                     "humanitarian cooperation", "knowledge graph", "Linked Data"],
        "spatialCoverage": [{"@type": "Place", "name": "Kazakhstan"},
                            {"@type": "Place", "name": "Republic of Korea"}],
        "datePublished": published,
        "dateModified": created,
        "creditText": citation(config.base_iri, version.id, created),
        "distribution": [{"@type": "DataDownload", "name": d["label"],
                          "encodingFormat": d["media_type"],
                          "contentUrl": f"{host}/dumps/{d['file']}"}
                         for d in manifest["dumps"]],
    }
    text = json.dumps(described, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return {"citation": described["creditText"], "jsonld": text,  # type: ignore[dict-item]
            "version": version.id, "triples": str(report.triple_count)}


@blueprint.app_context_processor
def _dataset_record() -> dict[str, object]:
    """Templates call ``dataset_record()`` when they show the citation (the home page)."""
    return {"dataset_record": dataset_record}
