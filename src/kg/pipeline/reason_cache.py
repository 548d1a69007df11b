"""The closure cache: a closure is kept under the hash of what it depends on.

The key covers the ontology, data and links source files (path, graph and
content), the reasoning mode, the engine and the version of the filter; shapes
and metadata are not in it, so a rebuild that changes only those reuses the
closure. Entries live in ``RELEASES/cache/`` as ``closure-KEY.nt`` (the filtered
inferred triples) and ``closure-KEY.json`` (its statistics), written atomically.
Only the closure of a consistent graph is ever stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from rdflib import Graph
from rdflib.graph import ReadOnlyGraphAggregate

from kg.config import Config
from kg.pipeline.consistency import SubjectFiles, check_consistency
from kg.pipeline.load import Source
from kg.pipeline.reason import FILTERS, Closure, choose_engine, closure

CACHE_DIR = "cache"
#: bump when the rules, the filter or the entry format change
CACHE_VERSION = "3"


def sources_key(sources: Iterable[Source]) -> str:
    """The hash of what a closure of the sources depends on: each file's graph, name and
    content."""
    digest = hashlib.sha256()
    for source in sorted(sources, key=lambda s: str(s.path)):
        digest.update(f"{source.graph}\0{source.path.name}\0".encode())
        digest.update(hashlib.sha256(source.path.read_bytes()).digest())
    return digest.hexdigest()


def cache_key(inputs_key: str, mode: str, engine: str) -> str:
    digest = hashlib.sha256(f"closure {CACHE_VERSION}\nmode {mode}\nengine {engine}\n"
                            f"filters {','.join(FILTERS)}\ninputs {inputs_key}\n".encode())
    return digest.hexdigest()


def _paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    return cache_dir / f"closure-{key[:32]}.nt", cache_dir / f"closure-{key[:32]}.json"


def load_cached(cache_dir: Path, key: str) -> Closure | None:
    """The cached closure for ``key``, or ``None`` if there is none (or it is unreadable)."""
    triples, meta = _paths(cache_dir, key)
    if not (triples.is_file() and meta.is_file()):
        return None
    try:
        stats = json.loads(meta.read_text(encoding="utf-8"))
        if stats.get("key") != key:
            return None
        inferred = Graph()
        inferred.parse(triples, format="nt")
        if len(inferred) != stats["inferred"]:
            return None
        return Closure(inferred, stats["mode"], stats["engine"], stats["entailed_new"],
                       stats["filtered"], stats["seconds"], stats["cpu_seconds"], cached=True)
    except (OSError, ValueError, SyntaxError, KeyError):
        return None


def store(cache_dir: Path, key: str, closure: Closure) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    triples, meta = _paths(cache_dir, key)
    lines = sorted(closure.inferred.serialize(format="nt", encoding="utf-8")
                   .decode("utf-8").splitlines())
    for path, text in ((triples, "\n".join(line for line in lines if line) + "\n"),
                       (meta, json.dumps({"key": key, **closure.stats()}, indent=2) + "\n")):
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def checked_closure(asserted: Graph, config: Config, engine: str | None = None,
                    subject_files: SubjectFiles | None = None) -> Closure:
    """The closure of ``asserted`` under the configured mode and engine, checked for
    consistency (raises :class:`~kg.pipeline.consistency.InconsistentGraph`)."""
    engine = engine or choose_engine(config.reasoner, config.reasoning, asserted,
                                     config.reasoner_threshold)
    result = closure(asserted, config.reasoning, engine)
    check_consistency(ReadOnlyGraphAggregate([asserted, result.inferred]), subject_files,
                      config.root, result.engine_errors, asserted.namespace_manager)
    return result


def cached_closure(inputs_key: str, asserted: Graph, config: Config,
                   subject_files: SubjectFiles | None = None,
                   progress: Callable[[str], None] | None = None) -> Closure:
    """The closure of ``asserted`` (whose inputs hash to ``inputs_key``) from the cache, or
    computed, checked and then cached.

    Raises :class:`~kg.pipeline.consistency.InconsistentGraph` when the closure
    contradicts itself; nothing is cached then.
    """
    say = progress or (lambda _msg: None)
    engine = choose_engine(config.reasoner, config.reasoning, asserted,
                           config.reasoner_threshold)
    key = cache_key(inputs_key, config.reasoning, engine)
    cache_dir = config.releases / CACHE_DIR
    if (hit := load_cached(cache_dir, key)) is not None:
        say(f"reasoning ({config.reasoning}, {engine}): inputs of the closure unchanged "
            f"(hash {key[:16]}), {len(hit.inferred)} inferred triples reused from the cache")
        return hit
    result = checked_closure(asserted, config, engine, subject_files)
    say(f"reasoning ({config.reasoning}, {engine}) entailed {result.entailed} new triples in "
        f"{result.seconds:.2f} s; kept {len(result.inferred)} after filtering "
        f"{result.entailed - len(result.inferred)}; consistent")
    store(cache_dir, key, result)
    return result
