"""Checkpoints that ship their own modeling code (`trust_remote_code`), decided from config.json before loading.

transformers runs such code only when asked; otherwise it prompts on a terminal, or raises a ValueError without
one. Here the decision is an explicit flag, `--trust-remote-code`, on `finetune run` and on the LLM backends:
without it, a checkpoint that needs its own code is a one-line error naming the flag (and, where the family table
knows one, the layout that runs on transformers' own code), before any weights are read."""

from __future__ import annotations

from typing import Any

from agent.core.errors import UserError
from prompts.families import Family

FLAG = "--trust-remote-code"


def read_model_config(model: str, gguf_file: str | None = None) -> dict[str, Any] | None:
    """The checkpoint's config.json as a dict, read without running any of its code; None when it cannot be read
    here (a GGUF file, a hub id out of reach: the model loader then reports the problem itself)."""
    if gguf_file:
        return None  # GGUF files carry no modeling code
    try:
        from transformers import PretrainedConfig

        config, _ = PretrainedConfig.get_config_dict(model)
    except (OSError, ValueError):
        return None
    return config or None


def needs_remote_code(config: dict[str, Any]) -> bool:
    """Whether loading the checkpoint means running its own code: config.json maps auto classes to files in the
    checkpoint (`auto_map`) and transformers has no built-in class for its `model_type`."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return bool(config.get("auto_map")) and config.get("model_type") not in CONFIG_MAPPING_NAMES


def remote_code_message(model: str, model_type: str | None, family: Family | None = None) -> str:
    """One line: which checkpoint needs its own code, the flag that allows it, and an alternative if one is known."""
    alternative = ""
    if family is not None:
        native = [layout.example for layout in family.layouts if not layout.remote_code and layout.example]
        if native:
            alternative = f", or use the {native[0]} layout, which runs on transformers' own code"
    kind = f" (config.json model_type {model_type!r})" if model_type else ""
    return f"{model} needs its own modeling code{kind}; pass {FLAG} to run it{alternative}"


def check_remote_code(
    model: str, config: dict[str, Any] | None, trust_remote_code: bool, family: Family | None = None
) -> None:
    """UserError when `config` (from `read_model_config`) needs remote code and `trust_remote_code` is off."""
    if config is not None and not trust_remote_code and needs_remote_code(config):
        raise UserError(remote_code_message(model, config.get("model_type"), family))


def is_remote_code_refusal(error: BaseException) -> bool:
    """transformers' own refusal (a ValueError asking for `trust_remote_code=True`), for the cases config.json alone
    did not reveal (a tokenizer with custom code, say)."""
    return isinstance(error, ValueError) and "trust_remote_code" in str(error)
