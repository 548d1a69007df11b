"""Read W3C test manifests (the SPARQL 1.1 and SHACL test suites) with rdflib.

A suite is a tree of ``mf:Manifest`` files: each names further manifests with ``mf:include``
(repeated, or one RDF list) and its tests with ``mf:entries`` (an RDF list). A test has
types (``mf:QueryEvaluationTest``, ``sht:Validate``...), an ``mf:action`` (a node with the
query, data and shapes files), an ``mf:result`` and an approval status (``mf:status`` in
SHACL, ``dawgt:approval`` in SPARQL).

Every file of a suite is parsed with the IRI the suite gives it (:class:`Suite`: the folder's
base IRI plus the file's path); :meth:`Suite.path` turns such IRIs back into files. The SPARQL
suite has its published IRIs
(``http://www.w3.org/2009/sparql/docs/tests/data-sparql11/bind/bind01.rq``); the SHACL suite
publishes ``urn:x-shacl-test:/core/node/class-001``, an IRI relative ones cannot be resolved
against, so its files keep their ``file:`` IRIs and a test is named by its published IRI
(:meth:`Suite.published`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import rdflib
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")

ROOT = Path(__file__).resolve().parents[2]


def conformance_dir() -> Path:
    """``KG_CONFORMANCE_DIR``, else ``shared/conformance`` beside the checkout (or beside its
    parent, for a git worktree kept one level deeper)."""
    if "KG_CONFORMANCE_DIR" in os.environ:
        return Path(os.environ["KG_CONFORMANCE_DIR"]).resolve()
    candidates = [p / "shared" / "conformance" for p in (ROOT.parent, ROOT.parent.parent)]
    return next((c for c in candidates if c.is_dir()), candidates[0])


@dataclass(frozen=True)
class Suite:
    """A test suite: its folder, the IRI its files are parsed with, and the prefix of the
    test IRIs that implementation reports use (``publishes``)."""

    name: str
    root: Path
    base: str
    publishes: str

    def iri(self, path: Path) -> URIRef:
        return URIRef(self.base + path.resolve().relative_to(self.root.resolve()).as_posix())

    def path(self, iri: Node) -> Path:
        """The file an IRI of the suite names (a fragment, such as ``manifest#agg01``, is cut)."""
        text = str(iri).split("#", 1)[0]
        if not text.startswith(self.base):
            raise ValueError(f"{iri} is not an IRI of the {self.name} suite (under {self.base})")
        return self.root / text[len(self.base):]

    def relative(self, iri: Node) -> str:
        """The IRI without the suite's base: ``core/node/class-001``, ``bind/manifest#bind01``."""
        return str(iri)[len(self.base):] if str(iri).startswith(self.base) else str(iri)

    def published(self, iri: Node) -> str:
        """The test's IRI as implementation reports name it."""
        return self.publishes + self.relative(iri)

    def available(self) -> bool:
        return (self.root / "manifest.ttl").is_file()


def shacl_suite() -> Suite:
    root = conformance_dir() / "w3c-shacl"
    return Suite("SHACL", root, root.resolve().as_uri() + "/", "urn:x-shacl-test:/")


def sparql_suite() -> Suite:
    base = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
    return Suite("SPARQL 1.1", conformance_dir() / "w3c-sparql11", base, base)


@dataclass(frozen=True)
class ManifestEntry:
    """One test of a manifest."""

    suite: Suite
    iri: URIRef
    types: frozenset[URIRef]
    name: str
    #: the manifest file that lists the test, and its graph (the test's action and result
    #: are nodes of it)
    manifest: Path
    graph: Graph
    action: Node | None
    result: Node | None
    #: ``sht:approved``, ``dawgt:Approved``, ``dawgt:Proposed``... (None: not stated)
    approval: URIRef | None

    @property
    def id(self) -> str:
        """The test's IRI without the suite's base: ``core/node/class-001``."""
        return self.suite.relative(self.iri)

    @property
    def folder(self) -> str:
        """The folder of the suite the test is in: ``core/node``, ``aggregates``."""
        return self.manifest.parent.relative_to(self.suite.root).as_posix()

    def action_value(self, predicate: URIRef) -> Node | None:
        return self.graph.value(self.action, predicate) if self.action is not None else None

    def action_values(self, predicate: URIRef) -> list[Node]:
        if self.action is None:
            return []
        return sorted(self.graph.objects(self.action, predicate), key=str)

    def action_file(self, predicate: URIRef) -> Path | None:
        value = self.action_value(predicate)
        return self.suite.path(value) if value is not None else None

    def comment(self) -> str | None:
        value = self.graph.value(self.iri, RDFS.comment)
        return str(value) if value is not None else None


@contextmanager
def exact_literals() -> Iterator[None]:
    """Within the block rdflib keeps each literal as written: by default it rewrites
    ``"01"^^xsd:integer`` as ``"1"`` and ``"1"^^xsd:boolean`` as ``"true"`` while parsing,
    and the tests compare RDF terms."""
    saved = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = saved


def read_graph(suite: Suite, path: Path, format: str = "turtle") -> Graph:
    """A file of the suite as a new graph, its literals as written, with its suite IRI as
    base. The suites' ill-typed literals are on purpose: rdflib's warnings about them are
    not shown."""
    graph = Graph()
    with exact_literals(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Parsing weird boolean", UserWarning)
        graph.parse(path, format=format, publicID=suite.iri(path))
    return graph


@cache
def parse(suite: Suite, path: Path) -> Graph:
    """A manifest of the suite (cached and shared: not to be changed)."""
    return read_graph(suite, path)


def _listed(graph: Graph, node: Node, predicate: URIRef) -> Iterator[Node]:
    """The values of ``predicate``: each value, and the members of a value that is a list."""
    for value in graph.objects(node, predicate):
        if value == RDF.nil or graph.value(value, RDF.first) is not None:
            yield from Collection(graph, value)
        else:
            yield value


def entries(suite: Suite, manifest: str | Path = "manifest.ttl") -> list[ManifestEntry]:
    """The tests of a manifest and of those it includes, in manifest order."""
    path = manifest if isinstance(manifest, Path) else suite.root / manifest
    found: list[ManifestEntry] = []
    _read(suite, path, found, set())
    return found


def _read(suite: Suite, path: Path, found: list[ManifestEntry], seen: set[Path]) -> None:
    if path in seen:
        return
    seen.add(path)
    graph = parse(suite, path)
    here = suite.iri(path)
    manifests = list(graph.subjects(RDF.type, MF.Manifest)) or [here]
    for node in sorted(manifests, key=lambda m: m != here):
        for included in _listed(graph, node, MF.include):
            _read(suite, suite.path(included), found, seen)
        for test in _listed(graph, node, MF.entries):
            if not isinstance(test, URIRef):
                raise ValueError(f"{path}: an entry of mf:entries is not an IRI: {test!r}")
            found.append(_entry(suite, path, graph, test))


def _entry(suite: Suite, path: Path, graph: Graph, test: URIRef) -> ManifestEntry:
    name = graph.value(test, MF.name) or graph.value(test, RDFS.label)
    approval = graph.value(test, MF.status) or graph.value(test, DAWGT.approval)
    return ManifestEntry(
        suite=suite, iri=test,
        types=frozenset(t for t in graph.objects(test, RDF.type) if isinstance(t, URIRef)),
        name=str(name) if isinstance(name, Literal) else suite.relative(test),
        manifest=path, graph=graph,
        action=graph.value(test, MF.action), result=graph.value(test, MF.result),
        approval=approval if isinstance(approval, URIRef) else None)
