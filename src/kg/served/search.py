"""Search over labels in every language: case- and diacritic-insensitive, ranked.

The index is built once per version in each query process (:mod:`kg.served.jobs`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from rdflib import Literal, URIRef

from kg.served.describe import LABEL_PROPERTIES
from kg.store import Store

#: Kazakh letters that are separate letters (not a base letter plus a mark) but that
#: a reader types with the Russian keyboard's nearest letter
_FOLD = str.maketrans({"ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у",
                       "һ": "х", "і": "и", "ё": "е", "й": "и"})


def normalize(text: str) -> str:
    """Lower case, no diacritics, Kazakh letters folded, Hangul syllables kept whole."""
    folded = unicodedata.normalize("NFC", text).casefold().translate(_FOLD)
    out = []
    for char in folded:
        if "\uac00" <= char <= "\ud7a3":
            out.append(char)
            continue
        out.extend(c for c in unicodedata.normalize("NFD", char)
                   if not unicodedata.combining(c))
    return " ".join("".join(out).split())


@dataclass(frozen=True)
class Entry:
    iri: str
    label: str
    lang: str
    key: str


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str
    lang: str
    score: int
    types: tuple[str, ...]


class SearchIndex:
    def __init__(self, entries: list[Entry], types: dict[str, tuple[str, ...]],
                 entity_space: str = "") -> None:
        self.entries = entries
        self.types = types
        #: the IRIs of the graph's own entities begin so (``BASE/id/``)
        self.entity_space = entity_space

    @classmethod
    def build(cls, store: Store, base: str, inferred_graph: str) -> SearchIndex:
        """Index the labels of the resources under ``base`` (not those copied to other
        datasets' IRIs by ``owl:sameAs`` reasoning)."""
        props = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
        entries = []
        for subject, label in store.query(
                f"SELECT DISTINCT ?s ?l WHERE {{ VALUES ?p {{ {props} }} ?s ?p ?l "
                f"FILTER (isLiteral(?l) && STRSTARTS(STR(?s), '{base}')) }}").rows():
            assert isinstance(subject, URIRef) and isinstance(label, Literal)
            entries.append(Entry(str(subject), str(label), label.language or "",
                                 normalize(str(label))))
        types: dict[str, list[str]] = {}
        for subject, cls_ in store.query(
                "SELECT DISTINCT ?s ?c WHERE { GRAPH ?g { ?s a ?c } "
                f"FILTER (isIRI(?s) && isIRI(?c) && ?g != <{inferred_graph}>) }}").rows():
            types.setdefault(str(subject), []).append(str(cls_))
        return cls(entries, {k: tuple(sorted(v)) for k, v in types.items()}, f"{base}id/")

    @staticmethod
    def score(key: str, query: str) -> int:
        if key == query:
            return 100
        if key.startswith(query):
            return 80
        words = key.replace("-", " ").split()
        if any(w.startswith(query) for w in words):
            return 60
        if query in key:
            return 40
        terms = query.split()
        if len(terms) > 1 and all(t in key for t in terms):
            return 30
        return 0

    def search(self, text: str, language: str = "en", limit: int = 50) -> list[Hit]:
        query = normalize(text)
        if not query:
            return []
        best: dict[str, tuple[tuple[int, int, int, str], Entry]] = {}
        for entry in self.entries:
            score = self.score(entry.key, query)
            if not score:
                continue
            rank = (score, entry.lang == language, -len(entry.key), entry.label)
            if entry.iri not in best or rank > best[entry.iri][0]:
                best[entry.iri] = (rank, entry)
        # at an equal score, the graph's own entities (BASE/id/...) before vocabulary terms
        ranked = sorted(best.values(), key=lambda r: (
            -r[0][0], not r[1].iri.startswith(self.entity_space), -r[0][1], -r[0][2], r[0][3]))
        return [Hit(e.iri, e.label, e.lang, rank[0], self.types.get(e.iri, ()))
                for rank, e in ranked[:limit]]
