"""`evalharness analyze`: slots per key, replies by kind, search exact matches and wrong-kind samples."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from agent.core.codecs import Sample
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from backends.gold import GoldBackend
from backends.reply_only import ReplyOnlyBackend
from evalharness.analysis import SlotErrors, analyze, reply_kind, slot_errors
from evalharness.cli import main
from evalharness.runner import PREDICTIONS, RunOptions, evaluate, read_predictions

from scripted_backend import ScriptedBackend


def finished(backend, data: Path, out: Path) -> Path:
    evaluate(backend, backend.name, RunOptions(data=data, out=out, quiet=True))
    return out


def sample(*turns) -> Sample:
    return Sample(Dialogue(turns), AssistantTurn("…"))


def test_a_reply_right_after_search_results_presents_them():
    assert reply_kind(sample(UserTurn("找经济型酒店"), SearchTurn({"type": "经济型"}), ReturnTurn([]))) == "results"


def test_a_booking_or_goodbye_is_a_closing():
    assert reply_kind(sample(UserTurn("好的，就订这家了"))) == "closing"
    assert reply_kind(sample(UserTurn("谢谢，再见"))) == "closing"


def test_a_question_about_a_shown_hotel_is_a_follow_up():
    assert reply_kind(sample(UserTurn("这家酒店的电话是多少？"))) == "follow-up"


def test_a_search_with_the_gold_arguments_has_no_slot_errors():
    gold = {"type": "经济型", "facilities": ["无烟房", "租车"], "rating_range_lower": 4.5}
    assert slot_errors(dict(gold), gold) == SlotErrors()


def test_a_right_value_under_another_key_is_told_apart_from_a_wrong_value():
    errors = slot_errors({"name": "经济型", "price_range_lower": 300}, {"type": "经济型", "price_range_lower": 400})
    assert (errors.under_another_key, errors.wrong_value, errors.key_not_asked) == (1, 1, 0)
    assert errors.confusions == (("type", "name"),)


def test_a_gold_slot_is_missed_either_under_another_key_or_unwritten():
    errors = slot_errors(
        {"facilities": ["豪华型"]}, {"type": "豪华型", "facilities": ["无烟房"], "rating_range_lower": 4.5}
    )
    assert (errors.missed_misplaced, errors.missed_unwritten) == (1, 2)


def test_a_key_the_user_never_asked_for_counts_as_not_asked():
    errors = slot_errors({"facilities": ["接机"], "price_range_upper": 1000}, {"facilities": ["接机"]})
    assert (errors.key_not_asked, errors.missed_unwritten) == (1, 0)


def test_slot_errors_account_for_every_slot_a_reply_only_run_missed(small_data: Path, tmp_path: Path):
    run = finished(ReplyOnlyBackend(), small_data, tmp_path / "reply")
    gold = sum(
        len(v) if isinstance(v, list) else 1
        for r in read_predictions(run / PREDICTIONS)
        if r["expected"]["role"] == "search"
        for v in r["expected"]["arguments"].values()
    )
    text = "\n".join(analyze(run).lines)
    assert gold > 0 and f"missed by replying instead of searching: {gold}" in text


def test_the_gold_run_makes_every_search_exactly_and_no_wrong_kind(small_data: Path, tmp_path: Path):
    text = "\n".join(analyze(finished(GoldBackend(small_data), small_data, tmp_path / "gold")).lines)
    assert "- reply where a search was due: 0" in text and "- search where a reply was due: 0" in text
    searches = next(line for line in text.splitlines() if line.endswith("of those due)"))
    due = int(searches.split()[1])
    assert f"{due} made; {due} with exactly the gold arguments (100.0% of those due)" in searches


def test_wrong_kind_samples_are_listed_with_the_users_words(small_data: Path, tmp_path: Path):
    text = "\n".join(analyze(finished(ReplyOnlyBackend(), small_data, tmp_path / "reply"), cases=2).lines)
    listed = [line for line in text.splitlines() if line.startswith("  - #")]
    assert len(listed) == 2 and all("expected search, got assistant" in line for line in listed)


def test_a_reply_stuck_in_a_loop_is_counted(small_data: Path, tmp_path: Path):
    looping = ScriptedBackend(script=lambda dialogue: AssistantTurn("推荐推荐推荐推荐推荐推荐"))
    text = "\n".join(analyze(finished(looping, small_data, tmp_path / "loop")).lines)
    rows = [line for line in text.splitlines() if line.startswith(("| results |", "| follow-up |", "| closing |"))]
    assert rows and all(line.split("|")[2].strip() == line.split("|")[5].strip() for line in rows)


def test_a_run_whose_data_file_is_gone_is_a_one_line_error(small_data: Path, tmp_path: Path):
    run = finished(GoldBackend(small_data), small_data, tmp_path / "gold")
    small_data.unlink()
    result = CliRunner().invoke(main, ["analyze", str(run)])
    assert result.exit_code == 1
    assert result.output == f"error: {run}: its data file {small_data} is not there; pass --data FILE\n"
