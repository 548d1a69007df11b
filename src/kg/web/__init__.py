"""The web layer: a Flask application factory with one blueprint per concern.

It serves a release through the store interface and knows nothing of how a
backend keeps its triples.
"""

from __future__ import annotations

import atexit
import os
import threading

from flask import Flask, Response

from kg.config import Config
from kg.pipeline.release import Release, current_release
from kg.sparql.dataset import ServedDataset
from kg.sparql.service import QueryService
from kg.store import Store, StoreUnavailable


class ServedRelease:
    """The release an app serves, with its store opened once per process (after a fork)."""

    def __init__(self, config: Config, release: Release) -> None:
        release.check()
        self.config = config
        self.release = release
        self.report = release.report
        self._store: Store | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        if self._store is None or self._pid != os.getpid():
            with self._lock:
                if self._store is None or self._pid != os.getpid():
                    self._store = self.release.open_store(self.config.store)
                    self._pid = os.getpid()
        return self._store


def _store_unavailable(error: StoreUnavailable) -> Response:
    """A remote store that is down or too slow: the gateway's fault, said plainly (502)."""
    return Response(f"the store behind this endpoint is unavailable: {error}\n", status=502,
                    mimetype="text/plain")


def create_app(config: Config, release: Release | None = None) -> Flask:
    release = release or current_release(config)
    if release is None:
        raise RuntimeError(f"there is no release in {config.releases}; run `kg build` first")
    app = Flask(__name__)
    app.config["TESTING"] = config.testing
    served = ServedRelease(config, release)
    app.extensions["kg"] = served
    query_service = QueryService(config, ServedDataset.of(config, release))
    app.extensions["kg.query"] = query_service
    query_service.start()
    atexit.register(query_service.close)

    from kg.web import (
        dumps,
        home,
        html,
        ontology_doc,
        ops,
        reconcile,
        resources,
        sparql,
        validation,
        void,
        why,
    )

    for blueprint_module in (sparql, ops, resources, ontology_doc, home, dumps, void, reconcile,
                             why, validation, html):
        app.register_blueprint(blueprint_module.blueprint)
    app.register_error_handler(StoreUnavailable, _store_unavailable)

    from kg.web import guard

    guard.install(app, config)
    return app
