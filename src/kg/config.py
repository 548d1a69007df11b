"""Settings of a KazKor KG installation, built once at an entry point and passed in.

Nothing below the entry points (``kg.cli``, ``server.py``) reads the environment:
every layer receives a :class:`Config`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_BASE_IRI = "https://w3id.org/kazkor/"

#: The named graphs of a release, by short name. Their IRIs are ``BASE/graph/<name>``.
GRAPH_NAMES = ("ontology", "data", "links", "inferred", "meta")


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
    #: ``auto`` uses ``reasonable`` from this many asserted triples on
    reasoner_threshold: int = 50_000
    query_timeout: float = 30.0
    max_result_rows: int = 100_000
    max_query_bytes: int = 100_000
    #: bearer token that enables SPARQL Update; ``None`` keeps the endpoint read-only
    update_token: str | None = None
    #: query processes per web worker (also its request threads): queries that can be killed
    query_processes: int = 4
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
        if name not in GRAPH_NAMES:
            known = ", ".join(GRAPH_NAMES)
            raise ValueError(f"unknown named graph {name!r}; the graphs are {known}")
        return f"{self.base_iri}graph/{name}"

    @property
    def graph_iris(self) -> dict[str, str]:
        return {name: self.graph_iri(name) for name in GRAPH_NAMES}

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Config:
        """Settings from ``KG_*`` variables; keyword overrides win (the CLI's options)."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if "KG_ROOT" in env:
            values["root"] = Path(env["KG_ROOT"]).resolve()
        if "KG_BASE_IRI" in env:
            values["base_iri"] = env["KG_BASE_IRI"]
        if "KG_RELEASE_DIR" in env:
            values["release_dir"] = Path(env["KG_RELEASE_DIR"]).resolve()
        if "KG_STORE" in env:
            values["store"] = env["KG_STORE"]
        if "KG_REASONING" in env:
            values["reasoning"] = env["KG_REASONING"]
        if "KG_REASONER" in env:
            values["reasoner"] = env["KG_REASONER"]
        if "KG_REASONER_THRESHOLD" in env:
            values["reasoner_threshold"] = int(env["KG_REASONER_THRESHOLD"])
        if "KG_QUERY_TIMEOUT" in env:
            values["query_timeout"] = float(env["KG_QUERY_TIMEOUT"])
        if "KG_MAX_RESULT_ROWS" in env:
            values["max_result_rows"] = int(env["KG_MAX_RESULT_ROWS"])
        if "KG_MAX_QUERY_BYTES" in env:
            values["max_query_bytes"] = int(env["KG_MAX_QUERY_BYTES"])
        if "KG_QUERY_PROCESSES" in env:
            values["query_processes"] = int(env["KG_QUERY_PROCESSES"])
        if "KG_ALLOWED_SERVICES" in env:
            values["allowed_services"] = tuple(env["KG_ALLOWED_SERVICES"].split())
        if "KG_CLIENT_CONCURRENCY" in env:
            values["client_concurrency"] = int(env["KG_CLIENT_CONCURRENCY"])
        if "KG_MAX_REQUEST_BYTES" in env:
            values["max_request_bytes"] = int(env["KG_MAX_REQUEST_BYTES"])
        if "KG_UPDATE_TOKEN" in env:
            values["update_token"] = env["KG_UPDATE_TOKEN"] or None
        if "KG_SHACL" in env:
            values["shacl"] = env["KG_SHACL"]
        if "KG_BUILD_PATH" in env:
            values["build_path"] = env["KG_BUILD_PATH"]
        if "KG_LARGE_INPUT_BYTES" in env:
            values["large_input_bytes"] = int(env["KG_LARGE_INPUT_BYTES"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)  # type: ignore[arg-type]
        if not config.base_iri.endswith(("/", "#")):
            raise ValueError(f"the base IRI must end with '/' or '#': {config.base_iri!r}")
        if config.reasoning not in ("owlrl", "rdfs", "none"):
            raise ValueError(f"reasoning must be owlrl, rdfs or none, not {config.reasoning!r}")
        if config.reasoner not in ("auto", "owlrl", "reasonable"):
            raise ValueError(f"reasoner must be auto, owlrl or reasonable, not {config.reasoner!r}")
        if config.reasoner == "reasonable" and config.reasoning == "rdfs":
            raise ValueError("the reasonable engine computes OWL 2 RL only; "
                             "use the owlrl reasoner for RDFS reasoning")
        if config.shacl not in ("oxigraph", "pyshacl"):
            raise ValueError(f"KG_SHACL must be oxigraph or pyshacl, not {config.shacl!r}")
        if config.build_path not in ("auto", "small", "large"):
            raise ValueError(f"the build path must be auto, small or large, not "
                             f"{config.build_path!r}")
        return config
