"""Real SPARQL clients against the running server: SPARQLWrapper, Jena's rsparql and curl."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from SPARQLWrapper import JSON, XML, SPARQLWrapper

QUERY = ("PREFIX kko: <https://w3id.org/kazkor/ontology#> "
         "SELECT ?c WHERE { ?c a kko:Country } ORDER BY ?c")
ASK = ("ASK { <https://w3id.org/kazkor/id/agreement-cultural-scientific-technological-1995> "
       "a <https://w3id.org/kazkor/ontology#BilateralDocument> }")
RESULTS_NS = {"r": "http://www.w3.org/2005/sparql-results#"}
JENA = Path("/usr/share/java")
# the libraries arq.rsparql needs, from Debian's libapache-jena-java and its dependencies
JENA_JARS = ("jena-arq", "jena-base", "jena-core", "jena-iri", "jena-cmds", "jena-dboe-base",
             "jena-dboe-index", "jena-dboe-storage", "jena-dboe-trans-data",
             "jena-dboe-transaction", "jena-rdfconnection", "jena-shacl", "jena-shex",
             "jena-tdb", "jena-tdb2", "slf4j-api", "slf4j-nop", "commons-csv",
             "commons-compress", "commons-io", "commons-lang3", "commons-codec", "commons-cli",
             "jackson-core", "jackson-databind", "jackson-annotations", "gson",
             "dexx.collection", "httpclient", "httpcore", "jsonld-java", "titanium-json-ld",
             "jakarta.json-api", "protobuf", "thrift", "guava", "failureaccess")


def expected(server) -> list[str]:
    r = server.get("/sparql", params={"query": QUERY},
                   headers={"Accept": "application/sparql-results+json"})
    found = [b["c"]["value"] for b in r.json()["results"]["bindings"]]
    assert "https://w3id.org/kazkor/id/kazakhstan" in found
    return found


def from_xml(data: bytes, var: str = "c") -> list[str]:
    root = ET.fromstring(data)
    return [b.find("r:uri", RESULTS_NS).text  # type: ignore[union-attr]
            for b in root.iterfind(f".//r:binding[@name='{var}']", RESULTS_NS)]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_json_and_xml(server, method):
    client = SPARQLWrapper(server.url + "/sparql")
    client.setMethod(method)
    client.setQuery(QUERY)
    client.setReturnFormat(JSON)
    rows = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index]
    assert [b["c"]["value"] for b in rows] == expected(server)
    client.setReturnFormat(XML)
    document = client.query().response.read()
    assert from_xml(document) == expected(server)
    client.setQuery(ASK)
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["boolean"] is True  # type: ignore[index]


def test_curl_json_and_xml(server):
    curl = shutil.which("curl")
    assert curl, "curl is installed by .ci/run"
    base = [curl, "-sS", "--fail", "-G", server.url + "/sparql", "--data-urlencode",
            f"query={QUERY}"]
    as_json = subprocess.run([*base, "-H", "Accept: application/sparql-results+json"],
                             capture_output=True, check=True, timeout=60).stdout
    assert [b["c"]["value"] for b in json.loads(as_json)["results"]["bindings"]] == \
        expected(server)
    as_xml = subprocess.run([*base, "-H", "Accept: application/sparql-results+xml",
                             "--compressed"], capture_output=True, check=True, timeout=60).stdout
    assert from_xml(as_xml) == expected(server)
    posted = subprocess.run([curl, "-sS", "--fail", server.url + "/sparql", "-H",
                             "Content-Type: application/sparql-query", "-H",
                             "Accept: application/sparql-results+json", "--data-binary", ASK],
                            capture_output=True, check=True, timeout=60).stdout
    assert json.loads(posted)["boolean"] is True


@pytest.fixture(scope="module")
def jena_classpath(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Debian's Jena 4.5 classpath, with the Xerces message files its jars lost put back.

    Jena relocates Xerces to ``xerces.*`` but Debian's jar keeps the message
    bundles under ``org/apache/jena/ext/xerces/``; without them every command
    fails with "internal error". A folder with the bundles at the relocated path
    goes first on the classpath.
    """
    assert shutil.which("java") and (JENA / "jena-arq.jar").is_file(), \
        "java and libapache-jena-java are installed by .ci/run"
    fix = tmp_path_factory.mktemp("jena-xerces")
    prefix = "org/apache/jena/ext/"
    with zipfile.ZipFile(JENA / "jena-core.jar") as jar:
        for name in jar.namelist():
            if name.startswith(prefix + "xerces/") and name.endswith(".properties"):
                target = fix / name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(jar.read(name))
    jars = [str(JENA / f"{name}.jar") for name in JENA_JARS if (JENA / f"{name}.jar").is_file()]
    return ":".join([str(fix), *jars])


def rsparql(classpath: str, url: str, query: str, results: str, tmp: Path) -> bytes:
    query_file = tmp / "query.rq"
    query_file.write_text(query, encoding="utf-8")
    done = subprocess.run(["java", "-cp", classpath, "arq.rsparql", "--service", url,
                           "--query", str(query_file), "--results", results],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def test_jena_rsparql_json_and_xml(server, jena_classpath, tmp_path):
    url = server.url + "/sparql"
    as_json = rsparql(jena_classpath, url, QUERY, "json", tmp_path)
    assert [b["c"]["value"] for b in json.loads(as_json)["results"]["bindings"]] == \
        expected(server)
    as_xml = rsparql(jena_classpath, url, QUERY, "xml", tmp_path)
    assert from_xml(as_xml) == expected(server)
    assert json.loads(rsparql(jena_classpath, url, ASK, "json", tmp_path))["boolean"] is True
