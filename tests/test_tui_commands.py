"""agent.app.tui.commands: slash commands typed in the chat."""

from __future__ import annotations

import pytest

from agent.app.tui.commands import CommandError, Export, Help, Reset, SwitchBackend, is_command, parse_command


def test_backend_command_takes_the_command_line_options():
    assert parse_command(
        "/backend lora-qwen2 --model ./base --adapter=adapters/x --max-new-tokens 64"
    ) == SwitchBackend("lora-qwen2", {"model": "./base", "adapter": "adapters/x", "max_new_tokens": 64})


def test_backend_command_without_a_name_says_how_to_use_it():
    with pytest.raises(CommandError, match="usage: /backend NAME"):
        parse_command("/backend")


def test_backend_command_rejects_an_unknown_option():
    with pytest.raises(CommandError, match="unknown option --temperature"):
        parse_command("/backend rules --temperature 0.3")


def test_max_new_tokens_must_be_a_number():
    with pytest.raises(CommandError, match="whole number"):
        parse_command("/backend prompt-qwen2 --max-new-tokens lots")


def test_export_needs_exactly_one_file():
    assert parse_command("/export 'my chats.jsonl'") == Export("my chats.jsonl")
    with pytest.raises(CommandError, match="usage: /export FILE"):
        parse_command("/export")


def test_simple_commands_parse_and_refuse_arguments():
    assert parse_command("/reset") == Reset()
    assert parse_command("/HELP") == Help()
    with pytest.raises(CommandError, match="takes no arguments"):
        parse_command("/reset now")


def test_unknown_command_points_to_help():
    with pytest.raises(CommandError, match="/help"):
        parse_command("/book 汉庭")


@pytest.mark.parametrize("text", ["价格100/200之间", "/", "/ 你好", "/酒店"])
def test_slashes_in_ordinary_messages_are_not_commands(text):
    assert not is_command(text)
