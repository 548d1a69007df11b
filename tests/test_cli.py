"""The ``kg`` command, run as a user would run it."""

import json

import pytest
from tests.conftest import run_kg


@pytest.mark.parametrize("command", ["build", "validate", "serve", "query", "info"])
def test_every_subcommand_has_help(command):
    r = run_kg(command, "--help")
    assert r.returncode == 0 and "Usage:" in r.stdout


def test_build_info_query(release_dir, release):
    r = run_kg("--release-dir", str(release_dir), "build")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["reused"] is True
    assert "reusing" in r.stderr

    r = run_kg("--release-dir", str(release_dir), "info")
    assert r.returncode == 0
    assert release.id in r.stdout and "inferred" in r.stdout

    q = ("PREFIX kko: <https://w3id.org/kazkor/ontology#> "
         "SELECT ?d WHERE { ?d a kko:BilateralDocument } ORDER BY ?d")
    r = run_kg("--release-dir", str(release_dir), "query", q)
    assert r.returncode == 0, r.stderr
    assert "declaration-1995" in r.stdout and "2 row(s)" in r.stdout

    r = run_kg("--release-dir", str(release_dir), "query", "--format", "csv", q)
    assert r.stdout.splitlines()[0] == "d"

    r = run_kg("--release-dir", str(release_dir), "query", "SELECT WHERE {")
    assert r.returncode == 2 and "malformed query" in r.stderr


def test_validate_exit_codes(project, tmp_path):
    r = run_kg("--root", str(project), "validate")
    assert r.returncode == 0, r.stdout + r.stderr
    (project / "data" / "ttl" / "broken.ttl").write_text("@prefix x: <http://x/> .\nx:a x:b")
    r = run_kg("--root", str(project), "validate")
    assert r.returncode == 2 and "broken.ttl:2" in r.stderr


def test_build_stops_on_syntax_error(project, tmp_path):
    (project / "data" / "ttl" / "broken.ttl").write_text("@prefix x: <http://x/> .\nx:a x:b")
    r = run_kg("--root", str(project), "--release-dir", str(tmp_path / "r"), "build")
    assert r.returncode != 0
    assert "broken.ttl:2" in r.stderr
