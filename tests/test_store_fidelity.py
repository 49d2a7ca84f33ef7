"""The store reproduces the course's search results on dev + test (`evalharness store-fidelity`, the same code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.store import HotelStore
from evalharness.store_fidelity import measure


@pytest.fixture(scope="module")
def report(data_dir: Path):
    paths = [data_dir / "hotel" / "dev.glm4.jsonl", data_dir / "hotel" / "test.glm4.jsonl"]
    return measure(HotelStore.open(), paths)


def test_every_search_with_a_return_is_measured(report):
    assert report.searches == 373 and report.invalid == 0


def test_our_result_contains_a_course_record_in_85_percent_of_searches(report):
    assert report.hit_rate >= 0.85, report.misses


def test_our_result_is_non_empty_in_95_percent_of_searches(report):
    assert report.non_empty_rate >= 0.95


def test_every_miss_has_a_cause(report):
    assert sum(report.misses.values()) == report.searches - report.hits
    assert set(report.misses) <= {"name", "facility map", "label noise", "relaxation"}
