"""What a query process holds: the current version's store, and what was computed from it.

The process watches the release folder's swap counter before each job and reopens the
store when another version became current; per-version results (indexes) go with it.
Older versions (the mementos of ``/release/<version>/…``) are opened read-only on demand,
each a reader of its own, the last few kept open (:meth:`Reader.at`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from kg.config import Config
from kg.pipeline.release import Releases, Version
from kg.store import Store

#: older versions a query process keeps open besides the current one
OPEN_VERSIONS = 2

#: what a version's cache holds under one key
Cached = TypeVar("Cached")


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
        #: readers of older versions, the most recently used last
        self._others: OrderedDict[str, Reader] = OrderedDict()
        self._fixed = False

    def at(self, version_id: str) -> Reader:
        """A reader of the version ``version_id`` (this reader for the current one): opened
        read-only when first asked for, the last :data:`OPEN_VERSIONS` kept open."""
        if self.version is not None and version_id == self.version.id:
            return self
        other = self._others.pop(version_id, None)
        if other is None:
            other = Reader(self.config)
            other.version = self.releases.version(version_id)
            other._fixed = True
            while len(self._others) >= OPEN_VERSIONS:
                _, oldest = self._others.popitem(last=False)
                oldest.close()
        self._others[version_id] = other
        return other

    def ask_at(self, version_id: str, question: str) -> bool:
        """The answer of the ASK ``question`` at the version ``version_id``, from a store
        already open, else from one opened for it and closed at once: a walk through the
        history keeps no more stores open than :meth:`at` does (each costs the process
        about 16 MB)."""
        if self.version is not None and version_id == self.version.id:
            return bool(self.store.query(question).boolean)
        if version_id in self._others:
            return bool(self._others[version_id].store.query(question).boolean)
        version = self.releases.version(version_id)
        if version is None:
            raise NoVersion(f"there is no version {version_id}")
        store = version.open_store(self.config.store)
        try:
            return bool(store.query(question).boolean)
        finally:
            store.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def refresh(self) -> Version | None:
        """The current version, reopened when another one became current."""
        if self._fixed:
            return self.version
        sequence = self.releases.sequence
        if sequence != self._sequence or self.version is None:
            current = self.releases.current()
            self._sequence = sequence
            if current != self.version:
                self.close()
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

    def cached(self, key: str, compute: Callable[[], Cached]) -> Cached:
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]
