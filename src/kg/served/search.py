"""Search over the names of every resource of the graph, in every language, ranked.

Names are scored by the matcher of the reconciliation service
(:mod:`kg.reconcile.matching`): whatever ``/reconcile`` finds, ``/search`` finds too
(other romanizations, initials, typos, inflected Russian and Kazakh words), and a word
typed in part (``kor``) finds the names with a word that begins so. A hit shows the name
in the reader's language, and the name that matched when it is another. Observations and
the statements of links to other datasets (with the reference rows they come from) are many
and named after what they describe: they are left out unless asked for (``everything``),
and counted.

The index is built once per version in each query process (:mod:`kg.served.jobs`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Literal, URIRef

from kg.reconcile.index import DEFAULT_TYPE_IDS
from kg.reconcile.matching import Matcher, Name, name_forms
from kg.served.describe import LABEL_PROPERTIES
from kg.store import Store

QB_OBSERVATION = "http://purl.org/linked-data/cube#Observation"
#: hits on one page
PAGE_SIZE = 50
_ALTERNATIVE = "http://www.w3.org/2004/02/skos/core#altLabel"


@dataclass(frozen=True)
class Hit:
    iri: str
    #: its name in the reader's language (else English, untagged, any) and that language
    label: str
    lang: str
    score: float
    types: tuple[str, ...]
    #: the name that matched, when it is not ``label`` (another language, an alternative
    #: name), and its language
    matched: str = ""
    matched_lang: str = ""


@dataclass(frozen=True)
class Results:
    """One page of the hits of a search."""

    hits: list[Hit]
    #: the hits on all pages
    total: int
    #: the page (from 1) and the number of pages
    page: int
    pages: int
    #: hits on observations and link statements that were left out (0 when included)
    left_out: int


class SearchIndex:
    def __init__(self, base: str, owners: list[str], all_names: list[Name],
                 types: dict[str, tuple[str, ...]], left_out: set[str]) -> None:
        self.entity_space = base + "id/"
        #: whose each name is, by position
        self.owners = owners
        self.matcher = Matcher(all_names)
        self.types = types
        #: the observations and the link evidence, left out unless asked for
        self.left_out = left_out
        #: each resource's names as shown: language -> its best name
        self.labels: dict[str, dict[str, str]] = {}
        for owner, name in zip(owners, all_names, strict=True):
            if not (name.derived or name.alternative):
                self.labels.setdefault(owner, {}).setdefault(name.lang, name.text)

    @classmethod
    def build(cls, store: Store, base: str, inferred_graph: str,
              links_graph: str) -> SearchIndex:
        """Index the names of the resources under ``base`` as asserted (not those copied to
        other datasets' IRIs by ``owl:sameAs`` reasoning). Observations and what the links
        graph describes (the statements of links, the rows of the reference table they come
        from) are marked to be left out."""
        types: dict[str, set[str]] = {}
        left_out = set()
        for subject, cls_, graph in store.query(
                "SELECT DISTINCT ?s ?c ?g WHERE { GRAPH ?g { ?s a ?c } "
                f"FILTER (isIRI(?s) && isIRI(?c) && ?g != <{inferred_graph}>) }}").rows():
            types.setdefault(str(subject), set()).add(str(cls_))
            if str(cls_) == QB_OBSERVATION or str(graph) == links_graph:
                left_out.add(str(subject))
        person = DEFAULT_TYPE_IDS["person"].classes
        props = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
        found: list[tuple[int, str, list[Name]]] = []
        for subject, prop, label in store.query(
                f"SELECT DISTINCT ?s ?p ?l WHERE {{ VALUES ?p {{ {props} }} "
                f"GRAPH ?g {{ ?s ?p ?l }} FILTER (isLiteral(?l) && STRSTARTS(STR(?s), '{base}') "
                f"&& ?g != <{inferred_graph}>) }}").rows():
            assert isinstance(subject, URIRef) and isinstance(label, Literal)
            forms = name_forms(str(label), label.language or "",
                               alternative=str(prop) == _ALTERNATIVE,
                               person=bool(person & types.get(str(subject), set())))
            found.append((LABEL_PROPERTIES.index(str(prop)), str(subject), forms))
        found.sort(key=lambda o: (o[1], o[0]))  # the better label properties first
        return cls(base, [s for _p, s, forms in found for _f in forms],
                   [f for _p, _s, forms in found for f in forms],
                   {k: tuple(sorted(v)) for k, v in types.items()}, left_out)

    def depth(self, iri: str) -> int:
        """Among equal scores, the graph's entities (``BASE/id/{slug}``) first, then what is
        in their folders (sources, sites, observations…), then the ontology's terms."""
        if not iri.startswith(self.entity_space):
            return 2
        return 0 if "/" not in iri[len(self.entity_space):] else 1

    def label(self, iri: str, language: str) -> tuple[str, str]:
        """The name of ``iri`` to show in ``language`` (else English, untagged, any)."""
        labels = self.labels.get(iri, {})
        for lang in (language, "en", ""):
            if lang in labels:
                return labels[lang], lang
        return next(((text, lang) for lang, text in sorted(labels.items())), ("", ""))

    def search(self, text: str, language: str = "en", page: int = 1,
               everything: bool = False) -> Results:
        """The ``page``-th page of the resources whose names match ``text``, the best first;
        among equal scores, the graph's entities, then names in ``language``, then the
        shorter."""
        best: dict[str, tuple[tuple[float, bool, bool, int, str], Name]] = {}
        for i, score in self.matcher.scores(text).items():
            name = self.matcher.names[i]
            rank = (round(score, 1), name.lang == language, not name.alternative,
                    -len(name.text), name.text)
            iri = self.owners[i]
            if iri not in best or rank > best[iri][0]:
                best[iri] = (rank, name)
        hidden = 0 if everything else len(best.keys() & self.left_out)
        ranked = sorted(((rank, iri, name) for iri, (rank, name) in best.items()
                         if everything or iri not in self.left_out),
                        key=lambda r: (-r[0][0], self.depth(r[1]), not r[0][1], not r[0][2],
                                       -r[0][3], r[0][4], r[1]))
        pages = max(1, -(-len(ranked) // PAGE_SIZE))
        start = (page - 1) * PAGE_SIZE
        hits = []
        for rank, iri, name in ranked[start:start + PAGE_SIZE]:
            label, lang = self.label(iri, language)
            if not label:
                label, lang = name.text, name.lang
            matched = (name.text, name.lang) if name.text != label else ("", "")
            hits.append(Hit(iri, label, lang, rank[0], self.types.get(iri, ()), *matched))
        return Results(hits, len(ranked), page, pages, hidden)
