import json

import pytest

from agent.core.errors import ArgumentError
from agent.core.schema import course_search_tool, validate_arguments


def test_tool_schema_is_the_one_in_the_course_data(data_dir):
    first = json.loads((data_dir / "hotel" / "test.glm4.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["messages"][0]["tools"] == [course_search_tool()]


def test_numbers_become_floats():
    assert validate_arguments({"price_range_upper": 700, "rating_range_lower": "4"}) == {
        "price_range_upper": 700.0,
        "rating_range_lower": 4.0,
    }


def test_none_values_are_dropped():
    assert validate_arguments({"name": None, "type": "经济型"}) == {"type": "经济型"}


def test_facilities_keep_the_users_words():
    assert validate_arguments({"facilities": [" 无线网络 ", "叫醒服务"]}) == {"facilities": ["无线网络", "叫醒服务"]}


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"stars": 5}, "unknown argument 'stars'"),
        ({"type": "五星级"}, "must be one of"),
        ({"rating_range_lower": 6}, "at most 5"),
        ({"price_range_lower": -1}, "at least 0"),
        ({"price_range_lower": 500, "price_range_upper": 300}, "greater than price_range_upper"),
        ({"facilities": "无线网络"}, "list of strings"),
        ({"facilities": [""]}, "non-empty string"),
        ({"facilities": ["wifi"] * 21}, "at most 20 items"),
        ({"name": "店" * 101}, "too long"),
        ({"price_range_upper": 10**400}, "far too large"),
        ({"price_range_upper": float("nan")}, "finite number"),
        ({"price_range_upper": "5" * 8000}, "must be a number"),
        ({"price_range_upper": "cheap"}, "must be a number"),
        ({"price_range_upper": True}, "must be a number"),
        ({"price_range_upper": float("nan")}, "finite"),
        (["type"], "JSON object"),
    ],
)
def test_bad_arguments_get_a_clear_error(arguments, message):
    with pytest.raises(ArgumentError, match=message):
        validate_arguments(arguments)
