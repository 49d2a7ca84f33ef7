"""`finetune data-report`: counts, duplicates and suspicious labels with line numbers; `--clean` fixes and logs."""

from __future__ import annotations

from click.testing import CliRunner

from agent.core.codecs import dialogue_to_json_line, read_dialogues
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from finetune.cli import main
from finetune.data_report import bound_fixes, build_report, number_cues, spoken_numbers, unseen_values, write_clean

WRONG_BOUND = Dialogue(
    (
        UserTurn("请帮我找一个价格低于500元的酒店。"),
        SearchTurn({"price_range_lower": 500}),
        ReturnTurn([]),
        UserTurn("要有无线网络"),
        SearchTurn({"price_range_lower": 500, "facilities": ["无线网络"]}),
    )
)
RIGHT_BOUND = Dialogue(
    (
        UserTurn("请帮我找个价格不低于600的酒店"),
        SearchTurn({"price_range_lower": 600}),
        ReturnTurn([]),
        AssistantTurn("没有找到。"),
    )
)


def write(path, dialogues):
    path.write_text("".join(dialogue_to_json_line(d) + "\n" for d in dialogues), encoding="utf-8")
    return path


def test_upper_bound_words_with_only_a_lower_bound_are_flagged_in_every_search_that_carries_it():
    fixes = bound_fixes(WRONG_BOUND, line=7)
    assert [(f.line, f.turn, f.wrong, f.right, f.value) for f in fixes] == [
        (7, 1, "price_range_lower", "price_range_upper", 500),
        (7, 4, "price_range_lower", "price_range_upper", 500),
    ]


def test_negated_cues_keep_their_own_direction():
    assert number_cues("价格不低于600") == [(600.0, "lower")]
    assert number_cues("不超过400元") == [(400.0, "upper")]
    assert number_cues("300元以下") == [(300.0, "upper")]
    assert number_cues("价格不要超过1200元") == [(1200.0, "upper")]  # train line 202: labelled right
    assert number_cues("价格不能低于800元") == [(800.0, "lower")]  # train line 274: labelled right
    assert number_cues("不到300") == [(300.0, "upper")]
    assert number_cues("300到500的") == []
    assert bound_fixes(RIGHT_BOUND) == []


def test_a_rating_cue_fixes_the_rating_bound():
    dialogue = Dialogue((UserTurn("评分4.5分以上的"), SearchTurn({"rating_range_upper": 4.5})))
    assert [(f.wrong, f.right) for f in bound_fixes(dialogue)] == [("rating_range_upper", "rating_range_lower")]


def test_spoken_chinese_numbers_count_as_mentioned():
    assert {300.0, 500.0} <= spoken_numbers("价格三五百的")
    assert {500.0, 600.0} <= spoken_numbers("五百多")
    assert 4.5 in spoken_numbers("四点五分")


def test_values_that_appear_nowhere_earlier_are_listed_but_mentioned_ones_are_not():
    dialogue = Dialogue(
        (
            UserTurn("找一家价格200-300元、有早餐的酒店"),
            SearchTurn({"price_range_lower": 300, "price_range_upper": 400, "facilities": ["早餐服务"]}),
        )
    )
    unseen = {(u.key, u.value) for u in unseen_values(dialogue, line=3)}
    assert unseen == {("price_range_upper", 400), ("facilities", "早餐服务")}


def test_report_counts_turns_slots_and_duplicates_with_line_numbers(tmp_path):
    path = write(tmp_path / "d.jsonl", [WRONG_BOUND, RIGHT_BOUND, WRONG_BOUND])
    report = build_report(path)
    assert report.dialogues == 3
    assert report.turns["search"] == 5 and report.turns["assistant"] == 1
    assert report.slots["price_range_lower"] == 5 and report.slots["facilities"] == 2
    assert report.duplicates == [(3, 1)]
    assert {f.line for f in report.fixes} == {1, 3}
    text = report.render()
    assert "line 3 repeats line 1" in text
    assert "line 1 turn 1: price_range_lower=500 → price_range_upper=500" in text


def test_clean_fixes_bounds_drops_duplicates_and_logs_every_change(tmp_path):
    source = write(tmp_path / "d.jsonl", [WRONG_BOUND, RIGHT_BOUND, WRONG_BOUND])
    out = tmp_path / "clean.jsonl"
    assert write_clean(source, out) == (2, 3)
    cleaned = list(read_dialogues(out))
    assert cleaned[0][1].arguments == {"price_range_upper": 500}
    assert cleaned[0][4].arguments == {"facilities": ["无线网络"], "price_range_upper": 500}
    assert out.read_text(encoding="utf-8").splitlines()[1] == source.read_text(encoding="utf-8").splitlines()[1]
    log = (tmp_path / "clean.jsonl.log").read_text(encoding="utf-8").splitlines()
    assert log == [
        "line 1 turn 1: price_range_lower=500 → price_range_upper=500 (user: 请帮我找一个价格低于500元的酒店。)",
        "line 1 turn 4: price_range_lower=500 → price_range_upper=500 (user: 请帮我找一个价格低于500元的酒店。)",
        "line 3: dropped, a duplicate of line 1",
    ]


def test_course_train_file_report(data_dir):
    report = build_report(data_dir / "hotel" / "train.glm4.jsonl")
    assert report.dialogues == 1599
    assert report.samples["search"] + report.samples["assistant"] == report.turns["search"] + report.turns["assistant"]
    assert any(f.line == 59 and f.wrong == "price_range_lower" for f in report.fixes)  # "价格低于500元"


def test_cli_reports_and_cleans(tmp_path):
    source = write(tmp_path / "d.jsonl", [WRONG_BOUND, RIGHT_BOUND])
    result = CliRunner().invoke(main, ["data-report", str(source), "--clean", str(tmp_path / "c.jsonl")])
    assert result.exit_code == 0, result.output
    assert "2 dialogues" in result.output and "2 changes logged" in result.output


def test_cli_bad_line_is_one_line_error_naming_it(tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_text(dialogue_to_json_line(RIGHT_BOUND) + "\n{not json\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["data-report", str(source)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {source}:2: not JSON")
