"""Answering a protocol request: read the query, choose the result format, check the limits,
run it in a query process.

Framework-free: :meth:`QueryService.plan` turns what the web layer read off the request
into a :class:`Plan` (the job for a query process and its ETag, known before any work is
done), and :meth:`QueryService.run` gives an :class:`Answer` (status, media type, body,
headers). What a query is (its form, its dataset clause, the endpoints its SERVICE
clauses call, LOAD) comes from the parser (:mod:`kg.sparqltext`), never from the text
scanned by hand.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from kg import formats
from kg.config import STANDARD_PREFIXES, Config
from kg.formats import Format
from kg.pipeline.release import ReleaseError
from kg.served import JobFailed, Refused, ServedDataset
from kg.served.jobs import Answer as JobAnswer
from kg.served.wire import Job
from kg.sparql.negotiate import choose
from kg.sparql.protocol import ProtocolError, ProtocolRequest
from kg.sparqltext import Inspection, SparqlSyntaxError, inspect_cached
from kg.store import backend_of

#: plans kept per web worker (all dropped when full)
MAX_PLANS = 1024
_XSD = STANDARD_PREFIXES["xsd"]
#: the functions named by an IRI that the engine evaluates: the XSD casts
KNOWN_FUNCTIONS = frozenset(_XSD + name for name in (
    "string", "boolean", "integer", "decimal", "float", "double", "dateTime", "date", "time",
    "duration", "dayTimeDuration", "yearMonthDuration", "gYear", "gYearMonth", "gMonth",
    "gMonthDay", "gDay"))
#: the deepest nesting of brackets a query may have (deeper ones are refused before parsing)
MAX_DEPTH = 128


def predefined_prefixes(config: Config) -> dict[str, str]:
    """The prefixes declared for every query: the usual vocabularies and the graph's own."""
    return config.prefixes
#: the response header that reports a result cut at ``max_result_rows`` or
#: ``max_result_bytes``
TRUNCATED_HEADER = "KG-Result-Truncated"

log = logging.getLogger(__name__)


def store_unreadable(version: str) -> str:
    """What a client is told when the served version's store failed: the engine's own words
    name files on the server, and go to the operator's log only."""
    return (f"the store of version {version} could not be read (its files are damaged or "
            "missing); the operator's log has the details")


def store_problem(served: ServedDataset) -> str | None:
    """Why the served version's files cannot be read (missing or incomplete), if they
    cannot; a quick look at the folder, not a checksum of every file."""
    try:
        served.current().check()
    except (ReleaseError, JobFailed) as e:
        return str(e)
    return None


@dataclass
class Answer:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    #: the version of the served dataset that answered
    version: str = ""
    etag: str = ""


@dataclass(frozen=True)
class Plan:
    job: Job
    format: Format
    #: what the answer depends on besides the version (hashed into the ETag)
    key: str
    #: seconds the query may run
    timeout: float
    #: the version the plan was made for
    version: str
    #: the query calls SERVICE endpoints (allowed by ``allowed_services``)
    calls_services: bool = False
    #: the query is a lookup (:attr:`kg.sparqltext.Inspection.lookup`): it may take the
    #: query processes kept for lookups
    lookup: bool = False

    def etag(self, version: str | None = None) -> str:
        """The ETag of the answer at ``version`` (the plan's own by default)."""
        if version is None or version == self.version:
            return self._own_etag
        return etag_of(version, self.key)

    @functools.cached_property
    def _own_etag(self) -> str:
        return etag_of(self.version, self.key)


def etag_of(version: str, key: str) -> str:
    """The (weak) ETag of what ``version`` answers for ``key``: a version never changes."""
    digest = hashlib.sha256(f"{version}\0{key}".encode())
    return 'W/"' + digest.hexdigest()[:32] + '"'


class AnswerCache:
    """Recent answers by ETag, in one web worker: a version never changes, so an answer
    stays right until a swap makes a new version current (whose ETags differ). Small
    answers only, least recently used first out."""

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


def select_format(form: str | None, accept: str | None, format_param: str | None) -> Format:
    """The result format for a query of ``form``: ``?format=`` first, else the Accept header."""
    offered = formats.for_form(form)
    if format_param:
        fmt = formats.by_client_name(format_param, form)
        if fmt is None:
            names = ", ".join(f.name for f in offered)
            raise ProtocolError(400, f"format {format_param!r} cannot carry this query's "
                                     f"results; use one of {names}")
        return fmt
    fmt = choose(accept, offered)
    if fmt is None and form in formats.GRAPH_FORMS:
        # a client that asks SPARQL XML or JSON whatever the query (roqet) gets a graph in
        # RDF/XML or JSON-LD, as the format names say (and as Virtuoso answers it)
        results = choose(accept, formats.for_kind("results"))
        fmt = formats.by_client_name(results.name, form) if results is not None else None
    if fmt is None:
        types = ", ".join(f.media_type for f in offered)
        raise ProtocolError(406, f"none of the media types in Accept ({accept}) can carry this "
                                 f"query's results; available: {types}")
    return fmt


def inspect_text(text: str, predefined: dict[str, str], what: str = "query") -> Inspection:
    """The parse of a query or update text (``what``); a text that does not parse is a 400
    with the parser's message (``malformed update: line L, column C: ...``)."""
    try:
        return inspect_cached(text, predefined=predefined, max_depth=MAX_DEPTH)
    except SparqlSyntaxError as e:
        raise ProtocolError(400, f"malformed {what}: {e}") from None


def refuse_unknown_functions(inspection: Inspection) -> None:
    for iri, line, column in inspection.functions:
        if iri not in KNOWN_FUNCTIONS:
            raise ProtocolError(400, f"malformed query: line {line}, column {column}: unknown "
                                     f"function <{iri}>; this endpoint evaluates the SPARQL "
                                     "built-in functions and the XSD casts (xsd:integer(...))")


def engine_text(inspection: Inspection) -> str:
    """The text the engine runs: codepoint escapes applied, and ``SELECT *`` spelled out in
    the order the variables appear (the engine would sort them)."""
    text = inspection.text
    if inspection.star_span is not None and inspection.variables:
        start, end = inspection.star_span
        text = text[:start] + " ".join("?" + v for v in inspection.variables) + text[end:]
    return text


def with_protocol_dataset(inspection: Inspection, using: list[str],
                          using_named: list[str]) -> str:
    """The update's text with the protocol's ``using-graph-uri`` / ``using-named-graph-uri``
    written as USING / USING NAMED clauses of each DELETE/INSERT ... WHERE operation
    (SPARQL 1.1 Protocol §2.2.3); an update that names its own dataset then is a 400."""
    if not (using or using_named):
        return inspection.text
    if inspection.has_dataset_clause:
        raise ProtocolError(400, "the update names its dataset itself (USING, USING NAMED or "
                                 "WITH) and the request names one too (using-graph-uri, "
                                 "using-named-graph-uri): give one of them")
    clause = " ".join([f"USING <{iri}>" for iri in using]
                      + [f"USING NAMED <{iri}>" for iri in using_named]) + "\n"
    text = inspection.text
    for operation in reversed(inspection.operations):
        if operation.where >= 0:
            text = text[:operation.where] + clause + text[operation.where:]
    return text


def refuse_remote_calls(inspection: Inspection, allowed: tuple[str, ...]) -> None:
    """SERVICE and LOAD make the server fetch URLs: refused unless the endpoint is allowed."""
    for service in inspection.services:
        if service.variable or service.target not in allowed:
            target = f"?{service.target}" if service.variable else f"<{service.target}>"
            raise ProtocolError(403, f"SERVICE {target} is refused: federated queries make "
                                     "this server fetch URLs. An operator may allow endpoints "
                                     "with KG_ALLOWED_SERVICES (space-separated IRIs).")
    if any(operation.kind == "LOAD" for operation in inspection.operations):
        raise ProtocolError(403, "LOAD is refused: it makes this server fetch a URL.")


class QueryService:
    def __init__(self, config: Config, served: ServedDataset) -> None:
        self.config = config
        self.served = served
        self.cache = AnswerCache()
        self._plans: dict[tuple[object, ...], Plan] = {}
        self._remote = backend_of(config.store).remote
        self.prefixes = predefined_prefixes(config)

    def plan(self, request: ProtocolRequest, accept: str | None,
             format_param: str | None = None) -> Plan:
        """The plan of ``request``; a request seen before (same text, format, graphs and
        version) reuses its plan: no query text is read again."""
        version = self.served.version_id
        key = (request.query, accept, format_param, tuple(request.default_graph_uris),
               tuple(request.named_graph_uris), request.inference, request.timeout, version)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plan(request, accept, format_param, version)
            if len(self._plans) >= MAX_PLANS:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _plan(self, request: ProtocolRequest, accept: str | None, format_param: str | None,
              version: str) -> Plan:
        if request.query is None:
            raise ProtocolError(400, "the request has no 'query' parameter")
        inspection = inspect_text(request.query, self.prefixes)
        if inspection.kind != "query":
            raise ProtocolError(400, "this is an update, not a query: send it by POST as "
                                     "'update' (form) or application/sparql-update")
        refuse_remote_calls(inspection, self.config.allowed_services)
        refuse_unknown_functions(inspection)
        fmt = select_format(inspection.form, accept, format_param)
        default, named = tuple(request.default_graph_uris), tuple(request.named_graph_uris)
        if not request.inference and not (default or named or inspection.has_dataset_clause):
            inferred = self.config.graph_iri("inferred")
            asserted = tuple(iri for iri in self.served.report().graphs.values()
                             if iri != inferred)
            default, named = asserted, asserted
        union = not (default or named or inspection.has_dataset_clause)
        prefixes = {p: self.prefixes[p] for p in inspection.undeclared}
        caps = (self.config.max_result_rows, self.config.max_result_bytes)
        job = Job("query", (engine_text(inspection), fmt.name, default, named, union, *caps,
                            self.config.base_iri, prefixes))
        key = "\0".join([request.query, fmt.name, " ".join(default), "|", " ".join(named),
                         *map(str, caps)])
        # a shorter limit than min_query_timeout is raised to it: a query stopped before a
        # query process could answer anything only costs a process restart
        limit = self.config.query_timeout
        timeout = min(max(request.timeout or limit, self.config.min_query_timeout), limit)
        return Plan(job, fmt, key, timeout, version, bool(inspection.services),
                    inspection.lookup)

    def run(self, plan: Plan, client: str | None = None) -> Answer:
        """The answer to ``plan`` (from the cache when it holds it); ``client`` (its
        address) is what the admission rules count."""
        cached = self.cache.get(plan.etag())
        if cached is not None:
            return cached
        answer = self._run(plan, client)
        self.cache.put(answer.etag, answer)
        return answer

    def _run(self, plan: Plan, client: str | None) -> Answer:
        try:
            outcome = self.served.run(plan.job, plan.timeout, client, lookup=plan.lookup)
        except Refused as e:
            raise ProtocolError(e.status, e.message,
                                {"Retry-After": str(e.retry_after)}) from None
        except JobFailed as e:
            retry = {"Retry-After": str(e.retry_after)} if e.retry_after else None
            if e.kind == "timeout" and self._remote:
                raise ProtocolError(504, f"the store behind this endpoint did not answer "
                                         f"within the {plan.timeout:g} s limit; the query was "
                                         "stopped") from None
            if e.kind == "timeout" and e.retry_after:
                raise ProtocolError(503, e.message, retry) from None
            if e.kind == "timeout":
                raise ProtocolError(503, f"the query ran longer than the {plan.timeout:g} s "
                                         "limit and was stopped; narrow it (a LIMIT, more "
                                         "specific patterns) and try again") from None
            if e.kind in ("busy", "memory"):
                raise ProtocolError(503, f"{e.message}; narrow the query (a LIMIT, more "
                                         "specific patterns) and try again", retry) from None
            problem = None if self._remote else store_problem(self.served)
            if problem is not None:
                log.error("a query process ended: %s", problem)
                raise ProtocolError(503, store_unreadable(plan.version)) from None
            raise ProtocolError(503, "the query process ended before answering; the query "
                                     "was stopped") from None
        if outcome.status == "unavailable":
            raise ProtocolError(502, f"the store behind this endpoint is unavailable: "
                                     f"{outcome.message}")
        if outcome.status in ("syntax", "invalid"):
            raise ProtocolError(400, f"malformed query: {outcome.message}")
        if outcome.status == "missing":
            raise ProtocolError(503, outcome.message)
        if outcome.status == "memory":
            raise ProtocolError(503, f"the query needed more than the "
                                     f"{self.config.query_memory_mb} MB of memory a query may "
                                     "use, and was stopped; narrow it and try again")
        if outcome.status != "ok" and (self._remote or plan.calls_services):
            raise ProtocolError(502 if plan.calls_services else 400,
                                f"the query failed: {outcome.message}")
        if outcome.status == "storage":
            log.error("version %s: a query failed in the store: %s", outcome.version,
                      outcome.message)
            raise ProtocolError(503, store_unreadable(outcome.version or plan.version))
        if outcome.status != "ok":
            raise ProtocolError(400, f"the query failed: {outcome.message}")
        result: JobAnswer = outcome.value
        headers = {}
        if result.cut:
            cap = (f"max-rows={self.config.max_result_rows}" if result.cut == "rows" else
                   f"max-bytes={self.config.max_result_bytes}")
            headers[TRUNCATED_HEADER] = f"{cap}; rows={result.rows}"
        return Answer(200, plan.format.content_type, result.body, headers, outcome.version,
                      plan.etag(outcome.version))
