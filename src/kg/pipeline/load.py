"""Load: find the RDF sources and read each into the named graph it belongs to.

A source is a Turtle (``.ttl``), N-Triples (``.nt``, ``.nt.gz``) or RDF/XML
(``.owl``, ``.rdf``) file. Those in ``ontology/`` go to the ontology graph; those
anywhere under ``data/`` (``data/ttl/`` for the hand-written Turtle, or any
other folder) go to the links graph if their name starts with ``links``, else to
the data graph. A dataset source under ``data/`` (N-Quads ``.nq``, TriG ``.trig``)
keeps its named graphs as graphs of the release, each named by its own IRI (its default
graph goes where a file of its name would). Shapes (``shapes/*.ttl``) are read for
validation only. Blank nodes get labels fixed by the file's content, so that the same
file always yields the same triples (and a cached closure stays valid).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import struct
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from kg.config import Config
from kg.store.oxigraph import to_rdflib


class SourceError(Exception):
    """A source file cannot be read; the message names the file and the line."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Source:
    path: Path
    #: the short name of the named graph it goes into (see ``kg.config.GRAPH_NAMES``)
    graph: str


class SourceLocations:
    """Where each subject and statement came from (file, line), for reports a person can act on.

    A blank node is placed where the named subject that holds it is written.
    """

    def __init__(self) -> None:
        self._files: list[tuple[Path, Graph, dict[Node, int]]] = []

    def add(self, path: Path, graph: Graph) -> None:
        lines = _subject_lines(path, graph)
        for node in graph.all_nodes():
            if isinstance(node, BNode) and node not in lines:
                owner = named_owner(graph, node)
                if owner is not None and owner in lines:
                    lines[node] = lines[owner]
        self._files.append((path, graph, lines))

    def locate(self, subject: Node, predicate: Node | None = None,
               value: Node | None = None) -> tuple[Path, int | None] | None:
        """The file (and line) that states ``subject predicate value``, or failing that the
        first file where ``subject`` has ``predicate``, the file that states its type, or
        where it is a subject at all."""
        if isinstance(predicate, URIRef) and value is not None:
            for path, graph, lines in self._files:
                if (subject, predicate, value) in graph:
                    return path, lines.get(subject)
        if isinstance(predicate, URIRef):
            for path, graph, lines in self._files:
                if (subject, predicate, None) in graph:
                    return path, lines.get(subject)
        # where it is defined: the file that states its type
        for path, graph, lines in self._files:
            if (subject, RDF.type, None) in graph:
                return path, lines.get(subject)
        for path, graph, lines in self._files:
            if subject in lines or (subject, None, None) in graph:
                return path, lines.get(subject)
        return None

    def __contains__(self, subject: Node) -> bool:
        return any((subject, None, None) in graph for _, graph, _ in self._files)

    def subjects(self, path: Path) -> set[Node]:
        """The subjects written in ``path``."""
        for source, graph, _ in self._files:
            if source == path:
                return set(graph.subjects())
        return set()


def named_owner(graph: Graph, node: BNode, depth: int = 8) -> Node | None:
    """The IRI subject whose description holds the blank node ``node`` (through nesting)."""
    current: Node = node
    for _ in range(depth):
        holder = next(graph.subjects(object=current), None)
        if holder is None:
            return None
        if not isinstance(holder, BNode):
            return holder
        current = holder
    return None


@dataclass
class LoadedSources:
    """The parsed sources: one rdflib graph per named graph, and where each statement came from."""

    graphs: dict[str, Graph]
    sources: list[Source]
    #: where each subject and statement came from (file, line), see :class:`SourceLocations`
    subject_files: SourceLocations = field(default_factory=SourceLocations)

    def union(self, *names: str) -> Graph:
        union = Graph()
        for name in names or tuple(self.graphs):
            union += self.graphs[name]
            for prefix, ns in self.graphs[name].namespaces():
                union.bind(prefix, ns, override=False)
        return union


#: file name endings of the sources, and the syntax each is read as
SOURCE_FORMATS = {".ttl": "turtle", ".nt": "ntriples", ".nt.gz": "ntriples", ".owl": "rdfxml",
                  ".rdf": "rdfxml", ".nq": "nquads", ".trig": "trig"}
#: the syntaxes of dataset sources, whose named graphs the release keeps
DATASET_SOURCES = frozenset({"nquads", "trig"})


def source_format(path: Path) -> str | None:
    return next((fmt for end, fmt in SOURCE_FORMATS.items() if path.name.endswith(end)), None)


def _rdf_files(folder: Path, recursive: bool) -> list[Path]:
    files = folder.rglob("*") if recursive else folder.glob("*")
    return sorted(p for p in files if p.is_file() and source_format(p) is not None
                  and not p.name.startswith("."))


def _graph_of(path: Path) -> str:
    return "links" if path.name.startswith("links") else "data"


def discover_sources(config: Config, contributed: Sequence[Path] = ()) -> list[Source]:
    """The sources of the graph; ``contributed`` files (a contributor's new or changed data)
    are added to them, each replacing the data file of the same name if there is one."""
    replaced = {path.name for path in contributed}
    sources = [Source(p, "ontology") for p in _rdf_files(config.ontology_dir, recursive=False)
               if source_format(p) not in DATASET_SOURCES]
    for path in _rdf_files(config.root / "data", recursive=True):
        if path.name not in replaced:
            sources.append(Source(path, _graph_of(path)))
    sources.extend(Source(path, _graph_of(path)) for path in contributed)
    return sources


def source_bytes(path: Path) -> int:
    """The size of a source as read: a gzip file's uncompressed size (from its trailer)."""
    if not path.name.endswith(".gz"):
        return path.stat().st_size
    with path.open("rb") as f:
        f.seek(-4, os.SEEK_END)
        return int(struct.unpack("<I", f.read(4))[0])


def takes_large_path(config: Config, sources: Sequence[Source] | None = None) -> bool:
    """Whether ``config`` builds by the large-input path (its setting, or the sources' size)."""
    if config.build_path != "auto":
        return config.build_path == "large"
    found = discover_sources(config) if sources is None else sources
    return sum(source_bytes(s.path) for s in found) >= config.large_input_bytes


def shape_files(config: Config) -> list[Path]:
    return sorted(config.shapes_dir.glob("*.ttl"))


def parse_turtle(path: Path) -> Graph:
    """Parse one Turtle file, or raise :class:`SourceError` with the file, line and message."""
    try:
        # Oxigraph's parser is strict and says exactly where a file goes wrong
        for _ in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            pass
    except SyntaxError as e:
        message = e.msg.split(": ", 1)[-1] if e.msg else str(e)
        raise SourceError(path, e.lineno, f"Turtle syntax error at column {e.offset}: "
                                          f"{message}") from e
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except BadSyntax as e:
        raise SourceError(path, e.lines + 1, f"Turtle syntax error: {e._why}") from e
    except Exception as e:  # rdflib raises several kinds for bad input
        raise SourceError(path, None, f"cannot parse as Turtle: {e}") from e
    return graph


def _from_oxigraph(term: object, blank: dict[str, BNode], salt: str) -> Node:
    """The rdflib term; blank nodes labelled by ``salt`` and their order of appearance."""
    if isinstance(term, ox.BlankNode):
        return blank.setdefault(term.value, BNode(f"{salt}b{len(blank)}"))
    node = to_rdflib(term)
    assert node is not None
    return node


def parse_ntriples(path: Path) -> Graph:
    """Parse an N-Triples file (gzipped if it ends in ``.gz``), or raise :class:`SourceError`."""
    graph = Graph()
    salt = _salt(path)
    blank: dict[str, BNode] = {}
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as stream:
            # pyoxigraph reads any binary file; its types take IO[bytes], which typeshed's
            # GzipFile is not declared to be
            for t in ox.parse(stream, format=ox.RdfFormat.N_TRIPLES):  # type: ignore[arg-type]
                graph.add((_from_oxigraph(t.subject, blank, salt),
                           _from_oxigraph(t.predicate, blank, salt),
                           _from_oxigraph(t.object, blank, salt)))
    except SyntaxError as e:
        raise SourceError(path, e.lineno, f"N-Triples syntax error: {e.msg}") from e
    except (OSError, EOFError) as e:
        raise SourceError(path, None, f"cannot read: {e}") from e
    return graph


def parse_rdfxml(path: Path) -> Graph:
    """Parse an RDF/XML file (an OWL ontology), or raise :class:`SourceError`."""
    graph = Graph()
    try:
        graph.parse(path, format="xml")
    except Exception as e:  # the XML parser raises SAX and rdflib errors alike
        line = getattr(e, "getLineNumber", lambda: None)()
        raise SourceError(path, line, f"cannot parse as RDF/XML: {e}") from e
    return _stable_blank_nodes(graph, _salt(path))


def _salt(path: Path) -> str:
    return "f" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _stable_blank_nodes(graph: Graph, salt: str) -> Graph:
    """The same graph with its blank nodes labelled by ``salt`` and their order of appearance."""
    blank: dict[Node, BNode] = {}
    if not any(isinstance(term, BNode) for triple in graph for term in triple):
        return graph
    stable = Graph()
    for prefix, ns in graph.namespaces():
        stable.bind(prefix, ns, override=False)
    for triple in graph:
        stable.add(tuple(  # type: ignore[arg-type]
            blank.setdefault(t, BNode(f"{salt}b{len(blank)}")) if isinstance(t, BNode) else t
            for t in triple))
    return stable


def parse_dataset(path: Path) -> tuple[Graph, dict[str, Graph]]:
    """A dataset source (N-Quads, TriG): its default graph and each named graph by IRI, or
    :class:`SourceError`. A blank node label names one node across the file's graphs."""
    salt = _salt(path)
    blank: dict[str, BNode] = {}
    default = Graph()
    named: dict[str, Graph] = {}
    fmt = ox.RdfFormat.N_QUADS if source_format(path) == "nquads" else ox.RdfFormat.TRIG
    try:
        for quad in ox.parse(path=str(path), format=fmt, base_iri=path.resolve().as_uri()):
            graph = quad.graph_name
            if isinstance(graph, ox.BlankNode):
                raise SourceError(path, None, f"a graph named by the blank node _:{graph.value}: "
                                              "a graph of the release is named by an IRI")
            target = (default if isinstance(graph, ox.DefaultGraph) else
                      named.setdefault(graph.value, Graph()))
            target.add((_from_oxigraph(quad.subject, blank, salt),
                        _from_oxigraph(quad.predicate, blank, salt),
                        _from_oxigraph(quad.object, blank, salt)))
    except SyntaxError as e:
        raise SourceError(path, e.lineno, f"{fmt.name} syntax error: {e.msg}") from e
    return default, named


def _graph_key(config: Config, iri: str, path: Path) -> str:
    """The key of a graph a dataset source names: the short name of a graph of the release
    (kg.config.GRAPH_NAMES), or the IRI of a graph of its own."""
    for name in ("ontology", "data", "links"):
        if iri == config.graph_iri(name):
            return name
    for name in ("inferred", "meta"):
        if iri == config.graph_iri(name):
            raise SourceError(path, None, f"the graph <{iri}> is computed by the build (the "
                                          f"{name} graph); a source cannot give its triples")
    return iri


def parse_source(path: Path) -> Graph:
    """Parse a source file in the syntax its name says."""
    fmt = source_format(path)
    if fmt == "ntriples":
        return parse_ntriples(path)
    if fmt == "rdfxml":
        return parse_rdfxml(path)
    return _stable_blank_nodes(parse_turtle(path), _salt(path))


_SUBJECT_LINE = re.compile(r"^(<[^>\s]*>|[^\s<>]+)(?:\s|$)")


def _subject_lines(path: Path, graph: Graph) -> dict[Node, int]:
    """The line where each subject of ``graph`` first starts a statement in ``path``."""
    namespaces = {prefix: str(ns) for prefix, ns in graph.namespaces()}
    subjects = set(graph.subjects())
    lines: dict[Node, int] = {}

    if source_format(path) not in ("turtle", "ntriples"):
        return lines
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as stream:
        text_lines = stream.read().splitlines()
    for number, text in enumerate(text_lines, start=1):
        match = _SUBJECT_LINE.match(text)
        if not match or text.startswith(("@", "#", "PREFIX", "prefix", "BASE")):
            continue
        token = match.group(1)
        if token.startswith("<") and token.endswith(">"):
            subject = URIRef(token[1:-1])
        elif ":" in token:
            prefix, local = token.split(":", 1)
            if prefix not in namespaces:
                continue
            subject = URIRef(namespaces[prefix] + re.sub(r"\\(.)", r"\1", local))
        else:
            continue
        if subject in subjects:
            lines.setdefault(subject, number)
    return lines


def load_sources(config: Config, contributed: Sequence[Path] = ()) -> LoadedSources:
    """Parse every source; ``contributed`` files join them as :func:`discover_sources` says."""
    sources = discover_sources(config, contributed)
    graphs = {name: Graph() for name in ("ontology", "data", "links")}
    locations = SourceLocations()
    for source in sources:
        if source_format(source.path) in DATASET_SOURCES:
            default, named = parse_dataset(source.path)
            parts = [(source.graph, default)] + [
                (_graph_key(config, iri, source.path), graph) for iri, graph in named.items()]
            whole = Graph()
            for _, graph in parts:
                whole += graph
        else:
            whole = parse_source(source.path)
            parts = [(source.graph, whole)]
        for key, graph in parts:
            # copied, never aliased: the locations keep each file's own graph
            target = graphs.setdefault(key, Graph())
            target += graph
            for prefix, ns in graph.namespaces():
                target.bind(prefix, ns, override=False)
        locations.add(source.path, whole)
    return LoadedSources(graphs, sources, locations)


def load_shapes(config: Config, exclude: Collection[str] = ()) -> Graph:
    """The shapes of ``shapes/*.ttl`` in one graph, but for the files named in ``exclude``."""
    shapes = Graph()
    for path in shape_files(config):
        if path.name in exclude:
            continue
        graph = parse_turtle(path)
        shapes += graph
        for prefix, ns in graph.namespaces():
            shapes.bind(prefix, ns, override=False)
    return shapes
