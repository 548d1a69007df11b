"""``/dumps/``: the current version's dumps as files, with checksums, ETag and
Last-Modified, and a page that lists them with sizes and triple counts."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, request, send_from_directory

from kg.pipeline.dumps import DUMPS_DIR, read_manifest
from kg.sparql.negotiate import choose
from kg.web.html import HTML, JSON, not_found, page
from kg.web.state import state

blueprint = Blueprint("dumps", __name__)


def _manifest() -> dict | None:  # type: ignore[type-arg]
    return read_manifest(state().served.current().path)


@blueprint.get("/dumps/")
def listing() -> Response:
    manifest = _manifest()
    if choose(request.headers.get("Accept"), [HTML, JSON]) is JSON:
        return jsonify(manifest or {"dumps": []})
    if manifest is None:
        return not_found("This release was built without dumps; rebuild it with `kg build "
                         "--force`.")
    return page("dumps.html", manifest=manifest)


@blueprint.get("/dumps")
def listing_without_slash() -> Response:
    return redirect("/dumps/", code=301)


@blueprint.get("/dumps/<name>")
def dump_file(name: str) -> Response:
    manifest = _manifest()
    if manifest is None:
        return not_found("This release has no dumps.")
    by_file = {d["file"]: d for d in [*manifest["dumps"], *filter(None, [manifest.get("linkset")])]}
    names = {*by_file, manifest["checksums"], *filter(None, [manifest.get("context")])}
    if name not in names:
        return not_found(f"There is no dump called {name!r} in release {manifest['version']}; "
                         "the list is at /dumps/.", name.split(".")[0])
    folder = state().served.current().path / DUMPS_DIR
    dump = by_file.get(name)
    plain = "application/ld+json" if name == manifest.get("context") else "text/plain"
    response = send_from_directory(
        folder, name, mimetype="application/gzip" if dump else plain,
        etag=dump["sha256"] if dump else True, conditional=True, max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
