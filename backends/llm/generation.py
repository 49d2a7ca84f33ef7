"""Batched generation: left padding, KV cache, greedy by default, per-row stop at the family's stop tokens,
optional streaming of reply text and cancellation between decoding steps."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from backends.llm.families import Family
from backends.llm.parsing import display_text

TextCallback = Callable[[int, str], None]


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 256
    batch_size: int = 16


def generate_ids(model: Any, prompts: Sequence[Sequence[int]], *, pad_id: int, stop_ids: Sequence[int],
                 max_new_tokens: int, streamer: Any = None, cancel: threading.Event | None = None
                 ) -> list[list[int]]:
    """New token ids per prompt (greedy), each cut after its first stop token. One `model.generate` call:
    prompts are left-padded so every row's last token sits at the same position and the KV cache is shared."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    width = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt):] = torch.tensor(list(prompt), dtype=torch.long)
        attention_mask[row, width - len(prompt):] = 1

    class Cancelled(StoppingCriteria):
        def __call__(self, ids, scores, **kwargs):  # checked after every decoding step
            stop = cancel is not None and cancel.is_set()
            return torch.full((ids.shape[0],), stop, dtype=torch.bool, device=ids.device)

    device = model.device
    with torch.inference_mode():
        output = model.generate(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device),
                                max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, use_cache=True,
                                eos_token_id=list(stop_ids), pad_token_id=pad_id, streamer=streamer,
                                stopping_criteria=StoppingCriteriaList([Cancelled()]),
                                temperature=None, top_p=None, top_k=None)
    stops = set(stop_ids)
    results = []
    for row in output[:, width:].tolist():
        cut = next((i + 1 for i, token in enumerate(row) if token in stops), len(row))
        results.append(row[:cut])
    return results


class ReplyStreamer:
    """A transformers streamer for a whole batch: decodes each row as it grows and passes on only reply
    text (no role, no markup, nothing of a search call), as `on_text(index, new_text)`."""

    def __init__(self, tokenizer: Any, family: Family, stop_ids: Sequence[int], on_text: TextCallback,
                 indices: Sequence[int]):
        self.tokenizer, self.family, self.on_text, self.indices = tokenizer, family, on_text, list(indices)
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
        for row in range(len(self.rows)):
            self._emit(row, final=True)

    def _emit(self, row: int, final: bool = False) -> None:
        raw = self.tokenizer.decode(self.rows[row], skip_special_tokens=False)
        text = display_text(raw, self.family)
        if text is None:
            return
        if not final:
            text = text.rstrip("\ufffd")  # a character split across tokens: wait for the rest
        if text.startswith(self.sent[row]) and len(text) > len(self.sent[row]):
            self.on_text(self.indices[row], text[len(self.sent[row]):])
            self.sent[row] = text
