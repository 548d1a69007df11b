"""Name folding: one comparable key for a name in any script and any romanization.

``Назарбаев``, ``Nazarbayev`` and ``Nazarbaev`` all fold to ``nazarbaev``: Cyrillic (Russian
and Kazakh letters) is transliterated, other scripts go through ``anyascii``, and the
differences between romanization systems (BGN/PCGN, ISO 9, Library of Congress, the
scholarly system, Kazakh Latin) are folded away (``kh``/``h``, ``zh``/``j``, ``ya``/``ia``/``a``,
``yo``/``e``, doubled letters…).
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
    # Kazakh letters
    "ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}

#: romanization differences between systems, folded away in order
_CONSONANTS = (
    ("shch", "sh"), ("sch", "sh"), ("tch", "c"), ("dzh", "j"), ("dj", "j"),
    ("kh", "h"), ("zh", "j"), ("gh", "g"), ("ch", "c"), ("ts", "c"), ("tz", "c"),
    ("ph", "f"), ("ck", "k"), ("w", "v"), ("q", "k"), ("x", "ks"), ("y", "i"),
)
_DOUBLE = re.compile(r"([a-z])\1+")
#: a glide before a vowel (ya/ia, yu/iu, ye/ie, yo/io/ё) is dropped
_GLIDE = re.compile(r"i(?=[aueo])")
_GLIDE_O = re.compile(r"io")
#: j between vowels is a glide too (German, Polish, ISO 9: Nazarbajev)
_J_GLIDE = re.compile(r"(?<=[aeiou])j(?=[aeiou])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_STOPWORDS = frozenset({"the", "of", "and", "in", "named", "after", "im", "imeni"})


def to_latin(text: str) -> str:
    """Latin letters for ``text``: our Cyrillic table, then ``anyascii`` for other scripts."""
    text = unicodedata.normalize("NFC", text)
    out = []
    for char in text:
        lower = char.lower()
        out.append(_CYRILLIC[lower] if lower in _CYRILLIC else char)
    return anyascii("".join(out)).lower()


def fold_word(word: str) -> str:
    for old, new in _CONSONANTS:
        word = word.replace(old, new)
    word = _J_GLIDE.sub("i", _DOUBLE.sub(r"\1", word))
    word = _GLIDE_O.sub("e", word)
    return _DOUBLE.sub(r"\1", _GLIDE.sub("", word))


def tokens(text: str) -> list[str]:
    """The folded words of ``text``, without connecting words."""
    words = _NOT_WORD.split(to_latin(text))
    # single letters (initials, the K of K-pop and the Q of Q-pop) stay as written
    return [fold_word(w) if len(w) > 1 else w for w in words if w and w not in _STOPWORDS]


def key(text: str) -> str:
    """The comparable form of a name: folded words joined by spaces."""
    return " ".join(tokens(text))


def compact(text: str) -> str:
    """The key without spaces: ``Kaz NU``, ``KazNU`` and ``kaznu`` agree."""
    return key(text).replace(" ", "")


def uninverted(text: str) -> str:
    """``Nazarbayev, Nursultan`` as ``Nursultan Nazarbayev``; other names unchanged."""
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        if last and first and len(last.split()) <= 3 and len(first.split()) <= 3:
            return f"{first} {last}"
    return text


def initial_forms(name_key: str) -> list[str]:
    """A person's name with all but one word reduced to initials, one form per kept word:
    ``nursultan nazarbaev`` -> ``n nazarbaev``, ``nursultan n``."""
    words = name_key.split()
    if len(words) < 2:
        return []
    return [" ".join(w if i == keep else w[0] for i, w in enumerate(words))
            for keep in range(len(words)) if len(words[keep]) > 1]
