"""Batched generation: left padding, KV cache, greedy by default, per-row stop at the family's stop tokens,
optional streaming of reply text and cancellation between decoding steps.

Streaming shows reply text only: ChatML and Llama-3 models write their own role first (`assistant\n...`,
`search\n{...}`), so nothing is passed on until the role is known to be `assistant` (`display_text`). A
cancelled generation ends after the decoding step under way, and leaves as its turn the reply text streamed so
far (`stopped_turn`), never a role fragment or half a search."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.core.turns import AssistantTurn
from backends.llm.parsing import display_text
from prompts.families import Family

TextCallback = Callable[[int, str], None]


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 256
    batch_size: int = 16


def generate_ids(
    model: Any,
    prompts: Sequence[Sequence[int]],
    *,
    pad_id: int,
    stop_ids: Sequence[int],
    max_new_tokens: int,
    streamer: Any = None,
    cancel: threading.Event | None = None,
    prefill: str = "auto",
) -> list[list[int]]:
    """New token ids per prompt (greedy), each cut after its first stop token. One `model.generate` call:
    prompts are left-padded so every row's last token sits at the same position and decoding steps run for
    the whole batch on one KV cache.

    `prefill`: "batch" runs the padded prompts through the model together; "rows" runs each prompt alone,
    a chunk at a time, and stacks the caches (`prefill_rows`); "auto" (default) picks rows on CPU and when a
    `cancel` event is given, batch elsewhere. On CPU a padded batch needs an explicit attention mask, which
    sends attention to the unfused kernel: about 3x the cost of the prompts run one by one (measured on the
    tiny models, 1 thread). With `cancel`, reading the prompt stops within a chunk and decoding within a step;
    a generation cancelled before its first token returns no tokens."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    width = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :] = torch.tensor(list(prompt), dtype=torch.long)
        attention_mask[row, width - len(prompt) :] = 1

    class Cancelled(StoppingCriteria):
        def __call__(self, ids, scores, **kwargs):  # checked after every decoding step
            stop = cancel is not None and cancel.is_set()
            return torch.full((ids.shape[0],), stop, dtype=torch.bool, device=ids.device)

    device = model.device
    nothing: list[list[int]] = [[] for _ in prompts]
    with torch.inference_mode():
        cache = None
        # A prompt-only prompt (~1,400 tokens for SmolLM2) takes seconds to read on a CPU: read in chunks, a
        # stop asked for meanwhile is honoured before the first token rather than after it.
        interactive = cancel is not None
        if prefill == "rows" or (prefill == "auto" and (interactive or (device.type == "cpu" and len(prompts) > 1))):
            cache = prefill_rows(model, prompts, width, cancel=cancel)
            if cache is None:
                return nothing
        extra = {_cache_argument(model): cache} if cache is not None else {}
        output = model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention_mask.to(device),
            **extra,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            use_cache=True,
            eos_token_id=list(stop_ids),
            pad_token_id=pad_id,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([Cancelled()]),
            temperature=None,
            top_p=None,
            top_k=None,
        )
    stops = set(stop_ids)
    results = []
    for row in output[:, width:].tolist():
        cut = next((i + 1 for i, token in enumerate(row) if token in stops), len(row))
        results.append(row[:cut])
    return results


def stopped_turn(raw: str, family: Family) -> AssistantTurn:
    """The turn a cancelled generation leaves: the reply text it had streamed (`display_text`, less a
    character cut in half), and nothing when it had not got past the role or was writing a search."""
    return AssistantTurn((display_text(raw, family) or "").rstrip("\ufffd"))


class ReplyStreamer:
    """A transformers streamer for a whole batch: decodes each row as it grows and passes on only reply
    text (no role, no markup, nothing of a search call), as `on_text(index, new_text)`. Once `cancel` is set
    the text stops at the last whole character, as `stopped_turn` does."""

    def __init__(
        self,
        tokenizer: Any,
        family: Family,
        stop_ids: Sequence[int],
        on_text: TextCallback,
        indices: Sequence[int],
        cancel: threading.Event | None = None,
    ):
        self.tokenizer, self.family, self.on_text, self.indices = tokenizer, family, on_text, list(indices)
        self.cancel = cancel
        self.stops = set(stop_ids)
        self.rows: list[list[int]] = [[] for _ in self.indices]
        self.done = [False] * len(self.indices)
        self.sent = [""] * len(self.indices)
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # generate() first hands over the prompt
            self._prompt_seen = True
            return
        tokens = value.reshape(len(self.rows), -1).tolist()
        for row, new in enumerate(tokens):
            if self.done[row]:
                continue
            for token in new:
                if token in self.stops:
                    self.done[row] = True
                    break
                self.rows[row].append(token)
            self._emit(row)

    def end(self) -> None:
        cancelled = self.cancel is not None and self.cancel.is_set()
        for row in range(len(self.rows)):
            self._emit(row, final=not cancelled)

    def _emit(self, row: int, final: bool = False) -> None:
        raw = self.tokenizer.decode(self.rows[row], skip_special_tokens=False)
        text = display_text(raw, self.family)
        if text is None:
            return
        if not final:
            text = text.rstrip("\ufffd")  # a character split across tokens: wait for the rest
        if text.startswith(self.sent[row]) and len(text) > len(self.sent[row]):
            self.on_text(self.indices[row], text[len(self.sent[row]) :])
            self.sent[row] = text


# Tokens of a prompt read per forward pass when prefilling row by row: a cancel is seen between chunks (the
# ~1,400-token prompt-only SmolLM2 prompt is 11 of them), and each chunk still fills the CPU's matmuls.
PREFILL_CHUNK = 128


def prefill_rows(
    model: Any,
    prompts: Sequence[Sequence[int]],
    width: int,
    *,
    cancel: threading.Event | None = None,
    chunk: int = PREFILL_CHUNK,
) -> Any:
    """The KV cache of every prompt but its last token, each computed alone (no padding, so the fused causal
    attention kernel), left-padded with zeros to `width - 1` and stacked into one batch cache. generate()
    then feeds only the last token of each row: positions come from the attention mask, as in the row's
    own run, so the result equals prefilling the padded batch. Each prompt is read `chunk` tokens at a time
    onto its own cache; None when `cancel` is set before the last chunk."""
    import torch
    import torch.nn.functional as F
    from transformers import DynamicCache

    argument = _cache_argument(model)
    layers: list[tuple[list[Any], list[Any]]] = []
    for prompt in prompts:
        context = list(prompt[:-1])
        past: Any = None
        for start in range(0, len(context), chunk):
            if cancel is not None and cancel.is_set():
                return None
            ids = torch.tensor([context[start : start + chunk]], dtype=torch.long, device=model.device)
            earlier: dict[str, Any] = {argument: past} if past is not None else {}
            output = model(input_ids=ids, use_cache=True, logits_to_keep=1, **earlier)
            past = getattr(output, "cache", None) or output.past_key_values
        pad = width - len(prompt)
        for index, layer in enumerate(past.layers):
            if index == len(layers):
                layers.append(([], []))
            layers[index][0].append(F.pad(layer.keys, (0, 0, pad, 0)))
            layers[index][1].append(F.pad(layer.values, (0, 0, pad, 0)))
    return DynamicCache(ddp_cache_data=[(torch.cat(keys), torch.cat(values)) for keys, values in layers])


def _cache_argument(model: Any) -> str:
    """transformers 5.2x renamed `past_key_values` to `cache`; older 5.x (and 4.x) only know the old name."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
