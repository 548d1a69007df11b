"""Answers to reads that failed: a remote store down, a read job that did not finish, a file
of the served version that could not be read.

Every answer is text/plain with the status it deserves. What the engine says about a store
that failed names files on the server: it goes to the operator's log, and the client hears
which version's store could not be read (503).
"""

from __future__ import annotations

from flask import Response, current_app

from kg.served import JobFailed
from kg.sparql.service import store_problem, store_unreadable
from kg.store import StoreUnavailable, backend_of
from kg.web.state import state

#: the status a failed read is answered with, by what went wrong
JOB_STATUS = {"timeout": 503, "busy": 503, "memory": 503, "died": 503, "missing": 503,
              "storage": 503, "unavailable": 502, "syntax": 400, "invalid": 400, "error": 500}


def store_unavailable(error: StoreUnavailable) -> Response:
    """A remote store that is down or too slow: the gateway's fault, said plainly (502)."""
    return Response(f"the store behind this endpoint is unavailable: {error}\n", status=502,
                    mimetype="text/plain")


def _version_name() -> str:
    try:
        return state().served.version_id
    except JobFailed:
        return "(none)"


def job_failed(error: JobFailed) -> Response:
    """A read of a page that did not finish: said plainly, with the status it deserves. The
    engine's own words about a store that failed (they name files on the server) go to the
    operator's log; the client hears which version's store could not be read (503)."""
    served = state().served
    if error.kind == "missing":
        current_app.logger.error("no version to serve: %s", error.message)
        return Response("there is no release to serve; the operator must run `kg build`\n",
                        status=503, mimetype="text/plain")
    if not backend_of(state().config.store).remote and error.kind in ("storage", "error",
                                                                       "died"):
        problem = store_problem(served)
        if error.kind in ("storage", "error") or problem is not None:
            current_app.logger.error("a read failed (%s): %s", error.kind,
                                     "; ".join(filter(None, (error.message, problem))))
            return Response(store_unreadable(_version_name()) + "\n", status=503,
                            mimetype="text/plain")
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return Response(f"{error.message}\n", status=JOB_STATUS.get(error.kind, 500),
                    mimetype="text/plain", headers=headers)


def files_failed(error: Exception) -> Response:
    """A file of the served version that a view could not read (its report, its dumps'
    manifest): 503, the details (paths) in the operator's log only."""
    current_app.logger.error("a file of the served version could not be read: %s", error)
    return Response(f"the files of version {_version_name()} could not be read; the "
                    "operator's log has the details\n", status=503, mimetype="text/plain")
