"""The tests of the W3C suites that fail for a reason we accept (known_failures.toml)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

KNOWN_FAILURES = Path(__file__).with_name("known_failures.toml")


@dataclass(frozen=True)
class KnownFailure:
    test: str
    #: the engine (SHACL) or runner (SPARQL) it fails with
    subject: str
    reason: str
    #: the upstream issue, or None for a deliberate choice of the project
    issue: str | None

    @property
    def summary(self) -> str:
        """The reason's first sentence and the issue: what a test run prints."""
        first = self.reason.split(". ")[0].rstrip(".")
        return f"{first} ({self.issue or 'a deliberate choice'})"


def known_failures(section: str, key: str, subjects: Sequence[str],
                   path: Path = KNOWN_FAILURES) -> dict[tuple[str, str], KnownFailure]:
    """The entries of ``[[section]]`` by (test IRI, subject): each entry names its test(s)
    (``test`` or ``tests``), its ``key`` (one of ``subjects``, or ``both``), a ``reason`` and,
    unless the reason is a deliberate choice, the upstream ``issue``."""
    with path.open("rb") as f:
        table = tomllib.load(f)
    found: dict[tuple[str, str], KnownFailure] = {}
    for item in table.get(section, []):
        named = subjects if item[key] == "both" else (item[key],)
        tests = item["tests"] if "tests" in item else [item["test"]]
        for subject in named:
            if subject not in subjects:
                raise ValueError(f"{path}: [[{section}]] {tests[0]}: {key} {subject!r} is none "
                                 f"of {', '.join(subjects)} or both")
            for test in tests:
                found[(test, subject)] = KnownFailure(test, subject, item["reason"],
                                                      item.get("issue"))
    return found
