"""`finetune augment`: generated dialogues use real tool results, never copy an evaluation line, claim nothing
false, cover every skill, and are reproducible."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.core.bookings import Bookings
from agent.core.codecs import dialogue_from_json_line, dialogue_to_json_line, read_dialogues
from agent.core.errors import DataFormatError
from agent.core.places import place_index
from agent.core.store import HotelStore
from agent.core.turns import AssistantTurn, BookTurn, CancelTurn, Dialogue, ResultTurn, ReturnTurn, SearchTurn, UserTurn
from agent.dialogue.claims import false_claim
from agent.dialogue.loop import DialogueLoop, Reply
from evalharness.conversations import utterances
from evalharness.conversations.facility_words import FACILITY_WORDS
from evalharness.nearx import phrasings as nearx_phrasings
from finetune.augment import scenes
from finetune.augment.generate import RECIPES, generate, open_world
from finetune.augment.guard import Forbidden, default_forbidden, normalize, suite_lines
from finetune.augment.phrasings import load_phrasings
from finetune.cli import main
from finetune.data_report import build_report

from scripted_backend import ScriptedBackend

COUNT = 240
SEED = 5
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def world():
    return open_world(load_phrasings())


@pytest.fixture(scope="module")
def generated(world):
    return generate(world, default_forbidden(), count=COUNT, seed=SEED)


def user_turns(generated):
    return [t.content for d in generated.dialogues for t in d if isinstance(t, UserTurn)]


# --- reproducible, complete ------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_dialogues_and_another_seed_others(world, generated):
    again = generate(world, default_forbidden(), count=COUNT, seed=SEED)
    other = generate(world, default_forbidden(), count=COUNT, seed=SEED + 1)
    lines = [dialogue_to_json_line(d) for d in generated.dialogues]
    assert lines == [dialogue_to_json_line(d) for d in again.dialogues]
    assert lines != [dialogue_to_json_line(d) for d in other.dialogues]


def test_every_main_skill_gets_its_share_of_the_dialogues(generated):
    assert len(generated.dialogues) == COUNT
    for skill, (_, share) in RECIPES.items():
        assert abs(generated.main_skills[skill] - share * COUNT) <= 1, skill


def test_the_scenes_cover_every_skill_the_issue_names(generated):
    scenes_seen = set(generated.scenes)
    for wanted in (
        "later search: added",
        "later search: changed",
        "later search: dropped",
        "question about a shown hotel",
        "facility question",
        "booking: every detail at once",
        "booking: details over several turns",
        "booking refused: past",
        "booking refused: unknown hotel",
        "cancel",
        "near search",
        "clarifying question",
        "Chinese-only notice",
    ):
        assert wanted in scenes_seen, wanted


def test_every_dialogue_round_trips_through_the_course_format(generated):
    for dialogue in generated.dialogues:
        assert dialogue_from_json_line(dialogue_to_json_line(dialogue)) == dialogue


# --- real tool results -------------------------------------------------------------------------------------------


def test_every_return_turn_is_what_the_store_returns_for_its_call(world, generated):
    for dialogue in generated.dialogues:
        for call, answer in zip(dialogue.turns, dialogue.turns[1:]):
            if isinstance(call, SearchTurn):
                assert isinstance(answer, ReturnTurn)
                assert answer.records == world.store.search(call.arguments, limit=3).records


def test_replayed_through_the_dialogue_loop_every_call_gets_the_recorded_result(generated, tmp_path):
    """The agent's turns of 40 dialogues, played by a scripted backend through the real loop, store and bookings
    on each dialogue's own date, with the user confirming exactly where the data says so: same records, same
    booking results, same errors."""
    for number, (dialogue, today) in enumerate(list(zip(generated.dialogues, generated.todays))[:40]):
        store = HotelStore.open(tmp_path / str(number) / "hotels.json")
        loop = DialogueLoop(
            ScriptedBackend(script=lambda d, turns=dialogue.turns: turns[len(d)]),
            store,
            Bookings(store),
            today=lambda today=today: today,
        )
        answers = iter(
            not t.result.get("declined")
            for t in dialogue
            if isinstance(t, ResultTurn) and ("error" not in t.result or t.result.get("declined"))
        )
        replayed = Dialogue()
        for turn in dialogue:
            if isinstance(turn, UserTurn):
                for event in loop.respond(
                    replayed, turn.content, confirm=lambda p, answers=answers: p if next(answers) else None
                ):
                    if isinstance(event, Reply):
                        replayed = event.dialogue
        assert [t.role for t in replayed] == [t.role for t in dialogue]
        for got, want in zip(replayed, dialogue):
            if isinstance(want, (ReturnTurn, ResultTurn, UserTurn, AssistantTurn)):
                assert got == want, f"dialogue {number}"


def test_no_reply_claims_a_booking_or_cancellation_that_did_not_happen(generated):
    for dialogue in generated.dialogues:
        for index, turn in enumerate(dialogue):
            if isinstance(turn, AssistantTurn):
                so_far = dialogue[: index + 1]
                assert false_claim(turn.content, so_far, so_far.exchange_start()) is None, turn.content


def test_booking_and_cancel_calls_name_shown_hotels_and_booking_ids_the_results_gave(generated):
    for dialogue in generated.dialogues:
        for index, turn in enumerate(dialogue):
            if isinstance(turn, CancelTurn):
                earlier = {t.result.get("booking_id") for t in dialogue.turns[:index] if isinstance(t, ResultTurn)}
                assert turn.arguments["booking_id"] in earlier
            if isinstance(turn, BookTurn):
                assert set(turn.arguments) == {"hotel", "guest", "check_in", "nights"}


def test_facility_answers_agree_with_the_evaluators_answer_key_and_the_store(world):
    """The generator's facility words mean what the conversation judge and the store's facility map say they mean,
    so a yes/no answered from the record is the answer a search would give and the judge expects."""
    phrasings = world.phrasings
    for word, meant in phrasings.facilities.items():
        assert set(world.store.facility_map.map(word)) == set(meant), word
        if word in FACILITY_WORDS:
            assert set(FACILITY_WORDS[word]) == set(meant), word


def test_near_searches_name_the_place_the_user_named(generated):
    index = place_index()
    for dialogue in generated.dialogues:
        for previous, turn in zip(dialogue.turns, dialogue.turns[1:]):
            if isinstance(turn, SearchTurn) and "near" in turn.arguments:
                near = turn.arguments["near"]
                assert isinstance(previous, UserTurn) and near in previous.content
                if near not in scenes.FAKE_PLACES:
                    assert index.resolve(near).place is not None


def test_every_date_phrase_reads_as_the_day_it_names():
    today = dt.date(2026, 11, 29)
    for offset in range(0, 70):
        day = today + dt.timedelta(days=offset)
        texts = scenes.date_texts(day, today)
        assert texts and f"{day.month}月{day.day}日" in texts


def test_generated_data_needs_no_cleaning(generated, tmp_path):
    path = tmp_path / "augment.jsonl"
    path.write_text("".join(dialogue_to_json_line(d) + "\n" for d in generated.dialogues), encoding="utf-8")
    report = build_report(path)
    assert (report.fixes, report.duplicates, report.unseen) == ([], [], [])


# --- never an evaluation line ----------------------------------------------------------------------------------


def test_no_user_turn_copies_a_dev_or_test_turn_or_a_suite_line(generated):
    forbidden = default_forbidden()
    assert len(forbidden) > 700  # the course's dev and test turns and the suites' lines were read
    assert [t for t in user_turns(generated) if forbidden.source_of(t)] == []


def test_a_draft_copying_a_forbidden_line_is_drawn_again(world):
    forbidden = default_forbidden()
    plain = generate(world, forbidden, count=30, seed=9)
    copied = user_turns(plain)[0]
    forbidden.add([copied], "a test line")
    again = generate(world, forbidden, count=30, seed=9)
    assert copied not in user_turns(again)
    assert again.redrawn["a user turn copies a test line"] >= 1


def test_lines_are_compared_without_spaces_case_and_end_punctuation():
    forbidden = Forbidden()
    forbidden.add(["第二家的电话是多少？"], "suite")
    assert forbidden.source_of("第二家的电话是多少") == "suite"
    assert forbidden.source_of(" 第二家的电话是多少。") == "suite"
    assert forbidden.source_of("第二家的地址是多少") is None
    assert normalize("Hello, World!") == "hello,world"


def test_the_suites_lines_are_read_from_every_file():
    files = {name for _, name in suite_lines(REPO / "evalharness" / "suites")}
    assert {"ordinals.yaml", "booking_at_once.yaml", "fallbacks.yaml", "near.yaml"} <= files


def _template_patterns(templates):
    """Regexes of format-string templates: literal text exact, a placeholder any stretch without clause punctuation."""
    patterns = []
    for template in templates:
        pieces = re.split(r"\{[^{}]*\}", template)
        if sum(len(p.strip()) for p in pieces) < 2:  # a bare placeholder matches anything
            continue
        patterns.append(re.compile("[^，,。？?！!；;：:]+".join(re.escape(p) for p in pieces)))
    return patterns


def _simulator_templates():
    """Every string and f-string of the simulator's phrasings, f-string fields as placeholders."""
    tree = ast.parse(Path(utterances.__file__).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append("".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in node.values))
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"[\u4e00-\u9fff]", node.value)
        ):
            found.append(node.value)
    return found


def _nearx_templates():
    found = []
    for name in dir(nearx_phrasings):
        value = getattr(nearx_phrasings, name)
        items = value.values() if isinstance(value, dict) else [value] if isinstance(value, str) else value
        for item in items if isinstance(items, (list, tuple, type({}.values()))) else []:
            for entry in item if isinstance(item, tuple) else [item]:
                if isinstance(entry, str) and "{" in entry:
                    found.append(entry)
    return found


def test_no_user_turn_fits_a_simulator_or_near_x_template(generated):
    patterns = _template_patterns(_simulator_templates() + _nearx_templates())
    assert len(patterns) > 60
    fitting = [(t, p.pattern) for t in user_turns(generated) for p in patterns if p.fullmatch(t)]
    assert fitting == []


def test_no_phrasing_template_is_an_evaluation_template_with_other_placeholders(world):
    """Whole-turn templates only: fragments such as 评分{r}以上 or {date}入住 are how anyone says it."""

    def skeleton(template):
        return re.sub(r"\{[^{}]*\}", "{}", template).strip("？?。！!")

    theirs = {skeleton(t) for t in _simulator_templates() + _nearx_templates()}
    ours = {(section, skeleton(t)) for section, t in world.phrasings.line_templates()}
    assert [(section, s) for section, s in ours if s in theirs and len(s.replace("{}", "")) >= 2] == []


# --- the phrasing file -----------------------------------------------------------------------------------------


def test_a_template_with_an_unknown_placeholder_is_a_one_line_error_naming_the_section(tmp_path):
    text = (Path(load_phrasings.__code__.co_filename).parent / "phrasings.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('ask_phone: ["{ref}电话多少"', 'ask_phone: ["{hotel}电话多少"'), encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad\.yaml: section 'ask_phone': .*\{hotel\}.*may use: ref"):
        load_phrasings(bad)


def test_a_missing_section_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("surnames: [王]\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="missing section"):
        load_phrasings(bad)


# --- the command -----------------------------------------------------------------------------------------------


def test_the_command_writes_the_file_and_reports_counts_per_skill(tmp_path):
    out = tmp_path / "augment.jsonl"
    result = CliRunner().invoke(main, ["augment", "--out", str(out), "--dialogues", "30", "--seed", "2", "--report"])
    assert result.exit_code == 0, result.output
    assert len(list(read_dialogues(out))) == 30
    assert "main skill:" in result.output and "later-turn searches" in result.output
    assert re.search(r"first search\s+\d+", result.output)
    assert "wrote 30 dialogues" in result.output


def test_zero_dialogues_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["augment", "--out", str(tmp_path / "x.jsonl"), "--dialogues", "0"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: --dialogues must be at least 1, got 0"


def test_written_lines_are_the_course_format(tmp_path):
    out = tmp_path / "augment.jsonl"
    CliRunner().invoke(main, ["augment", "--out", str(out), "--dialogues", "5"])
    for line in out.read_text(encoding="utf-8").splitlines():
        messages = json.loads(line)["messages"]
        assert messages[0]["role"] == "system" and messages[0]["tools"]
        assert {m["role"] for m in messages} <= {"system", "user", "assistant", "observation"}
