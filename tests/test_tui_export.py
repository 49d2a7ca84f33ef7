"""agent.app.tui.export: /export appends the conversation to a file as one line of the training format."""

from __future__ import annotations

import pytest

from agent.app.tui.export import export_dialogue
from agent.core.codecs import read_dialogues
from agent.core.errors import UserError
from agent.core.turns import AssistantTurn, BookTurn, Dialogue, ResultTurn, UserTurn

DIALOGUE = Dialogue(
    [
        UserTurn("订汉庭"),
        BookTurn({"hotel": "汉庭酒店", "guest": "张三", "check_in": "2026-12-01", "nights": 2}),
        ResultTurn({"booking_id": 1, "hotel": "汉庭酒店", "status": "confirmed"}),
        AssistantTurn("已为您预订。"),
    ]
)


def test_each_export_appends_one_line_that_reads_back_as_the_dialogue(tmp_path):
    out = tmp_path / "mine.jsonl"
    message = export_dialogue(DIALOGUE, out)
    export_dialogue(DIALOGUE[:1], out)
    assert list(read_dialogues(out)) == [DIALOGUE, DIALOGUE[:1]]
    assert message == f"appended this conversation (4 turns) to {out} as one GLM-4 messages line"


def test_an_empty_conversation_is_not_exported(tmp_path):
    with pytest.raises(UserError, match="nothing to export"):
        export_dialogue(Dialogue(), tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


def test_a_file_that_cannot_be_written_is_one_line(tmp_path):
    with pytest.raises(UserError, match="cannot write .*missing"):
        export_dialogue(DIALOGUE, tmp_path / "missing" / "x.jsonl")
