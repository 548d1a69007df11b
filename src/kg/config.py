"""Settings of a KazKor KG installation, built once at an entry point and passed in.

Nothing below the entry points (``kg.cli``, ``server.py``) reads the environment:
every layer receives a :class:`Config`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_BASE_IRI = "https://w3id.org/kazkor/"

#: The named graphs of a release, by short name. Their IRIs are ``BASE/graph/<name>``.
GRAPH_NAMES = ("ontology", "data", "links", "inferred", "meta")
#: the usual vocabularies' prefixes: declared for every query, and the JSON-LD context
STANDARD_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "qb": "http://purl.org/linked-data/cube#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
}


def _project_root() -> Path:
    """The folder that holds ``ontology/``, ``data/`` and ``shapes/``.

    An installed checkout finds it from this file (``src/kg/config.py``); a different
    layout sets ``KG_ROOT``.
    """
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=_project_root)
    base_iri: str = DEFAULT_BASE_IRI
    #: where releases are written; one folder per content hash, ``current`` points to the served one
    release_dir: Path | None = None
    #: ``oxigraph`` (embedded, on disk), ``memory`` (rdflib Dataset) or ``remote:URL``
    store: str = "oxigraph"
    #: ``owlrl`` (OWL 2 RL), ``rdfs`` (RDFS only) or ``none``
    reasoning: str = "owlrl"
    #: the engine of the closure: ``owlrl``, ``reasonable`` (Rust) or ``auto`` (by size)
    reasoner: str = "auto"
    #: ``auto`` uses ``reasonable`` from this many asserted triples on (decision 0012)
    reasoner_threshold: int = 1
    query_timeout: float = 30.0
    #: seconds an update (or Graph Store write) may take, validation and reasoning included
    update_timeout: float = 300.0
    max_result_rows: int = 100_000
    #: the most bytes an answer may take (serialized); a longer one is cut at a row boundary
    max_result_bytes: int = 64 * 1024 * 1024
    max_query_bytes: int = 100_000
    #: bearer token that enables SPARQL Update; ``None`` keeps the endpoint read-only
    update_token: str | None = None
    #: query processes per web worker for SPARQL queries: queries that can be killed
    query_processes: int = 4
    #: query processes per web worker for everything else the pages read (descriptions,
    #: search, reconciliation): pages never wait behind SPARQL queries
    page_processes: int = 2
    #: megabytes of memory a query process may use (heap); past it the query is stopped
    query_memory_mb: int = 384
    #: megabytes of memory an update (its writer process) may use
    update_memory_mb: int = 512
    #: a query still running after this many seconds is long work: it needs one of the
    #: server's ``long_queries`` slots to go on, and runs at a lower priority
    short_query_seconds: float = 0.5
    #: long queries (past ``short_query_seconds``) the whole server runs at once; one per
    #: client at a time
    long_queries: int = 2
    #: seconds of query time a client may use per minute (a budget refilled continuously);
    #: past it, its queries are answered 429 until the budget refills (0: no budget)
    client_budget_seconds: float = 120.0
    #: connections one web worker holds at once (slow clients included)
    max_connections: int = 1000
    #: endpoints that SPARQL ``SERVICE`` may call; empty refuses every ``SERVICE`` (and ``LOAD``)
    allowed_services: tuple[str, ...] = ()
    testing: bool = False
    #: requests to the SPARQL endpoints one client address may have running at once, per
    #: web worker; more get 429 with Retry-After (0: no bound)
    client_concurrency: int = 2
    #: the largest request body accepted (uploads, forms, query texts); larger ones get 413
    max_request_bytes: int = 16 * 1024 * 1024
    #: SHACL engine: ``oxigraph`` (pySHACL for the core components, SHACL-SPARQL constraints
    #: on Oxigraph) or ``pyshacl`` (everything in pySHACL, the reference)
    shacl: str = "oxigraph"
    #: ``auto`` (the large-input path from ``large_input_bytes`` of sources), ``small`` or
    #: ``large`` (kg.pipeline.large: bulk loading, reasonable, no rdflib graph of the data)
    build_path: str = "auto"
    #: ``auto`` takes the large-input path from this many bytes of sources (uncompressed)
    large_input_bytes: int = 64 * 1024 * 1024
    #: the shortest time limit a client may ask for with ``timeout=``: a shorter one is
    #: raised to it (a deadline shorter than a process's start-up only kills processes)
    min_query_timeout: float = 1.0
    #: seconds a reconciliation, suggest or extend request may take (at most query_timeout)
    reconcile_timeout: float = 10.0
    #: the largest ``/reconcile`` request (URL and body) accepted
    reconcile_max_bytes: int = 256 * 1024
    #: queries in one reconciliation batch (OpenRefine sends 10 unless told otherwise)
    reconcile_max_queries: int = 100
    #: updates may leave the data graph or the ontology graph empty (``CLEAR ALL``)
    allow_emptying: bool = False
    #: the host names the server answers for (``Host`` header, any port; a leading dot
    #: takes the subdomains too); empty: any host (see kg.web.hosts)
    trusted_hosts: tuple[str, ...] = ()
    #: what an update may write: ``project`` (the data graph, the ontology and links
    #: graphs) or ``any`` (any named graph, and it may empty the data: a general-purpose
    #: store)
    update_graphs: str = "project"
    #: versions whose folders (store, dataset, dumps) are kept besides the first and the
    #: current one; older ones keep their history and changesets only (0: keep every one)
    keep_versions: int = 0

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        return self.root / "data" / "ttl"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def releases(self) -> Path:
        return self.release_dir or (self.root / "build" / "releases")

    def graph_iri(self, name: str) -> str:
        """The IRI of a named graph of a release: ``BASE/graph/<name>`` for a short name of
        :data:`GRAPH_NAMES`; a graph a dataset source or an update names is its own IRI."""
        if ":" in name:
            return name
        if name not in GRAPH_NAMES:
            known = ", ".join(GRAPH_NAMES)
            raise ValueError(f"unknown named graph {name!r}; the graphs are {known}")
        return f"{self.base_iri}graph/{name}"

    @property
    def prefixes(self) -> dict[str, str]:
        """The usual prefixes and the graph's own: ``kko:`` (the ontology), ``kkid:`` (the
        entities)."""
        return {**STANDARD_PREFIXES, "kko": f"{self.base_iri}ontology#",
                "kkid": f"{self.base_iri}id/"}

    @property
    def graph_iris(self) -> dict[str, str]:
        return {name: self.graph_iri(name) for name in GRAPH_NAMES}

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def __post_init__(self) -> None:
        """Every Config is checked where it is made, whatever made it."""
        problems = []
        if not self.base_iri.endswith(("/", "#")):
            problems.append(f"the base IRI must end with '/' or '#': {self.base_iri!r}")
        for name, choices in CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                problems.append(f"{_variable(name)} must be {' or '.join(choices)}, not "
                                f"{value!r}")
        if self.reasoner == "reasonable" and self.reasoning == "rdfs":
            problems.append("the reasonable engine computes OWL 2 RL only; use the owlrl "
                            "reasoner for RDFS reasoning")
        for name in ("query_timeout", "update_timeout", "max_result_rows", "max_result_bytes",
                     "max_query_bytes",
                     "query_processes", "page_processes", "max_request_bytes",
                     "reasoner_threshold", "short_query_seconds", "long_queries",
                     "max_connections", "min_query_timeout", "reconcile_timeout",
                     "reconcile_max_bytes", "reconcile_max_queries"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be above 0, not {getattr(self, name)!r}")
        for name, least in (("query_memory_mb", 192), ("update_memory_mb", 512)):
            if getattr(self, name) < least:
                problems.append(f"{name} must be at least {least} (a process needs that much to "
                                f"open the store), not {getattr(self, name)!r}")
        if self.client_budget_seconds < 0:
            problems.append(f"client_budget_seconds must be 0 (no budget) or more, not "
                            f"{self.client_budget_seconds!r}")
        if self.keep_versions < 0:
            problems.append(f"KG_KEEP_VERSIONS must be 0 (keep every version) or more, not "
                            f"{self.keep_versions!r}")
        if self.client_concurrency < 0:
            problems.append(f"client_concurrency must be 0 (no bound) or more, not "
                            f"{self.client_concurrency!r}")
        from kg.store import StoreError, parse_spec

        try:
            parse_spec(self.store)
        except StoreError as e:
            problems.append(str(e))
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Config:
        """Settings from ``KG_*`` variables; keyword overrides win (the CLI's options)."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for variable, (field_name, read) in ENVIRONMENT.items():
            if variable in env:
                try:
                    values[field_name] = read(env[variable])
                except ValueError:
                    raise ValueError(f"{variable}={env[variable]!r} is not a valid "
                                     f"{field_name.replace('_', ' ')}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def to_json(self) -> str:
        """The settings as JSON, for a process of its own (the writer of updates)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in values.items()})

    @classmethod
    def from_json(cls, text: str) -> Config:
        values = json.loads(text)
        for name in ("root", "release_dir"):
            if values.get(name) is not None:
                values[name] = Path(values[name])
        for name in ("allowed_services", "trusted_hosts"):
            values[name] = tuple(values.get(name, ()))
        return cls(**values)


#: the settings that take one of a few values
CHOICES: dict[str, tuple[str, ...]] = {
    "reasoning": ("owlrl", "rdfs", "none"),
    "reasoner": ("auto", "owlrl", "reasonable"),
    "shacl": ("oxigraph", "pyshacl"),
    "build_path": ("auto", "small", "large"),
    "update_graphs": ("project", "any"),
}


def _variable(field_name: str) -> str:
    """The ``KG_*`` variable that gives a setting (its field name if none does)."""
    return next((variable for variable, (name, _read) in ENVIRONMENT.items()
                 if name == field_name), field_name)


def _path(text: str) -> Path:
    return Path(text).resolve()


def _switch(text: str) -> bool:
    """``1``, ``true``, ``yes`` or ``on`` (any case) is on; ``0``, ``false``, ``no``, ``off``
    or nothing is off."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(text)


#: the ``KG_*`` variables: the setting each one gives and how its text is read
ENVIRONMENT: dict[str, tuple[str, Callable[[str], object]]] = {
    "KG_ROOT": ("root", _path),
    "KG_BASE_IRI": ("base_iri", str),
    "KG_RELEASE_DIR": ("release_dir", _path),
    "KG_STORE": ("store", str),
    "KG_REASONING": ("reasoning", str),
    "KG_REASONER": ("reasoner", str),
    "KG_REASONER_THRESHOLD": ("reasoner_threshold", int),
    "KG_QUERY_TIMEOUT": ("query_timeout", float),
    "KG_UPDATE_TIMEOUT": ("update_timeout", float),
    "KG_MAX_RESULT_ROWS": ("max_result_rows", int),
    "KG_MAX_RESULT_BYTES": ("max_result_bytes", int),
    "KG_MAX_QUERY_BYTES": ("max_query_bytes", int),
    "KG_QUERY_PROCESSES": ("query_processes", int),
    "KG_PAGE_PROCESSES": ("page_processes", int),
    "KG_QUERY_MEMORY_MB": ("query_memory_mb", int),
    "KG_UPDATE_MEMORY_MB": ("update_memory_mb", int),
    "KG_SHORT_QUERY_SECONDS": ("short_query_seconds", float),
    "KG_LONG_QUERIES": ("long_queries", int),
    "KG_CLIENT_BUDGET_SECONDS": ("client_budget_seconds", float),
    "KG_MAX_CONNECTIONS": ("max_connections", int),
    "KG_ALLOWED_SERVICES": ("allowed_services", lambda text: tuple(text.split())),
    "KG_CLIENT_CONCURRENCY": ("client_concurrency", int),
    "KG_MAX_REQUEST_BYTES": ("max_request_bytes", int),
    "KG_UPDATE_TOKEN": ("update_token", lambda text: text or None),
    "KG_SHACL": ("shacl", str),
    "KG_BUILD_PATH": ("build_path", str),
    "KG_LARGE_INPUT_BYTES": ("large_input_bytes", int),
    "KG_MIN_QUERY_TIMEOUT": ("min_query_timeout", float),
    "KG_RECONCILE_TIMEOUT": ("reconcile_timeout", float),
    "KG_RECONCILE_MAX_BYTES": ("reconcile_max_bytes", int),
    "KG_RECONCILE_MAX_QUERIES": ("reconcile_max_queries", int),
    "KG_ALLOW_EMPTYING": ("allow_emptying", _switch),
    "KG_TRUSTED_HOSTS": ("trusted_hosts", lambda text: tuple(text.lower().split())),
    "KG_UPDATE_GRAPHS": ("update_graphs", str),
    "KG_KEEP_VERSIONS": ("keep_versions", int),
}
