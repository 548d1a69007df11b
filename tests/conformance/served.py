"""The W3C suites' endpoint: a scratch KazKor KG project served by ``kg serve`` as a real
process, asked over HTTP as a client would ask it.

Two scratch projects (no ontology, no shapes, ``KG_REASONING=none``):

- the *query* project holds every data file of the query tests (and the graphs the protocol
  tests name) in one N-Quads source, ``data/w3c.nq``: each file a named graph named by its
  IRI, which the release keeps (dataset sources, :mod:`kg.pipeline.load`). A test's dataset
  is then reachable exactly: the runner names its files with ``default-graph-uri`` and
  ``named-graph-uri`` (an empty default graph by naming a graph that does not exist), or the
  query's own ``FROM`` names them;
- the *update* project starts empty and has updates on (``KG_UPDATE_TOKEN``) for any named
  graph (``KG_UPDATE_GRAPHS=any``, a general-purpose store).

:class:`Endpoints` starts each server when first asked and stops both at the end; the query
tests ask one server for all their queries.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import pyoxigraph as ox
import requests

from kg.sparqltext import inspect_cached

#: the update token of the scratch update server
TOKEN = "w3c-conformance"
#: the graph the runner names as the default graph of a test without data: it does not
#: exist, so the default graph is empty
EMPTY_GRAPH = "urn:x-kg:conformance:empty"
_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".rdf": ox.RdfFormat.RDF_XML,
            ".nt": ox.RdfFormat.N_TRIPLES}


def rdf_format(path: Path) -> ox.RdfFormat:
    return _FORMATS[path.suffix]


def write_dataset(files: Mapping[str, Path], out: Path) -> dict[str, str]:
    """Every file of ``files`` (graph IRI -> file) as a named graph of one N-Quads file, each
    file's blank nodes its own; returns the files Oxigraph cannot read, with why."""
    store = ox.Store()
    unreadable = {}
    for iri, path in sorted(files.items()):
        try:
            store.load(path=str(path), format=rdf_format(path), base_iri=iri,
                       to_graph=ox.NamedNode(iri))
        except (SyntaxError, ValueError, OSError) as e:
            unreadable[iri] = str(e)
    store.dump(str(out), format=ox.RdfFormat.N_QUADS)
    return unreadable


class Served:
    """``kg serve`` on a scratch project, and an HTTP session to it."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        from tests.conftest import start_server

        for name in ("ontology", "data", "shapes"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.server = start_server(
            folder / "releases", log=folder / "server.log", startup=300,
            env={"KG_ROOT": str(folder), "KG_REASONING": "none", "KG_QUERY_PROCESSES": "2",
                 "KG_CLIENT_CONCURRENCY": "0", **env})
        self.url = self.server.url
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        return self.session.request(method, self.url + path, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        from tests.conftest import stop_server

        self.session.close()
        stop_server(self.server.process)


class QueryEndpoint(Served):
    """The query project: answers a query as :data:`tests.conformance.sparql_suite.Run`
    says, by a POST form to ``/sparql``."""

    def __init__(self, folder: Path, files: Mapping[str, Path]) -> None:
        (folder / "data").mkdir(parents=True, exist_ok=True)
        self.unreadable = write_dataset(files, folder / "data" / "w3c.nq")
        super().__init__(folder, {})

    def __call__(self, query: str, base_iri: str, default_graphs: Sequence[str],
                 named_graphs: Sequence[str], accept: str) -> tuple[int, str, bytes]:
        """The protocol has no base IRI parameter: the query is sent with ``BASE <its
        file's IRI>`` before it (a BASE of its own still wins)."""
        if not (default_graphs or named_graphs or inspect_cached(query).has_dataset_clause):
            default_graphs = [EMPTY_GRAPH]
        form = [("query", f"BASE <{base_iri}>\n{query}")]
        form += [("default-graph-uri", g) for g in default_graphs]
        form += [("named-graph-uri", g) for g in named_graphs]
        answer = self.request("POST", "/sparql", data=form, headers={"Accept": accept})
        return answer.status_code, answer.headers.get("Content-Type", ""), answer.content


class UpdateEndpoint(Served):
    """The update project: an empty store whose updates may write any graph."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, {"KG_UPDATE_TOKEN": TOKEN, "KG_UPDATE_GRAPHS": "any"})
        self.authorization = {"Authorization": f"Bearer {TOKEN}"}

    def update(self, text: str) -> requests.Response:
        return self.request("POST", "/update", data=text.encode("utf-8"),
                            headers={**self.authorization,
                                     "Content-Type": "application/sparql-update"})


class Endpoints:
    """The two scratch servers, each started when first asked, in one temporary folder
    (or ``folder``); both stopped by :meth:`close`."""

    def __init__(self, query_files: Mapping[str, Path], folder: Path | None = None) -> None:
        self._temporary = None if folder else tempfile.TemporaryDirectory(prefix="kg-w3c-")
        self.folder = folder or Path(self._temporary.name)  # type: ignore[union-attr]
        self.query_files = query_files
        self._query: QueryEndpoint | None = None
        self._update: UpdateEndpoint | None = None

    @property
    def query(self) -> QueryEndpoint:
        if self._query is None:
            self._query = QueryEndpoint(self.folder / "query", self.query_files)
        return self._query

    @property
    def update(self) -> UpdateEndpoint:
        if self._update is None:
            self._update = UpdateEndpoint(self.folder / "update")
        return self._update

    def close(self) -> None:
        for served in (self._query, self._update):
            if served is not None:
                served.stop()
        self._query = self._update = None
        if self._temporary is not None:
            self._temporary.cleanup()

    def __enter__(self) -> Endpoints:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
