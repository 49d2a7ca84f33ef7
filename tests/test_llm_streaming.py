"""Streaming and stopping an LLM reply, with tiny models scripted to write exact text: no piece of the role a
ChatML or Llama-3 model writes first is ever streamed, and a cancel set from another thread stops generation
within a step and leaves the reply text streamed so far (never a role fragment) as the turn."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.core.turns import AssistantTurn, Dialogue, SearchTurn, UserTurn
from backends.llm.backend import LLMBackend, create_backend

from tiny_models import save_tiny

pytest.importorskip("torch")

ASK = Dialogue((UserTurn("有没有经济型的酒店？"),))
REPLY = "为您推荐北京饭店，电话是010-65137766。"
# What each family writes before the reply text (after the generation prompt the template ends with).
ROLE = {"qwen2": ["ass", "istant", "\n"], "llama3": ["ass", "istant", "<|end_header_id|>", "\n\n"]}
END = {"qwen2": "<|im_end|>", "llama3": "<|eot_id|>"}
STEP_S = 0.02  # a real small model's pace on a CPU: a 200-token reply takes 4 s unless stopped


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-streaming")
    return {family: save_tiny(family, root / family) for family in ROLE}


class Script:
    """Makes the model write `parts` (each a string tokenized on its own, so "ass" + "istant" are two
    tokens), then repeat the last token: every forward pass of generate() (the ones given position ids;
    reading the prompt in chunks leaves them to the model) has its logits forced to the next scripted token,
    and takes STEP_S. `steps` counts those decoding steps, `passes` every forward pass."""

    def __init__(self, backend: LLMBackend, parts: Sequence[str], *, cancel: threading.Event | None = None):
        tokenizer = backend.loaded.tokenizer
        self.ids = [i for part in parts for i in tokenizer.encode(part, add_special_tokens=False)]
        self.first_part = len(tokenizer.encode(parts[0], add_special_tokens=False))
        self.cancel = cancel  # set once the first part is written (Escape while the model writes its role)
        self.steps = self.passes = 0
        backend.loaded.model.register_forward_hook(self._force, with_kwargs=True)

    def _force(self, module, args, kwargs, output):
        self.passes += 1
        if "position_ids" not in kwargs:  # a chunk of the prompt
            return output
        if self.cancel is not None and self.steps == self.first_part:
            self.cancel.set()
        token = self.ids[min(self.steps, len(self.ids) - 1)]
        self.steps += 1
        output.logits[:, -1, :] = float("-inf")
        output.logits[:, -1, token] = 0.0
        time.sleep(STEP_S)
        return output


def scripted(model_dirs: dict[str, Path], family: str, parts: Sequence[str], cancel: threading.Event | None = None):
    backend = create_backend(family, "prompt", model=str(model_dirs[family]), max_new_tokens=200)
    return backend, Script(backend, parts, cancel=cancel)


def stream(backend: LLMBackend, cancel: threading.Event | None = None, on_piece=None):
    pieces: list[str] = []

    def on_text(_index: int, text: str) -> None:
        pieces.append(text)
        if on_piece is not None:
            on_piece(pieces)

    prediction = backend.predict([ASK], on_text=on_text, cancel=cancel)[0]
    return prediction, pieces


@pytest.mark.parametrize("family", ROLE)
def test_a_reply_streams_its_text_and_no_piece_of_the_role(model_dirs, family):
    backend, _ = scripted(model_dirs, family, [*ROLE[family], *REPLY, END[family]])
    prediction, pieces = stream(backend)
    assert "".join(pieces) == REPLY
    assert not any("ass" in piece or "istant" in piece or "<|" in piece for piece in pieces)
    assert prediction.turn == AssistantTurn(REPLY)


@pytest.mark.parametrize("family", ROLE)
def test_a_search_streams_nothing(model_dirs, family):
    role = ["search", *ROLE[family][2:]]
    backend, _ = scripted(model_dirs, family, [*role, '{"type": "经济型"}', END[family]])
    prediction, pieces = stream(backend)
    assert pieces == [] and prediction.turn == SearchTurn({"type": "经济型"})


@pytest.mark.parametrize("family", ROLE)
def test_a_cancel_from_another_thread_stops_generation_within_a_step_and_keeps_the_streamed_reply(model_dirs, family):
    backend, script = scripted(model_dirs, family, [*ROLE[family], *REPLY, *itertools.repeat("好", 200)])
    cancel, streaming = threading.Event(), threading.Event()
    stopped_at: dict[str, float] = {}

    def press_escape() -> None:  # the user, on the UI thread, a moment after the reply starts to show
        streaming.wait(timeout=30)
        time.sleep(5 * STEP_S)
        stopped_at["steps"], stopped_at["time"] = script.steps, time.monotonic()
        cancel.set()

    user = threading.Thread(target=press_escape)
    user.start()
    prediction, pieces = stream(backend, cancel, on_piece=lambda _pieces: streaming.set())
    returned = time.monotonic()
    user.join()
    assert returned - stopped_at["time"] < 1.0
    assert script.steps - stopped_at["steps"] <= 2  # the step under way, at most one more
    assert script.steps < 100  # far from the 200 tokens it would have written
    shown = "".join(pieces)
    assert shown and REPLY.startswith(shown.rstrip("好")) and not shown.startswith(("ass", "istant", "\n"))
    assert prediction.turn == AssistantTurn(shown)


@pytest.mark.parametrize("family", ROLE)
def test_a_reply_stopped_while_the_model_writes_its_role_is_empty_not_a_fragment(model_dirs, family):
    cancel = threading.Event()
    backend, _ = scripted(model_dirs, family, [*ROLE[family], *REPLY, END[family]], cancel=cancel)
    prediction, pieces = stream(backend, cancel)
    assert pieces == [] and prediction.turn == AssistantTurn("")
    assert prediction.raw and "assistant".startswith(prediction.raw)  # the raw text keeps what was written


@pytest.mark.parametrize("family", ROLE)
def test_a_cancel_while_the_prompt_is_read_stops_before_the_first_token(model_dirs, family):
    from backends.llm.generation import PREFILL_CHUNK

    cancel = threading.Event()
    backend, script = scripted(model_dirs, family, [*ROLE[family], *REPLY, END[family]])
    prompt_length = len(backend.encode_prompt(ASK))
    assert prompt_length > 3 * PREFILL_CHUNK  # the prompt-only prompt: system text and examples
    backend.loaded.model.register_forward_hook(lambda *_: cancel.set())  # Escape during the first chunk
    prediction, pieces = stream(backend, cancel)
    assert script.passes == 1 and script.steps == 0  # one chunk read, no token generated
    assert pieces == [] and prediction.turn == AssistantTurn("") and prediction.raw == ""


@pytest.mark.parametrize("family", ROLE)
def test_reading_the_prompt_in_chunks_gives_the_cache_of_reading_it_at_once(model_dirs, family):
    import torch

    from backends.llm.generation import prefill_rows

    backend = create_backend(family, "prompt", model=str(model_dirs[family]))
    prompt = backend.encode_prompt(ASK)[:300]
    with torch.inference_mode():
        whole = prefill_rows(backend.loaded.model, [prompt], len(prompt), chunk=len(prompt))
        chunked = prefill_rows(backend.loaded.model, [prompt], len(prompt), chunk=7)
    for a, b in zip(whole.layers, chunked.layers):
        assert torch.allclose(a.keys, b.keys, atol=1e-5) and torch.allclose(a.values, b.values, atol=1e-5)
