"""Load: find the RDF sources and read each into the named graph it belongs to.

A source is a Turtle (``.ttl``), N-Triples (``.nt``, ``.nt.gz``) or RDF/XML
(``.owl``, ``.rdf``) file. Those in ``ontology/`` go to the ontology graph; those
anywhere under ``data/`` (``data/ttl/`` for the hand-written Turtle, or any
other folder) go to the links graph if their name starts with ``links``, else to
the data graph. Shapes (``shapes/*.ttl``) are read for validation only. Blank
nodes get labels fixed by the file's content, so that the same file always
yields the same triples (and a cached closure stays valid).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from kg.config import Config


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


@dataclass
class LoadedSources:
    """The parsed sources: one rdflib graph per named graph, and where each subject came from."""

    graphs: dict[str, Graph]
    sources: list[Source]
    #: subject -> (file, line of its first statement), for reports a person can act on
    subject_files: dict[Node, tuple[Path, int | None]] = field(default_factory=dict)

    def union(self, *names: str) -> Graph:
        union = Graph()
        for name in names or tuple(self.graphs):
            union += self.graphs[name]
            for prefix, ns in self.graphs[name].namespaces():
                union.bind(prefix, ns, override=False)
        return union


#: file name endings of the sources, and the syntax each is read as
SOURCE_FORMATS = {".ttl": "turtle", ".nt": "ntriples", ".nt.gz": "ntriples", ".owl": "rdfxml",
                  ".rdf": "rdfxml"}


def source_format(path: Path) -> str | None:
    return next((fmt for end, fmt in SOURCE_FORMATS.items() if path.name.endswith(end)), None)


def _rdf_files(folder: Path, recursive: bool) -> list[Path]:
    files = folder.rglob("*") if recursive else folder.glob("*")
    return sorted(p for p in files if p.is_file() and source_format(p) is not None
                  and not p.name.startswith("."))


def discover_sources(config: Config) -> list[Source]:
    sources = [Source(p, "ontology") for p in _rdf_files(config.ontology_dir, recursive=False)]
    for path in _rdf_files(config.root / "data", recursive=True):
        sources.append(Source(path, "links" if path.name.startswith("links") else "data"))
    return sources


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


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _from_oxigraph(term: object, blank: dict[str, BNode], salt: str) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return blank.setdefault(term.value, BNode(f"{salt}b{len(blank)}"))
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unsupported term {term!r}")


def parse_ntriples(path: Path) -> Graph:
    """Parse an N-Triples file (gzipped if it ends in ``.gz``), or raise :class:`SourceError`."""
    graph = Graph()
    salt = _salt(path)
    blank: dict[str, BNode] = {}
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as stream:
            for t in ox.parse(stream, format=ox.RdfFormat.N_TRIPLES):
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


def parse_source(path: Path) -> Graph:
    """Parse a source file in the syntax its name says."""
    fmt = source_format(path)
    if fmt == "ntriples":
        return parse_ntriples(path)
    if fmt == "rdfxml":
        return parse_rdfxml(path)
    return _stable_blank_nodes(parse_turtle(path), _salt(path))


_SUBJECT_LINE = re.compile(r"^(\S+)\s")


def _subject_lines(path: Path, graph: Graph) -> dict[Node, int]:
    """The line where each subject of ``graph`` first starts a statement in ``path``."""
    namespaces = {prefix: str(ns) for prefix, ns in graph.namespaces()}
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
            subject = URIRef(namespaces[prefix] + local)
        else:
            continue
        lines.setdefault(subject, number)
    return lines


def load_sources(config: Config) -> LoadedSources:
    sources = discover_sources(config)
    graphs = {name: Graph() for name in ("ontology", "data", "links")}
    subject_files: dict[Node, tuple[Path, int | None]] = {}
    for source in sources:
        graph = parse_source(source.path)
        if len(graphs[source.graph]):
            graphs[source.graph] += graph
            for prefix, ns in graph.namespaces():
                graphs[source.graph].bind(prefix, ns, override=False)
        else:  # the first file of its graph: no need to copy it
            graphs[source.graph] = graph
        lines = _subject_lines(source.path, graph)
        for subject in set(graph.subjects()):
            subject_files.setdefault(subject, (source.path, lines.get(subject)))
    return LoadedSources(graphs, sources, subject_files)


def load_shapes(config: Config) -> Graph:
    shapes = Graph()
    for path in shape_files(config):
        shapes += parse_turtle(path)
    return shapes
