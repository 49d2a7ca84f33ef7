"""Dialogue → token ids (and training labels), from the segments of `prompts.render_segments`.

Special segments become their one control-token id; text segments are tokenized as plain text with
`split_special_tokens=True`, so a special-token string inside user content (or in records, arguments, the
system prompt) stays characters. Training and inference both encode through here: the ids a model is
trained on are the ids it is served."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.core.errors import UserError
from agent.core.turns import Dialogue, Turn
from prompts import RenderSettings, Segment, render_segments
from prompts.families import Family, get_family

IGNORE_INDEX = -100  # labels outside trainable spans (PyTorch cross-entropy's ignore_index)


def special_token_id(tokenizer: Any, token: str) -> int:
    """The id of one control token; UserError when this tokenizer does not have it (wrong family)."""
    token_id = tokenizer.convert_tokens_to_ids(token)
    unk = getattr(tokenizer, "unk_token_id", None)
    if token_id is None or (unk is not None and token_id == unk and token != tokenizer.unk_token):
        name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
        raise UserError(f"tokenizer {name} has no special token {token!r}; does --model match the backend's family?")
    return int(token_id)


def encode_text(tokenizer: Any, text: str) -> list[int]:
    """Plain text → ids; control-token strings in `text` are split into ordinary tokens."""
    if not text:
        return []
    return list(tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])


def encode_segments(tokenizer: Any, segments: Sequence[Segment]) -> tuple[list[int], list[int]]:
    input_ids: list[int] = []
    labels: list[int] = []
    for text, trainable, kind in segments:
        ids = [special_token_id(tokenizer, text)] if kind == "special" else encode_text(tokenizer, text)
        input_ids.extend(ids)
        labels.extend(ids if trainable else [IGNORE_INDEX] * len(ids))
    return input_ids, labels


def encode_dialogue(
    tokenizer: Any,
    family: str | Family,
    dialogue: Dialogue | Sequence[Turn],
    *,
    add_generation_prompt: bool,
    settings: RenderSettings | None = None,
) -> tuple[list[int], list[int]]:
    """`(input_ids, labels)` of a dialogue; labels are IGNORE_INDEX (-100) outside model output.

    Training: the whole dialogue, `add_generation_prompt=False`. Inference: the context,
    `add_generation_prompt=True` (the generation prompt itself is never trained)."""
    segments = render_segments(
        get_family(family), dialogue, add_generation_prompt=add_generation_prompt, settings=settings
    )
    return encode_segments(tokenizer, segments)


def pad_token_id(tokenizer: Any, family: str | Family) -> int:
    """The id of the family's pad token, else of its first fallback this tokenizer has (Llama 3.0 lacks 3.1's
    <|finetune_right_pad_id|>). Padding is masked out of attention and loss, so the choice only has to exist."""
    spec = get_family(family)
    for token in spec.pad_candidates:
        try:
            return special_token_id(tokenizer, token)
        except UserError:
            continue
    raise UserError(
        f"the tokenizer has none of the {spec.name} pad tokens ({', '.join(spec.pad_candidates)}); "
        "does --model match the family?"
    )


def stop_token_ids(tokenizer: Any, family: str | Family) -> list[int]:
    """Ids of the family's stop tokens that this tokenizer has (a fetched model may lack a rare one)."""
    ids = []
    for token in get_family(family).stop_tokens:
        try:
            ids.append(special_token_id(tokenizer, token))
        except UserError:
            continue
    if not ids:
        raise UserError(
            f"the tokenizer has none of the {get_family(family).name} stop tokens; "
            "does --model match the backend's family?"
        )
    return ids
