"""The store reproduces the course's search results on dev + test (bench/store_fidelity.py, the same code)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from agent.store import HotelStore

BENCH = Path(__file__).resolve().parents[1] / "bench" / "store_fidelity.py"


@pytest.fixture(scope="module")
def report(data_dir: Path):
    spec = importlib.util.spec_from_file_location("store_fidelity", BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("store_fidelity", bench)  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    paths = [data_dir / "hotel" / "dev.glm4.jsonl", data_dir / "hotel" / "test.glm4.jsonl"]
    return bench.measure(HotelStore.open(), paths)


def test_every_search_with_a_return_is_measured(report):
    assert report.searches == 373 and report.invalid == 0


def test_our_result_contains_a_course_record_in_85_percent_of_searches(report):
    assert report.hit_rate >= 0.85, report.misses


def test_our_result_is_non_empty_in_95_percent_of_searches(report):
    assert report.non_empty_rate >= 0.95


def test_every_miss_has_a_cause(report):
    assert sum(report.misses.values()) == report.searches - report.hits
    assert set(report.misses) <= {"name", "facility map", "label noise", "relaxation"}
