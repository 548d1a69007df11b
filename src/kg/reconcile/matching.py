"""One matcher for the names people type: ``/reconcile`` and ``/search`` score them alike.

Names and queries are folded into keys (:mod:`kg.reconcile.names`), so that scripts,
romanizations, case and punctuation do not count. A query scores 0-100 against a name:

- **100** for the same key, **98** for the same key without spaces;
- a **fuzzy** score for typos and spellings the folding misses: the best of RapidFuzz
  ``ratio``, ``token_sort_ratio`` and ``token_set_ratio`` weighted by how much of the name
  the query covers. A query that is only **part of a name** (its words a strict subset of
  the name's: ``Samsung`` for Samsung C&T, the company or its group?) scores at most
  :data:`PART_OF_NAME_SCORE`, and one whose word the name **extends** (``Korea`` for the
  name ``Korean``, another word of the same root) at most :data:`DERIVED_WORD_SCORE`: both
  below a match. A fuzzy score under :data:`FUZZY_SCORE` does not count (another name, not
  a typo), nor does a name without a number of the query (``Table 7`` is not ``Table``).
  Keys of four letters or fewer (abbreviations) match only exactly;
- a **word** score for what people type in a search box: every word of the query begins a
  word of the name (``kor`` for Korea) or shares its stem (``Культурный`` for
  ``культурному``), 60 + 20 × the share of the name it covers, 10 more when the name begins
  with the query, at most 80: a candidate, never a match.

A person's name with initials scores 0.95 of that; a name without its gloss in
parentheses (``Hallyu`` for "Hallyu (Korean wave)") scores only when it is the query.
:class:`Matcher` scores a query against many names at once: RapidFuzz over all keys at C
speed bounds the fuzzy scores, a sorted vocabulary finds the word matches, and only those
names are scored in full.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from kg.reconcile import names

#: the most a query scores that is only part of a name
PART_OF_NAME_SCORE = 88.0
#: the least fuzzy score that counts: below it the name is another name, not a typo of it
FUZZY_SCORE = 75.0
#: the most a query scores whose word the name extends, or the other way round
DERIVED_WORD_SCORE = 80.0
#: the score of a query whose words begin (or share the stem of) words of a name: from the
#: first, up to the first plus the second when the query covers the whole name
WORD_SCORE = (60.0, 20.0)
#: what a query that begins the name adds to its word score (at most the score of a
#: derived word)
BEGINNING_BONUS = 10.0
#: what a person's name with initials is trusted, against the name as written
INITIALS_TRUST = 0.95
#: the lowest score listed: below it a name is not a candidate
CANDIDATE_SCORE = 60.0
#: a query word longer than this matches the words that share all but its last letters
#: (the stem, for Russian and Kazakh endings), at least this many
STEM_LETTERS = 5
_ENDING_LETTERS = 3
_GLOSS = re.compile(r"\s*\([^()]*\)\s*$")


@dataclass(frozen=True)
class Name:
    text: str
    lang: str
    key: str
    #: a form derived from a name (initials, without a gloss), not shown as a name
    derived: bool = False
    #: an alternative name (skos:altLabel), never shown as the resource's name
    alternative: bool = False
    #: how far a match of this form is trusted against one of the name as written
    trust: float = 1.0
    #: a form that matches only the same key: the name without its gloss, where the words
    #: of a longer query may contradict the gloss (Korean Cultural Center (Astana) is not
    #: the Korean Cultural Center in Almaty)
    exact_only: bool = False


def name_forms(text: str, lang: str, *, alternative: bool = False,
               person: bool = False) -> list[Name]:
    """A name and the forms people also write it in: without a gloss in parentheses
    (``Hallyu`` for "Hallyu (Korean wave)") and, for a person, with initials
    (``N. Nazarbayev``)."""
    name = Name(text, lang, names.key(text), alternative=alternative)
    forms = [name]
    bare = _GLOSS.sub("", text)
    if bare and bare != text and names.key(bare):
        forms.append(Name(text, lang, names.key(bare), derived=True, alternative=alternative,
                          exact_only=True))
    if person:
        forms += [Name(text, lang, form, derived=True, alternative=alternative,
                       trust=INITIALS_TRUST) for form in names.initial_forms(name.key)]
    return [f for f in forms if f.key]


def query_keys(text: str) -> list[str]:
    """The keys a query is read as: as written, and uninverted (``Nazarbayev, Nursultan``)."""
    forms = {names.key(text), names.key(names.uninverted(text))}
    return sorted(f for f in forms if f)


def _extends(short: str, long: str) -> bool:
    return len(long) > len(short) and long.startswith(short)


def derived_word(query_key: str, name_key: str) -> bool:
    """The same words but for one that the other extends: another word of the same root
    (``korea``/``korean``), not a typo."""
    query_words, name_words = sorted(query_key.split()), sorted(name_key.split())
    if len(query_words) != len(name_words):
        return False
    pairs = [(q, n) for q, n in zip(query_words, name_words, strict=True) if q != n]
    return bool(pairs) and all(_extends(q, n) or _extends(n, q) for q, n in pairs)


def name_score(query_key: str, name: Name) -> float:
    """How well a folded query matches one name as a whole, 0-100."""
    if not query_key or not name.key:
        return 0.0
    weight = name.trust
    if query_key == name.key:
        return 100.0 * weight
    query_compact, name_compact = query_key.replace(" ", ""), name.key.replace(" ", "")
    if query_compact == name_compact:
        return 98.0 * weight
    if name.exact_only or min(len(query_compact), len(name_compact)) <= 4:
        return 0.0  # abbreviations match exactly or not at all
    coverage = min(len(query_compact), len(name_compact)) / max(len(query_compact),
                                                                len(name_compact))
    score = max(fuzz.ratio(query_key, name.key), fuzz.token_sort_ratio(query_key, name.key),
                fuzz.token_set_ratio(query_key, name.key) * (0.65 + 0.35 * coverage))
    query_words, name_words = set(query_key.split()), set(name.key.split())
    if any(w not in name_words and any(c.isdigit() for c in w) for w in query_words):
        return 0.0  # a number the name lacks (a year, a table's number) names something else
    if query_words < name_words:
        score = min(score, PART_OF_NAME_SCORE)
    elif derived_word(query_key, name.key):
        score = min(score, DERIVED_WORD_SCORE)
    return score * weight if score >= FUZZY_SCORE else 0.0


def stem(word: str) -> str:
    """The beginning a word shares with its inflected forms: all but its last letters."""
    if len(word) <= STEM_LETTERS:
        return word
    return word[:max(STEM_LETTERS, len(word) - _ENDING_LETTERS)]


def word_matches(query_word: str, name_word: str) -> bool:
    """The name's word begins with the query's word, or shares its stem."""
    return name_word.startswith(query_word) or (
        len(query_word) > STEM_LETTERS and name_word.startswith(stem(query_word)))


def word_score(query_key: str, name: Name) -> float:
    """Every word of the query begins a word of the name, or shares its stem."""
    query_words, name_words = query_key.split(), name.key.split()
    if name.exact_only or not query_words or not all(any(word_matches(q, n) for n in name_words)
                                  for q in query_words):
        return 0.0
    covered = min(1.0, sum(map(len, query_words)) / max(1, sum(map(len, name_words))))
    low, span = WORD_SCORE
    if name.key.startswith(query_key):
        low += BEGINNING_BONUS  # typed from the beginning of the name
    return min(DERIVED_WORD_SCORE, low + span * covered) * name.trust


def score(query_key: str, name: Name) -> float:
    """The score of a query against a name: as a whole, or word by word."""
    return max(name_score(query_key, name), word_score(query_key, name))


def best_score(keys: Iterable[str], candidates: Iterable[Name]) -> float:
    """The best score of any of the query's keys against any of the names."""
    names_ = list(candidates)
    return max((score(k, n) for k in keys for n in names_), default=0.0)


class Matcher:
    """Many names, indexed to score a query against all of them at once."""

    def __init__(self, all_names: Sequence[Name]) -> None:
        self.names = list(all_names)
        self.keys = [n.key for n in self.names]
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._by_compact: dict[str, list[int]] = defaultdict(list)
        self._by_word: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(self.names):
            self._by_key[name.key].append(i)
            self._by_compact[name.key.replace(" ", "")].append(i)
            for word in set(name.key.split()):
                self._by_word[word].append(i)
        self._vocabulary = sorted(self._by_word)

    def _words_beginning(self, prefix: str) -> Iterable[str]:
        start = bisect.bisect_left(self._vocabulary, prefix)
        for word in self._vocabulary[start:]:
            if not word.startswith(prefix):
                break
            yield word

    def _candidates(self, key: str, floor: float) -> set[int]:
        """Every name that may score ``floor`` or more against ``key``."""
        found = set(self._by_key.get(key, ())) | set(self._by_compact.get(key.replace(" ", ""),
                                                                           ()))
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio, fuzz.token_set_ratio):
            found.update(i for _k, _s, i in process.extract(
                key, self.keys, scorer=scorer, score_cutoff=floor, limit=None))
        words = key.split()
        if words:
            sets = []
            for word in words:
                beginning = stem(word) if len(word) > STEM_LETTERS else word
                sets.append({i for w in self._words_beginning(beginning)
                             if word_matches(word, w) for i in self._by_word[w]})
            found.update(set.intersection(*sets))
        return found

    def scores(self, text: str, floor: float = CANDIDATE_SCORE) -> dict[int, float]:
        """The names (by position) that score ``floor`` or more against ``text``, with
        their score."""
        found: dict[int, float] = {}
        for key in query_keys(text):
            for i in self._candidates(key, floor):
                value = score(key, self.names[i])
                if value >= floor and value > found.get(i, 0.0):
                    found[i] = value
        return found
