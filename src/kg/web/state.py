"""What every view gets: the settings, the served dataset and the query service, typed.

Views call :func:`state` instead of looking up the app's extensions themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from kg.config import Config
from kg.served import ServedDataset
from kg.sparql.service import AnswerCache, QueryService


@dataclass(frozen=True)
class State:
    config: Config
    #: the one door to the data (kg.served)
    served: ServedDataset
    #: SPARQL queries: plans, the answer cache, the run
    queries: QueryService
    #: the pages and data documents this web worker made lately, by ETag
    documents: AnswerCache = field(default_factory=lambda: AnswerCache(max_entries=1024,
                                                                       max_bytes=32 << 20))


def state() -> State:
    """The state of the app that handles the current request."""
    return current_app.extensions["kg"]
