"""What `make test` installs besides Python packages (tests/system_packages.py): the check
that decides what is missing, the commands that install it, the message when it cannot,
and that `make test` runs it before the tests."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from tests import system_packages as sp

ROOT = Path(__file__).resolve().parents[1]


def _provide(need: sp.Need, bin_dir: Path, root: Path) -> None:
    """Put what the tests use from ``need`` into a fake machine: commands in ``bin_dir``,
    files under ``root``."""
    for item in need.finds:
        if item.startswith("/"):
            target = root / item.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"")
        else:
            command = bin_dir / item
            command.write_text("#!/bin/sh\n")
            command.chmod(0o755)


def test_an_empty_machine_lacks_every_package(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    lacking = sp.missing(path=str(tmp_path / "bin"), root=tmp_path)
    assert [need.package for need in lacking] == [need.package for need in sp.NEEDS]


def test_a_package_is_present_when_all_it_gives_the_tests_is_found(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for package in ("rasqal-utils", "libapache-jena-java"):
        _provide(sp.BY_PACKAGE[package], bin_dir, tmp_path)
    # Virtuoso's server without its isql client is not enough
    (bin_dir / "virtuoso-t").write_text("#!/bin/sh\n")
    (bin_dir / "virtuoso-t").chmod(0o755)
    lacking = {need.package for need in sp.missing(path=str(bin_dir), root=tmp_path)}
    assert "rasqal-utils" not in lacking and "libapache-jena-java" not in lacking
    assert "virtuoso-opensource" in lacking
    # a file that is not executable is no command
    (bin_dir / "wrk").write_text("")
    assert "wrk" in {need.package for need in sp.missing(path=str(bin_dir), root=tmp_path)}


def test_the_install_commands_update_then_install_only_what_is_missing() -> None:
    assert sp.install_commands([]) == []
    update, install = sp.install_commands(["rasqal-utils", "wrk"])
    assert update == ["apt-get", "update", "-q"]
    assert install[:2] == ["apt-get", "install"] and "-y" in install
    assert install[-2:] == ["rasqal-utils", "wrk"]


def test_without_root_it_says_what_is_missing_and_how_to_install_it(capsys) -> None:
    lacking = [sp.BY_PACKAGE["rasqal-utils"], sp.BY_PACKAGE["curl"]]
    assert sp.install(lacking, as_root=False) == 0
    said = capsys.readouterr().err
    assert "the Debian package rasqal-utils (roqet), for Redland's roqet" in said
    assert "sudo apt-get install -y --no-install-recommends rasqal-utils curl" in said
    assert "will fail with this message" in said


def test_a_test_that_needs_a_missing_package_fails_with_that_message(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match="sudo apt-get install .* rasqal-utils"):
        sp.require("rasqal-utils")


def test_every_package_a_test_requires_is_known() -> None:
    required = {name for path in ROOT.joinpath("tests").rglob("*.py")
                for name in re.findall(r'\brequire\("([^"]+)"\)', path.read_text())}
    assert required and required <= set(sp.BY_PACKAGE)
    # and every package make test installs is one a test requires
    assert required == set(sp.BY_PACKAGE)


def test_every_package_the_tests_need_is_installed() -> None:
    """`make test` installed them (as root), or said how (and this fails with its words)."""
    lacking = sp.missing()
    assert not lacking, sp.how_to_install(lacking)


def test_make_test_installs_them_before_running_the_tests() -> None:
    planned = subprocess.run(["make", "-n", "test", "PYTEST_ARGS=-q"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.splitlines()
    install = next(i for i, line in enumerate(planned)
                   if line.endswith("tests/system_packages.py install"))
    tests = next(i for i, line in enumerate(planned) if "pytest" in line)
    assert install < tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'make test PYTEST_ARGS="-q --durations=30"' in ci and "apt-get" not in ci
