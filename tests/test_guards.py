"""The guards on what clients send, against the real gunicorn server with small limits: the
bounds of /reconcile and /search, the guards on updates, tokens kept out of the log, the
minimum query timeout and the trusted hosts.

Each server here serves its own copy of the release folder, so that nothing done here
reaches the other tests' release.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import string
import threading
import time
from base64 import b64encode
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from tests.conftest import Server, start_server, stop_server
from tests.test_security import SourceAddress
from tests.test_sparql_protocol import _runner_pids

from kg.config import Config
from kg.pipeline.rebuild import BuildError, apply_update
from kg.pipeline.release import Releases
from kg.reconcile import bounds
from kg.web.hosts import default_trusted_hosts, host_name, trusted
from kg.web.server import redact

BASE = "https://w3id.org/kazkor/"
GRAPH = BASE + "graph/"
JSON = "application/sparql-results+json"
TOKEN = "guards-token-5c1e77"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: the bounds of the server `bounded`
MAX_BYTES = 20_000
MAX_QUERIES = 5
MAX_QUERY_BYTES = 3000
MAX_RESULT_BYTES = 50_000
#: the reconciliation time limit of the server `tight`
RECONCILE_SECONDS = 0.5
UPDATE_SECONDS = 3
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def copy_releases(release_dir: Path, dest: Path) -> Path:
    copy = dest / "releases"
    shutil.copytree(release_dir, copy, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def bounded(release, release_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """One worker, one request per client at a time, small reconciliation, query-text and
    answer bounds, updates enabled."""
    releases = copy_releases(release_dir, tmp_path_factory.mktemp("bounded"))
    srv = start_server(releases, "--workers", "1", log=releases.parent / "server.log", env={
        "KG_RECONCILE_MAX_BYTES": str(MAX_BYTES), "KG_RECONCILE_MAX_QUERIES": str(MAX_QUERIES),
        "KG_CLIENT_CONCURRENCY": "1", "KG_UPDATE_TOKEN": TOKEN,
        "KG_MAX_QUERY_BYTES": str(MAX_QUERY_BYTES),
        "KG_MAX_RESULT_BYTES": str(MAX_RESULT_BYTES)})
    yield srv
    stop_server(srv.process)


@pytest.fixture(scope="module")
def tight(release, release_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Short reconciliation and update time limits, large batches, trusted hosts set."""
    releases = copy_releases(release_dir, tmp_path_factory.mktemp("tight"))
    srv = start_server(releases, log=releases.parent / "server.log", env={
        "KG_RECONCILE_TIMEOUT": str(RECONCILE_SECONDS), "KG_RECONCILE_MAX_QUERIES": "400",
        "KG_RECONCILE_MAX_BYTES": "1000000", "KG_UPDATE_TOKEN": TOKEN,
        "KG_UPDATE_TIMEOUT": str(UPDATE_SECONDS),
        "KG_TRUSTED_HOSTS": "kg.example.org 127.0.0.1"})
    yield srv
    stop_server(srv.process)


def _json_error(r: requests.Response, status: int, *words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json")
    for word in words:
        assert word in r.json()["error"], r.json()
    assert "Traceback" not in r.text


def _plain_error(r: requests.Response, status: int, *words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("text/plain")
    for word in words:
        assert word in r.text, r.text


def _reconcile(server: Server, queries: object, **kwargs: object) -> requests.Response:
    return server.post("/reconcile", data={"queries": json.dumps(queries)}, **kwargs)


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def _words(characters: int) -> str:
    rng = random.Random(characters)
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=7))
                    for _ in range(characters // 8))


# ---- /reconcile and /search ----------------------------------------------------------------

def test_a_batch_within_the_bounds_is_answered(bounded: Server):
    r = _reconcile(bounded, {f"q{i}": {"query": "Almaty", "limit": 500}
                             for i in range(MAX_QUERIES)})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {f"q{i}" for i in range(MAX_QUERIES)}


def test_a_request_over_the_size_bound_is_413(bounded: Server):
    big = {"q0": {"query": "x" * (MAX_BYTES + 1)}}
    _json_error(_reconcile(bounded, big), 413, f"at most {MAX_BYTES} bytes")
    # a body of unknown length (chunked) could only be measured by reading it
    body = f"queries={quote(json.dumps(big))}".encode()
    chunks = (body[i:i + 4096] for i in range(0, len(body), 4096))
    r = bounded.post("/reconcile", data=chunks,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    _json_error(r, 411, "Content-Length")


def test_a_batch_over_the_batch_bound_is_400(bounded: Server):
    r = _reconcile(bounded, {f"q{i}": {"query": "Almaty"} for i in range(MAX_QUERIES + 1)})
    _json_error(r, 400, f"{MAX_QUERIES + 1} queries", f"at most {MAX_QUERIES}", "smaller batch")


@pytest.mark.parametrize("query, words", [
    ({"query": "x" * (bounds.MAX_QUERY_CHARS + 1)}, ("characters", "at most")),
    ({"query": "Almaty", "properties": [{"pid": "country", "v": "Kazakhstan"}]
      * (bounds.MAX_PROPERTIES + 1)}, ("'properties'", f"at most {bounds.MAX_PROPERTIES}")),
    ({"query": "Almaty", "properties": [{"pid": "country", "v": ["Kazakhstan"]
                                         * (bounds.MAX_PROPERTIES + 1)}]},
     ("values", f"at most {bounds.MAX_PROPERTIES}")),
], ids=["text", "properties", "values"])
def test_long_texts_and_property_lists_are_400(bounded: Server, query: dict, words):
    _json_error(_reconcile(bounded, {"q0": query}), 400, *words)
    # a single query too
    r = bounded.post("/reconcile", data={"query": json.dumps(query)})
    _json_error(r, 400, *words)


@pytest.mark.parametrize("levels", [bounds.MAX_DEPTH + 1, 3000],
                         ids=["over-the-bound", "past-the-parser"])
def test_deeply_nested_json_is_400_never_500(bounded: Server, levels: int):
    for name, text in (("queries", '{"q0": ' + _nested(levels) + "}"),
                       ("query", '{"query": "x", "properties": ' + _nested(levels) + "}"),
                       ("extend", '{"ids": ' + _nested(levels) + ', "properties": []}')):
        r = bounded.post("/reconcile", data={name: text})
        _json_error(r, 400, "nested too deeply")


def test_suggest_prefixes_and_limits_are_bounded(bounded: Server):
    r = bounded.get("/reconcile/suggest/entity",
                    params={"prefix": "a" * (bounds.MAX_QUERY_CHARS + 1)})
    _json_error(r, 400, "the prefix is")
    for limit in ("²", "99999999999999999999", "-3"):
        r = bounded.get("/reconcile/suggest/type", params={"prefix": "c", "limit": limit})
        _json_error(r, 400, "positive integer")
    r = bounded.get("/reconcile/suggest/type", params={"prefix": "", "limit": "100000"})
    assert r.status_code == 200 and len(r.json()["result"]) <= bounds.MAX_LIMIT


def test_limits_above_the_cap_are_cut():
    query = bounds.check_query({"query": "Almaty", "limit": 10**9})
    assert query["limit"] == bounds.MAX_LIMIT
    assert bounds.check_query({"query": "Almaty", "limit": 3})["limit"] == 3


def test_a_long_search_text_is_400(bounded: Server):
    _plain_error(bounded.get("/search", params={"q": "a" * 201}), 400, "201 characters",
                 "at most 200")
    assert bounded.get("/search", params={"q": "Almaty"}).status_code == 200


def test_a_client_over_its_bound_gets_429_on_reconcile_and_search(bounded: Server):
    """A client whose one request (the bound is 1) is running, its body still being sent,
    is refused a second one on /reconcile and /search; another client is served."""
    body = "queries=" + quote(json.dumps({"q0": {"query": "Almaty"}}))
    host, port = bounded.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as held:
        held.sendall(f"POST /reconcile HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: "
                     f"application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                     f"\r\n{body[:8]}".encode())
        time.sleep(1.5)  # the request is in its view, reading the rest of its body
        refused = _reconcile(bounded, {"q0": {"query": "Almaty"}})
        refused_search = bounded.get("/search", params={"q": "Almaty"})
        other = requests.Session()
        other.mount("http://", SourceAddress("127.0.0.9"))
        elsewhere = other.post(bounded.url + "/reconcile", timeout=60,
                               data={"queries": json.dumps({"q0": {"query": "Almaty"}})})
        held.sendall(body[8:].encode())
        held.settimeout(60)
        answer = held.recv(65536).decode("utf-8", "replace")
    _json_error(refused, 429, "too many requests")
    assert int(refused.headers["Retry-After"]) >= 1
    _plain_error(refused_search, 429, "too many requests")
    assert elsewhere.status_code == 200, elsewhere.text
    assert answer.startswith("HTTP/1.1 200"), answer[:300]
    # the bound is released with the answer
    assert _reconcile(bounded, {"q0": {"query": "Almaty"}}).status_code == 200


def test_a_reconciliation_past_its_time_limit_is_stopped(tight: Server):
    batch = {f"q{i}": {"query": _words(1000)} for i in range(400)}
    started = time.monotonic()
    r = _reconcile(tight, batch)
    took = time.monotonic() - started
    _json_error(r, 503, f"{RECONCILE_SECONDS:g} s limit", "smaller batches")
    assert took < 30
    assert tight.get("/health").json()["status"] == "ok"


# ---- updates ---------------------------------------------------------------------------------

def _ask(server: Server, pattern: str) -> bool:
    r = server.get("/sparql", params={"query": f"ASK {{ {pattern} }}"}, headers={"Accept": JSON})
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


@pytest.mark.parametrize("update, graphs", [
    ("CLEAR ALL", ("data", "ontology")),
    ("DROP DEFAULT", ("data",)),
    ("DELETE WHERE { ?s ?p ?o }", ("data",)),
    (f"DROP GRAPH <{GRAPH}ontology>", ("ontology",)),
])
def test_an_update_that_empties_the_data_or_ontology_is_refused(bounded: Server, update: str,
                                                                 graphs: tuple[str, ...]):
    r = bounded.post("/update", data={"update": update}, headers=AUTH)
    _plain_error(r, 409, "not applied", "KG_ALLOW_EMPTYING",
                 *(f"the {name} graph <{GRAPH}{name}>" for name in graphs))
    assert _ask(bounded, f"GRAPH <{GRAPH}data> {{ ?s ?p ?o }}")
    assert _ask(bounded, f"GRAPH <{GRAPH}ontology> {{ ?s ?p ?o }}")


def test_graph_store_delete_of_the_data_graph_is_refused(bounded: Server):
    r = requests.delete(bounded.url + "/rdf-graph-store", params={"default": ""},
                        headers=AUTH, timeout=180)
    _plain_error(r, 409, "the data graph", "KG_ALLOW_EMPTYING")
    assert _ask(bounded, f"GRAPH <{GRAPH}data> {{ ?s ?p ?o }}")


def test_emptying_is_applied_when_the_setting_allows_it(release, release_dir: Path,
                                                        tmp_path: Path):
    releases = copy_releases(release_dir, tmp_path)
    config = Config(release_dir=releases, allow_emptying=False)
    with pytest.raises(BuildError) as refused:
        apply_update(config, "CLEAR ALL")
    assert refused.value.status == 409
    summary = apply_update(config.with_(allow_emptying=True), "CLEAR ALL")
    current = Releases(releases).current()
    assert current is not None and current.id == summary.version
    assert current.report.triples["data"] == current.report.triples["ontology"] == 0


def test_an_update_text_over_the_bound_is_413(bounded: Server):
    update = "INSERT DATA { <urn:a> <urn:b> <urn:c> } #" + "x" * MAX_QUERY_BYTES
    _plain_error(bounded.post("/update", data={"update": update}, headers=AUTH), 413,
                 f"the limit is {MAX_QUERY_BYTES} bytes")


def _writers(token: str) -> list[int]:
    """The update writer processes started by a server with ``token`` in its environment."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (b"kg.pipeline.rebuild" in (proc / "cmdline").read_bytes()
                    and token.encode() in (proc / "environ").read_bytes()):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_an_update_past_its_time_limit_is_stopped_and_nothing_of_it_served(tight: Server):
    before = tight.get("/health").json()["version"]
    r = tight.post("/update", headers=AUTH, data={
        "update": f"INSERT {{ <{BASE}id/kazakhstan> <{BASE}ontology#count> ?n }} "
                  f"WHERE {{ {ENDLESS} }}"})
    _plain_error(r, 503, f"the {UPDATE_SECONDS:g} s limit", "nothing of it was applied")
    assert tight.get("/health").json()["version"] == before
    assert not _ask(tight, f"<{BASE}id/kazakhstan> <{BASE}ontology#count> ?n")
    deadline = time.monotonic() + 10
    while _writers(TOKEN) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _writers(TOKEN)


# ---- answers -----------------------------------------------------------------------------------

def test_an_answer_over_the_byte_cap_is_cut_and_says_so(bounded: Server):
    r = bounded.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                    headers={"Accept": JSON})
    assert r.status_code == 200 and len(r.content) <= MAX_RESULT_BYTES
    rows = len(r.json()["results"]["bindings"])
    assert r.headers["KG-Result-Truncated"] == f"max-bytes={MAX_RESULT_BYTES}; rows={rows}"
    assert rows > 10
    # one row of 1 MiB from a query of 400 bytes: no row fits, and the answer says so
    doubling = ('SELECT ?x { BIND("0123456789abcdef" AS ?a0) '
                + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(16))
                + " BIND(?a16 AS ?x) }")
    r = bounded.get("/sparql", params={"query": doubling}, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.text.splitlines() == ["x"]
    assert r.headers["KG-Result-Truncated"] == f"max-bytes={MAX_RESULT_BYTES}; rows=0"
    small = bounded.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 3"},
                        headers={"Accept": JSON})
    assert "KG-Result-Truncated" not in small.headers


# ---- tokens ------------------------------------------------------------------------------------

def test_401_carries_www_authenticate(bounded: Server):
    for path, kwargs in (("/update", {"data": {"update": "INSERT DATA { <urn:a> <urn:b> 1 }"}}),
                         ("/sparql", {"data": {"update": "INSERT DATA { <urn:a> <urn:b> 1 }"}})):
        r = bounded.post(path, **kwargs)
        _plain_error(r, 401, "Bearer")
        assert r.headers["WWW-Authenticate"].startswith('Bearer realm="')


def test_the_token_is_never_logged_in_any_form(bounded: Server):
    update = "INSERT DATA { <urn:a> <urn:b> 1 }"
    basic = b64encode(f"{TOKEN}:".encode()).decode()
    sent = [
        bounded.post("/update", data={"update": update},
                     headers={"Authorization": f"Basic {basic}"}),
        bounded.post(f"/update?token={TOKEN}", data={"update": update}),
        bounded.get("/sparql", params={"query": "ASK { ?s ?p ?o }", "access_token": TOKEN}),
        bounded.get("/sparql", params={"query": "ASK { ?s ?p ?o }", "key": TOKEN,
                                       "password": TOKEN, "auth": TOKEN}),
        bounded.get("/health", headers={"Referer": f"http://x.example/?token={TOKEN}",
                                        **AUTH}),
        bounded.post("/update", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"},
                     headers=AUTH),
    ]
    assert [r.status_code for r in sent] == [401, 401, 200, 200, 200, 200], \
        [(r.status_code, r.text[:100]) for r in sent]
    time.sleep(0.5)  # the access log is written after the answer
    log = bounded.log.read_text(errors="replace")
    assert '"POST /update?token=[redacted] HTTP/1.1" 401' in log
    assert "access_token=[redacted]" in log
    assert TOKEN not in log and TOKEN[:10] not in log and basic not in log


def test_access_lines_keep_no_secret_parameter():
    assert redact("GET /sparql?query=ASK%7B%7D&access_token=abc&x=1 HTTP/1.1") == \
        "GET /sparql?query=ASK%7B%7D&access_token=[redacted]&x=1 HTTP/1.1"
    assert redact("key=1;apiKey=2&Password=3&auth=4") == \
        "key=[redacted];apiKey=[redacted]&Password=[redacted]&auth=[redacted]"


def test_the_combined_access_line_is_gunicorns_with_no_secret():
    """The access log's own writer of the combined format gives gunicorn's line (its atoms,
    escaped, redacted by AccessLog.atoms), for a request with quotes, a secret in the
    URL and the referrer, credentials in headers, and an answer of 0 bytes."""
    import datetime
    import logging

    from gunicorn.config import Config as GunicornConfig
    from gunicorn.glogging import SafeAtoms

    from kg.web.server import AccessLog

    settings = GunicornConfig()
    settings.set("accesslog", "-")
    log = AccessLog(settings)
    log.now = lambda: "[06/Dec/2026:01:02:03 +0000]"  # type: ignore[method-assign]
    lines: list[str] = []
    log.access_log.handlers = [logging.Handler()]
    log.access_log.handlers[0].emit = lambda record: lines.append(record.getMessage())
    environ = {"REMOTE_ADDR": "127.0.0.9", "REQUEST_METHOD": "GET",
               "RAW_URI": '/sparql?query=ASK%7B%7D&access_token=s3cret&x="y"',
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/sparql",
               "QUERY_STRING": "query=ASK%7B%7D&access_token=s3cret",
               "HTTP_REFERER": "http://x.example/?token=s3cret",
               "HTTP_USER_AGENT": 'curl "8"', "HTTP_AUTHORIZATION": "Basic czNjcmV0Og=="}

    class Answer:
        status, sent, headers = "200 OK", 0, [("Content-Type", "text/plain")]

    class Request:
        headers = [("AUTHORIZATION", "Basic czNjcmV0Og=="), ("USER-AGENT", 'curl "8"')]

    took = datetime.timedelta(milliseconds=3)
    log.access(Answer(), Request(), environ, took)
    assert lines == []  # written in a batch, off the request's path
    log.write_waiting()
    expected = settings.access_log_format % SafeAtoms(log.atoms(Answer(), Request(), environ,
                                                               took))
    assert lines == [expected]
    assert "s3cret" not in expected and '\\"y\\"' in expected and ' 200 0 ' in expected


# ---- the minimum timeout ----------------------------------------------------------------------

def test_tiny_timeouts_kill_no_query_process(bounded: Server):
    """8 clients asking for timeout=0.000001 for 5 s: every query is answered within the
    minimum timeout instead, and no query process is killed."""
    before = sorted(_runner_pids(bounded))
    statuses: list[int] = []
    stop = time.monotonic() + 5

    def client(number: int) -> None:
        session = requests.Session()
        session.mount("http://", SourceAddress(f"127.0.2.{number + 1}"))
        sent = 0
        while time.monotonic() < stop:
            sent += 1
            r = session.get(bounded.url + "/sparql", timeout=60, headers={"Accept": JSON},
                            params={"query": f"ASK {{ ?s ?p ?o }} # {number} {sent}",
                                    "timeout": "0.000001"})
            statuses.append(r.status_code)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(60)
    assert len(statuses) > 8 and set(statuses) == {200}, sorted(set(statuses))
    assert sorted(_runner_pids(bounded)) == before


# ---- trusted hosts ----------------------------------------------------------------------------

FORGED_PATHS = ("/.well-known/void", "/sitemap.xml", "/id/kazakhstan", "/reconcile",
                "/robots.txt")


def test_a_forged_host_is_refused_by_default_on_loopback(server: Server):
    port = server.url.rsplit(":", 1)[1]
    for path in FORGED_PATHS:
        r = server.get(path, headers={"Host": "evil.example"}, allow_redirects=False)
        _plain_error(r, 400, "does not answer for the host")
        assert "evil.example" not in r.headers.get("Location", "")
    r = server.get("/sparql", headers={"Host": f"evil.example:{port}", "Accept": "text/turtle"})
    _plain_error(r, 400, "does not answer for the host")
    for host in (f"localhost:{port}", f"[::1]:{port}", f"127.0.0.1:{port}"):
        r = server.get("/.well-known/void", headers={"Host": host, "Accept": "text/turtle"})
        assert r.status_code == 200, (host, r.text[:200])
        assert f"http://{host}/" in r.text


def test_only_the_trusted_hosts_appear_in_void_sitemap_description_and_redirects(tight: Server):
    trusted_host = {"Host": "kg.example.org"}
    void = tight.get("/.well-known/void", headers={**trusted_host, "Accept": "text/turtle"})
    assert void.status_code == 200 and "http://kg.example.org/sparql" in void.text
    assert "http://kg.example.org/page/" in tight.get("/sitemap.xml", headers=trusted_host).text
    description = tight.get("/sparql", headers={**trusted_host, "Accept": "text/turtle"})
    assert "http://kg.example.org/sparql" in description.text
    for host in ("evil.example", "localhost", "kg.example.org.evil.example"):
        for path in FORGED_PATHS:
            r = tight.get(path, headers={"Host": host}, allow_redirects=False)
            _plain_error(r, 400, "does not answer for the host")


def test_host_names_and_defaults():
    assert host_name("Example.ORG:8000") == "example.org"
    assert host_name("[::1]:8000") == "::1" and host_name("::1") == "::1"
    assert trusted("a.example.org", (".example.org",)) and trusted("example.org",
                                                                  (".example.org",))
    assert not trusted("badexample.org", (".example.org",))
    assert default_trusted_hosts("127.0.0.1") == ("127.0.0.1", "localhost", "::1")
    assert "127.0.0.5" in default_trusted_hosts("127.0.0.5")
    assert default_trusted_hosts("0.0.0.0") == () and default_trusted_hosts("10.1.2.3") == ()


def test_settings_of_the_guards_are_read_from_the_environment():
    config = Config.from_env({"KG_ALLOW_EMPTYING": "yes", "KG_TRUSTED_HOSTS": "A.example b",
                              "KG_MIN_QUERY_TIMEOUT": "2", "KG_RECONCILE_MAX_QUERIES": "7",
                              "KG_MAX_RESULT_BYTES": "1000"})
    assert config.allow_emptying and config.trusted_hosts == ("a.example", "b")
    assert config.min_query_timeout == 2 and config.reconcile_max_queries == 7
    assert config.max_result_bytes == 1000
    assert Config.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="KG_ALLOW_EMPTYING"):
        Config.from_env({"KG_ALLOW_EMPTYING": "perhaps"})
