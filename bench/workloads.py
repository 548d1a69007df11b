"""The HTTP workloads and how each request of a run gets a text no server has seen.

A workload is a list of request paths sent in turn by every connection. Its *cached*
variant repeats them as they are (what an answer cache serves); its *uncached* variant
makes every request distinct (what a cache cannot serve):

- a SPARQL query gets its first variable renamed, ``?s`` to ``?s_n`` everywhere: another
  query to any cache (keyed by text or by algebra), the same work and rows to every
  engine (a distinct LIMIT was measured to slow Virtuoso: it sizes its sort for the
  LIMIT); a query without a variable gets a comment ``# request n`` instead;
- a page or data document gets ``?request=n`` (a parameter the server ignores).

``n`` never repeats within a benchmark: wrk threads count on from a base that each run
moves past the requests of the previous ones. The same texts are built in Python
(:func:`distinct_path`, for the answer checks) and in wrk's Lua (:func:`lua_script`):
an item is a list of parts joined by its ``prefix`` followed by ``n``.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

CHEAP_QUERY = "SELECT * WHERE { ?s ?p ?o } LIMIT 10"
IRI_QUERY = "SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"
JSON_RESULTS = "application/sparql-results+json"
# strings, IRIs and comments (skipped), or a variable
_TOKEN = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
    r"|<[^<>\s]*>|#[^\n]*|[?$](\w+)", re.S)


@dataclass(frozen=True)
class Item:
    """One request of a workload. Cached, its ``path`` (with query string,
    percent-encoded ASCII); distinct, its ``parts`` joined by ``prefix`` + n."""

    name: str
    path: str
    parts: tuple[str, ...]
    prefix: str


def split_at_variable(query: str) -> tuple[list[str], str]:
    """The query cut right after each occurrence of its first variable, and ``"_"``; or,
    without a variable, the query and a comment line, and ``""``."""
    tokens = [m for m in _TOKEN.finditer(query) if m.group(1)]
    if not tokens:
        return [query + "\n# request ", ""], ""
    name = tokens[0].group(1)
    cuts = [m.end() for m in tokens if m.group(1) == name]
    parts = [query[a:b] for a, b in zip([0, *cuts], [*cuts, len(query)], strict=True)]
    return parts, "_"


def distinct_text(query: str, n: int) -> str:
    parts, prefix = split_at_variable(query)
    return f"{prefix}{n}".join(parts)


def sparql_item(name: str, query: str) -> Item:
    parts, prefix = split_at_variable(query)
    encoded = [urllib.parse.quote(p, safe="") for p in parts]
    encoded[0] = "/sparql?query=" + encoded[0]
    return Item(name, "".join(encoded), tuple(encoded), prefix)


def document_item(name: str, path: str) -> Item:
    return Item(name, path, (f"{path}{'&' if '?' in path else '?'}request=", ""), "")


def distinct_path(item: Item, n: int) -> str:
    """The path of ``item`` made distinct by ``n``, as the Lua script makes it."""
    return f"{item.prefix}{n}".join(item.parts)


@dataclass
class Workload:
    key: str
    title: str
    accept: str
    items: list[Item]
    #: the servers that run it (pages and data documents are ours alone)
    servers: tuple[str, ...]
    #: items left out after the answer checks, with why
    dropped: dict[str, str] = field(default_factory=dict)
    #: answers of each item on the first server (rows, or a status for documents)
    answers: dict[str, str] = field(default_factory=dict)


def mix_queries(root: Path) -> dict[str, str]:
    """The graph's competency queries (``queries/cq/``) when there are, else
    ``bench/queries`` (the answer checks keep those answered as SPARQL JSON results)."""
    folder = root / "queries" / "cq"
    if not any(folder.glob("*.rq")):
        folder = root / "bench" / "queries"
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.rq"))}


def entity_paths(sitemap: str) -> list[str]:
    """The entity paths (after ``/page/``) of a sitemap's locations."""
    paths = []
    for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap):
        path = urllib.parse.urlsplit(loc).path
        if path.startswith("/page/") and len(path) > len("/page/"):
            paths.append(urllib.parse.unquote(path[len("/page/"):]))
    return sorted(set(paths))


def http_workloads(root: Path, entities: Sequence[str], base_iri: str,
                   sparql_servers: tuple[str, ...]) -> list[Workload]:
    """Cheap SELECT, IRI lookups and the query mix on every server; pages and data
    documents of every entity on ours."""
    iris = [sparql_item(p, IRI_QUERY.format(iri=f"{base_iri}id/{p}")) for p in entities]
    mix = [sparql_item(name, q) for name, q in mix_queries(root).items()]
    quoted = {p: urllib.parse.quote(p) for p in entities}
    return [
        Workload("cheap", f"cheap SELECT (`{CHEAP_QUERY}`)", JSON_RESULTS,
                 [sparql_item("cheap", CHEAP_QUERY)], sparql_servers),
        Workload("iri", f"IRI lookups (`SELECT ?p ?o WHERE {{ <IRI> ?p ?o }}`, "
                        f"{len(iris)} entity IRIs)", JSON_RESULTS, iris, sparql_servers),
        Workload("cq", f"query mix ({len(mix)} SELECT/ASK competency queries)", JSON_RESULTS,
                 mix, sparql_servers),
        Workload("page", f"/page/&lt;id&gt; ({len(entities)} entities, HTML)", "text/html",
                 [document_item(p, f"/page/{quoted[p]}") for p in entities], ("ours",)),
        Workload("data", f"/data/&lt;id&gt;.ttl ({len(entities)} entities, Turtle)",
                 "text/turtle", [document_item(p, f"/data/{quoted[p]}.ttl") for p in entities],
                 ("ours",)),
    ]


def _lua(text: str) -> str:
    if not re.fullmatch(r"[!#-\[\]-~]*", text):
        raise ValueError(f"not percent-encoded ASCII: {text!r}")
    return json.dumps(text)


def lua_script(items: Sequence[Item], accept: str, distinct: bool, base: int, threads: int,
               target: Path) -> Path:
    """A wrk script: each thread sends the items in turn from its own starting place;
    with ``distinct``, request k of thread t gets n = base + k * threads + t."""
    if distinct:
        table = ",\n".join("{" + ", ".join(map(_lua, i.parts)) + "}" for i in items)
    else:
        table = ",\n".join(_lua(i.path) for i in items)
    target.write_text(
        f"local items = {{\n{table}\n}}\n"
        "local prefixes = {" + ", ".join(_lua(i.prefix) for i in items) + "}\n"
        f"local headers = {{ Accept = {json.dumps(accept)} }}\n"
        f"local distinct = {'true' if distinct else 'false'}\n"
        f"local base, threads = {base}, {threads}\n"
        "local i, k = 0, 0\n"
        "local next_tid = 0\n"
        "function setup(thread)\n"
        "  thread:set(\"tid\", next_tid)\n"
        "  next_tid = next_tid + 1\n"
        "end\n"
        "function init(args)\n"
        "  i = (tid * 7919) % #items\n"
        "end\n"
        "function request()\n"
        "  i = i % #items + 1\n"
        "  if not distinct then return wrk.format(\"GET\", items[i], headers) end\n"
        "  k = k + 1\n"
        "  local n = base + k * threads + tid\n"
        "  return wrk.format(\"GET\", table.concat(items[i], prefixes[i] .. n), headers)\n"
        "end\n", encoding="utf-8")
    return target
