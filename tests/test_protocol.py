"""Reading SPARQL protocol requests."""

import pytest

from kg.sparql.protocol import ProtocolError, parse_request

Q = "SELECT * WHERE { ?s ?p ?o }"


def parse(method="GET", content_type=None, args=None, form=None, body=b""):
    return parse_request(method, content_type, args or {}, form or {}, body,
                         max_query_bytes=1000)


def test_get_with_graphs():
    r = parse(args={"query": [Q], "default-graph-uri": ["http://g/1"],
                    "named-graph-uri": ["http://g/2", "http://g/3"]})
    assert r.query == Q
    assert r.default_graph_uris == ["http://g/1"]
    assert r.named_graph_uris == ["http://g/2", "http://g/3"]


def test_post_form_and_direct():
    assert parse("POST", "application/x-www-form-urlencoded", form={"query": [Q]}).query == Q
    direct = parse("POST", "application/sparql-query; charset=utf-8",
                   args={"default-graph-uri": ["http://g"]}, body=Q.encode())
    assert direct.query == Q and direct.default_graph_uris == ["http://g"]
    assert parse("POST", "application/sparql-update", body=b"CLEAR ALL").update == "CLEAR ALL"


@pytest.mark.parametrize("kwargs,status", [
    ({"args": {"query": [Q, Q]}}, 400),
    ({"args": {"update": ["CLEAR ALL"]}}, 400),
    ({"method": "POST", "body": Q.encode()}, 400),
    ({"method": "POST", "content_type": "text/plain", "body": Q.encode()}, 415),
    ({"method": "POST", "content_type": "application/sparql-query", "body": b"\xff\xfe"}, 400),
    ({"args": {"query": ["x" * 2000]}}, 413),
    ({"args": {"query": ["   "]}}, 400),
    ({"method": "PUT"}, 405),
    ({"method": "POST", "content_type": "application/x-www-form-urlencoded",
      "form": {"query": [Q], "update": ["CLEAR ALL"]}}, 400),
])
def test_bad_requests(kwargs, status):
    with pytest.raises(ProtocolError) as e:
        parse(**kwargs)
    assert e.value.status == status
    assert e.value.message
