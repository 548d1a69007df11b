"""What the tests need from the system besides Python packages: Debian packages, each found
where the tests use it, and installed by ``make test`` when missing.

``python tests/system_packages.py install`` (``make test`` runs it before pytest) installs the
missing packages with apt-get when it runs as root; otherwise it says which are missing and
how to install them, and the tests that need one fail with that message
(:func:`require`): a test never skips for want of a package.
``python tests/system_packages.py check`` only says what is missing (exit 1 if anything).

Only the standard library: it runs before anything else is known to be there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Need:
    """A Debian package the tests need: ``finds`` are the commands (on ``PATH``) or the
    absolute paths the tests use from it; ``used_by`` says which tests."""

    package: str
    finds: tuple[str, ...]
    used_by: str

    def present(self, path: str | None = None, root: Path = Path("/")) -> bool:
        """Whether everything the tests use from the package is there: each command on
        ``path`` (the ``PATH`` by default), each absolute path under ``root``."""
        for item in self.finds:
            if item.startswith("/"):
                if not (root / item.lstrip("/")).exists():
                    return False
            elif shutil.which(item, path=path) is None:
                return False
        return True


NEEDS = (
    Need("chromium", ("/usr/bin/chromium",),
         "the browser tests (tests/test_ui.py, tests/test_pages_browser.py)"),
    Need("fonts-nanum", ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf",),
         "Korean labels in the browser tests' pages and screenshots"),
    Need("default-jre-headless", ("java",), "Jena's rsparql and rupdate (tests/test_clients.py)"),
    Need("libapache-jena-java", ("/usr/share/java/jena-arq.jar",),
         "Jena's rsparql and rupdate (tests/test_clients.py)"),
    Need("rasqal-utils", ("roqet",), "Redland's roqet (tests/test_clients.py)"),
    Need("curl", ("curl",), "the curl clients (tests/test_clients.py, tests/test_dumps.py, "
                            "tests/test_readme.py)"),
    # its post-install complaint about the service or the dba password is harmless: the
    # tests' fixture starts a Virtuoso of its own on loopback
    Need("virtuoso-opensource", ("virtuoso-t", "isql-vt"),
         "the remote-store tests on Virtuoso 7 (tests/test_remote.py and others)"),
    Need("wrk", ("wrk",), "the benchmark's quick run (tests/test_bench.py)"),
)
BY_PACKAGE = {need.package: need for need in NEEDS}


def missing(needs: Sequence[Need] = NEEDS, path: str | None = None,
            root: Path = Path("/")) -> list[Need]:
    """The packages whose commands or files are not found."""
    return [need for need in needs if not need.present(path, root)]


def install_commands(packages: Sequence[str]) -> list[list[str]]:
    """The apt-get commands that install ``packages`` (none when nothing is missing)."""
    if not packages:
        return []
    return [["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]]


def how_to_install(lacking: Sequence[Need]) -> str:
    """What is missing, what for, and the command that installs it, in one message."""
    lines = [f"missing: the Debian package {need.package} ({', '.join(need.finds)}), for "
             f"{need.used_by}" for need in lacking]
    packages = " ".join(need.package for need in lacking)
    lines.append("`make test` installs them when run as root; otherwise run "
                 f"`sudo apt-get install -y --no-install-recommends {packages}`")
    return "\n".join(lines)


def require(package: str) -> None:
    """Fail the calling test, saying how to install it, unless ``package`` (a name of
    :data:`NEEDS`) is there."""
    need = BY_PACKAGE[package]
    if not need.present():
        import pytest

        pytest.fail(how_to_install([need]), pytrace=False)


def install(lacking: Sequence[Need], as_root: bool) -> int:
    """Install ``lacking`` with apt-get as root (exit status 1 if that fails or leaves one
    missing); otherwise say how, and leave the failing to the tests that need them."""
    if not lacking:
        return 0
    if not as_root or shutil.which("apt-get") is None:
        why = "not root" if not as_root else "no apt-get on this machine"
        print(f"system packages ({why}): {how_to_install(lacking)}\n"
              "the tests that need them will fail with this message", file=sys.stderr)
        return 0
    packages = [need.package for need in lacking]
    print(f"system packages: installing {' '.join(packages)}", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in install_commands(packages):
        if subprocess.run(command, env=env).returncode != 0:
            print(f"system packages: `{' '.join(command)}` failed", file=sys.stderr)
            return 1
    still = missing(lacking)
    if still:
        print(f"system packages: still {how_to_install(still)}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str]) -> int:
    action = argv[0] if argv else "check"
    lacking = missing()
    if action == "install":
        return install(lacking, os.geteuid() == 0)
    if action == "check":
        if lacking:
            print(how_to_install(lacking))
        return 1 if lacking else 0
    print(f"usage: {Path(__file__).name} check|install", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
