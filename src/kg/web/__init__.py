"""The web layer: a Flask application factory with one blueprint per concern.

Every view reads the data through the served dataset (:mod:`kg.served`), which it gets with
:func:`kg.web.state.state`; the web layer knows nothing of how a backend keeps its triples.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from typing import Any

from flask import Flask, g

from kg.config import Config
from kg.pipeline.release import ReleaseError
from kg.served import JobFailed, ServedDataset, deadline
from kg.sparql.service import QueryService
from kg.store import StoreUnavailable
from kg.web.failures import files_failed, job_failed, store_unavailable
from kg.web.state import State


class _App(Flask):
    """Flask, with its check of each view and hook for a coroutine made once per function
    (Flask makes it at every call: eight a request, a twentieth of an uncached query's
    time in the web worker)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._sync.get(func)
        if found is None:
            found = self._sync[func] = super().ensure_sync(func)
        return found


def create_app(config: Config) -> Flask:
    """The app serving the current version of ``config``'s release folder."""
    served = ServedDataset(config)
    if served.releases.current() is None:
        raise RuntimeError(f"there is no release in {config.releases}; run `kg build` first")
    app = _App(__name__)
    app.config["TESTING"] = config.testing
    app.extensions["kg"] = State(config, served, QueryService(config, served))
    served.start()
    atexit.register(served.close)

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
    app.register_error_handler(StoreUnavailable, store_unavailable)
    app.register_error_handler(JobFailed, job_failed)
    app.register_error_handler(ReleaseError, files_failed)
    app.register_error_handler(OSError, files_failed)

    @app.before_request
    def _deadline() -> None:
        """Every read of a request shares the query time limit."""
        scope = deadline(config.query_timeout)
        scope.__enter__()
        g.kg_deadline = scope

    @app.teardown_request
    def _end_deadline(_error: BaseException | None) -> None:
        scope = g.pop("kg_deadline", None)
        if scope is not None:
            scope.__exit__(None, None, None)

    from kg.web import guard, hosts, versions

    versions.install(app)
    hosts.install(app, config)
    guard.install(app, config)
    return app
