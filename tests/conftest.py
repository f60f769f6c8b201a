"""Suite-wide checks.

Every job graph any test builds must be plain data: it is pickled with the standard ``pickle`` as
it is built, so a job graph that could not be shipped to a worker process or a Ray actor fails
the test that built it. (It is not unpickled here: cloudpickle, which carries user functions by
value, re-binds a class defined in a test to the unpickled copy when both live in one process.
``tests/runtime/test_job_graph.py`` unpickles graphs and runs them in a fresh process.)
"""

from __future__ import annotations

import pickle

import pytest

from volley.physical import planner as physical_planner

BUILT_GRAPHS: list[str] = []


@pytest.fixture(autouse=True, scope="session")
def _every_job_graph_round_trips_through_pickle():
    build = physical_planner.PhysicalPlanner.build

    def build_and_check(self, name: str = "job"):
        graph = build(self, name)
        assert pickle.dumps(graph)
        BUILT_GRAPHS.append(graph.name)
        return graph

    physical_planner.PhysicalPlanner.build = build_and_check
    yield
    physical_planner.PhysicalPlanner.build = build
