"""agent.core.strict_json: JSON from outside read strictly, every failure one JSONError with a message."""

from __future__ import annotations

import pytest

from agent.core.strict_json import JSONError, loads


def test_well_formed_json_reads_as_json():
    assert loads('{"type": "经济型", "facilities": ["无线网络"], "n": 3}') == {
        "type": "经济型",
        "facilities": ["无线网络"],
        "n": 3,
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"type": "经济型", "type": "豪华型"}', "'type' appears twice"),
        ('[{"a": 1}, {"b": {"c": 1, "c": 1}}]', "'c' appears twice"),
        ("[" * 60_000, "nested too deeply"),
        ("9" * 5_000, "too many digits"),
        ('{"type": ', "at line 1 column 10"),
    ],
)
def test_what_json_loads_would_take_silently_or_crash_on_is_a_json_error(text: str, message: str):
    with pytest.raises(JSONError, match=message):
        loads(text)
