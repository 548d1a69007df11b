"""Where the served dataset lives: the release as built, or the newest generation of updates.

A release is immutable (its folder is named by the hash of its inputs). SPARQL
Update, when enabled, never changes it: each accepted update writes a complete new
*generation* (``dataset.nq`` and, for Oxigraph, its index) under
``RELEASES/live/<release id>/gen-<n>/`` and then swaps the ``current`` symlink
there atomically. Readers (the query processes) look at that symlink before each
query and reopen their store when it moved: one writer, many read-only readers,
and an acknowledged update survives a restart because it is on disk before the
answer goes out.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.config import Config
from kg.pipeline.release import DATASET, OXIGRAPH_DIR, REPORT, VALIDATION, Release
from kg.store import Store, StoreError, open_store


@dataclass(frozen=True)
class Generation:
    """One immutable state of the served dataset."""

    #: ``0`` is the release as built; updates count up
    number: int
    path: Path

    @property
    def dataset(self) -> Path:
        return self.path / DATASET

    def open_store(self, backend: str) -> Store:
        if self.number == 0:
            return Release(self.path).open_store(backend)
        if backend.startswith("remote:"):
            raise StoreError("updates are kept by the remote store itself; a local generation "
                             "of updates cannot be served from a remote store")
        if backend == "oxigraph":
            return open_store("oxigraph", self.path / OXIGRAPH_DIR, read_only=True)
        store = open_store(backend)
        store.load(self.dataset)
        return store


class ServedDataset:
    """The release and the generations of updates made on top of it."""

    def __init__(self, releases: Path, release: Release) -> None:
        self.releases = releases
        self.release = release
        self.live_dir = releases / "live" / release.id

    @classmethod
    def of(cls, config: Config, release: Release) -> ServedDataset:
        return cls(config.releases, release)

    @property
    def pointer(self) -> Path:
        return self.live_dir / "current"

    def current(self) -> Generation:
        try:
            target = os.readlink(self.pointer)
        except OSError:
            return Generation(0, self.release.path)
        return Generation(int(target.removeprefix("gen-")), self.live_dir / target)

    def validated(self) -> tuple[Generation, dict[str, Any]]:
        """The state whose validation report is served, and its report (``validation``:
        the counts before and after reasoning): the current generation when it has one,
        else the release as built."""
        current = self.current()
        if current.number and (current.path / VALIDATION).is_file():
            report = json.loads((current.path / REPORT).read_text(encoding="utf-8"))
            return current, report
        return Generation(0, self.release.path), self.release.report

    def tag(self) -> str:
        """Names the current state: changes whenever the served triples do."""
        return f"{self.release.id}.{self.current().number}"
