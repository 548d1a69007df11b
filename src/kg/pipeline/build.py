"""Build: the sources -> a release, by :func:`kg.pipeline.rebuild.rebuild`, or the release of
the same inputs reused.

A release is named by the hash of its inputs. When that release exists and is sound it is
served again, together with the updates made on it since (its newest update generation
stays current); when the sources changed, a new release is built from them. Whichever
version ends up current, the history records it (:mod:`kg.pipeline.history`).

Sound means complete and with the bytes it was built with (:meth:`Version.verify`). A
damaged current version is not served: the newest sound version it was made on (its
update parents, then the release itself) is made current instead, or, when there is
none, the release is built again from the sources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kg.config import Config
from kg.pipeline.history import History
from kg.pipeline.load import load_sources, takes_large_path
from kg.pipeline.rebuild import BuildError, Inputs, Origin, SmallInputs, rebuild
from kg.pipeline.release import (
    ReleaseError,
    Releases,
    Version,
    disk_full,
    file_hashes,
    input_hash,
)

__all__ = ["BuildError", "BuildResult", "build", "source_inputs"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    #: the version now current: the release, or its newest update generation
    release: Version
    reused: bool


def source_inputs(config: Config) -> Inputs:
    """The sources as inputs of a rebuild: rdflib graphs, or bulk-loaded when large."""
    if takes_large_path(config):
        from kg.pipeline.large import LargeInputs

        return LargeInputs(config)
    from kg.pipeline.reason_cache import sources_key

    loaded = load_sources(config)
    return SmallInputs(config, loaded.graphs, loaded.subject_files, config.root,
                       closure_key=sources_key(loaded.sources))


def _sound(version: Version, say: Progress | None = None) -> bool:
    """Whether ``version`` is complete and undamaged; ``say`` hears why not."""
    try:
        version.verify()
    except ReleaseError as e:
        if say is not None and version.path.is_dir():
            say(f"{e}: it is not served")
        return False
    return True


def _release_of(version: Version) -> str:
    """The release a version belongs to, from its name (``8b155fae0c5f8977-3``)."""
    return version.id.partition("-")[0]


def build(config: Config, *, force: bool = False, progress: Progress | None = None
          ) -> BuildResult:
    """Make the release of the sources current: reuse it when it exists, else build it.
    Raises :class:`BuildError` or :class:`~kg.pipeline.load.SourceError`."""
    say = progress or (lambda _message: None)
    releases = Releases.of(config)
    digest = input_hash(config)
    release_id = digest[:16]
    with releases.writer():
        problem = releases.problem()
        existing = releases.version(release_id)
        current = releases.current()
        if problem is not None:
            say(f"{problem}: it is not served")
        if not force and current is not None and _release_of(current) == release_id:
            if problem is None:
                History(releases).record(config.base_iri, say)
                if current.path != existing.path:
                    say(f"inputs unchanged (hash {release_id}): reusing release "
                        f"{existing.path}, with its updates up to version {current.id}")
                else:
                    say(f"inputs unchanged (hash {release_id}): reusing release "
                        f"{existing.path}")
                return BuildResult(current, reused=True)
            for earlier in releases.lineage(current):
                if _sound(earlier, say):
                    releases.make_current(earlier)
                    History(releases).record(config.base_iri, say)
                    say(f"serving version {earlier.id} instead, the newest sound version "
                        f"{current.id} was made on")
                    return BuildResult(earlier, reused=True)
        elif not force and _sound(existing):
            releases.make_current(existing)
            History(releases).record(config.base_iri, say)
            say(f"inputs unchanged (hash {release_id}): reusing release {existing.path}")
            return BuildResult(existing, reused=True)
        if problem is not None:
            say("building the release again from the sources")
        if current is not None and problem is None and current.report.generation:
            say(f"the sources changed: the updates made on release {current.report.release} "
                f"(up to version {current.id}) are not in the new release; they stay on disk "
                f"in {current.path}")
        origin = Origin("sources", digest, release_id,
                        inputs=file_hashes(config))
        version = rebuild(config, source_inputs(config), origin, releases, say)
        return BuildResult(version, reused=False)


def build_in_subprocess(config: Config, *, force: bool = False) -> BuildResult:
    """:func:`build` in a process of its own, which ends before the caller goes on: what it
    opened (Oxigraph's RocksDB and its threads) never lives in a process that later forks
    (gunicorn's workers). Progress goes to standard error; failures raise as :func:`build`
    would (:class:`BuildError`, with the message the build printed)."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "kg.pipeline.build"] + (["--force"] if force
                                                                        else []),
                          input=config.to_json(), stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise BuildError("the build failed (its messages are above); the previous release "
                         "stays served", status=done.returncode)
    outcome = json.loads(done.stdout)
    return BuildResult(Releases.of(config).version(outcome["version"]), outcome["reused"])


def main() -> None:
    """``python -m kg.pipeline.build [--force]``: settings as JSON on standard input; the
    version made current as JSON on standard output; exit 1 when the build failed, 2 when a
    source cannot be read."""
    import json
    import sys

    from kg.pipeline.load import SourceError

    config = Config.from_json(sys.stdin.read())
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        result = build(config, force="--force" in sys.argv, progress=say)
    except SourceError as e:
        say(f"error: {e}\nThe build stopped; the previous release stays served.")
        sys.exit(2)
    except BuildError as e:
        say(f"error: {e}")
        sys.exit(1)
    except OSError as e:
        if not disk_full(e):
            raise
        say(f"error: the disk is full ({e}).\nThe build stopped; the previous release stays "
            "served.")
        sys.exit(1)
    print(json.dumps({"version": result.release.id, "reused": result.reused}))


if __name__ == "__main__":
    main()
