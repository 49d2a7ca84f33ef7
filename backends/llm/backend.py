"""The LLM backends: `prompt-<family>`, `lora-<family>`, `qlora-<family>` for every family in the table.

One class serves them all; the family table and the render settings are the only differences. Importing this
module registers the names and imports nothing heavy: the model loads when the backend is created."""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Sequence
from typing import Any

from agent.core.codecs import read_dialogues
from agent.core.datafiles import TRAIN, data_path
from agent.core.errors import UserError
from agent.core.turns import Dialogue
from backends.base import Prediction, TextCallback
from backends.llm.encoding import encode_dialogue, pad_token_id, stop_token_ids
from backends.llm.generation import GenerationSettings, ReplyStreamer, generate_ids, stopped_turn
from backends.llm.loading import METHODS, Loaded, LoadSpec, adapter_sha256, load, resolve
from backends.llm.parsing import parse_agent_turn
from backends.registry import register
from prompts import RenderSettings, example_lines, render_system_prompt, template_hash
from prompts.families import FAMILIES, Family

PROMPT_EXAMPLES = 3


class LLMBackend:
    def __init__(self, spec: LoadSpec, loaded: Loaded, generation: GenerationSettings):
        self.name = spec.backend
        self.spec, self.loaded, self.generation = spec, loaded, generation
        tokenizer = loaded.tokenizer
        self.stop_ids = stop_token_ids(tokenizer, spec.family)
        try:
            self.pad_id = pad_token_id(tokenizer, spec.family)
        except UserError:  # a fetched tokenizer without any of the family's pad tokens: any stop token pads as well
            self.pad_id = self.stop_ids[0]

    @property
    def family(self) -> Family:
        return self.spec.family

    def encode_prompt(self, dialogue: Dialogue) -> list[int]:
        ids, _ = encode_dialogue(
            self.loaded.tokenizer, self.family, dialogue, add_generation_prompt=True, settings=self.spec.settings
        )
        return ids

    def predict(
        self,
        dialogues: Sequence[Dialogue],
        *,
        on_text: TextCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Prediction]:
        prompts = [self.encode_prompt(d) for d in dialogues]
        # Longest first: rows of similar length share a batch, so little compute goes to padding.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
        raws: list[str] = [""] * len(prompts)
        generated = [0] * len(prompts)
        for start in range(0, len(order), self.generation.batch_size):
            if cancel is not None and cancel.is_set():
                break
            batch = order[start : start + self.generation.batch_size]
            streamer = (
                ReplyStreamer(self.loaded.tokenizer, self.family, self.stop_ids, on_text, batch, cancel)
                if on_text is not None
                else None
            )
            outputs = generate_ids(
                self.loaded.model,
                [prompts[i] for i in batch],
                pad_id=self.pad_id,
                stop_ids=self.stop_ids,
                max_new_tokens=self.generation.max_new_tokens,
                streamer=streamer,
                cancel=cancel,
            )
            for index, ids in zip(batch, outputs):
                raws[index] = self.loaded.tokenizer.decode(ids, skip_special_tokens=False)
                generated[index] = len(ids)
        if cancel is not None and cancel.is_set():  # stopped: keep only the reply text it streamed
            return [Prediction(stopped_turn(raw, self.family), raw, tokens) for raw, tokens in zip(raws, generated)]
        return [Prediction(parse_agent_turn(raw, self.family), raw, tokens) for raw, tokens in zip(raws, generated)]

    def signature(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "backend": self.name,
            "family": self.family.name,
            "method": spec.method,
            "base_model": spec.model,
            "gguf_file": spec.gguf_file,
            "adapter": str(spec.adapter) if spec.adapter else None,
            "adapter_sha256": adapter_sha256(spec.adapter) if spec.adapter else None,
            "template": self.family.template,
            "template_hash": template_hash(self.family, spec.settings),
            "record_style": spec.settings.record_style,
            "system_prompt": spec.settings.system is not None,
            "max_new_tokens": self.generation.max_new_tokens,
            "batch_size": self.generation.batch_size,
            "decoding": "greedy",
            "device": self.loaded.device,
            "dtype": self.loaded.dtype,
        }


def prompt_settings(family: Family, examples: int = PROMPT_EXAMPLES) -> RenderSettings:
    """The prompt-only layout: the family's record style plus the Chinese system prompt with a few training
    dialogues (the first that search, get records and reply — train split only, never dev or test)."""
    return RenderSettings(
        record_style=family.record_style,
        system=render_system_prompt([example_lines(d) for d in training_examples(examples)]),
    )


def training_examples(count: int) -> list[Dialogue]:
    def complete(dialogue: Dialogue) -> bool:
        roles = [t.role for t in dialogue[:4]]
        return roles == ["user", "search", "return", "assistant"] and bool(dialogue[2].records)

    chosen = itertools.islice((d[:4] for d in read_dialogues(data_path(TRAIN)) if complete(d)), count)
    return list(chosen)


def create_backend(
    family: str,
    method: str,
    *,
    model: str | None = None,
    adapter: str | None = None,
    gguf_file: str | None = None,
    max_new_tokens: int | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    trust_remote_code: bool = False,
) -> LLMBackend:
    spec_family = FAMILIES[family]
    settings = prompt_settings(spec_family) if method == "prompt" else None
    spec = resolve(
        spec_family,
        method,
        model=model,
        gguf_file=gguf_file,
        adapter=adapter,
        device=device,
        settings=settings,
        trust_remote_code=trust_remote_code,
    )
    generation = GenerationSettings(
        max_new_tokens=max_new_tokens or GenerationSettings.max_new_tokens,
        batch_size=batch_size or GenerationSettings.batch_size,
    )
    return LLMBackend(spec, load(spec), generation)


_DESCRIBE = {
    "prompt": "prompt-only {} (system prompt + examples, no fine-tuning)",
    "lora": "{} + LoRA adapter (its training precision on CUDA, fp32 on CPU)",
    "qlora": "{} in 4-bit NF4 + QLoRA adapter",
}
for _family, _method in itertools.product(FAMILIES, METHODS):
    register(
        f"{_method}-{_family}",
        functools.partial(create_backend, _family, _method),
        _DESCRIBE[_method].format(FAMILIES[_family].default_model),
    )
