"""The scratch servers the W3C suites run against (tests.conformance.served), one of each
for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conformance import protocol_suite, sparql_suite
from tests.conformance.served import Endpoints


@pytest.fixture(scope="session")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    tests = [t for m in sparql_suite.MANIFESTS.values() for t in sparql_suite.query_tests(m)]
    files = {**sparql_suite.data_files(tests), **protocol_suite.protocol_graphs()}
    with Endpoints(files, tmp_path_factory.mktemp("w3c")) as found:
        yield found
