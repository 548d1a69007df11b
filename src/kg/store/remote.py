"""The ``remote`` backend: any SPARQL 1.1 Protocol + Graph Store Protocol server.

Queries go to the server's SPARQL endpoint by HTTP; results come back in the format
the caller asked for and are passed through as bytes when the server produced that
format, or converted by pyoxigraph (Rust, no Python work per row) when it could not
(TSV, N-Quads, TriG). Graphs are written with the Graph Store Protocol (``PUT`` or
``POST`` per named graph).

The default graph of a query is the union of the store's named graphs: each is sent
as ``default-graph-uri`` and ``named-graph-uri`` (a server's own default graph may hold
other things: Virtuoso's holds its system graphs). A query that names its own dataset
(``FROM``) or a caller that passes graphs is sent as it is.

Errors are :class:`~kg.store.StoreError`; a server that cannot be reached or does not
answer in time is :class:`~kg.store.StoreUnavailable`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
import requests
from rdflib.term import Literal, Node

from kg.formats import by_name
from kg.sparqltext import SparqlSyntaxError, inspect_cached
from kg.store import QuerySyntaxError, ResultKind, StoreError, StoreUnavailable, boolean_table
from kg.store.oxigraph import serialized, to_rdflib

#: formats asked of the server and passed through; the others are converted from these
_PASS_THROUGH = {"json", "xml", "csv", "turtle", "ntriples", "jsonld", "rdfxml"}
#: what is asked of the server to convert into a format it is not trusted with
_SOURCE_FORMAT = {"bindings": "json", "boolean": "json", "graph": "ntriples"}
_KINDS: dict[str | None, ResultKind] = {
    "SELECT": "bindings", "ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph",
}


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _blank_node_label(label: str) -> str:
    return "b" + hashlib.sha256(label.encode()).hexdigest()[:24]


_XML_BNODE = re.compile(rb"<bnode>([^<]*)</bnode>")


def _safe_blank_nodes(body: bytes, format_name: str = "json") -> bytes:
    """SPARQL JSON or XML results with blank node labels that RDF allows: Virtuoso labels them
    ``nodeID://b10001``, which RDF parsers refuse. The same label maps to the same node."""
    if format_name == "xml":
        return _XML_BNODE.sub(lambda m: b"<bnode>" + _blank_node_label(
            m.group(1).decode()).encode() + b"</bnode>", body)
    if b'"bnode"' not in body:
        return body
    data = json.loads(body)
    for row in data.get("results", {}).get("bindings", []):
        for value in row.values():
            if value.get("type") == "bnode":
                value["value"] = _blank_node_label(value["value"])
    return json.dumps(data).encode()


class RemoteResult:
    """A query sent when its answer is first wanted, in the format wanted."""

    def __init__(self, store: RemoteStore, sparql: str, params: dict[str, list[str]],
                 kind: ResultKind) -> None:
        self._store = store
        self._sparql = sparql
        self._params = params
        self.kind = kind
        self._parsed: object | None = None

    def _fetch(self, format_name: str) -> bytes:
        """The server's answer in ``format_name`` (which it must be able to produce)."""
        fmt = by_name(format_name)
        response = self._store.post(self._params | {"query": [self._sparql]},
                                    accept=fmt.media_type)
        got = _media_type(response.headers.get("Content-Type"))
        if got not in fmt.media_types and not (fmt.name == "ntriples" and got == "text/plain"):
            raise StoreError(f"the SPARQL server at {self._store.url} answered {got or 'nothing'} "
                             f"when asked for {fmt.media_type}")
        return response.content

    def _solutions(self) -> object:
        if self._parsed is None:
            source = _SOURCE_FORMAT[self.kind]
            body = self._fetch(source)
            if self.kind == "graph":
                self._parsed = list(ox.parse(body, format=by_name(source).oxigraph))
            else:
                if source == "json":
                    body = _safe_blank_nodes(body)
                self._parsed = ox.parse_query_results(body, format=by_name(source).oxigraph)
        return self._parsed

    @property
    def variables(self) -> list[str]:
        solutions = self._solutions()
        if isinstance(solutions, ox.QuerySolutions):
            return [v.value for v in solutions.variables]
        return []

    @property
    def boolean(self) -> bool:
        return bool(self._solutions())

    def serialize(self, format_name: str) -> bytes:
        fmt = by_name(format_name)
        if self.kind == "graph":
            if "CONSTRUCT" not in fmt.forms:
                raise ValueError(f"{fmt.label} cannot carry the triples of a CONSTRUCT/DESCRIBE")
        elif "SELECT" not in fmt.forms:
            raise ValueError(f"{fmt.label} cannot carry SELECT/ASK results")
        if self.kind == "boolean" and fmt.name in ("csv", "tsv"):
            return boolean_table(self.boolean, fmt.name)
        if fmt.name in _PASS_THROUGH:
            if self.kind == "bindings" and fmt.name in ("json", "xml"):
                return _safe_blank_nodes(self._fetch(fmt.name), fmt.name)
            return self._fetch(fmt.name)
        if self.kind == "graph":
            return serialized(ox.serialize(
                self._solutions(), format=fmt.oxigraph))  # type: ignore[arg-type]
        solutions = self._solutions()
        return serialized(solutions.serialize(format=fmt.oxigraph))  # type: ignore[attr-defined]

    def serialize_into(self, output: BinaryIO, format_name: str) -> None:
        output.write(self.serialize(format_name))

    def rows(self) -> Iterator[tuple[Node | None, ...]]:
        variables = self.variables
        for solution in self._solutions():  # type: ignore[attr-defined]
            yield tuple(to_rdflib(solution[v]) for v in variables)

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        for t in self._solutions():  # type: ignore[attr-defined]
            yield (to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))  # type: ignore[misc]


class RemoteStore:
    """A SPARQL server's dataset, restricted to ``graph_iris`` (all its graphs if empty)."""

    name = "remote"

    def __init__(self, url: str, *, graph_iris: Sequence[str] = (),
                 graph_store_url: str | None = None, user: str | None = None,
                 password: str | None = None, timeout: float = 60.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise StoreError(f"a remote store needs an http(s) URL, not {url!r}")
        self.url = url
        self.graph_iris = list(graph_iris)
        self.graph_store_url = graph_store_url
        self.timeout = timeout
        self._credentials = (user, password) if user is not None else None
        self._session = requests.Session()

    @classmethod
    def open(cls, argument: str, location: Path | None, *, read_only: bool,
             graph_iris: Sequence[str]) -> RemoteStore:
        return cls(argument, graph_iris=graph_iris)

    @classmethod
    def serve(cls, argument: str, datasets: Sequence[Path], index: Path,
              graph_iris: Sequence[str]) -> RemoteStore:
        """The graphs as `kg publish` put them on the server: the local files are not read."""
        return cls(argument, graph_iris=graph_iris)

    # -- HTTP ---------------------------------------------------------------------------

    def _auth(self, url: str) -> requests.auth.AuthBase | None:
        """Digest or basic authentication, as the server's challenge asks (Virtuoso: digest)."""
        if self._credentials is None:
            return None
        user, password = self._credentials
        try:
            challenge = self._session.head(url, timeout=10).headers.get("WWW-Authenticate", "")
        except requests.RequestException:
            challenge = ""
        if challenge.lower().startswith("digest"):
            digest = requests.auth.HTTPDigestAuth(user, password or "")
            # answer the challenge once with a bodiless request: the nonce is then known and
            # the write carries its credentials at once. A server that refuses a large body
            # sent without them may close the connection before it answers 401.
            try:
                self._session.head(url, timeout=10, auth=digest)
            except requests.RequestException:
                pass
            return digest
        return requests.auth.HTTPBasicAuth(user, password or "")

    def _send(self, method: str, url: str, **kwargs: object) -> requests.Response:
        try:
            response = self._session.request(method, url, timeout=(10, self.timeout),
                                             **kwargs)  # type: ignore[arg-type]
        except requests.Timeout as e:
            raise StoreUnavailable(f"the SPARQL server at {url} did not answer within "
                                   f"{self.timeout:.0f} s") from e
        except requests.ConnectionError as e:
            raise StoreUnavailable(f"cannot reach the SPARQL server at {url}: is it running? "
                                   f"({e.__class__.__name__})") from e
        if response.status_code == 400:
            raise QuerySyntaxError(response.text.strip()[:2000] or "the server refused the query")
        if response.status_code in (401, 403):
            raise StoreError(f"the server at {url} refused access ({response.status_code}); "
                             "give a user and password allowed to write")
        if response.status_code >= 400:
            raise StoreError(f"the server at {url} answered {response.status_code}: "
                             + response.text.strip()[:500])
        return response

    def post(self, params: dict[str, list[str]], *, accept: str) -> requests.Response:
        """A SPARQL protocol request by POST with a URL-encoded form."""
        return self._send("POST", self.url, data=params, headers={"Accept": accept})

    def _dataset(self, union: bool, default_graph_uris: Sequence[str],
                 named_graph_uris: Sequence[str]) -> dict[str, list[str]]:
        if default_graph_uris or named_graph_uris:
            return {"default-graph-uri": list(default_graph_uris),
                    "named-graph-uri": list(named_graph_uris)}
        if self.graph_iris and union:
            return {"default-graph-uri": self.graph_iris, "named-graph-uri": self.graph_iris}
        return {}

    # -- the Store protocol ---------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        union_default_graph: bool | None = None,
        base_iri: str | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> RemoteResult:
        try:
            inspection = inspect_cached(sparql, predefined=prefixes or {})
        except SparqlSyntaxError as e:
            raise QuerySyntaxError(str(e)) from e
        if inspection.form is None:
            raise QuerySyntaxError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or "
                                   "DESCRIBE")
        if union_default_graph is None:
            union_default_graph = not inspection.has_dataset_clause
        # the prologue the server needs, first: a BASE of the query's own, later in the
        # text, still wins
        declared = "".join(f"PREFIX {p}: <{(prefixes or {})[p]}>\n"
                           for p in inspection.undeclared)
        if base_iri is not None:
            declared = f"BASE <{base_iri}>\n" + declared
        sparql = declared + sparql
        return RemoteResult(self, sparql, self._dataset(union_default_graph, default_graph_uris,
                                                        named_graph_uris),
                            _KINDS[inspection.form])

    def update(self, sparql: str) -> None:
        self._send("POST", self.url, data={"update": sparql}, auth=self._auth(self.url))

    def put_graph(self, graph: str, ntriples: bytes, *, replace: bool = True) -> None:
        """Replace (``PUT``) or extend (``POST``) a named graph by the Graph Store Protocol."""
        if self.graph_store_url is None:
            raise StoreError("writing graphs needs the server's Graph Store Protocol URL")
        self._send("PUT" if replace else "POST", self.graph_store_url,
                   params={"graph": graph}, data=ntriples,
                   headers={"Content-Type": "application/n-triples"},
                   auth=self._auth(self.graph_store_url))

    def load(self, path: Path) -> None:
        """Add the quads of an N-Quads file, one Graph Store ``POST`` per named graph."""
        graphs: dict[str, list[ox.Triple]] = {}
        try:
            for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
                if isinstance(quad.graph_name, ox.NamedNode):
                    graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
        except (OSError, SyntaxError) as e:
            raise StoreError(f"cannot load {path}: {e}") from e
        for graph, triples in graphs.items():
            body = serialized(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
            self.put_graph(graph, body, replace=False)

    def _select_one(self, sparql: str) -> Node | None:
        result = self.query(sparql, default_graph_uris=self.graph_iris,
                            named_graph_uris=self.graph_iris)
        return next((row[0] for row in result.rows()), None)

    def graphs(self) -> list[str]:
        if self.graph_iris:
            return sorted(g for g in self.graph_iris
                          if self.query(f"ASK {{ GRAPH <{g}> {{ ?s ?p ?o }} }}",
                                        named_graph_uris=[g]).boolean)
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows()
        return sorted(str(row[0]) for row in rows)

    def count(self, graph: str | None = None) -> int:
        graphs = [graph] if graph is not None else self.graph_iris
        if not graphs:
            found = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
            return _count(found)
        total = 0
        for g in graphs:
            n = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}",
                           named_graph_uris=[g])
            total += _count(n)
        return total

    def _graph_triples(self, graph: str) -> RemoteResult:
        return self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                          named_graph_uris=[graph])

    def dump(self, out: BinaryIO, format_name: str, graph: str | None = None) -> None:
        fmt = by_name(format_name)
        if "CONSTRUCT" not in fmt.forms:
            raise ValueError(f"{fmt.label} cannot carry a graph")
        rdf_format = fmt.oxigraph
        if graph is not None and rdf_format.supports_datasets:
            out.write(self._quads([graph], rdf_format))
        elif graph is not None:
            out.write(self._graph_triples(graph).serialize(fmt.name))
        elif rdf_format.supports_datasets:
            out.write(self._quads(self.graphs(), rdf_format))
        else:
            union = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
            out.write(self.query(union).serialize(fmt.name))

    def _quads(self, graphs: Sequence[str], rdf_format: ox.RdfFormat) -> bytes:
        quads = [
            ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
            for g in graphs
            for t in self._graph_triples(g)._solutions()  # type: ignore[attr-defined]
        ]
        return ox.serialize(quads, format=rdf_format)  # type: ignore[return-value]

    def close(self) -> None:
        self._session.close()


def _count(result: RemoteResult) -> int:
    """The number a ``SELECT (COUNT(*) AS ?n)`` answered."""
    n = next(result.rows())[0]
    if not isinstance(n, Literal):
        raise StoreError(f"the SPARQL server answered a count with {n!r}, not a number")
    return int(n)
