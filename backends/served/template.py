"""Template mode: `/v1/completions` with the prompt our family template renders, for our fine-tuned custom-role
models (vLLM serves the base model plus our LoRA adapter) or a base model with the prompt-only system prompt.

The prompt is tokenized here, with the model's own tokenizer, exactly as the in-process backends and training
encode it (`backends.llm.encoding.encode_dialogue`), and sent as TOKEN IDS: the server never re-tokenizes it, so
text typed by a user can never become a control token. A server that refuses token ids (llama-cpp-python's
server takes only text; vLLM, llama.cpp's llama-server and the OpenAI API take ids) gets the rendered text, with
every control-token string inside the text segments defused (`messages.defuse`): the template's own markup stays
control tokens, a user's does not. Which transport a run used is in its signature."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.errors import UserError
from agent.core.turns import AgentTurn, Dialogue
from backends.llm.adapter_info import read_adapter_info
from backends.llm.encoding import encode_segments, stop_token_ids
from backends.llm.loading import LoadSpec, adapter_sha256, require_local_or_reachable, resolve
from backends.llm.parsing import display_text, parse_agent_turn
from backends.served.client import ServedClient, ServedError
from backends.served.messages import defuse
from prompts import RenderSettings, Segment, render_segments, template_hash
from prompts.families import FAMILIES, Family, get_family

TOKEN_IDS, TEXT = "token-ids", "text"


@dataclass(frozen=True)
class TemplateSpec:
    """Which template, layout and tokenizer: resolved (and the adapter's template hash checked) before anything
    is loaded or sent."""

    load: LoadSpec  # family, settings, adapter, and where the tokenizer comes from (model / gguf_file)

    @property
    def family(self) -> Family:
        return self.load.family

    @property
    def settings(self) -> RenderSettings:
        return self.load.settings


def resolve_template(
    *,
    family: str | None,
    adapter: str | None,
    tokenizer: str | None,
    gguf_file: str | None,
    model: str | None,
) -> TemplateSpec:
    """Family from --family or the adapter's metadata; layout from the adapter (prompt-only without one);
    tokenizer from --tokenizer, else --model when it is a local directory or .gguf file (llama.cpp names its
    model by path), else the adapter's base model or the family's default (the fetched GGUF for smollm2)."""
    info = read_adapter_info(Path(adapter)) if adapter is not None and Path(adapter).is_dir() else None
    name = family or (info.family if info is not None else None)
    if name is None:
        raise UserError(
            f"--served-mode template needs --family ({', '.join(FAMILIES)}) or --adapter DIR of one of ours"
        )
    spec_family = get_family(name)
    source, gguf = _tokenizer_source(tokenizer, gguf_file, model)
    if adapter is not None:
        method = info.method if info is not None else "lora"
        return TemplateSpec(resolve(spec_family, method, model=source, gguf_file=gguf, adapter=adapter))
    from backends.llm.backend import prompt_settings  # the prompt-only layout: system prompt + train examples

    settings = prompt_settings(spec_family)
    return TemplateSpec(resolve(spec_family, "prompt", model=source, gguf_file=gguf, settings=settings))


def _tokenizer_source(tokenizer: str | None, gguf_file: str | None, model: str | None) -> tuple[str | None, str | None]:
    for candidate in (tokenizer, model):
        if candidate is None:
            continue
        path = Path(candidate).expanduser()
        if path.is_file() and path.suffix == ".gguf":
            return str(path.parent), path.name
        if path.is_dir() or candidate is tokenizer:
            return str(path) if path.exists() else candidate, gguf_file
    return None, gguf_file


def load_tokenizer(spec: TemplateSpec) -> Any:
    """The model's tokenizer, from a local directory, a GGUF file or the Hugging Face cache (no weights)."""
    from transformers import AutoTokenizer

    load = spec.load
    require_local_or_reachable(load)
    extra: dict[str, Any] = {"gguf_file": load.gguf_file} if load.gguf_file else {}
    try:
        return AutoTokenizer.from_pretrained(load.model, **extra)
    except (OSError, ValueError) as e:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise UserError(
            f"cannot load the tokenizer of {load.model!r} ({reason}); pass --tokenizer with a local directory "
            f"or .gguf file of the served model"
        ) from None


class TemplatePrompts:
    """Dialogue → the `prompt` of a completion request, in either transport."""

    def __init__(self, spec: TemplateSpec, tokenizer: Any, transport: str = TOKEN_IDS):
        self.spec, self.tokenizer, self.transport = spec, tokenizer, transport
        self._special = _special_tokens(tokenizer, spec.family)
        self.stop_ids = stop_token_ids(tokenizer, spec.family)

    def segments(self, dialogue: Dialogue) -> list[Segment]:
        return render_segments(self.spec.family, dialogue, add_generation_prompt=True, settings=self.spec.settings)

    def token_ids(self, dialogue: Dialogue) -> list[int]:
        return encode_segments(self.tokenizer, self.segments(dialogue))[0]

    def text(self, dialogue: Dialogue) -> str:
        """The rendered prompt for a server that tokenizes it itself: control tokens only where the template put
        them; a leading BOS left out when the server's tokenizer adds its own."""
        segments = self.segments(dialogue)
        if segments and segments[0].kind == "special" and segments[0].text == self._auto_bos():
            segments = segments[1:]
        return "".join(s.text if s.kind == "special" else defuse(s.text, self._special) for s in segments)

    def prompt(self, dialogue: Dialogue) -> list[int] | str:
        return self.token_ids(dialogue) if self.transport == TOKEN_IDS else self.text(dialogue)

    def _auto_bos(self) -> str | None:
        bos, bos_id = getattr(self.tokenizer, "bos_token", None), getattr(self.tokenizer, "bos_token_id", None)
        if bos is None or bos_id is None:
            return None
        ids = self.tokenizer("a")["input_ids"]
        return bos if ids and ids[0] == bos_id else None

    def signature(self) -> dict[str, Any]:
        load = self.spec.load
        return {
            "family": load.family.name,
            "method": load.method,
            "template": load.family.template,
            "template_hash": template_hash(load.family, load.settings),
            "record_style": load.settings.record_style,
            "system_prompt": load.settings.system is not None,
            "adapter": str(load.adapter) if load.adapter else None,
            "adapter_sha256": adapter_sha256(load.adapter) if load.adapter else None,
            "tokenizer": load.model,
            "gguf_file": load.gguf_file,
            "prompt_transport": self.transport,
        }


def completion_payload(prompts: TemplatePrompts, dialogue: Dialogue, model: str, max_tokens: int) -> dict[str, Any]:
    family = prompts.spec.family
    return {
        "model": model,
        "prompt": prompts.prompt(dialogue),
        "temperature": 0,
        "max_tokens": max_tokens,
        "stop": list(family.stop_tokens),
        "stop_token_ids": prompts.stop_ids,  # vLLM: stop on the family's stop tokens, not only the model's EOS
        # vLLM: keep the role markup the model writes (Llama-3's `search<|end_header_id|>`), our parser reads it
        "skip_special_tokens": False,
        "stream_options": {"include_usage": True},
    }


def accepts_token_ids(client: ServedClient, model: str) -> bool:
    """Whether the server takes a list of token ids as the prompt: one 1-token completion with ids, and when that
    is refused, one with text. Servers refuse the ids in their own way (vLLM would not; llama-cpp-python answers
    500 with a validation error), so the text probe decides: if text fails too, the ids' error is reported."""
    try:
        client.post_json("/completions", {"model": model, "prompt": [0], "max_tokens": 1, "temperature": 0})
        return True
    except ServedError as ids_error:
        if ids_error.status is None:  # no answer at all (down, timed out): nothing to learn from a second try
            raise
        try:
            client.post_json("/completions", {"model": model, "prompt": "a", "max_tokens": 1, "temperature": 0})
        except ServedError:
            raise ids_error from None
        return False


def _special_tokens(tokenizer: Any, family: Family) -> tuple[str, ...]:
    tokens = set(family.special_tokens) | set(getattr(tokenizer, "all_special_tokens", ()) or ())
    for added in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(added, "special", False):
            tokens.add(added.content)
    return tuple(sorted(t for t in tokens if t))


class CompletionStream:
    """Accumulates the chunks of one streamed text completion."""

    def __init__(self, family: Family):
        self.family = family
        self.text: list[str] = []
        self.chunks = 0
        self.usage_tokens: int | None = None
        self._shown = 0

    def add(self, chunk: dict[str, Any]) -> str:
        """Take one chunk; returns the reply text that may now be shown ("" while it may still be a call)."""
        usage = chunk.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            self.usage_tokens = usage["completion_tokens"]
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            raise ServedError(f"the server sent 'choices' of type {type(choices).__name__}, not a list")
        for choice in choices[:1]:
            if not isinstance(choice, dict):
                raise ServedError("the server sent a choice that is not a JSON object")
            text = choice.get("text")
            if isinstance(text, str) and text:
                self.text.append(text)
                self.chunks += 1
        shown = display_text("".join(self.text), self.family) or ""
        new, self._shown = shown[self._shown :], max(self._shown, len(shown))
        return new

    @property
    def tokens(self) -> int:
        return self.usage_tokens if self.usage_tokens is not None else self.chunks

    def turn(self) -> tuple[AgentTurn, str]:
        raw = "".join(self.text)
        return parse_agent_turn(raw, self.family), raw

    def shown(self) -> str:
        return display_text("".join(self.text), self.family) or ""
