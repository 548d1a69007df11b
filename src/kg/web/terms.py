"""Terms as a reader sees them: labels in the reader's language and links to local pages.

The server answers for the base IRI whatever host it runs on, so an IRI under the
base is linked by its local path (``BASE/id/x`` -> ``/page/x``); other IRIs link out.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Request
from markupsafe import Markup
from rdflib import XSD, BNode, Literal, URIRef
from rdflib.term import Node

#: the languages of the pages, in the order of the language switch
LANGUAGES = ("en", "ru", "kk", "ko")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша", "ko": "한국어"}


#: labels of well-known vocabulary terms, for IRIs that the graph itself does not label
COMMON_PREFIXES = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://www.w3.org/2002/07/owl#": "owl",
    "http://www.w3.org/2001/XMLSchema#": "xsd",
    "http://purl.org/dc/terms/": "dcterms",
    "http://xmlns.com/foaf/0.1/": "foaf",
    "http://www.w3.org/ns/prov#": "prov",
    "http://www.w3.org/ns/org#": "org",
    "http://www.w3.org/2004/02/skos/core#": "skos",
    "http://purl.org/linked-data/cube#": "qb",
    "http://purl.org/ontology/bibo/": "bibo",
    "http://rdfs.org/ns/void#": "void",
    "http://www.w3.org/ns/dcat#": "dcat",
    "http://schema.org/": "schema",
    "https://schema.org/": "schema",
    "http://www.wikidata.org/entity/": "wikidata",
    "https://sws.geonames.org/": "geonames",
    "http://sws.geonames.org/": "geonames",
    "http://dbpedia.org/resource/": "dbpedia",
    "https://ror.org/": "ror",
    "http://viaf.org/viaf/": "viaf",
}


#: the cookie that keeps a reader's choice of language from page to page
LANGUAGE_COOKIE = "lang"


def choose_language(request: Request) -> str:
    """``?lang=`` if it names a page language, else the language chosen before (the ``lang``
    cookie), else the best of Accept-Language, else English."""
    for asked in (request.args.get("lang", ""), request.cookies.get(LANGUAGE_COOKIE, "")):
        if asked in LANGUAGES:
            return asked
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


class Labels:
    """Labels of IRIs by language; ``pick`` falls back to English, untagged, any, a CURIE."""

    def __init__(self, base: str, language: str,
                 names: dict[str, dict[str, str]] | None = None) -> None:
        self.base = base
        self.language = language
        #: IRI -> language -> label (:func:`kg.served.describe.names_by_language`)
        self._labels: dict[str, dict[str, str]] = names if names is not None else {}

    def add(self, iri: str, label: Literal) -> None:
        lang = label.language or ""
        self._labels.setdefault(iri, {}).setdefault(lang, str(label))

    def all(self, iri: str) -> Mapping[str, str]:
        return self._labels.get(iri, {})

    def known(self, iri: str) -> bool:
        return iri in self._labels

    def pick(self, iri: str) -> tuple[str, str | None]:
        """(label, its language tag or None)."""
        labels = self._labels.get(iri)
        if labels:
            for lang in (self.language, "en", ""):
                if lang in labels:
                    return labels[lang], lang or None
            lang, text = next(iter(sorted(labels.items())))
            return text, lang or None
        return self.curie(iri), None

    def curie(self, iri: str) -> str:
        if iri.startswith(self.base + "ontology#"):
            return "kko:" + iri[len(self.base) + 9:]
        if iri.startswith(self.base + "id/"):
            return iri[len(self.base) + 3:]
        for namespace, prefix in COMMON_PREFIXES.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace):]}"
        return iri


def local_path(iri: str, base: str) -> str | None:
    """The path on this server that shows ``iri`` to a browser, or ``None`` if it is not ours."""
    if not iri.startswith(base):
        return None
    rest = iri[len(base):]
    if rest.startswith("id/"):
        return "/page/" + rest[3:]
    if rest == "ontology" or rest.startswith(("ontology#", "ontology/")):
        return "/ontology" + (("#" + rest.split("#", 1)[1]) if "#" in rest else "")
    if rest in ("", "sparql", "dumps/") or rest.startswith("dumps/"):
        return "/" + rest
    # named graphs, shapes, partitions: not pages of this server; their IRI is their link
    return None


@dataclass(frozen=True)
class TermView:
    """One RDF term ready for a template: text, link, language and datatype."""

    kind: str  # iri, literal, bnode
    text: str
    iri: str = ""
    href: str | None = None
    lang: str | None = None
    datatype: str | None = None
    #: the term in N-Triples, for links that name it (the explanation of an inferred fact)
    n3: str = ""

    @property
    def external(self) -> bool:
        return self.kind == "iri" and bool(self.href and not self.href.startswith("/"))


def view(term: Node, labels: Labels) -> TermView:
    if isinstance(term, URIRef):
        iri = str(term)
        text, lang = labels.pick(iri)
        return TermView("iri", text, iri, local_path(iri, labels.base) or iri, lang,
                        n3=term.n3())
    if isinstance(term, Literal):
        datatype = None
        if term.datatype is not None and term.datatype != XSD.string:
            datatype = labels.curie(str(term.datatype))
        return TermView("literal", str(term), lang=term.language, datatype=datatype,
                        n3=term.n3())
    if isinstance(term, BNode):
        return TermView("bnode", "(a nested description)")
    return TermView("literal", str(term))


@functools.lru_cache(maxsize=4096)
def term_html(t: TermView | None) -> Markup:
    """The HTML of a term (the templates' ``term``): a link, a literal with its language and
    datatype, or a blank node. Made once while in use: a page names the same classes,
    properties and places as the last, and a Jinja macro call cost a page more than this."""
    if t is None:
        return Markup("")
    if t.kind == "iri":
        lang = Markup(' lang="%s"') % t.lang if t.lang else ""
        external = Markup(' class="external" rel="noopener"') if t.external else ""
        return Markup('<a href="%s"%s%s title="%s">%s</a>') % (
            t.href, lang, external, t.iri, t.text)
    if t.kind == "literal":
        html = Markup('<span class="literal"%s%s>%s</span>') % (
            Markup(' lang="%s"') % t.lang if t.lang else "",
            Markup(' title="%s"') % t.datatype if t.datatype else "", t.text)
        if t.lang:
            html += Markup(' <small class="tag">%s</small>') % t.lang
        if t.datatype and not t.datatype.startswith("xsd:"):
            html += Markup(' <small class="tag">%s</small>') % t.datatype
        return html
    return Markup('<span class="bnode">%s</span>') % t.text
