"""Changesets: what one version of the dataset added to and removed from another.

A version's dataset (``dataset.nq``) is written as sorted N-Quads lines whose blank nodes
are named by their content (:func:`canonical_nquads`): a blank node that says the same
things in two versions has the same label in both, so that comparing two versions is
comparing two sorted files line by line (:func:`difference`, a merge that holds neither
file in memory) and a change to one OWL restriction shows as that restriction's lines
only.

A changeset is written three ways, gzip-compressed with no time stamp (the same changes,
the same bytes): RDF Patch (https://afs.github.io/rdf-patch/: ``D`` rows, then ``A``
rows, in one transaction, with ``H id`` and ``H prev`` naming the patch and the one
before it), and the removed and the added quads as N-Quads. A patch names a blank node
by the label the N-Quads dumps give it, which is what RDF Patch asks of a blank node (a
system identifier, not a fresh node on each reading): applying the changesets in order,
as sets of lines, to the first version's N-Quads dump gives the current dump exactly
(:func:`apply`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.store.oxigraph import serialized

#: the media type of RDF Patch (Apache Jena's, the format's home)
PATCH_MEDIA_TYPE = "application/rdf-patch"
PATCH_EXTENSION = "rdfp"

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.DefaultGraph | ox.Triple


# ---- blank nodes named by what they say ----------------------------------------------------

def _key(term: Term, colours: dict[ox.BlankNode, str]) -> str:
    if isinstance(term, ox.BlankNode):
        return "_:" + colours.get(term, "")
    return str(term)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def blank_node_labels(quads: Iterable[ox.Quad]) -> dict[ox.BlankNode, str]:
    """A label for every blank node of ``quads``, from what is said about it.

    A blank node's label is the hash of its outgoing quads (predicate, object, graph),
    an object that is itself a blank node standing for its own hash: for the trees that
    blank nodes make in practice (OWL restrictions, RDF lists, SKOS-XL labels) it depends
    on the node's own description only, so an unrelated change leaves it alone. Blank
    nodes that say exactly the same are told apart by the quads that point to them, and
    any that are still alike (interchangeable) by a counter. Labels never decide what a
    changeset holds, only how small it is: any labelling gives exact changesets.
    """
    outgoing: defaultdict[ox.BlankNode, list[ox.Quad]] = defaultdict(list)
    incoming: defaultdict[ox.BlankNode, list[ox.Quad]] = defaultdict(list)
    for quad in quads:
        if isinstance(quad.subject, ox.BlankNode):
            outgoing[quad.subject].append(quad)
        if isinstance(quad.object, ox.BlankNode):
            incoming[quad.object].append(quad)
        if isinstance(quad.graph_name, ox.BlankNode):
            outgoing.setdefault(quad.graph_name, [])
    nodes = set(outgoing) | set(incoming)
    colours: dict[ox.BlankNode, str] = {}
    visiting: set[ox.BlankNode] = set()

    def _said(term: Term) -> str:
        return "_:" + colour(term) if isinstance(term, ox.BlankNode) else str(term)

    def colour(node: ox.BlankNode) -> str:
        if node in colours:
            return colours[node]
        if node in visiting:  # a cycle of blank nodes: the way back is not followed
            return "cycle"
        visiting.add(node)
        parts = sorted(f"{q.predicate} {_said(q.object)} {q.graph_name}" for q in outgoing[node])
        visiting.discard(node)
        colours[node] = _digest(*parts)
        return colours[node]

    for node in sorted(nodes, key=lambda n: n.value):
        colour(node)
    groups: defaultdict[str, list[ox.BlankNode]] = defaultdict(list)
    for node in nodes:
        groups[colours[node]].append(node)
    labels: dict[ox.BlankNode, str] = {}
    for same, members in groups.items():
        if len(members) == 1:
            labels[members[0]] = "b" + same[:32]
            continue
        told: defaultdict[str, list[ox.BlankNode]] = defaultdict(list)
        for node in members:
            pointing = sorted(f"{_key(q.subject, colours)} {q.predicate} {q.graph_name}"
                              for q in incoming[node])
            told[_digest(same, *pointing)].append(node)
        for refined, alike in told.items():
            for number, node in enumerate(sorted(alike, key=lambda n: n.value)):
                labels[node] = "b" + refined[:32] + (f"x{number}" if len(alike) > 1 else "")
    return labels


def canonical_nquads(quads: Iterable[ox.Quad]) -> list[bytes]:
    """``quads`` as sorted N-Quads lines (each ending in a newline), blank nodes named by
    :func:`blank_node_labels`."""
    quads = list(quads)
    labels = blank_node_labels(quads)

    def term(t: Term) -> Term:
        return ox.BlankNode(labels[t]) if isinstance(t, ox.BlankNode) else t

    named = [q if not (isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)
                       or isinstance(q.graph_name, ox.BlankNode))
             else ox.Quad(term(q.subject), q.predicate, term(q.object), term(q.graph_name))  # type: ignore[arg-type]
             for q in quads]
    text = serialized(ox.serialize(named, format=ox.RdfFormat.N_QUADS))
    return sorted(line + b"\n" for line in text.split(b"\n") if line)


# ---- comparing two sorted files ------------------------------------------------------------

def sorted_copy(path: Path, scratch: Path) -> Path:
    """A sorted copy of an N-Quads file too large to sort in memory, by ``sort`` in byte
    order (``LC_ALL=C``, the order Python gives bytes), in ``scratch``."""
    handle, name = tempfile.mkstemp(prefix=".sorted-", suffix=".nq", dir=scratch)
    os.close(handle)
    subprocess.run(["sort", "-T", str(scratch), "-o", name, str(path)], check=True,
                   env={**os.environ, "LC_ALL": "C"})
    return Path(name)


def nquads_lines(path: Path) -> Iterator[bytes]:
    """The lines of an N-Quads file, each ending in a newline, blank lines left out."""
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                yield line if line.endswith(b"\n") else line + b"\n"


def difference(old: Iterable[bytes], new: Iterable[bytes]) -> Iterator[tuple[str, bytes]]:
    """The lines only ``old`` has (``D``) and only ``new`` has (``A``), in line order: a merge
    of two sorted sequences of lines. Raises ValueError on a sequence out of order."""

    def checked(lines: Iterable[bytes]) -> Iterator[bytes]:
        last = b""
        for line in lines:
            if line < last:
                raise ValueError("a dataset to compare is not sorted")
            last = line
            yield line

    olds, news = checked(old), checked(new)
    a, b = next(olds, None), next(news, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a < b):
            yield "D", a  # type: ignore[misc]
            a = next(olds, None)
        elif a is None or b < a:
            yield "A", b
            b = next(news, None)
        else:
            a, b = next(olds, None), next(news, None)


# ---- changesets ------------------------------------------------------------------------------

@dataclass
class Changes:
    """What changed: the removed and added lines, and their counts per named graph (the
    graph's IRI, or ``""`` for the default graph)."""

    removed: list[bytes] = field(default_factory=list)
    added: list[bytes] = field(default_factory=list)

    @classmethod
    def between(cls, old: Iterable[bytes], new: Iterable[bytes]) -> Changes:
        changes = cls()
        for operation, line in difference(old, new):
            (changes.removed if operation == "D" else changes.added).append(line)
        return changes

    @classmethod
    def of_files(cls, old: Path, new: Path) -> Changes:
        """Between two sorted N-Quads files."""
        return cls.between(nquads_lines(old), nquads_lines(new))

    @staticmethod
    def _per_graph(lines: list[bytes]) -> dict[str, int]:
        if not lines:
            return {}
        counts = Counter(q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
                         for q in ox.parse(b"".join(lines), format=ox.RdfFormat.N_QUADS))
        return dict(sorted(counts.items()))

    @property
    def removed_per_graph(self) -> dict[str, int]:
        return self._per_graph(self.removed)

    @property
    def added_per_graph(self) -> dict[str, int]:
        return self._per_graph(self.added)

    def patch(self, patch_id: str, previous_id: str | None = None) -> bytes:
        """The changes as RDF Patch: headers, then one transaction, deletions first."""
        head = [f"H id <{patch_id}> .\n".encode()]
        if previous_id is not None:
            head.append(f"H prev <{previous_id}> .\n".encode())
        return b"".join([*head, b"TX .\n", *(b"D " + line for line in self.removed),
                         *(b"A " + line for line in self.added), b"TC .\n"])


def apply(lines: set[bytes], changes: Changes) -> set[bytes]:
    """``lines`` (a version's N-Quads lines) with ``changes`` applied. Raises ValueError when
    the changes do not fit: a removed line that is not there, an added one that is."""
    missing = [line for line in changes.removed if line not in lines]
    present = [line for line in changes.added if line in lines]
    if missing or present:
        raise ValueError(f"the changes do not apply to this version: {len(missing)} removed "
                         f"line(s) missing, {len(present)} added line(s) already there")
    return (lines - set(changes.removed)) | set(changes.added)
