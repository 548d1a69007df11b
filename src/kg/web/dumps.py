"""``/dumps/``: the current version's dumps as files, with checksums, ETag and
Last-Modified, and a page that lists them with sizes and triple counts.

Each file also has a stable name that always gives the current version's file
(``/dumps/latest.ttl.gz`` for ``/dumps/kazkor-kg-VERSION.ttl.gz``, and ``latest.sha256``,
the checksums under those names). It is answered with the file itself, not a redirect, so
that ``curl -O`` and scripts that do not follow redirects save the dump; ``KG-Version``
and ``Content-Location`` say which version's file it is (docs/linked-data.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request, send_from_directory
from werkzeug.wrappers import Response as BaseResponse

from kg.pipeline.dumps import DUMPS_DIR, file_stem, read_manifest
from kg.sparql.negotiate import choose
from kg.web.html import HTML, JSON, not_found, page
from kg.web.state import state

blueprint = Blueprint("dumps", __name__)

#: what the stable names start with, in place of ``kazkor-kg-VERSION``
LATEST = "latest"


def _manifest() -> dict[str, Any] | None:
    return read_manifest(state().served.current().path)


def _dumps(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The dumps of a manifest, the linkset included."""
    return [*manifest["dumps"], *filter(None, [manifest.get("linkset")])]


def stable_names(manifest: dict[str, Any]) -> dict[str, str]:
    """Each stable name (``latest.ttl.gz``) and the version's file it gives."""
    stem = file_stem(manifest["version"])
    files = [d["file"] for d in _dumps(manifest)] + [manifest["checksums"]]
    return {LATEST + f.removeprefix(stem): f for f in files if f.startswith(stem)}


@blueprint.get("/dumps/")
def listing() -> Response:
    manifest = _manifest()
    if choose(request.headers.get("Accept"), [HTML, JSON]) is JSON:
        return jsonify({**manifest, "latest": stable_names(manifest)} if manifest
                       else {"dumps": []})
    if manifest is None:
        return not_found("This release was built without dumps; rebuild it with `kg build "
                         "--force`.")
    return page("dumps.html", manifest=manifest, latest=stable_names(manifest))


@blueprint.get("/dumps")
def listing_without_slash() -> BaseResponse:
    return redirect("/dumps/", code=301)


def _latest(manifest: dict[str, Any], file: str) -> Response:
    """A stable name's answer: the version's file itself (its checksums under the stable
    names), revalidated on every use since the next version changes it."""
    if file == manifest["checksums"]:
        stable = {f: n for n, f in stable_names(manifest).items()}
        body = "".join(f"{d['sha256']}  {stable[d['file']]}\n" for d in _dumps(manifest))
        response = Response(body, mimetype="text/plain")
        response.set_etag(hashlib.sha256(body.encode()).hexdigest())
        response.make_conditional(request)
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response = _file(manifest, file)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Location"] = f"/dumps/{file}"
    response.headers["KG-Version"] = manifest["version"]
    return response


def _file(manifest: dict[str, Any], name: str) -> Response:
    folder = state().served.current().path / DUMPS_DIR
    dump = next((d for d in _dumps(manifest) if d["file"] == name), None)
    plain = "application/ld+json" if name == manifest.get("context") else "text/plain"
    response = send_from_directory(
        folder, name, mimetype="application/gzip" if dump else plain,
        etag=dump["sha256"] if dump else True, conditional=True, max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/dumps/<name>")
def dump_file(name: str) -> Response:
    manifest = _manifest()
    if manifest is None:
        return not_found("This release has no dumps.")
    latest = stable_names(manifest)
    if name in latest:
        return _latest(manifest, latest[name])
    names = {*(d["file"] for d in _dumps(manifest)), manifest["checksums"],
             *filter(None, [manifest.get("context")])}
    if name not in names:
        return not_found(f"There is no dump called {name!r} in release {manifest['version']}; "
                         "the list is at /dumps/.", name.split(".")[0])
    return _file(manifest, name)
