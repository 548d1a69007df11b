"""The matcher that /reconcile and /search share: how a typed name scores against names."""

from __future__ import annotations

from kg.reconcile.matching import (
    CANDIDATE_SCORE,
    DERIVED_WORD_SCORE,
    PART_OF_NAME_SCORE,
    Matcher,
    name_forms,
    name_score,
    query_keys,
    score,
)
from kg.reconcile.names import key

MATCH = 90.0


def best(query: str, *texts: str, person: bool = False) -> float:
    return max(score(k, n) for t in texts for n in name_forms(t, "en", person=person)
               for k in query_keys(query))


def test_the_same_name_in_another_script_or_romanization_is_a_match():
    assert best("Назарбаев", "Nazarbayev") == 100
    assert best("Nursultan Nazarbajev", "Nursultan Nazarbayev") == 100
    assert best("KazNU", "Kaz NU") == 98


def test_part_of_a_name_is_a_candidate_not_a_match():
    samsung = best("Samsung", "Samsung C&T")
    assert CANDIDATE_SCORE <= samsung <= PART_OF_NAME_SCORE < MATCH


def test_a_word_the_name_extends_scores_below_a_name_that_has_the_word():
    korean = best("Korea", "Korean")
    assert korean <= DERIVED_WORD_SCORE
    assert best("Korea", "South Korea") > korean


def test_a_typo_is_a_match_and_another_name_is_nothing():
    assert best("Al Farabi Kazakh Natonal University",
                "Al-Farabi Kazakh National University") >= MATCH
    assert best("Zzqtest", "кесте") == 0


def test_a_number_the_name_lacks_names_something_else():
    assert best("Table 7", "Table") == 0
    assert best("Table 7", "Table 7. Foreign Students in Kazakhstan") >= CANDIDATE_SCORE


def test_words_typed_in_part_or_inflected_are_candidates():
    assert CANDIDATE_SCORE <= best("kor", "Korea") < MATCH
    # Russian: the adjective as typed finds its inflected form in a longer name
    assert CANDIDATE_SCORE <= best("Культурный", "Комиссия по культурному сотрудничеству") \
        < MATCH
    assert best("Кулинарный", "Комиссия по культурному сотрудничеству") == 0


def test_initials_and_glosses():
    assert best("Назарбаев Н.", "Nursultan Nazarbayev", person=True) == 95
    assert best("Hallyu", "Hallyu (Korean wave)") == 100
    # the gloss says which one: its words count against a longer query
    astana = name_forms("Korean Cultural Center (Astana)", "en")
    assert max(name_score(key("Korean Cultural Center in Almaty"), n) for n in astana) < MATCH


def test_the_matcher_finds_what_scoring_every_name_finds():
    texts = ["Republic of Korea", "North Korea", "Korean", "Korean Cultural Center (Astana)",
             "Nursultan Nazarbayev", "Комиссия по культурному сотрудничеству", "Almaty",
             "Samsung C&T", "қор"]
    names = [n for t in texts for n in name_forms(t, "", person=t.startswith("Nursultan"))]
    matcher = Matcher(names)
    for query in ["Korea", "kor", "Nazarbaev", "Назарбаев Н.", "Культурный", "Almati",
                  "Samsung", "zzz"]:
        every = {i: s for i, n in enumerate(names)
                 if (s := max(score(k, n) for k in query_keys(query))) >= CANDIDATE_SCORE}
        assert matcher.scores(query) == every, query
