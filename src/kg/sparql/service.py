"""Answering a protocol request: choose the result format, check the limits, run the query.

Framework-free: :meth:`QueryService.plan` turns what the web layer read off the
request into a :class:`Plan` (the job for a query process and its ETag, known
before any work is done), and :meth:`QueryService.run` gives an :class:`Answer`
(status, media type, body, headers).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from kg import formats
from kg.config import Config
from kg.formats import Format
from kg.querytext import has_dataset_clause, has_load, service_targets
from kg.sparql.dataset import ServedDataset
from kg.sparql.negotiate import choose, query_form, result_kind
from kg.sparql.pool import QueryPool, QueryProcessDied, QueryTimeout
from kg.sparql.protocol import ProtocolError, ProtocolRequest
from kg.sparql.runner import Job

#: plans kept per web worker (all dropped when full)
MAX_PLANS = 1024
#: the response header that reports a result cut at ``max_result_rows``
TRUNCATED_HEADER = "KG-Result-Truncated"


@dataclass
class Answer:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    #: the generation of the served dataset that answered
    generation: int = 0


@dataclass(frozen=True)
class Plan:
    job: Job
    format: Format
    etag: str
    #: seconds the query may run
    timeout: float
    #: the generation of the served dataset the plan was made for (0: the release as built)
    generation: int = 0


class AnswerCache:
    """Recent answers by ETag, in one web worker: the dataset of a generation never changes,
    so an answer stays right until an update makes a new generation (whose ETags differ).
    Small answers only, least recently used first out."""

    def __init__(self, max_entries: int = 512, max_bytes: int = 64 << 20,
                 max_answer_bytes: int = 1 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_answer_bytes = max_answer_bytes
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> Answer | None:
        with self._lock:
            answer = self._answers.get(etag)
            if answer is not None:
                self._answers.move_to_end(etag)
            return answer

    def put(self, etag: str, answer: Answer) -> None:
        if len(answer.body) > self.max_answer_bytes:
            return
        with self._lock:
            if etag in self._answers:
                return
            self._answers[etag] = answer
            self._bytes += len(answer.body)
            while len(self._answers) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped.body)


def candidates_for(form: str | None) -> list[Format]:
    if result_kind(form) == "rdf":
        return formats.rdf_formats()
    return formats.for_kind("results")


def select_format(query: str, accept: str | None, format_param: str | None) -> Format:
    """The result format for ``query``: ``?format=`` first, else the Accept header."""
    offered = candidates_for(query_form(query))
    if format_param:
        fmt = formats.BY_NAME.get(format_param) or next(
            (f for f in offered if format_param in f.media_types), None)
        if fmt is None or fmt not in offered:
            names = ", ".join(f.name for f in offered)
            raise ProtocolError(400, f"format {format_param!r} cannot carry this query's "
                                     f"results; use one of {names}")
        return fmt
    fmt = choose(accept, offered)
    if fmt is None:
        types = ", ".join(f.media_type for f in offered)
        raise ProtocolError(406, f"none of the media types in Accept ({accept}) can carry this "
                                 f"query's results; available: {types}")
    return fmt


def content_type(fmt: Format) -> str:
    media_type = fmt.media_type
    if media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json")):
        media_type += "; charset=utf-8"
    return media_type


def refuse_remote_calls(text: str, allowed: tuple[str, ...]) -> None:
    """SERVICE and LOAD make the server fetch URLs: refused unless the endpoint is allowed."""
    for target in service_targets(text):
        if target not in allowed:
            raise ProtocolError(403, f"SERVICE <{target}> is refused: federated queries make "
                                     "this server fetch URLs. An operator may allow endpoints "
                                     "with KG_ALLOWED_SERVICES (space-separated IRIs).")
    if has_load(text):
        raise ProtocolError(403, "LOAD is refused: it makes this server fetch a URL.")


class QueryService:
    def __init__(self, config: Config, served: ServedDataset) -> None:
        self.config = config
        self.served = served
        self._pool: QueryPool | None = None
        self.cache = AnswerCache()
        self._plans: dict[tuple[object, ...], Plan] = {}
        self._asserted = [iri for name, iri in config.graph_iris.items() if name != "inferred"]

    @property
    def pool(self) -> QueryPool:
        """This process's pool: a forked web worker (gunicorn ``--preload``) starts its own."""
        if self._pool is None or self._pool.pid != os.getpid():
            self._pool = QueryPool(
                [self.config.store, str(self.served.releases),
                 str(self.served.release.path)],
                self.config.query_processes)
        return self._pool

    def start(self) -> None:
        """Start the first query process now, so that the first query does not wait for it."""
        _ = self.pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def plan(self, request: ProtocolRequest, accept: str | None,
             format_param: str | None = None) -> Plan:
        """The plan of ``request``; a request seen before (same text, format, graphs and
        data generation) reuses its plan: no query text is scanned again."""
        generation = self.served.current().number
        key = (request.query, accept, format_param, tuple(request.default_graph_uris),
               tuple(request.named_graph_uris), request.inference, request.timeout, generation)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plan(request, accept, format_param, generation)
            if len(self._plans) >= MAX_PLANS:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _plan(self, request: ProtocolRequest, accept: str | None, format_param: str | None,
              generation: int) -> Plan:
        if request.query is None:
            raise ProtocolError(400, "the request has no 'query' parameter")
        refuse_remote_calls(request.query, self.config.allowed_services)
        fmt = select_format(request.query, accept, format_param)
        default, named = request.default_graph_uris, request.named_graph_uris
        if not request.inference and not (default or named
                                          or has_dataset_clause(request.query)):
            default, named = self._asserted, self._asserted
        job = Job(request.query, fmt.name, list(default), list(named),
                  self.config.max_result_rows)
        key = "\0".join([self.served.release.id, str(generation), request.query, fmt.name,
                         " ".join(default), "|", " ".join(named),
                         str(self.config.max_result_rows)])
        timeout = min(request.timeout or self.config.query_timeout, self.config.query_timeout)
        return Plan(job, fmt, 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"',
                    timeout, generation)

    def run(self, plan: Plan) -> Answer:
        cached = self.cache.get(plan.etag)
        if cached is not None:
            return cached
        answer = self._run(plan)
        if answer.generation == plan.generation:
            self.cache.put(plan.etag, answer)
        return answer

    def _run(self, plan: Plan) -> Answer:
        timeout = plan.timeout
        try:
            outcome = self.pool.run(plan.job, timeout)
        except QueryTimeout:
            if self.config.store.startswith("remote:"):
                raise ProtocolError(504, f"the store behind this endpoint did not answer "
                                         f"within the {timeout:g} s limit; the query was "
                                         "stopped") from None
            raise ProtocolError(503, f"the query ran longer than the {timeout:g} s limit and "
                                     "was stopped; narrow it (a LIMIT, more specific "
                                     "patterns) and try again") from None
        except QueryProcessDied:
            raise ProtocolError(503, "the query process ended before answering (out of "
                                     "memory?); the query was stopped") from None
        if outcome.status == "unavailable":
            raise ProtocolError(502, f"the store behind this endpoint is unavailable: "
                                     f"{outcome.message}")
        if outcome.status == "syntax":
            raise ProtocolError(400, f"malformed query: {outcome.message}")
        if outcome.status != "ok":
            raise ProtocolError(400, f"the query failed: {outcome.message}")
        headers = {}
        if outcome.truncated:
            headers[TRUNCATED_HEADER] = (f"max-rows={self.config.max_result_rows}; "
                                         f"dropped={outcome.truncated}")
        return Answer(200, content_type(plan.format), outcome.body, headers,
                      outcome.generation)
