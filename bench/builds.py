"""Build figures: `kg build` timed by ``/usr/bin/time -v`` (wall clock, peak memory).

- the cold build of our graph: ``kg build --force`` into an empty release folder, N times;
- LUBM(10) (or LUBM(1), for a smoke run) + univ-bench.owl as a project of its own,
  built on the large-input path (``KG_BUILD_PATH=large``), once; the steps come from the
  release's report.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
LUBM_BASE = "http://lubm.example/"
#: LUBM is a project of its own: the large-input build path, its graphs under LUBM_BASE
LUBM_ENV = {"KG_BUILD_PATH": "large", "KG_BASE_IRI": LUBM_BASE}


@dataclass(frozen=True)
class ReleaseFolder:
    """A built release as its folder shows it (``RELEASE_DIR/current``): ``report.json``
    and the ``oxigraph`` index, read without the project's classes, which may change."""

    path: Path

    @classmethod
    def current(cls, release_dir: Path) -> ReleaseFolder:
        return cls((release_dir / "current").resolve())

    @property
    def report(self) -> dict[str, Any]:
        return dict(json.loads((self.path / "report.json").read_text(encoding="utf-8")))

    @property
    def index(self) -> Path:
        return self.path / "oxigraph"


@dataclass
class Timed:
    wall_seconds: float
    peak_rss_mib: float
    user_seconds: float
    system_seconds: float


@dataclass
class BuildResults:
    cold: list[Timed] = field(default_factory=list)
    lubm: Timed | None = None
    lubm_scale: int = 10
    #: the LUBM release report's step timings and sizes
    lubm_steps: dict[str, object] = field(default_factory=dict)


def timed(command: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> Timed:
    """Run ``command`` under ``/usr/bin/time -v``; its output to ``log``."""
    with log.open("wb") as out:
        done = subprocess.run(["/usr/bin/time", "-v", *command], stdout=out,
                              stderr=subprocess.STDOUT, cwd=cwd, env={**os.environ, **(env or {})})
    text = log.read_text(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed; the end of {log}:\n{text[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)",
                     text)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    user = re.search(r"User time \(seconds\): ([\d.]+)", text)
    system = re.search(r"System time \(seconds\): ([\d.]+)", text)
    if not (wall and peak and user and system):
        raise RuntimeError(f"/usr/bin/time -v gave no figures in {log}")
    hours, minutes, seconds = (float(x or 0) for x in wall.groups())
    return Timed(round(3600 * hours + 60 * minutes + seconds, 2),
                 round(int(peak.group(1)) / 1024, 1), float(user.group(1)),
                 float(system.group(1)))


def cold_builds(root: Path, runs: int, work: Path, say: Callable[[str], None]) -> list[Timed]:
    """``kg build --force`` of the project at ``root`` into an empty release folder."""
    out = []
    for i in range(runs):
        scratch = work / "cold-releases"
        shutil.rmtree(scratch, ignore_errors=True)
        out.append(timed([str(BIN / "kg"), "--root", str(root), "--release-dir", str(scratch),
                          "build", "--force"], work / "cold-build.log", cwd=root))
        shutil.rmtree(scratch, ignore_errors=True)
        say(f"  cold build {i + 1}/{runs}: {out[-1].wall_seconds} s, "
            f"peak {out[-1].peak_rss_mib:.0f} MiB")
    return out


def lubm_project(lubm: Path, work: Path, scale: int) -> Path:
    """A project folder whose ontology/ holds univ-bench.owl and data/ttl/ the LUBM data."""
    project = work / f"lubm{scale}-project"
    for folder, source in (("ontology", "univ-bench.owl"), ("data/ttl", f"lubm{scale}.nt.gz")):
        (project / folder).mkdir(parents=True, exist_ok=True)
        link = project / folder / source
        link.unlink(missing_ok=True)  # it may point to another LUBM_DIR
        link.symlink_to(lubm / source)
    return project


def build_lubm(lubm: Path, work: Path, scale: int, results: BuildResults,
               say: Callable[[str], None]) -> tuple[Path, ReleaseFolder]:
    """``kg build`` of LUBM(scale) on the large-input path; the project and its release."""
    project = lubm_project(lubm, work, scale)
    releases = work / f"lubm{scale}-releases"
    shutil.rmtree(releases, ignore_errors=True)
    say(f"  kg build of LUBM({scale}) (large-input path), under /usr/bin/time -v")
    results.lubm_scale = scale
    results.lubm = timed([str(BIN / "kg"), "--root", str(project), "--release-dir",
                          str(releases), "build"], work / f"lubm{scale}-build.log", cwd=project,
                         env=LUBM_ENV)
    release = ReleaseFolder.current(releases)
    report = release.report
    # what the report gives, if it gives it: its fields are the project's to change
    closure = report.get("closure") or {}
    validation = (report.get("validation") or {}).get("after_reasoning") or {}
    results.lubm_steps = {
        **{f"{k}_seconds": v for k, v in (report.get("timings_seconds") or {}).items()},
        "closure_seconds": closure.get("seconds"),
        "inferred": closure.get("inferred") or 0,
        "triples": (report.get("triples") or {}).get("total") or 0,
        "validation": validation.get("note", "validated"),
    }
    say(f"  LUBM({scale}) build: {results.lubm.wall_seconds} s, "
        f"peak {results.lubm.peak_rss_mib:.0f} MiB")
    return project, release
