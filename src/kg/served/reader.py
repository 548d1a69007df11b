"""What a query process holds: the current version's store, and what was computed from it.

The process watches the release folder's swap counter before each job and reopens the
store when another version became current; per-version results (indexes) go with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kg.config import Config
from kg.pipeline.release import Releases, Version
from kg.store import Store


class NoVersion(LookupError):
    """There is no version to serve (no release has been built)."""


class Reader:
    """The current version's store in this process, and what was computed from it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.releases = Releases.of(config)
        self.version: Version | None = None
        self._store: Store | None = None
        self._sequence = -1
        #: per-version results (indexes), dropped when the version changes
        self.cache: dict[str, Any] = {}

    def refresh(self) -> Version | None:
        """The current version, reopened when another one became current."""
        sequence = self.releases.sequence
        if sequence != self._sequence or self.version is None:
            current = self.releases.current()
            self._sequence = sequence
            if current != self.version:
                if self._store is not None:
                    self._store.close()
                self._store = None
                self.cache = {}
                self.version = current
        return self.version

    @property
    def store(self) -> Store:
        if self._store is None:
            if self.version is None:
                raise NoVersion("there is no release to serve; run `kg build`")
            self._store = self.version.open_store(self.config.store)
        return self._store

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]
