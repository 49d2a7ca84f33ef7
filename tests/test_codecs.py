import json

import pytest

from agent.core.codecs import (
    dialogue_from_json_line,
    dialogue_to_json_line,
    dialogue_to_samples,
    read_dialogues,
    read_samples,
    sample_from_json_line,
    sample_to_json_line,
)
from agent.core.errors import DataFormatError
from agent.core.turns import AssistantTurn, ReturnTurn, SearchTurn, UserTurn

GLM4_FILES = ["train.glm4.jsonl", "dev.glm4.jsonl", "test.glm4.jsonl"]
SAMPLE_FILES = ["dev.jsonl", "test.jsonl"]


@pytest.mark.parametrize("name", GLM4_FILES)
def test_glm4_files_round_trip_to_equal_json(data_dir, name):
    for number, line in enumerate((data_dir / "hotel" / name).read_text(encoding="utf-8").splitlines(), 1):
        again = dialogue_to_json_line(dialogue_from_json_line(line))
        assert json.loads(again) == json.loads(line), f"{name}:{number}"


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_turn_level_files_round_trip_to_equal_json(data_dir, name):
    for number, line in enumerate((data_dir / "hotel" / name).read_text(encoding="utf-8").splitlines(), 1):
        again = sample_to_json_line(sample_from_json_line(line))
        assert json.loads(again) == json.loads(line), f"{name}:{number}"


def test_glm4_round_trip_is_byte_exact_on_test_file(data_dir):
    lines = (data_dir / "hotel" / "test.glm4.jsonl").read_text(encoding="utf-8").splitlines()
    assert [dialogue_to_json_line(dialogue_from_json_line(line)) for line in lines] == lines


def test_test_dialogues_yield_exactly_the_test_samples(data_dir):
    derived = [
        sample_to_json_line(s)
        for d in read_dialogues(data_dir / "hotel" / "test.glm4.jsonl")
        for s in dialogue_to_samples(d)
    ]
    expected = (data_dir / "hotel" / "test.jsonl").read_text(encoding="utf-8").splitlines()

    def canonical(lines):
        return sorted(json.dumps(json.loads(x), ensure_ascii=False, sort_keys=True) for x in lines)

    assert len(derived) == 560
    # the course shuffled samples after deriving them: equal as multisets, not in order
    assert canonical(derived) == canonical(expected)


def test_dev_dialogues_yield_516_of_the_537_dev_samples(data_dir):
    derived = {
        sample_to_json_line(s)
        for d in read_dialogues(data_dir / "hotel" / "dev.glm4.jsonl")
        for s in dialogue_to_samples(d)
    }
    expected = [sample_to_json_line(s) for s in read_samples(data_dir / "hotel" / "dev.jsonl")]
    assert len(expected) == 537
    assert sum(1 for s in expected if s in derived) == 516


def test_search_messages_become_search_turns():
    line = json.dumps(
        {
            "messages": [
                {"role": "system", "content": "", "tools": []},
                {"role": "user", "content": "有没有经济型酒店"},
                {"role": "assistant", "content": 'search_hotels\n{"type": "经济型"}'},
                {"role": "observation", "content": "[]"},
                {"role": "assistant", "content": "没有找到"},
            ]
        },
        ensure_ascii=False,
    )
    assert dialogue_from_json_line(line).turns == (
        UserTurn("有没有经济型酒店"),
        SearchTurn({"type": "经济型"}),
        ReturnTurn([]),
        AssistantTurn("没有找到"),
    )


def test_samples_skip_turns_without_history():
    from agent.core.turns import Dialogue

    dialogue = Dialogue([AssistantTurn("您好"), UserTurn("经济型"), SearchTurn({"type": "经济型"})])
    assert [s.response for s in dialogue_to_samples(dialogue)] == [SearchTurn({"type": "经济型"})]


def test_read_samples_derives_samples_from_a_dialogue_file(data_dir):
    assert len(list(read_samples(data_dir / "hotel" / "test.glm4.jsonl"))) == 560


def test_corrupt_line_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"context": "[]", "response": "{\\"role\\": \\"assistant\\", \\"content\\": \\"hi\\"}"}\n'
        '{"context": "[", "response": "{}"}\n',
        encoding="utf-8",
    )
    with pytest.raises(DataFormatError, match=r"bad.jsonl:2: 'context' is not valid JSON"):
        list(read_samples(path))


def test_unknown_role_is_a_format_error():
    with pytest.raises(DataFormatError, match="unknown turn role 'robot'"):
        sample_from_json_line(
            json.dumps({"context": '[{"role": "robot"}]', "response": '{"role": "assistant", "content": "x"}'})
        )


def test_response_must_be_an_agent_turn():
    with pytest.raises(DataFormatError, match="tool call or an assistant"):
        sample_from_json_line(json.dumps({"context": "[]", "response": '{"role": "user", "content": "x"}'}))


def test_a_dialogue_searching_near_a_place_lists_the_tool_with_near():
    from agent.core.codecs import dialogue_tools
    from agent.core.schema import SEARCH_HOTELS_TOOL, course_search_tool
    from agent.core.turns import Dialogue

    course = Dialogue((UserTurn("找个经济型酒店"), SearchTurn({"type": "经济型"})))
    near = Dialogue((UserTurn("故宫附近的酒店"), SearchTurn({"near": "故宫"})))
    assert dialogue_tools(course) == [course_search_tool()]
    assert dialogue_tools(near) == [SEARCH_HOTELS_TOOL]
    assert "near" in SEARCH_HOTELS_TOOL["function"]["parameters"]["properties"]
    assert "near" not in course_search_tool()["function"]["parameters"]["properties"]
