"""`finetune run`'s training set: files in ratios, oversampled turn kinds, cleaning — seeded and reported."""

from __future__ import annotations

import pytest

from agent.core.codecs import dialogue_to_json_line
from agent.core.errors import UserError
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from finetune.config import build_config
from finetune.mixing import build_training_set, parse_oversample, parse_share, take
from finetune.turn_kinds import dialogue_has


def one_search(n: int) -> Dialogue:
    return Dialogue(
        (UserTurn(f"找{n}号酒店"), SearchTurn({"name": f"酒店{n}"}), ReturnTurn([]), AssistantTurn("没有。"))
    )


def two_searches(n: int) -> Dialogue:
    return one_search(n).with_turn(UserTurn("要有健身房"), SearchTurn({"name": f"酒店{n}", "facilities": ["健身房"]}))


def write(path, dialogues):
    path.write_text("".join(dialogue_to_json_line(d) + "\n" for d in dialogues), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    train = write(tmp_path / "train.jsonl", [one_search(i) for i in range(8)] + [two_searches(i) for i in range(2)])
    extra = write(tmp_path / "extra.jsonl", [one_search(100 + i) for i in range(10)])
    return train, extra


def test_a_mix_ratio_takes_that_share_of_a_file(files):
    train, extra = files
    half = build_training_set(train, mix=[parse_share(f"{extra}=0.5")])
    assert len(half.dialogues) == 10 + 5
    twice = build_training_set(train, mix=[parse_share(f"{extra}=2")])
    assert len(twice.dialogues) == 10 + 20
    assert [s.used for s in twice.sources] == [10, 20]


def test_a_fractional_ratio_is_a_seeded_sample(files):
    train, extra = files
    first = build_training_set(train, mix=[parse_share(f"{extra}=0.5")], seed=1).dialogues
    same = build_training_set(train, mix=[parse_share(f"{extra}=0.5")], seed=1).dialogues
    other = build_training_set(train, mix=[parse_share(f"{extra}=0.5")], seed=2).dialogues
    assert first == same and first != other


def test_oversampling_repeats_only_the_dialogues_holding_the_kind(files):
    train, _ = files
    result = build_training_set(train, oversample=[("later search", 3)])
    later = [d for d in result.dialogues if dialogue_has(d, "later search")]
    assert len(later) == 2 * 3 and len(result.dialogues) == 10 + 4
    assert result.oversampled["later search"] == {"factor": 3, "holding": 2, "added": 4}


def test_cleaning_fixes_bounds_drops_duplicates_and_counts_fixed_lines(tmp_path):
    wrong = Dialogue((UserTurn("价格低于500元的酒店"), SearchTurn({"price_range_lower": 500}), ReturnTurn([])))
    path = write(tmp_path / "t.jsonl", [wrong, wrong, one_search(1)])
    result = build_training_set(path, clean_data=True)
    [source] = result.sources
    assert (source.dialogues, source.used, source.fixed_lines, source.duplicates_dropped) == (3, 2, 1, 1)
    assert result.dialogues[0][1] == SearchTurn({"price_range_upper": 500})


def test_the_limit_applies_to_the_train_file_only(files):
    train, extra = files
    result = build_training_set(train, mix=[parse_share(str(extra))], limit=3)
    assert [s.used for s in result.sources] == [3, 10]


def test_take_gives_whole_copies_then_a_share():
    import random

    items = [one_search(i) for i in range(4)]
    assert len(take(items, 2.5, random.Random(0))) == 10
    assert take(items, 1, random.Random(0)) == items


@pytest.mark.parametrize(
    "text, message",
    [
        ("data.jsonl=0", "the ratio after '=' must be a positive number"),
        ("data.jsonl=x", "the ratio after '=' must be a positive number"),
        ("=1", "name a dialogue file"),
    ],
)
def test_a_bad_mix_entry_is_a_one_line_error(text, message):
    with pytest.raises(UserError, match=message):
        parse_share(text)


def test_a_mix_entry_without_ratio_takes_the_whole_file():
    assert parse_share("data.jsonl").ratio == 1


def test_an_unknown_kind_or_a_factor_below_one_is_refused():
    with pytest.raises(UserError, match="KIND one of: first search"):
        parse_oversample("second search=2")
    with pytest.raises(UserError, match="at least 1"):
        parse_oversample("later search=0.5")
    assert parse_oversample("later search=2") == ("later search", 2.0)


def test_config_checks_the_training_set_settings_before_any_model_loads():
    base = {"family": "qwen2", "model": "m", "out": "o"}
    with pytest.raises(UserError, match="--oversample"):
        build_config({**base, "oversample": ["nonsense=2"]}, {})
    with pytest.raises(UserError, match="adapter_dtype"):
        build_config({**base, "adapter_dtype": "fp8"}, {})
    config = build_config({**base, "mix": ["a.jsonl=0.5"], "oversample": ["later search=2"]}, {})
    assert config.mix == ("a.jsonl=0.5",) and "- a.jsonl=0.5" in config.to_yaml()
