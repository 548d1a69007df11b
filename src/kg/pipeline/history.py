"""The history of a release folder: every version that was served, in order, with what it
changed.

``history.jsonl`` in the release folder holds one :class:`Step` a line: each time
``current`` names another version (a build, an update, or an earlier version served
again), :func:`History.record` appends the step, under the writer lock, with the changeset
from the version served before it (:mod:`kg.pipeline.changes`) written into ``changes/``:
``kazkor-kg-changes-000002-8b155fae0c5f8977-1.rdfp.gz`` (RDF Patch) and
``…-added.nq.gz``, ``…-removed.nq.gz``. The first step has no changeset: its version's
N-Quads dump is the base that the changesets apply to, in order.

Retention (``KG_KEEP_VERSIONS``, :meth:`History.prune`) removes the folders of older
versions (their store, dataset and dumps); their steps and changesets stay, so citations
still name them and mirrors still reach the current version, and the first version is
never removed, so that every version can be rebuilt from it (:meth:`History.dataset`).

A version's record in RDF (:func:`describe_version`) and its citation (:func:`citation`)
come from its step: the meta graph of the version holds them, ``/releases`` lists them.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from rdflib import DCTERMS, PROV, RDF, VOID, XSD, Graph, Literal, Namespace, URIRef

from kg.pipeline.changes import (
    PATCH_EXTENSION,
    PATCH_MEDIA_TYPE,
    Changes,
    apply,
    difference,
    nquads_lines,
    sorted_copy,
)
from kg.pipeline.release import DATASET, ReleaseError, Releases, Version, now, sha256_file

HISTORY = "history.jsonl"
CHANGES_DIR = "changes"
#: what :func:`citation` names as the dataset's author
CREATOR = "KazKor KG project"
TITLE = "KazKor KG"
SD_NAME = URIRef("http://www.w3.org/ns/sparql-service-description#name")
#: DCAT 3, with its terms for versions (rdflib's DCAT namespace predates them)
DCAT = Namespace("http://www.w3.org/ns/dcat#")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One version made current, and what it changed from the version served before."""

    #: its place in the history, from 1
    number: int
    version: str
    #: the version served before it (``None`` for the first step)
    previous: str | None
    #: when it was made current (UTC, ISO 8601)
    at: str
    #: when the version was made (its report's ``created``)
    created: str
    #: ``sources`` (a build), ``update``, or ``reuse`` (a version of the history served again)
    kind: str
    release: str
    generation: int
    #: quads of the version
    triples: int
    #: the SHA-256 of the version's ``dataset.nq``
    dataset_sha256: str
    #: named graph IRI (``""``: the default graph) -> quads added, removed
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    #: changeset file (in ``changes/``) -> SHA-256; empty for the first step, and for a step
    #: whose previous version could no longer be read (a mirror loads the dump then)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def changeset(self) -> dict[str, str]:
        """Its changeset files by role (``patch``, ``added``, ``removed``); empty without."""
        return changeset_names(self.number, self.version) if self.files else {}

    @property
    def patch_file(self) -> str | None:
        return self.changeset.get("patch")

    @property
    def added_file(self) -> str | None:
        return self.changeset.get("added")

    @property
    def removed_file(self) -> str | None:
        return self.changeset.get("removed")

    @property
    def added_total(self) -> int:
        return sum(self.added.values())

    @property
    def removed_total(self) -> int:
        return sum(self.removed.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Step:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})  # type: ignore[arg-type]


def changeset_names(number: int, version: str) -> dict[str, str]:
    """The files of the changeset of step ``number`` (which made ``version`` current), by
    role: ``kazkor-kg-changes-000002-<version>.rdfp.gz``, ``…-added.nq.gz``,
    ``…-removed.nq.gz`` (the numbers sort in the order to apply them)."""
    stem = f"kazkor-kg-changes-{number:06d}-{version}"
    return {"patch": f"{stem}.{PATCH_EXTENSION}.gz", "added": f"{stem}-added.nq.gz",
            "removed": f"{stem}-removed.nq.gz"}


def first_steps(steps: list[Step]) -> list[Step]:
    """The step that made each version (its first), in the order of the history."""
    made: dict[str, Step] = {}
    for step in steps:
        made.setdefault(step.version, step)
    return list(made.values())


def patch_id(base_iri: str, step: Step) -> str:
    """The RDF Patch ``H id`` of a step's patch: a UUID from its address."""
    patch = changeset_names(step.number, step.version)["patch"]
    return f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base_iri}dumps/changes/{patch}')}"


class History:
    """``history.jsonl`` and ``changes/`` of a release folder."""

    def __init__(self, releases: Releases) -> None:
        self.releases = releases
        self.path = releases.path / HISTORY
        self.changes = releases.path / CHANGES_DIR

    def steps(self) -> list[Step]:
        """Every step, oldest first (a line still being written is not one yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        steps = []
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n"):
                break
            steps.append(Step.from_dict(json.loads(line)))
        return steps

    def versions(self) -> dict[str, Step]:
        """Each version of the history, by id, with the step that made it (its first)."""
        return {step.version: step for step in first_steps(self.steps())}

    def made(self, version: str) -> Step | None:
        return self.versions().get(version)

    def kept(self, version: str) -> bool:
        """Whether a version's folder is still on disk (retention removes older ones)."""
        return (self.releases.path / version / DATASET).is_file()

    # -- writing (under the writer lock) ----------------------------------------------------

    def record(self, base_iri: str, say: Progress | None = None) -> Step | None:
        """Append the step of the current version when the history does not end with it,
        with its changeset from the last step's version. The caller holds the writer lock."""
        say = say or (lambda _message: None)
        current = self.releases.current()
        if current is None:
            return None
        try:
            report = current.report
        except ReleaseError as e:
            say(f"{e}: the history does not record it")
            return None
        digest = report.files.get(DATASET) or sha256_file(current.dataset)
        steps = self.steps()
        last = steps[-1] if steps else None
        if last is not None and last.version == current.id and last.dataset_sha256 == digest:
            return None
        made = next((s for s in steps if s.version == current.id), None)
        kind = "reuse" if made is not None and made.dataset_sha256 == digest else report.origin
        step = Step(len(steps) + 1, current.id, last.version if last else None,
                    now(), made.created if kind == "reuse" and made else report.created,
                    kind, report.release, report.generation, report.triple_count, digest)
        if last is not None:
            step = self._with_changes(step, last, current, base_iri, steps, say)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (step.to_json() + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return step

    def _with_changes(self, step: Step, last: Step, current: Version, base_iri: str,
                      steps: list[Step], say: Progress) -> Step:
        self.changes.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".tmp-sort-", dir=self.releases.path) as scratch:
            try:
                old = self._sorted_dataset(last, Path(scratch), steps)
            except ReleaseError as e:
                say(f"the changes of version {step.version} cannot be written: {e}; a mirror "
                    f"of version {last.version} loads its dump instead")
                return step
            new = self._sorted(current, Path(scratch))
            files, added, removed = self._write_changeset(step, old, new, base_iri, steps)
        say(f"changes from version {last.version} to {step.version}: "
            f"{sum(added.values())} quads added, {sum(removed.values())} removed")
        return Step(**{**asdict(step), "files": files, "added": added, "removed": removed})

    def _sorted(self, version: Version, scratch: Path) -> Path:
        """The version's dataset sorted: as written for the small path, sorted on disk for
        the large one."""
        if version.report.build_path == "small":
            return version.dataset
        return sorted_copy(version.dataset, scratch)

    def _sorted_dataset(self, step: Step, scratch: Path, steps: list[Step]) -> Path:
        """The sorted dataset of ``step``'s version as it was then: its file when its bytes
        are still those, else rebuilt from the first version and the changesets."""
        version = self.releases.version(step.version)
        if version.dataset.is_file() and sha256_file(version.dataset) == step.dataset_sha256:
            return self._sorted(version, scratch)
        path = scratch / "previous.nq"
        path.write_bytes(b"".join(sorted(self.dataset(step.number, steps))))
        return path

    def _write_changeset(self, step: Step, old: Path, new: Path, base_iri: str,
                         steps: list[Step]) -> tuple[dict[str, str], dict[str, int],
                                                     dict[str, int]]:
        """Write the three files of a step's changeset into ``changes/``: removed and added
        quads (N-Quads) by one merge of the two sorted datasets, then the RDF Patch."""
        names = changeset_names(step.number, step.version)
        counts: dict[str, dict[str, int]] = {"removed": {}, "added": {}}
        tmp = {key: self.changes / f".tmp-{name}-{os.getpid()}" for key, name in names.items()}
        with (_gzip_writer(tmp["removed"]) as removed, _gzip_writer(tmp["added"]) as added):
            batches: dict[str, list[bytes]] = {"removed": [], "added": []}
            for operation, line in difference(nquads_lines(old), nquads_lines(new)):
                key = "removed" if operation == "D" else "added"
                (removed if key == "removed" else added).write(line)
                batches[key].append(line)
                if len(batches[key]) >= 10_000:
                    _count(counts[key], batches[key])
            for key in batches:
                _count(counts[key], batches[key])
        before = next((s for s in reversed(steps) if s.files), None)
        head = f"H id <{patch_id(base_iri, step)}> .\n"
        if before is not None:
            head += f"H prev <{patch_id(base_iri, before)}> .\n"
        with _gzip_writer(tmp["patch"]) as patch:
            patch.write(head.encode() + b"TX .\n")
            for key, code in (("removed", b"D "), ("added", b"A ")):
                with gzip.open(tmp[key], "rb") as rows:
                    for row in rows:
                        patch.write(code + row)
            patch.write(b"TC .\n")
        files = {}
        for key, name in names.items():
            os.replace(tmp[key], self.changes / name)
            files[name] = sha256_file(self.changes / name)
        return ({names[k]: files[names[k]] for k in ("patch", "added", "removed")},
                dict(sorted(counts["added"].items())), dict(sorted(counts["removed"].items())))

    def prune(self, keep: int, say: Progress | None = None) -> list[str]:
        """Remove the folders of the versions of the history but the first, the current one
        and the ``keep`` newest (``0``: keep every one); their steps and changesets stay.
        Returns the versions removed."""
        if keep <= 0:
            return []
        steps = self.steps()
        if not steps:
            return []
        current = self.releases.current()
        order = list(dict.fromkeys(s.version for s in reversed(steps)))
        kept = {steps[0].version, *(order[:keep])}
        if current is not None:
            kept.add(current.id)
        removed = []
        for version in order:
            folder = self.releases.path / version
            if version not in kept and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(version)
        if removed and say is not None:
            say(f"removed versions {', '.join(removed)} (KG_KEEP_VERSIONS={keep}): their "
                "changesets and history stay")
        return removed

    # -- reading ----------------------------------------------------------------------------

    def changeset(self, step: Step) -> Changes:
        """The removed and added lines of a step (read from its N-Quads files)."""
        if not step.files:
            raise ReleaseError(f"step {step.number} (version {step.version}) has no changeset")
        changes = Changes()
        for name, lines in ((step.removed_file, changes.removed),
                            (step.added_file, changes.added)):
            try:
                with gzip.open(self.changes / str(name), "rb") as f:
                    lines.extend(f)
            except OSError as e:
                raise ReleaseError(f"the changeset {name} cannot be read ({e})") from e
        return changes

    def dataset(self, number: int, steps: list[Step] | None = None) -> set[bytes]:
        """The N-Quads lines of the version current after step ``number``, from its file when
        it is kept, else rebuilt: the first version's dataset with the changesets of the
        steps up to ``number`` applied in order."""
        steps = steps if steps is not None else self.steps()
        target = steps[number - 1]
        version = self.releases.version(target.version)
        if version.dataset.is_file() and sha256_file(version.dataset) == target.dataset_sha256:
            return set(nquads_lines(version.dataset))
        first = self.releases.version(steps[0].version)
        if not first.dataset.is_file() or sha256_file(first.dataset) != steps[0].dataset_sha256:
            raise ReleaseError(f"version {target.version} cannot be rebuilt: the first version "
                               f"of the history, {steps[0].version}, is no longer on disk as "
                               "it was")
        lines = set(nquads_lines(first.dataset))
        for step in steps[1:number]:
            try:
                lines = apply(lines, self.changeset(step))
            except ValueError as e:
                raise ReleaseError(f"version {target.version} cannot be rebuilt: step "
                                   f"{step.number}: {e}") from e
        return lines

    def lines_of(self, version: str) -> list[bytes]:
        """The sorted N-Quads lines of any version of the history (rebuilt when removed)."""
        steps = self.steps()
        step = next((s for s in reversed(steps) if s.version == version), None)
        if step is None:
            on_disk = self.releases.version(version)
            if not on_disk.dataset.is_file():
                raise ReleaseError(f"there is no version {version} in {self.releases.path}")
            return sorted(nquads_lines(on_disk.dataset))
        return sorted(self.dataset(step.number, steps))


def _count(counts: dict[str, int], batch: list[bytes]) -> None:
    """Add the quads of ``batch`` to ``counts`` per graph, and empty it."""
    for graph, n in Changes._per_graph(batch).items():
        counts[graph] = counts.get(graph, 0) + n
    batch.clear()


@contextlib.contextmanager
def _gzip_writer(path: Path) -> Iterator[gzip.GzipFile]:
    """A gzip stream into ``path`` with no name and no time stamp in its header (the same
    changes, the same bytes), flushed to disk when it closes."""
    with path.open("wb") as raw:
        with gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=9,
                           mtime=0) as out:
            yield out
        raw.flush()
        os.fsync(raw.fileno())


# ---- the record of a version in RDF, and its citation ----------------------------------------

def version_iri(base_iri: str, version: str) -> URIRef:
    """The stable IRI of a version: ``BASE/release/<version>``."""
    return URIRef(f"{base_iri}release/{version}")


def citation(base_iri: str, version: str, created: str) -> str:
    """How to cite one version of the dataset (APA's form for a data set)."""
    year = created[:4]
    day = created[:10]
    return (f"{CREATOR} ({year}). {TITLE} (version {version}) [Data set]. Made {day}. "
            f"{version_iri(base_iri, version)}")


@dataclass(frozen=True)
class Revision:
    """What the meta graph of a version says of its place in the history."""

    version: str
    created: str
    previous: str | None = None
    #: graph IRI -> quads added / removed (the meta graph left out: it describes them)
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    #: its changeset files (in /dumps/changes/) by role (:func:`changeset_names`)
    files: dict[str, str] = field(default_factory=dict)


def describe_version(base_iri: str, revision: Revision, graph_names: dict[str, str]) -> Graph:
    """The record of a version: ``BASE/release/<v>`` a ``dcat:Dataset``, a version of the
    dataset (``dcat:hasVersion``, ``dcterms:isVersionOf``), made when
    (``dcterms:created``), ``prov:wasRevisionOf`` the version before it, with its citation;
    the quads it added (a ``void:subset`` of it) and removed (a ``void:subset`` of the
    version before), counted per named graph; its changeset files as distributions."""
    g = Graph()
    dataset = URIRef(base_iri)
    this = version_iri(base_iri, revision.version)
    created = Literal(revision.created, datatype=XSD.dateTime)
    g.add((dataset, DCAT.hasVersion, this))
    g.add((this, RDF.type, DCAT.Dataset))
    g.add((this, RDF.type, PROV.Entity))
    g.add((this, DCTERMS.isVersionOf, dataset))
    g.add((this, DCTERMS.title, Literal(f"{TITLE}, version {revision.version}", lang="en")))
    g.add((this, DCAT.version, Literal(revision.version)))
    g.add((this, DCTERMS.created, created))
    g.add((this, DCTERMS.bibliographicCitation,
           Literal(citation(base_iri, revision.version, revision.created))))
    g.add((this, VOID.dataDump, URIRef(f"{base_iri}release/{revision.version}/dumps/")))
    if revision.previous is None:
        return g
    before = version_iri(base_iri, revision.previous)
    g.add((this, PROV.wasRevisionOf, before))
    g.add((this, DCAT.previousVersion, before))
    for kind, counts, whole in (("added", revision.added, this),
                                ("removed", revision.removed, before)):
        part = URIRef(f"{this}/{kind}")
        g.add((whole, VOID.subset, part))
        g.add((part, RDF.type, VOID.Dataset))
        g.add((part, DCTERMS.title, Literal(
            f"the quads version {revision.version} {kind} "
            f"{'to' if kind == 'added' else 'from'} version {revision.previous}", lang="en")))
        g.add((part, VOID.triples, Literal(sum(counts.values()), datatype=XSD.integer)))
        for graph, n in counts.items():
            name = graph_names.get(graph, "default" if not graph else _graph_key(graph))
            node = URIRef(f"{part}/{name}")
            g.add((part, VOID.subset, node))
            g.add((node, RDF.type, VOID.Dataset))
            if graph:
                g.add((node, SD_NAME, URIRef(graph)))
            g.add((node, VOID.triples, Literal(n, datatype=XSD.integer)))
        dump = revision.files.get(kind)
        if dump is not None:
            g.add((part, VOID.dataDump, URIRef(f"{base_iri}dumps/changes/{dump}")))
    patch = revision.files.get("patch")
    if patch is not None:
        url = URIRef(f"{base_iri}dumps/changes/{patch}")
        g.add((this, DCAT.distribution, url))
        g.add((url, RDF.type, DCAT.Distribution))
        g.add((url, DCTERMS.title, Literal(
            f"the changes from version {revision.previous} to {revision.version} as RDF Patch",
            lang="en")))
        g.add((url, DCAT.downloadURL, url))
        g.add((url, DCTERMS.format, Literal(PATCH_MEDIA_TYPE)))
        g.add((url, DCAT.compressFormat,
               URIRef("https://www.iana.org/assignments/media-types/application/gzip")))
    return g


def _graph_key(iri: str) -> str:
    return hashlib.sha256(iri.encode()).hexdigest()[:12]


def revision_of(history: History, version: str, previous: Version | None,
                new_lines: Callable[[], list[bytes]] | None, meta_graph: str) -> Revision:
    """What the meta graph of ``version`` says of its history: from its step when the history
    has it already (a version rebuilt from the same inputs says the same), else its place
    after ``previous`` (the version current now) and, when ``new_lines`` is given (what makes
    its sorted N-Quads, the meta graph not yet among them: only made when there is a
    previous version to compare with), the quads it adds and removes."""
    made = history.made(version)
    if made is not None:
        meta = {meta_graph}
        return Revision(version, made.created, made.previous,
                        {g: n for g, n in made.added.items() if g not in meta},
                        {g: n for g, n in made.removed.items() if g not in meta},
                        made.changeset)
    created = now()
    if previous is None or previous.id == version:
        return Revision(version, created)
    if new_lines is None or not previous.dataset.is_file():
        return Revision(version, created, previous.id)
    suffix = f" <{meta_graph}> .\n".encode()
    try:
        changes = Changes.between((line for line in nquads_lines(previous.dataset)
                                   if not line.endswith(suffix)), iter(new_lines()))
    except ValueError:  # a dataset written unsorted (the large path): counted in the history
        return Revision(version, created, previous.id)
    # the step that will record it comes next (the history is in step: the writer holds the
    # lock and recorded the current version first)
    return Revision(version, created, previous.id, changes.added_per_graph,
                    changes.removed_per_graph,
                    changeset_names(len(history.steps()) + 1, version))
