"""The words of the entity, search, browse and not-found pages in the four page languages.

Documentation pages (home, ontology, dumps, VoID) are in English. A missing
translation shows the English text.
"""

from __future__ import annotations

#: English text -> {language: translation}
MESSAGES: dict[str, dict[str, str]] = {
    "Browse": {"ru": "Обзор", "kk": "Шолу", "ko": "둘러보기"},
    "Ontology": {"ru": "Онтология", "kk": "Онтология", "ko": "온톨로지"},
    "Dumps": {"ru": "Дампы", "kk": "Дамптар", "ko": "덤프"},
    "Search": {"ru": "Поиск", "kk": "Іздеу", "ko": "검색"},
    "Search names in any language": {"ru": "Поиск по названиям на любом языке",
                                     "kk": "Кез келген тілдегі атаулар бойынша іздеу",
                                     "ko": "모든 언어로 이름 검색"},
    "Names in English, Russian, Kazakh or Korean": {
        "ru": "Названия на английском, русском, казахском или корейском",
        "kk": "Ағылшын, орыс, қазақ немесе корей тіліндегі атаулар",
        "ko": "영어, 러시아어, 카자흐어 또는 한국어 이름"},
    "Results": {"ru": "Результаты", "kk": "Нәтижелер", "ko": "결과"},
    "page": {"ru": "страница", "kk": "бет", "ko": "페이지"},
    "previous": {"ru": "назад", "kk": "алдыңғы", "ko": "이전"},
    "next": {"ru": "далее", "kk": "келесі", "ko": "다음"},
    "Pages of results": {"ru": "Страницы результатов", "kk": "Нәтижелер беттері",
                         "ko": "결과 페이지"},
    "Include observations and link statements": {
        "ru": "Показать также наблюдения и утверждения о связях",
        "kk": "Бақылаулар мен байланыс тұжырымдарын да көрсету",
        "ko": "관측값과 링크 진술도 포함"},
    "Names": {"ru": "Названия", "kk": "Атаулары", "ko": "이름"},
    "Data": {"ru": "Данные", "kk": "Деректер", "ko": "데이터"},
    "Facts": {"ru": "Факты", "kk": "Фактілер", "ko": "사실"},
    "No further facts are asserted about it.": {
        "ru": "Других фактов о нём не утверждается.",
        "kk": "Ол туралы басқа фактілер көрсетілмеген.",
        "ko": "이에 대해 명시된 다른 사실은 없습니다."},
    "Inferred facts": {"ru": "Выведенные факты", "kk": "Шығарылған фактілер",
                       "ko": "추론된 사실"},
    "Derived by OWL 2 RL reasoning from the asserted facts and the ontology; they are not "
    "stated in the sources.": {
        "ru": "Выведены рассуждением OWL 2 RL из утверждённых фактов и онтологии; "
              "в источниках они не высказаны.",
        "kk": "OWL 2 RL қорытындысы бойынша бекітілген фактілер мен онтологиядан шығарылған; "
              "дереккөздерде айтылмаған.",
        "ko": "OWL 2 RL 추론으로 명시된 사실과 온톨로지에서 도출되었으며, "
              "출처에 직접 나오지는 않습니다."},
    "inferred": {"ru": "выведено", "kk": "шығарылған", "ko": "추론됨"},
    "why?": {"ru": "почему?", "kk": "неге?", "ko": "왜?"},
    "Identifiers": {"ru": "Идентификаторы", "kk": "Идентификаторлар", "ko": "식별자"},
    "The same resource in other datasets.": {
        "ru": "Тот же ресурс в других наборах данных.",
        "kk": "Басқа деректер жиындарындағы сол ресурс.",
        "ko": "다른 데이터셋의 같은 자원."},
    "evidence": {"ru": "обоснование", "kk": "негіздеме", "ko": "근거"},
    "discrepancy": {"ru": "расхождение", "kk": "сәйкессіздік", "ko": "불일치"},
    "Cells marked so do not agree with other figures of the paper; the graph keeps them as "
    "printed. The records:": {
        "ru": "Отмеченные так ячейки не согласуются с другими цифрами статьи; граф хранит "
              "их как напечатано. Записи о расхождениях:",
        "kk": "Осылай белгіленген ұяшықтар мақаланың басқа сандарымен сәйкес келмейді; граф "
              "оларды басылғандай сақтайды. Сәйкессіздік жазбалары:",
        "ko": "이렇게 표시된 칸은 논문의 다른 수치와 맞지 않습니다. 그래프는 인쇄된 값을 "
              "그대로 보존합니다. 불일치 기록:"},
    "derived by reasoning, not asserted": {"ru": "выведено рассуждением, не утверждено",
                                           "kk": "қорытынды арқылы шығарылған, бекітілмеген",
                                           "ko": "추론으로 도출됨, 명시되지 않음"},
    "Referred to by": {"ru": "Ссылаются сюда", "kk": "Сілтеме жасайтындар",
                       "ko": "이 항목을 참조하는 항목"},
    "Sources": {"ru": "Источники", "kk": "Дереккөздер", "ko": "출처"},
    "No source is recorded for these facts.": {
        "ru": "Источник этих фактов не указан.",
        "kk": "Бұл фактілердің дереккөзі көрсетілмеген.",
        "ko": "이 사실들의 출처가 기록되어 있지 않습니다."},
    "This description as data": {"ru": "Это описание в виде данных",
                                 "kk": "Бұл сипаттама деректер түрінде",
                                 "ko": "이 설명의 데이터"},
    "Chart drawn from the observations of this dataset": {
        "ru": "График построен по наблюдениям этого набора данных",
        "kk": "График осы деректер жиынының бақылауларынан салынған",
        "ko": "이 데이터셋의 관측값으로 그린 차트"},
    "All observations": {"ru": "Все наблюдения", "kk": "Барлық бақылаулар",
                         "ko": "모든 관측값"},
    "observation": {"ru": "наблюдение", "kk": "бақылау", "ko": "관측값"},
    "values": {"ru": "значения", "kk": "мәндер", "ko": "값"},
    "Not found": {"ru": "Не найдено", "kk": "Табылмады", "ko": "찾을 수 없음"},
    "Search the graph for": {"ru": "Искать в графе", "kk": "Графтан іздеу",
                             "ko": "그래프에서 검색"},
    "Browse everything by class": {"ru": "Обзор всего по классам",
                                   "kk": "Барлығын сыныптар бойынша шолу",
                                   "ko": "클래스별로 전체 둘러보기"},
    "Home": {"ru": "Главная", "kk": "Басты бет", "ko": "홈"},
    "Browse by class": {"ru": "Обзор по классам", "kk": "Сыныптар бойынша шолу",
                        "ko": "클래스별 둘러보기"},
    "Without a class": {"ru": "Без класса", "kk": "Сыныпсыз", "ko": "클래스 없음"},
    "All classes": {"ru": "Все классы", "kk": "Барлық сыныптар", "ko": "모든 클래스"},
}


def translate(text: str, language: str) -> str:
    return MESSAGES.get(text, {}).get(language, text)
