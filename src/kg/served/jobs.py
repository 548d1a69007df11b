"""The read jobs a query process runs for the web workers, each against the current version
(or, through :func:`at_version`, an older one).

Every function takes the process's :class:`~kg.served.runner.Reader` first; its result is
sent back to the worker (pickled). What a job computes once per version (the search index,
the reconciliation index, the explainer, the site's overview) is kept in the reader's
cache, which a swap empties. :data:`FUNCTIONS` lists what a worker may ask for.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib.term import Node

from kg.formats import by_name
from kg.pipeline.jsonld import compact
from kg.served import describe as describing
from kg.served import pages
from kg.served.ontology import Documentation, document
from kg.served.search import Results, SearchIndex
from kg.store import QueryResult, ResultKind
from kg.store import oxigraph as oxigraph_store

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    from kg.pipeline.explain import Explanation
    from kg.pipeline.history import History, Step
    from kg.reconcile.service import ReconciliationService
    from kg.served.reader import Reader


@dataclass(frozen=True)
class Answer:
    """A SPARQL answer serialized in the format asked for."""

    body: bytes
    #: why the answer was cut: ``rows`` (the row cap) or ``bytes`` (the byte cap); empty when
    #: the answer is complete
    cut: str = ""
    #: the rows (or triples) a cut answer holds
    rows: int = 0


@dataclass
class Table:
    """A whole query result as rdflib terms, for the pages: rows, triples or a boolean."""

    kind: ResultKind
    variables: list[str] = field(default_factory=list)
    data: list[tuple[Any, ...]] = field(default_factory=list)
    value: bool = False

    @property
    def boolean(self) -> bool:
        return self.value

    def rows(self) -> Any:
        return iter(self.data)

    def triples(self) -> Any:
        return iter(self.data)

    def serialize(self, format_name: str) -> bytes:
        raise ValueError("a table read for a page is not serialized; run a query job")


class Overflow(Exception):
    """An answer grew past a cap (``reason``: ``rows`` or ``bytes``) while it was written."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: what separates rows in each format (an upper bound on the rows: see :func:`most_rows`)
_SEPARATORS = {"json": b"},{", "xml": b"<result>", "csv": b"\n", "tsv": b"\n",
               "ntriples": b"\n", "nquads": b"\n"}


class CappedOutput(io.BytesIO):
    """The file Oxigraph serializes an answer into: it keeps at most ``max_bytes`` bytes, and
    stops the serialization (raises :class:`Overflow` from ``write``) as soon as the answer
    grows past them or may hold more than ``max_rows`` rows (:attr:`most_rows`, counted on
    the way; 0: no row cap). What was kept stays readable, up to the byte cap exactly."""

    def __init__(self, max_bytes: int, format_name: str, max_rows: int = 0) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        self._separator = _SEPARATORS.get(format_name)
        self._tail = b""
        self.size = 0
        # JSON has a separator between rows: one row more than separators
        self._separated = 1 if format_name == "json" else 0

    def write(self, buffer: ReadableBuffer, /) -> int:
        data = bytes(buffer)
        room = self.max_bytes - self.size
        if len(data) > room:
            self._keep(data[:room])
            raise Overflow("bytes")
        self._keep(data)
        if self.max_rows and self.most_rows > self.max_rows:
            raise Overflow("rows")
        return len(data)

    def _keep(self, data: bytes) -> None:
        super().write(data)
        self.size += len(data)
        if self._separator is not None and data:
            # a separator may straddle two writes: the end of the last one counts too
            self._separated += (self._tail + data).count(self._separator)
            self._tail = data[1 - len(self._separator):] if len(self._separator) > 1 else b""

    @property
    def most_rows(self) -> int:
        """An upper bound on the rows written so far (:func:`most_rows`)."""
        return self._separated if self._separator is not None else self.size // 3 + 1


def most_rows(body: bytes, format_name: str) -> int:
    """An upper bound on the rows (or triples) in ``body``, counted at C speed.

    Every row adds one separator (``},{`` between JSON bindings, ``<result>`` in XML,
    a line in CSV, TSV, N-Triples and N-Quads) and literals can only add more; in
    the other RDF formats a triple takes at least three bytes (``,:a``).
    """
    output = CappedOutput(len(body), format_name)
    output.write(body)
    return output.most_rows


def _lines(data: bytes, keep: int) -> list[bytes]:
    """The first ``keep`` complete lines of ``data`` (a line cut by a cap is left out)."""
    return data[:data.rfind(b"\n") + 1].splitlines(keepends=True)[:keep]


def query(reader: Reader, text: str, format_name: str, default_graph_uris: Sequence[str],
          named_graph_uris: Sequence[str], union_default_graph: bool, max_rows: int,
          max_bytes: int, base_iri: str | None, prefixes: Mapping[str, str]) -> Answer:
    """The answer to a SPARQL query in ``format_name``, cut at a row boundary to at most
    ``max_rows`` rows (or triples) and ``max_bytes`` bytes.

    The answer is serialized once, into a :class:`CappedOutput` that stops the
    serialization as soon as it grows past the byte cap or may hold more rows than the row
    cap: no answer is built whole to be cut afterwards. Only then is the query run again
    and serialized in a line-based format (TSV for solutions, N-Triples for triples: one
    line per row or triple) under the same caps; the complete lines kept are parsed back by
    Oxigraph and written in the wanted format, with fewer rows when that format takes more
    bytes than the lines did.
    """
    store = reader.store

    def run() -> QueryResult:
        return store.query(text, default_graph_uris=default_graph_uris,
                           named_graph_uris=named_graph_uris,
                           union_default_graph=union_default_graph, base_iri=base_iri,
                           prefixes=prefixes)

    fmt = by_name(format_name)
    result = run()
    if result.kind == "boolean":
        return Answer(result.serialize(fmt.name))
    whole = CappedOutput(max_bytes, fmt.name, max_rows)
    try:
        result.serialize_into(whole, fmt.name)
        return Answer(whole.getvalue())
    except Overflow:
        del whole
    result = run()
    solutions = result.kind == "bindings"
    head = 1 if solutions else 0  # TSV's first line names the variables
    lines = CappedOutput(max_bytes, "tsv" if solutions else "ntriples", max_rows + head)
    cut = ""
    try:
        result.serialize_into(lines, "tsv" if solutions else "ntriples")
    except Overflow as overflow:
        cut = overflow.reason
    kept = _lines(lines.getvalue(), max_rows + head)
    del lines
    if solutions and not kept:  # not even the variables' line fit: no rows
        kept = [("\t".join("?" + v for v in result.variables) + "\n").encode()]
    while True:
        output = CappedOutput(max_bytes, fmt.name)
        try:
            _write_lines(kept, solutions, fmt.name, output)
            return Answer(output.getvalue(), cut, len(kept) - head)
        except Overflow:
            rows = len(kept) - head
            if rows <= 0:
                raise ValueError(f"an empty answer takes more than the {max_bytes} bytes an "
                                 "answer may take") from None
            # the wanted format takes more bytes a row than the lines did: fewer rows, in
            # proportion, and at least one fewer
            cut = "bytes"
            share = max_bytes / max(1, sum(map(len, kept)))
            kept = kept[:head + min(rows - 1, int(rows * share * 0.9))]


def _write_lines(lines: list[bytes], solutions: bool, format_name: str,
                 output: CappedOutput) -> None:
    """Lines of TSV (``solutions``) or N-Triples written in ``format_name`` into ``output``."""
    fmt = by_name(format_name)
    data = b"".join(lines)
    if solutions:
        parsed = ox.parse_query_results(data, format=ox.QueryResultsFormat.TSV)
        parsed.serialize(output, format=fmt.oxigraph)
        return
    triples = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
    if fmt.keeps_named_graphs:
        quads = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
        ox.serialize(quads, output, format=fmt.oxigraph)
    else:
        ox.serialize(triples, output, format=fmt.oxigraph)


def select(reader: Reader, text: str, default_graph_uris: Sequence[str] = (),
           named_graph_uris: Sequence[str] = ()) -> Table:
    """A query of the pages' own, whole, as rdflib terms."""
    result = reader.store.query(text, default_graph_uris=default_graph_uris,
                                named_graph_uris=named_graph_uris)
    if result.kind == "boolean":
        return Table("boolean", value=result.boolean)
    if result.kind == "graph":
        return Table("graph", data=list(result.triples()))
    return Table("bindings", result.variables, list(result.rows()))


def count(reader: Reader) -> int:
    """The quads of the served dataset."""
    return reader.store.count()


def describe(reader: Reader, iri: str) -> describing.Description:
    return describing.describe(reader.store, iri, _label_reader(reader))


def _label_reader(reader: Reader) -> describing.LabelReader:
    """The labels of the reader's version, each IRI's read once."""
    return reader.cached("labels", lambda: describing.LabelReader(
        reader.store, reader.config.graph_iri("inferred")))


def data_document(reader: Reader, iri: str, format_name: str,
                  prefixes: Mapping[str, str]) -> bytes | None:
    """The data document of ``iri`` (its description, :mod:`kg.served.describe`) in
    ``format_name``, written where it is read: by Oxigraph, JSON-LD compacted with the
    published context (:mod:`kg.pipeline.jsonld`). ``prefixes``: those the document may use
    (the ones it does use are declared). ``None`` when the graph says nothing of ``iri``."""
    description = describe(reader, iri)
    if not description.exists:
        return None
    fmt = by_name(format_name)
    statements = oxigraph_store.statements_from_rdflib(
        description.quads(reader.config.graph_iris.values()), fmt.keeps_named_graphs)
    if fmt.name == "jsonld":
        return compact(statements, reader.config, indent=2)
    return ox.serialize(statements, format=fmt.oxigraph,
                        prefixes=_used_prefixes(statements, prefixes))


def _used_prefixes(statements: Sequence[ox.Quad | ox.Triple],
                   prefixes: Mapping[str, str]) -> dict[str, str]:
    """The ``prefixes`` whose namespace begins an IRI of ``statements``."""
    used = sorted({t.value for statement in statements
                   for t in (statement.subject, statement.predicate, statement.object)
                   if isinstance(t, ox.NamedNode)})
    declared = {}
    for prefix, namespace in prefixes.items():
        # the first IRI not before the namespace is the one that may begin with it
        at = bisect.bisect_left(used, namespace)
        if at < len(used) and used[at].startswith(namespace):
            declared[prefix] = namespace
    return declared


def page(reader: Reader, iri: str) -> pages.PageData:
    """What the entity page of ``iri`` shows (:mod:`kg.served.pages`), in one round trip."""
    config = reader.config
    spaces = reader.cached("uri-spaces", lambda: pages.uri_spaces(
        reader.store, config.graph_iri("meta")))
    return pages.page(reader.store, iri, config.base_iri, _label_reader(reader), spaces)


def ontology(reader: Reader) -> Documentation:
    """The documentation of the ontology (:mod:`kg.served.ontology`), once per version."""
    config = reader.config
    return reader.cached("ontology", lambda: document(
        reader.store, config.base_iri, config.graph_iri("ontology"), config.graph_iri("data"),
        config.graph_iri("inferred")))


def labels(reader: Reader, iris: Sequence[str]) -> list[tuple[Node, Node, Node]]:
    """The asserted labels of ``iris``."""
    return _label_reader(reader)(iris)  # type: ignore[return-value]


def _search_index(reader: Reader) -> SearchIndex:
    config = reader.config
    return reader.cached("search", lambda: SearchIndex.build(
        reader.store, config.base_iri, config.graph_iri("inferred"), config.graph_iri("links")))


def search(reader: Reader, text: str, language: str, page: int = 1,
           everything: bool = False) -> Results:
    """One page of the resources whose names match ``text`` (:mod:`kg.served.search`)."""
    return _search_index(reader).search(text, language, page, everything)


@dataclass(frozen=True)
class Overview:
    """What the home and browse pages need about the whole graph."""

    #: (class IRI, number of entities) of the entities' asserted classes
    classes: list[tuple[str, int]]
    #: every entity IRI under ``BASE/id/`` that is the subject of a triple, sorted
    entities: list[str]
    #: the entities without an asserted class, listed on the browse page so that every
    #: entity is reachable by following links
    unclassified: list[str]


def overview(reader: Reader) -> Overview:
    def compute() -> Overview:
        store = reader.store
        space = reader.config.base_iri + "id/"
        asserted = f"FILTER (?g != <{reader.config.graph_iri('inferred')}>)"
        entities = sorted(str(s) for (s,) in store.query(
            f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER STRSTARTS(STR(?s), '{space}') }}"
        ).rows())
        classes = [(str(c), int(str(n))) for c, n in store.query(
            f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} {asserted} "
            f"FILTER (STRSTARTS(STR(?s), '{space}') && isIRI(?c)) }} GROUP BY ?c").rows()]
        typed = {str(s) for (s,) in store.query(
            f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a ?c }} {asserted} }}").rows()}
        return Overview(classes, entities, [e for e in entities if e not in typed])

    return reader.cached("overview", compute)


def _reconciliation(reader: Reader) -> ReconciliationService:
    from kg.reconcile.index import EntityIndex
    from kg.reconcile.service import ReconciliationService

    return reader.cached("reconcile", lambda: ReconciliationService(
        EntityIndex.from_store(reader.store, reader.config.base_iri)))


#: what a worker may ask of the reconciliation service
RECONCILE_METHODS = frozenset({"reconcile", "reconcile_batch", "extend", "preview",
                               "suggest_entities", "suggest_types", "suggest_properties",
                               "propose_properties"})


def reconcile(reader: Reader, method: str, *args: Any) -> Any:
    """One call of the reconciliation service (:data:`RECONCILE_METHODS`)."""
    if method not in RECONCILE_METHODS:
        raise ValueError(f"the reconciliation service has no method {method!r}")
    return getattr(_reconciliation(reader), method)(*args)


def explain(reader: Reader, triple: tuple[Node, Node, Node],
            max_triples: int) -> tuple[Explanation, dict[str, str]] | None:
    """How ``triple`` follows from the asserted graphs, and the prefixes to show it with;
    ``None`` when the graph is larger than ``max_triples`` (the explainer holds it all)."""
    from kg.pipeline.explain import Explainer
    from kg.pipeline.rebuild import ASSERTED

    def build() -> Explainer | None:
        store = reader.store
        if store.count() > max_triples:
            return None
        graphs = {}
        for name in (*ASSERTED, "inferred"):
            from rdflib import Graph

            graph = Graph()
            for t in store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH "
                                 f"<{reader.config.graph_iri(name)}> {{ ?s ?p ?o }} }}"
                                 ).triples():
                graph.add(t)
            graphs[name] = graph
        inferred = graphs.pop("inferred")
        assert reader.version is not None
        return Explainer(graphs, inferred, reader.version.report.prefixes)

    explainer = reader.cached("explainer", build)
    if explainer is None:
        return None
    prefixes = {p: str(ns) for p, ns in explainer.graph.namespace_manager.namespaces()}
    # its namespace manager holds the whole graph: the worker makes its own from the prefixes
    return replace(explainer.explain(triple), namespace_manager=None), prefixes


def graph_triples(reader: Reader, graph: str) -> list[tuple[Node, Node, Node]]:
    """The triples of one named graph (the ontology for its documentation, the meta graph
    for VoID)."""
    result = reader.store.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return list(result.triples())


def at_version(reader: Reader, version: str, function: str, *args: Any) -> Any:
    """The job ``function`` run against the version ``version`` instead of the current one
    (the mementos of ``/release/<version>/…``)."""
    if function not in FUNCTIONS or function in ("at_version", "timeline"):
        raise ValueError(f"no job {function!r} runs at a version")
    return FUNCTIONS[function](reader.at(version), *args)


@dataclass(frozen=True)
class Timeline:
    """The history as the Memento views need it: which version was served from when, and
    the versions (kept on disk) in which one IRI is the subject or object of a quad."""

    #: (version, when it became current), oldest first
    steps: list[tuple[str, str]]
    #: (version, when it was made), oldest first: the mementos of the IRI
    mementos: list[tuple[str, str]]


#: decompressed changesets (added and removed quads) by file, up to this many bytes in all
_CHANGESET_CACHE_BYTES = 64 << 20
_changesets: dict[str, bytes] = {}


def _changed_quads(history: History, step: Step) -> bytes:
    """The added and removed N-Quads of a step's changeset (immutable: kept in memory)."""
    import gzip

    name = str(step.added_file)
    if name not in _changesets:
        data = b"".join(gzip.decompress((history.changes / str(f)).read_bytes())
                        for f in (step.added_file, step.removed_file))
        if sum(map(len, _changesets.values())) + len(data) > _CHANGESET_CACHE_BYTES:
            return data
        _changesets[name] = data
    return _changesets[name]


def timeline(reader: Reader, iri: str) -> Timeline:
    """The steps of the history and the mementos of ``iri``. Whether a version holds the IRI
    is asked of its store only where it may have changed: at the first step, and at the
    steps whose changeset mentions the IRI (the others carry it over)."""
    from kg.pipeline.history import History, first_steps

    history = History(reader.releases)
    steps = history.steps()  # read once: History.versions() would read the file again
    needle = f"<{iri}>".encode()
    question = f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"
    holds: dict[str, bool] = {}
    known: bool | None = None
    for step in steps:
        kept = history.kept(step.version)
        if step.version in holds:
            known = holds[step.version]
        elif known is None or not step.files or needle in _changed_quads(history, step):
            known = reader.ask_at(step.version, question) if kept else None
        if known is not None and kept:
            holds.setdefault(step.version, known)
    made = {step.version: step for step in first_steps(steps)}
    return Timeline([(s.version, s.at) for s in steps],
                    [(v, made[v].created) for v, present in holds.items() if present])


#: the jobs a web worker may send, by name
FUNCTIONS: dict[str, Callable[..., Any]] = {f.__name__: f for f in (
    query, select, count, data_document, page, ontology, labels, search, overview,
    reconcile, explain, graph_triples, at_version, timeline)}
