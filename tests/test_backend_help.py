"""`--backend`'s help names what each tool accepts: evalharness also the harness-only backends, which are
exactly the registry's non-chat ones; hotel-agent only the chat ones."""

from __future__ import annotations

import re

from click.testing import CliRunner

from agent.app.cli import main as hotel_agent
from backends.registry import available
from evalharness.cli import main as evalharness


def backend_help(command, *args: str) -> str:
    result = CliRunner().invoke(command, [*args, "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output.split("--backend", 1)[1].split("--model", 1)[0])


def test_evalharness_run_help_lists_every_harness_only_backend():
    harness_only = [e.name for e in available() if not e.chat]
    assert harness_only  # gold and reply-only: a registry without them would make this test vacuous
    assert f"harness-only: {', '.join(harness_only)}" in backend_help(evalharness, "run")


def test_the_chat_help_names_no_harness_only_backend():
    text = backend_help(hotel_agent)
    assert "harness-only" not in text and "hotel-agent backends" in text
