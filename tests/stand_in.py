"""A copy of the sources with stand-in entities for those the data graph does not describe yet.

The stand-ins (tests/fixtures/reconcile/entities.ttl) sit at the IRIs of docs/iris.md. Only
the entities that the real data graph lacks (no rdf:type there) are added, so once data/ttl/
describes them all, the tests that use this copy run on the real data alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rdflib import RDF, Graph

from kg.config import Config
from kg.pipeline.load import load_sources

ROOT = Path(__file__).resolve().parents[1]
STAND_INS = ROOT / "tests" / "fixtures" / "reconcile" / "entities.ttl"


def project_with_stand_ins(dest: Path) -> Path:
    for name in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / name, dest / name)
    data = load_sources(Config(root=ROOT)).graphs["data"]
    stand_ins = Graph().parse(STAND_INS, format="turtle")
    missing = {s for s in stand_ins.subjects(RDF.type) if (s, RDF.type, None) not in data}
    added = Graph()
    for prefix, ns in stand_ins.namespaces():
        added.bind(prefix, ns)
    for s in missing:
        for p, o in stand_ins.predicate_objects(s):
            added.add((s, p, o))
    added.serialize(dest / "data" / "ttl" / "stand-in-entities.ttl", format="turtle")
    return dest
