"""Load: find the Turtle sources and read each into the named graph it belongs to.

``ontology/*.ttl`` go to the ontology graph, ``data/ttl/links*.ttl`` to the links
graph, every other ``data/ttl/*.ttl`` to the data graph. Shapes are read for
validation only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
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


def discover_sources(config: Config) -> list[Source]:
    sources = [Source(p, "ontology") for p in sorted(config.ontology_dir.glob("*.ttl"))]
    for path in sorted(config.data_dir.glob("*.ttl")):
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


_SUBJECT_LINE = re.compile(r"^(\S+)\s")


def _subject_lines(path: Path, graph: Graph) -> dict[Node, int]:
    """The line where each subject of ``graph`` first starts a statement in ``path``."""
    namespaces = {prefix: str(ns) for prefix, ns in graph.namespaces()}
    lines: dict[Node, int] = {}

    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
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
        graph = parse_turtle(source.path)
        graphs[source.graph] += graph
        for prefix, ns in graph.namespaces():
            graphs[source.graph].bind(prefix, ns, override=False)
        lines = _subject_lines(source.path, graph)
        for subject in set(graph.subjects()):
            subject_files.setdefault(subject, (source.path, lines.get(subject)))
    return LoadedSources(graphs, sources, subject_files)


def load_shapes(config: Config) -> Graph:
    shapes = Graph()
    for path in shape_files(config):
        shapes += parse_turtle(path)
    return shapes
