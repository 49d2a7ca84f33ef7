"""The held-out conversation suites (evalharness/suites_heldout/) stay held out: they load, and none of their user
lines is written into the rules backend or its tests, so a fix made for them is a mechanism, not a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalharness.conversations.suite import bundled_suites_dir, load_suites

HELD_OUT = Path(__file__).resolve().parents[1] / "evalharness" / "suites_heldout"
RULES = Path(__file__).resolve().parents[1] / "backends" / "rules"
TESTS = Path(__file__).resolve().parent


def _lines(path: Path) -> set[str]:
    return {step.user for suite in load_suites(path) for c in suite.conversations for step in c.steps}


@pytest.mark.parametrize("path", [HELD_OUT, HELD_OUT / "after_fixes"])
def test_the_held_out_suites_load(path):
    assert _lines(path)


def test_no_held_out_line_is_a_bundled_suite_line():
    assert not (_lines(HELD_OUT) | _lines(HELD_OUT / "after_fixes")) & _lines(bundled_suites_dir())


def test_no_held_out_line_is_written_into_the_rules_backend_or_its_tests():
    # (lines of 8 characters or more: a short one such as 嗯嗯 may occur by chance)
    sources = [p.read_text(encoding="utf-8") for p in (*RULES.glob("*.py"), *TESTS.glob("test_rules_*.py"))]
    lines = {line for line in _lines(HELD_OUT) | _lines(HELD_OUT / "after_fixes") if len(line) >= 8}
    assert not [line for line in lines if any(line in source for source in sources)]
