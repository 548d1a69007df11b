"""Property-based fuzzing (Hypothesis) of the HTTP interface of the real server.

    python bench/fuzz.py                 # 10,000 cases
    python bench/fuzz.py --cases 500

It starts ``kg serve`` (2 workers, default settings) on a free loopback port and sends
random and mutated requests: methods, paths (known routes with random tails, encodings,
``..``), parameters (``query``, ``update``, ``format``, graph IRIs, page parameters) holding
random text or mutations of the example queries, headers (Accept, Content-Type,
Accept-Encoding, Accept-Language, If-None-Match, Authorization) and bodies (random bytes,
mutated queries in UTF-8, Latin-1 or UTF-16, forms). Every answer must be:

- never a 5xx, except 503 (a query stopped by the timeout) and 502/504 (a remote store);
- never a hang: an answer within the query timeout plus a margin;
- a well-formed error: a 4xx or 5xx has a Content-Type and a non-empty message.

The test suite runs the same property with fewer cases (tests/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import ROOT, Server, example_queries  # noqa: E402

BASE = "https://w3id.org/kazkor/"
#: the longest any answer may take: the default query timeout (30 s) plus a margin
ANSWER_SECONDS = 60
#: 5xx statuses that are allowed: a query stopped (503) or a remote store failing (502, 504)
ALLOWED_5XX = {502, 503, 504}

PATHS = ["/sparql", "/update", "/rdf-graph-store", "/", "/page/kazakhstan", "/id/kazakhstan",
         "/data/kazakhstan", "/data/kazakhstan.ttl", "/search", "/browse", "/ontology",
         "/ontology.ttl", "/ontology.html", "/dumps/", "/dumps", "/.well-known/void",
         "/sitemap.xml", "/robots.txt", "/health", "/static/query-editor.js", "/page/",
         "/id/", "/data/"]
PARAMETERS = ["query", "update", "format", "default-graph-uri", "named-graph-uri", "graph",
              "default", "timeout", "inference", "q", "lang", "class", "page", "limit"]
MEDIA_TYPES = ["text/html", "application/sparql-results+json", "application/sparql-results+xml",
               "text/csv", "text/tab-separated-values", "text/turtle", "application/n-triples",
               "application/rdf+xml", "application/ld+json", "application/n-quads",
               "application/trig", "application/json", "application/sparql-query",
               "application/sparql-update", "application/x-www-form-urlencoded",
               "multipart/form-data", "*/*", "text/*", "image/png", ""]
FORMATS = ["json", "xml", "csv", "tsv", "turtle", "ntriples", "rdfxml", "jsonld", "html",
           "nquads", "trig"]
QUERIES = example_queries(ROOT) or ["SELECT * WHERE { ?s ?p ?o } LIMIT 1"]
SPARQL_WORDS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "?x", "<", ">",
                "FILTER(", ")", "OPTIONAL", "UNION", "GRAPH", "SERVICE", "LOAD", "INSERT",
                "DELETE", "DATA", "LIMIT 0", "OFFSET -1", "ORDER BY", "GROUP BY", "*", ".",
                ";", ",", '"', "'", "\\", "#", "\n", "\u0000", "\ufeff", "é", "한",
                "PREFIX : <", "BASE <", "VALUES ?x {", "BIND(", "REGEX(", "FROM <", "^^",
                "@en", "_:b", "[]", "()", "*+?", "|", "/", "!", "1e999999", "-0"]

# header values: printable Latin-1 without line breaks (what HTTP can carry)
_header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255,
                                     blacklist_characters="\x7f"), max_size=80)


@st.composite
def mutated_query(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(QUERIES))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 40)))
        kind = draw(st.sampled_from(["delete", "insert", "word", "repeat", "truncate"]))
        if kind == "delete":
            text = text[:at] + text[end:]
        elif kind == "insert":
            text = text[:at] + draw(st.text(max_size=20)) + text[at:]
        elif kind == "word":
            text = text[:at] + " " + draw(st.sampled_from(SPARQL_WORDS)) + " " + text[at:]
        elif kind == "repeat":
            text = text[:end] + text[at:end] * draw(st.integers(1, 5)) + text[end:]
        else:
            text = text[:at]
    return text


_values = st.one_of(mutated_query(), st.text(max_size=60), st.sampled_from(FORMATS),
                    st.sampled_from([BASE + "graph/data", BASE + "id/kazakhstan", "default",
                                     "true", "false", "-1", "0", "1e9", "nan", "",
                                     "http://127.0.0.1:9/", "file:///etc/passwd"]))


@dataclass
class FuzzRequest:
    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@st.composite
def paths(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(PATHS))
    tail = draw(st.one_of(
        st.just(""),
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=30),
        st.sampled_from(["/..", "/../../etc/passwd", "%00", "%2e%2e/", "//", "?", "#",
                         "%ff%fe", ".ttl", ".json", ".html", ".rdf", "/x/y/z", "%0d%0a",
                         "<script>alert(1)</script>", "한국", "\u202e"]),
    ))
    return path + tail


@st.composite
def bodies(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["none", "bytes", "query", "form", "rdf"]))
    if kind == "none":
        return None
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "query":
        encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
        return draw(mutated_query()).encode(encoding, errors="replace")
    if kind == "form":
        from urllib.parse import urlencode
        return urlencode(draw(st.lists(st.tuples(st.sampled_from(PARAMETERS), _values),
                                       max_size=4))).encode()
    return draw(st.sampled_from([
        b"<urn:a> <urn:b> <urn:c> .", b'{"@id": "urn:a", "urn:b": "c"}',
        b"<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-"
        b"ns#'/>", b"@prefix : <urn:> . :a :b [ :c ( 1 2 ",
    ]))


@st.composite
def fuzz_requests(draw: st.DrawFn) -> FuzzRequest:
    method = draw(st.sampled_from(["GET", "GET", "GET", "POST", "POST", "HEAD", "PUT",
                                   "DELETE", "PATCH", "OPTIONS"]))
    params = draw(st.lists(st.tuples(st.sampled_from(PARAMETERS), _values), max_size=4))
    headers = {}
    for name in draw(st.lists(st.sampled_from(
            ["Accept", "Content-Type", "Accept-Encoding", "Accept-Language", "If-None-Match",
             "Authorization", "Origin", "X-Forwarded-For"]), unique=True, max_size=5)):
        if name in ("Accept", "Content-Type"):
            value = draw(st.one_of(st.sampled_from(MEDIA_TYPES), _header_text))
        else:
            value = draw(_header_text)
        headers[name] = value
    body = draw(bodies()) if method in ("POST", "PUT", "PATCH", "DELETE") else None
    return FuzzRequest(method, draw(paths()), params, headers, body)


def send(session: requests.Session, url: str, request: FuzzRequest) -> requests.Response:
    return session.request(request.method, url + request.path, params=request.params,
                           headers=request.headers, data=request.body,
                           timeout=ANSWER_SECONDS, allow_redirects=False)


def problem(response: requests.Response) -> str | None:
    """What is wrong with an answer to a hostile request; ``None`` when it is fine."""
    status = response.status_code
    if status >= 500 and status not in ALLOWED_5XX:
        return f"{status}: {response.text[:300]}"
    if status >= 400 and response.request.method != "HEAD":
        if not response.headers.get("Content-Type"):
            return f"{status} without a Content-Type"
        if not response.content.strip():
            return f"{status} with an empty message"
    return None


@dataclass
class Tally:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def fuzz(url: str, cases: int, tally: Tally, *, seed: int | None = None) -> None:
    """Send ``cases`` generated requests to ``url``; raises AssertionError on the first bad
    answer (Hypothesis then shrinks it to a minimal request)."""
    session = requests.Session()

    @settings(max_examples=cases, deadline=None, database=None, derandomize=seed is not None,
              suppress_health_check=list(HealthCheck))
    @given(fuzz_requests())
    def property_(request: FuzzRequest) -> None:
        try:
            response = send(session, url, request)
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader):
            reject()  # the client refuses to send it: not a case, nothing reached the server
        tally.cases += 1
        tally.statuses[response.status_code] += 1
        found = problem(response)
        if found:
            tally.problems.append(f"{request}: {found}")
        assert found is None, f"{request}\n-> {found}"

    property_()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--release-dir", type=Path)
    args = parser.parse_args(argv)
    log_dir = ROOT / "build" / "load"
    log_dir.mkdir(parents=True, exist_ok=True)
    server = Server(args.release_dir, {}, log_dir / "server-fuzz.log")
    tally = Tally()
    started = time.monotonic()
    failure = None
    try:
        fuzz(server.url, args.cases, tally)
    except AssertionError as e:
        failure = str(e)
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    print(f"fuzzed {server.url}: {tally.cases} requests sent in {elapsed:.0f} s "
          f"({args.cases} cases asked)")
    print(f"  statuses: {dict(sorted(tally.statuses.items()))}")
    if failure:
        print(f"  FAIL: {failure}")
        return 1
    print("  PASS: no 5xx besides 502/503/504, no hang, every error with a type and a message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
