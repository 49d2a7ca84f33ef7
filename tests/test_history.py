"""agent.app.history and agent.app.feedback: saved conversations, ratings, `history` / `feedback export`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import agent.app.history as history_module
from agent.app.cli import main
from agent.app.history import HISTORY_FILE, SCHEMA, ConversationHistory
from agent.core.atomic_storage import SchemaTooNewError, meta_set, open_db
from agent.core.codecs import read_dialogues
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn

DIALOGUE = Dialogue(
    (
        UserTurn("找一家经济型酒店"),
        SearchTurn({"type": "经济型"}),
        ReturnTurn([{"name": "汉庭酒店", "price": 200.0}]),
        AssistantTurn("推荐汉庭酒店。"),
        UserTurn("有wifi吗？"),
        AssistantTurn("有的。"),
    )
)


def saved(history: ConversationHistory, dialogue: Dialogue = DIALOGUE, backend: str = "rules"):
    return history.save(replace(ConversationHistory.new(backend), dialogue=dialogue))


def test_a_saved_conversation_reads_back_identical(own_cache: Path):
    conversation = saved(ConversationHistory.open())
    assert ConversationHistory.open().get(conversation.id) == conversation
    assert (own_cache / HISTORY_FILE).is_file()


def test_last_is_the_most_recently_updated(own_cache: Path):
    history = ConversationHistory.open()
    first, second = saved(history), saved(history)
    assert history.last().id == second.id
    history.save(first)
    assert history.last().id == first.id


def test_saves_within_one_millisecond_still_order_as_made(own_cache: Path, monkeypatch):
    frozen = history_module.datetime(2026, 12, 7, 12, 0, tzinfo=history_module.timezone.utc)

    class StoppedClock(history_module.datetime):  # every save in the same instant
        @classmethod
        def now(cls, tz=None):
            return frozen

    monkeypatch.setattr(history_module, "datetime", StoppedClock)
    history = ConversationHistory.open()
    first, second = saved(history), saved(history)
    history.save(first.with_rating(3, "up"))
    assert [c.id for c in history.all()] == [first.id, second.id]


def test_saving_again_replaces_rather_than_duplicates(own_cache: Path):
    history = ConversationHistory.open()
    conversation = saved(history)
    history.save(conversation.with_rating(3, "up"))
    assert [c.id for c in history.all()] == [conversation.id]


def test_rating_a_reply_twice_keeps_the_second(own_cache: Path):
    conversation = saved(ConversationHistory.open()).with_rating(3, "up").with_rating(3, "down")
    assert [(f.turn, f.rating) for f in conversation.feedback] == [(3, "down")]


def test_only_agent_replies_can_be_rated():
    with pytest.raises(ValueError):
        ConversationHistory.new("rules").with_rating(0, "up")


def test_history_file_records_its_schema_version(own_cache: Path):
    ConversationHistory.open()
    meta = open_db(own_cache / HISTORY_FILE).table("meta").all()
    assert {"component": "conversations", "schema_version": SCHEMA.version} in meta


def test_history_from_a_newer_version_is_refused(own_cache: Path):
    meta_set(open_db(own_cache / HISTORY_FILE), "conversations", schema_version=SCHEMA.version + 1)
    with pytest.raises(SchemaTooNewError, match="upgrade hotel-agent"):
        ConversationHistory.open()


def test_a_damaged_conversation_is_reported_not_crashed_on(own_cache: Path):
    history = ConversationHistory.open()
    good = saved(history)
    open_db(own_cache / HISTORY_FILE).table("conversations").insert({"id": "bad", "turns": [{"role": "x"}]})
    listing = history.listing()
    assert [c.id for c in listing.conversations] == [good.id] == [c.id for c in history.all()]
    assert len(listing.damaged) == 1 and "conversation 'bad' in" in listing.damaged[0]
    assert "(started is missing)" in listing.damaged[0]


def test_history_command_lists_conversations_newest_first(own_cache: Path):
    history = ConversationHistory.open()
    old = saved(history, Dialogue((UserTurn("旧的对话"), AssistantTurn("好。"))))
    new = saved(history)
    result = CliRunner().invoke(main, ["history"])
    assert result.exit_code == 0, result.output
    assert result.output.index(new.id) < result.output.index(old.id)
    assert "找一家经济型酒店" in result.output


def test_history_show_json_prints_the_training_format(own_cache: Path):
    conversation = saved(ConversationHistory.open())
    result = CliRunner().invoke(main, ["history", "--show", conversation.id[:6], "--json"])
    assert json.loads(result.output)["messages"][1] == {"role": "user", "content": "找一家经济型酒店"}


def test_history_show_of_an_unknown_id_is_one_line_error(own_cache: Path):
    result = CliRunner().invoke(main, ["history", "--show", "nope"])
    assert result.exit_code == 1 and result.output.startswith("error: no conversation")


def test_feedback_export_writes_each_rated_reply_with_its_dialogue(own_cache: Path, tmp_path: Path):
    history = ConversationHistory.open()
    history.save(saved(history).with_rating(3, "up").with_rating(5, "down"))
    saved(history)  # unrated: not exported
    out = tmp_path / "rated.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["feedback"]["rating"] for line in lines] == ["up", "down"]
    assert list(read_dialogues(out)) == [DIALOGUE[:4], DIALOGUE]


def test_feedback_export_can_keep_only_good_replies(own_cache: Path, tmp_path: Path):
    history = ConversationHistory.open()
    history.save(saved(history).with_rating(3, "up").with_rating(5, "down"))
    out = tmp_path / "good.jsonl"
    CliRunner().invoke(main, ["feedback", "export", str(out), "--rating", "up"])
    assert list(read_dialogues(out)) == [DIALOGUE[:4]]


def test_feedback_export_to_a_missing_directory_is_one_line_error(own_cache: Path, tmp_path: Path):
    result = CliRunner().invoke(main, ["feedback", "export", str(tmp_path / "no" / "such" / "out.jsonl")])
    assert result.exit_code == 1 and result.output.startswith("error: cannot write")
