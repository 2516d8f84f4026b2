"""Fixtures of the malformed-input suite: the corpus's seeded environment, once per database."""

from collections.abc import Iterator

import pytest
from corpus_environment import CorpusEnvironment, corpus_environment

from ilp_api.db.engine import Database
from ilp_api.settings import Settings
from pcare_simulator import Simulator


@pytest.fixture(scope="module", name="corpus_environment")
def corpus_environment_fixture(
    database: Database, settings: Settings, pcare_simulator_url: str
) -> Iterator[CorpusEnvironment]:
    with corpus_environment(database, settings, Simulator(pcare_simulator_url)) as environment:
        yield environment
