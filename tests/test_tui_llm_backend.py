"""The chat app with a real LLM backend (a tiny random Qwen2 built in the test): loaded in a worker, the header
names the model, an exchange completes and the app stays usable. Slow: it imports torch (in the worker)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.app.tui.app import HotelAgentApp
from agent.app.tui.transcript import Note
from agent.core.turns import AssistantTurn

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_qwen2(tmp_path_factory, data_dir) -> Path:
    from tiny_models import save_tiny

    return save_tiny("qwen2", tmp_path_factory.mktemp("tiny-qwen2"))


async def wait_until(pilot, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        await pilot.pause(0.05)


async def test_a_prompt_only_backend_loads_and_answers_in_the_app(own_cache, tiny_qwen2):
    app = HotelAgentApp("prompt-qwen2", {"model": str(tiny_qwen2), "max_new_tokens": 8})
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: app.ready.is_set() and app.loading is None)
        assert app.backend is not None, [str(n.render()) for n in app.query(Note)]
        assert app.sub_title == f"backend: prompt-qwen2 · model: {tiny_qwen2}"
        app.prompt.load_text("你好")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.busy and len(app.dialogue) >= 2)
        assert isinstance(app.dialogue[-1], AssistantTurn)  # random weights: any text, but a whole exchange
        assert not [n for n in app.query(Note) if n.kind == "error"]
