"""Releases on disk: versions of the dataset, the one that is served, and how it changes.

The release folder (``KG_RELEASE_DIR``) holds *versions*, each a folder, complete or
absent:

- a build from the sources is named by the hash of its inputs (``8b155fae0c5f8977``);
- each accepted SPARQL Update makes a new version on top of the served one, named by the
  build it descends from and its generation (``8b155fae0c5f8977-3``).

A version holds ``dataset.nq`` (every named graph), ``oxigraph/`` (the dataset indexed,
ready to serve without re-parsing), ``dumps/``, ``validation.ttl`` and
``validation.json`` (the SHACL report), and ``report.json`` (:class:`BuildReport`).

``report.json`` records the SHA-256 of every file of the version that holds data (the
dataset, the index's files, the dumps, the validation report): :meth:`Version.verify`
checks them, at start (:mod:`kg.pipeline.build`) and by ``kg verify``.

``current`` (a symlink) names the served version. A version is written into a staging
folder, renamed into place and only then made current by an atomic symlink swap, so a
half-written version is never served; ``sequence`` counts the swaps, so that every reader
(web workers, query processes) notices a new version by reading eight shared bytes
instead of touching the file system on every request. One writer at a time holds
``lock``. Which versions were served, in what order, and what each changed is the history
(:mod:`kg.pipeline.history`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import mmap
import os
import shutil
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kg import __version__
from kg.config import Config
from kg.pipeline.dumps import DUMPS_DIR
from kg.pipeline.dumps import MANIFEST as DUMPS_MANIFEST
from kg.pipeline.load import discover_sources, shape_files, takes_large_path
from kg.store import Store, StoreError, serve_store
from kg.system import process_alive

REPORT = "report.json"
DATASET = "dataset.nq"
#: the quads that describe the checksums of the version's dumps (in the meta graph)
CHECKSUMS = "checksums.nq"
VALIDATION = "validation.ttl"
VALIDATION_JSON = "validation.json"
OXIGRAPH_DIR = "oxigraph"
CURRENT = "current"
SEQUENCE = "sequence"
LOCK = "lock"
#: staging folders: ``.tmp-<version>-<pid>``
STAGING_PREFIX = ".tmp-"
#: files of an Oxigraph (RocksDB) index that hold no data: its lock and its diagnostic logs
INDEX_SCRATCH = ("LOCK", "LOG")


class ReleaseError(RuntimeError):
    """A release folder is missing, incomplete or corrupt."""


def input_hash(config: Config) -> str:
    """The SHA-256 over every input file, the reasoning mode, the base IRI and the code version."""
    digest = hashlib.sha256()
    digest.update(f"kg {__version__}\nreasoning {config.reasoning}\nbase {config.base_iri}\n"
                  f"reasoner {config.reasoner}\n".encode())
    sources = discover_sources(config)
    if takes_large_path(config, sources):
        digest.update(b"build path large\n")
    files = [s.path for s in sources] + shape_files(config)
    for path in sorted(files):
        digest.update(str(path.relative_to(config.root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def file_hashes(config: Config) -> dict[str, str]:
    files = [s.path for s in discover_sources(config)] + shape_files(config)
    return {
        str(p.relative_to(config.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(files)
    }


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class BuildReport:
    """What a version is and how it was made: written once by the rebuild, read by the
    command line and the web."""

    #: the version's id (its folder's name)
    version: str
    #: the build from the sources that this version is, or descends from
    release: str
    #: 0 for a build from the sources; n for the n-th update on top of it
    generation: int
    #: ``sources`` (kg build) or ``update`` (SPARQL Update, Graph Store writes)
    origin: str
    #: the version it was made from (updates), else ``None``
    parent: str | None
    #: when it was made (UTC, ISO 8601)
    created: str
    input_hash: str
    base_iri: str
    reasoning: str
    #: ``small`` (rdflib graphs) or ``large`` (bulk loading, kg.pipeline.large)
    build_path: str
    #: named graph short name -> IRI
    graphs: dict[str, str]
    #: named graph short name -> triples, and ``total``
    triples: dict[str, int]
    #: the closure's statistics (engine, entailed, filtered by category, kept, time)
    closure: dict[str, Any]
    #: ``before_reasoning`` and ``after_reasoning``: the validation summaries
    validation: dict[str, dict[str, Any]]
    #: the warnings of the validation, one line each
    warnings: list[str]
    #: prefix -> namespace, as the sources declare them
    prefixes: dict[str, str]
    timings_seconds: dict[str, float]
    #: source file -> SHA-256 (builds from the sources)
    inputs: dict[str, str] = field(default_factory=dict)
    dataset_bytes: int = 0
    #: the formats of the version's dumps (kg.formats names)
    dumps: list[str] = field(default_factory=list)
    complete: bool = True
    #: file of the version (relative to its folder) -> SHA-256, for every file that holds
    #: data (:func:`data_files`); empty for versions built before they were recorded
    files: dict[str, str] = field(default_factory=dict)

    @property
    def triple_count(self) -> int:
        return int(self.triples["total"])

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BuildReport:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self, folder: Path) -> None:
        (folder / REPORT).write_text(self.to_json(), encoding="utf-8")


@dataclass(frozen=True)
class Version:
    """One version of the dataset, a folder of the release folder."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def dataset(self) -> Path:
        return self.path / DATASET

    @property
    def datasets(self) -> list[Path]:
        """The N-Quads files that together hold the version: the dataset file (also its
        N-Quads dump) and the checksums of its dumps (which no dump can hold)."""
        extra = self.path / CHECKSUMS
        return [self.dataset, *([extra] if extra.is_file() else [])]

    @property
    def index(self) -> Path:
        return self.path / OXIGRAPH_DIR

    @property
    def report(self) -> BuildReport:
        try:
            return BuildReport.from_json((self.path / REPORT).read_text(encoding="utf-8"))
        except OSError as e:
            raise ReleaseError(f"version {self.id} has no readable {REPORT} "
                               f"({e.strerror})") from e
        except (ValueError, TypeError) as e:
            raise ReleaseError(f"version {self.id} has no readable {REPORT}: {e}") from e

    @property
    def triple_count(self) -> int:
        return self.report.triple_count

    def check(self) -> None:
        """Raise :class:`ReleaseError` unless the version's folder is complete and readable."""
        if not self.path.is_dir():
            raise ReleaseError(f"version {self.id} does not exist")
        for name in (REPORT, DATASET):
            if not (self.path / name).is_file():
                raise ReleaseError(f"version {self.id} is incomplete: {name} is missing")
        if not self.index.is_dir():
            raise ReleaseError(f"version {self.id} is incomplete: its Oxigraph index "
                               f"({OXIGRAPH_DIR}/) is missing")
        report = self.report
        if not report.complete:
            raise ReleaseError(f"version {self.id} was not finished")
        if self.dataset.stat().st_size != report.dataset_bytes:
            raise ReleaseError(f"version {self.id}: {DATASET} does not have the size recorded "
                               "in its report (a truncated or altered file)")
        if report.dumps and not (self.path / DUMPS_DIR / DUMPS_MANIFEST).is_file():
            raise ReleaseError(f"version {self.id} is incomplete: its dumps are missing")

    def damage(self) -> list[str]:
        """The data files whose bytes are not those recorded at build (missing, unreadable
        or changed), each said relative to the version's folder."""
        problems = []
        for name, recorded in sorted(self.report.files.items()):
            try:
                digest = sha256_file(self.path / name)
            except FileNotFoundError:
                problems.append(f"{name} is missing")
            except OSError as e:
                problems.append(f"{name} cannot be read ({e.strerror})")
            else:
                if digest != recorded:
                    problems.append(f"{name} does not match the SHA-256 recorded at build")
        return problems

    def verify(self) -> None:
        """Raise :class:`ReleaseError` unless the version is complete and every data file
        has the bytes it was built with (the message names each damaged file)."""
        self.check()
        problems = self.damage()
        if problems:
            raise ReleaseError(f"version {self.id} is damaged: {'; '.join(problems)}")

    def open_store(self, spec: str) -> Store:
        """The version's dataset in the store ``spec`` names: Oxigraph's index opened
        read-only as built, the dataset parsed into memory, or the graphs where `kg publish`
        put them on a remote server."""
        self.check()
        try:
            return serve_store(spec, self.datasets, self.index,
                               list(self.report.graphs.values()))
        except StoreError as e:
            raise ReleaseError(f"version {self.id} cannot be opened: {e}") from e


def generation_id(release: str, generation: int) -> str:
    return release if generation == 0 else f"{release}-{generation}"


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def data_files(folder: Path) -> list[str]:
    """The files of a version folder that hold its data, relative to it: the dataset, the
    index's files (tables, manifest, options, write-ahead log: what RocksDB reads), the
    dumps, the validation report; not ``report.json``, which records their checksums, nor
    the index's lock and logs."""
    names = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or relative.as_posix() == REPORT:
            continue
        if relative.parts[0] == OXIGRAPH_DIR and (path.name in INDEX_SCRATCH
                                                  or path.name.startswith("LOG.old")):
            continue
        names.append(relative.as_posix())
    return names


def checksums(folder: Path) -> dict[str, str]:
    """:func:`data_files` of ``folder`` with their SHA-256 (what :meth:`Version.verify`
    checks)."""
    return {name: sha256_file(folder / name) for name in data_files(folder)}


def disk_full(error: OSError) -> bool:
    """Whether a failed write ran out of space (Oxigraph's errors carry no errno, only
    the system's words)."""
    return (error.errno in (errno.ENOSPC, errno.EDQUOT)
            or os.strerror(errno.ENOSPC) in str(error))


class Sequence8:
    """Eight bytes shared by every process through the page cache: the number of swaps."""

    _FORMAT = struct.Struct("=Q")

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size < self._FORMAT.size:
                os.ftruncate(fd, self._FORMAT.size)
            self._map = mmap.mmap(fd, self._FORMAT.size)
        finally:
            os.close(fd)

    @property
    def value(self) -> int:
        return int(self._FORMAT.unpack_from(self._map)[0])

    def bump(self) -> None:
        self._FORMAT.pack_into(self._map, 0, self.value + 1)
        self._map.flush()


class Releases:
    """The release folder: its versions, the served one, staging, swaps and the writer lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sequence: Sequence8 | None = None

    @classmethod
    def of(cls, config: Config) -> Releases:
        return cls(config.releases)

    @property
    def pointer(self) -> Path:
        return self.path / CURRENT

    @property
    def sequence(self) -> int:
        """Changes whenever ``current`` is swapped (by any process)."""
        if self._sequence is None:
            self._sequence = Sequence8(self.path / SEQUENCE)
        return self._sequence.value

    def current(self) -> Version | None:
        try:
            target = os.readlink(self.pointer)
        except OSError:
            return None
        return Version(self.path / target)

    def version(self, version_id: str) -> Version:
        return Version(self.path / version_id)

    def problem(self) -> str | None:
        """Why the current version cannot be served, if ``current`` names one: it is
        missing, incomplete or damaged (:meth:`Version.verify`)."""
        if self.pointer.is_symlink() and not self.pointer.exists():
            return f"the current version {os.readlink(self.pointer)} is missing"
        current = self.current()
        if current is None:
            return None
        try:
            current.verify()
        except ReleaseError as e:
            return str(e)
        return None

    def lineage(self, version: Version) -> list[Version]:
        """The versions ``version`` was made on, newest first: the update generations of its
        release before it that are still on disk, then the release itself (read from the
        names, so that a version whose report is damaged still has its lineage)."""
        release, _, number = version.id.partition("-")
        generation = int(number) if number.isdigit() else 0
        if not generation:
            return []
        before = [v for v in self.generations(release)
                  if int(v.id.rpartition("-")[2]) < generation]
        return [*reversed(before), self.version(release)]

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the writer lock: one rebuild or update at a time, across processes. Staging
        folders that a dead writer left behind are removed first."""
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / LOCK).open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.remove_stale_staging()
            yield

    def remove_stale_staging(self) -> None:
        for folder in self.path.glob(f"{STAGING_PREFIX}*"):
            pid = folder.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or not process_alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)

    def stage(self, version_id: str) -> Path:
        """A new empty staging folder for ``version_id``, owned by this process."""
        self.path.mkdir(parents=True, exist_ok=True)
        staging = self.path / f"{STAGING_PREFIX}{version_id}-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        return staging

    def publish(self, staging: Path, version_id: str) -> Version:
        """Move a finished staging folder into place and make it current."""
        final = self.path / version_id
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
        version = Version(final)
        self.make_current(version)
        return version

    def make_current(self, version: Version) -> None:
        tmp = self.path / f".current-{os.getpid()}"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(version.path.name)
        os.replace(tmp, self.pointer)
        _fsync_directory(self.path)
        if self._sequence is None:
            self._sequence = Sequence8(self.path / SEQUENCE)
        self._sequence.bump()

    def generations(self, release: str) -> list[Version]:
        """The update generations of ``release``, oldest first."""
        found = []
        for path in self.path.glob(f"{release}-*"):
            number = path.name.removeprefix(f"{release}-")
            if number.isdigit() and path.is_dir():
                found.append((int(number), Version(path)))
        return [v for _, v in sorted(found, key=lambda item: item[0])]




def _fsync_directory(path: Path) -> None:
    directory = os.open(path, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def fsync_file(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())
