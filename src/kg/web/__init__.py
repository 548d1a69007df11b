"""The web layer: a Flask application factory with one blueprint per concern.

Every view reads the data through the served dataset (:mod:`kg.served`), which it gets with
:func:`kg.web.state.state`; the web layer knows nothing of how a backend keeps its triples.
"""

from __future__ import annotations

import atexit

from flask import Flask, Response, g

from kg.config import Config
from kg.served import JobFailed, ServedDataset, deadline
from kg.sparql.service import QueryService
from kg.store import StoreUnavailable
from kg.web.state import State

#: the status a failed read is answered with, by what went wrong
JOB_STATUS = {"timeout": 503, "busy": 503, "memory": 503, "died": 503, "missing": 503,
              "unavailable": 502, "syntax": 400, "invalid": 400, "error": 500}


def _store_unavailable(error: StoreUnavailable) -> Response:
    """A remote store that is down or too slow: the gateway's fault, said plainly (502)."""
    return Response(f"the store behind this endpoint is unavailable: {error}\n", status=502,
                    mimetype="text/plain")


def _job_failed(error: JobFailed) -> Response:
    """A read of a page that did not finish: said plainly, with the status it deserves."""
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return Response(f"{error.message}\n", status=JOB_STATUS.get(error.kind, 500),
                    mimetype="text/plain", headers=headers)


def create_app(config: Config) -> Flask:
    """The app serving the current version of ``config``'s release folder."""
    served = ServedDataset(config)
    if served.releases.current() is None:
        raise RuntimeError(f"there is no release in {config.releases}; run `kg build` first")
    app = Flask(__name__)
    app.config["TESTING"] = config.testing
    app.extensions["kg"] = State(config, served, QueryService(config, served))
    served.start()
    atexit.register(served.close)

    from kg.web import (
        dumps,
        home,
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
                             why, validation):
        app.register_blueprint(blueprint_module.blueprint)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    app.register_error_handler(JobFailed, _job_failed)

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

    from kg.web import guard

    guard.install(app, config)
    return app
