"""The `served` backend: the model runs behind an OpenAI-compatible server (vLLM, llama.cpp, Ollama, a
provider's API) and this process only talks to it.

`--served-mode chat` (default) sends the dialogue as chat messages with our tools (`chat.py`); `--served-mode
template` sends the prompt our family template renders, as token ids (`template.py`). Both stream reply text
through `on_text`, stop within a fraction of a second when `cancel` is set (the connection is dropped, so the
server stops too), and retry 429 / 5xx / connection errors with exponential backoff as long as nothing has been
shown yet. Importing this module registers the name and imports nothing heavy."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from agent.core.errors import UserError
from agent.core.schema import TOOL_NAMES
from agent.core.turns import AgentTurn, AssistantTurn, Dialogue
from backends.base import Prediction, TextCallback
from backends.registry import register
from backends.served.chat import CHAT_SYSTEM_PROMPT, ChatStream, chat_payload
from backends.served.client import RetryPolicy, ServedClient, ServedError, url_warnings
from backends.served.template import (
    TEXT,
    TOKEN_IDS,
    CompletionStream,
    TemplatePrompts,
    accepts_token_ids,
    completion_payload,
    load_tokenizer,
    resolve_template,
)
from prompts.families import get_family

MODES = ("chat", "template")
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_MAX_TOKENS = 256
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_RETRIES = 3
# Chat mode reads plain-text calls in GLM-4's format (`search_hotels\n{...}`) unless --family names another.
DEFAULT_CHAT_FAMILY = "glm4"


class Stream(Protocol):
    """What a mode accumulates a response in (chat.ChatStream, template.CompletionStream)."""

    @property
    def tokens(self) -> int: ...

    def add(self, chunk: dict[str, Any]) -> str: ...

    def shown(self) -> str: ...

    def turn(self) -> tuple[AgentTurn, str]: ...


class ServedBackend:
    name = "served"

    def __init__(
        self,
        client: ServedClient,
        model: str,
        *,
        mode: str = "chat",
        family: str = DEFAULT_CHAT_FAMILY,
        template: TemplatePrompts | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        retry: RetryPolicy | None = None,
        api_key_env: str | None = None,
    ):
        if mode not in MODES:
            raise UserError(f"--served-mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "template" and template is None:
            raise ValueError("template mode needs its TemplatePrompts")
        self.client, self.model, self.mode = client, model, mode
        self.family = get_family(template.spec.family if template is not None else family)
        self.template = template
        self.max_tokens = max_tokens
        self.retry = retry or RetryPolicy()
        self.api_key_env = api_key_env  # the variable's name, only when a key was found in it

    def predict(
        self,
        dialogues: Sequence[Dialogue],
        *,
        on_text: TextCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Prediction]:
        """One request per dialogue, in order (evalharness --concurrency runs several predicts at once)."""
        predictions = []
        for index, dialogue in enumerate(dialogues):
            emit = (lambda text, i=index: on_text(i, text)) if on_text is not None else None
            predictions.append(self._predict_one(dialogue, emit, cancel))
        return predictions

    def _predict_one(
        self, dialogue: Dialogue, emit: Callable[[str], None] | None, cancel: threading.Event | None
    ) -> Prediction:
        shown: list[str] = []

        def show(text: str) -> None:
            shown.append(text)
            if emit is not None:
                emit(text)

        attempt = 0
        while True:
            if cancel is not None and cancel.is_set():
                return Prediction(AssistantTurn("".join(shown)), raw="".join(shown), tokens=0)
            try:
                return self._request(dialogue, show, cancel)
            except ServedError as e:
                # Once text is on the screen a retry would show it twice: only a silent failure is retried.
                if not e.retryable or shown or attempt >= self.retry.retries:
                    raise
                delay = self.retry.delay(attempt, e.retry_after)
                attempt += 1
                if cancel is not None:
                    cancel.wait(delay)
                else:
                    time.sleep(delay)

    def _request(self, dialogue: Dialogue, show: Callable[[str], None], cancel: threading.Event | None) -> Prediction:
        stream: Stream
        if self.template is not None:
            stream = CompletionStream(self.family)
            path, payload = "/completions", completion_payload(self.template, dialogue, self.model, self.max_tokens)
        else:
            stream = ChatStream(self.family.name)
            path, payload = "/chat/completions", chat_payload(dialogue, self.model, self.max_tokens)
        with self.client.stream(path, payload, cancel) as events:
            for chunk in events:
                text = stream.add(chunk)
                if text:
                    show(text)
            cancelled = events.cancelled
        if cancelled:
            # A stopped turn is never a call: a cut-off book_hotel must not book. What was shown stays.
            text = stream.shown()
            return Prediction(AssistantTurn(text), raw=text, tokens=stream.tokens)
        turn, raw = stream.turn()
        return Prediction(turn, raw=raw, tokens=stream.tokens)

    def signature(self) -> dict[str, Any]:
        signature: dict[str, Any] = {
            "backend": self.name,
            "mode": self.mode,
            "base_url": self.client.shown_url,
            "model": self.model,
            "max_new_tokens": self.max_tokens,
            "decoding": "greedy",
            "api_key_env": self.api_key_env,
        }
        if self.template is not None:
            signature.update(self.template.signature())
        else:
            signature.update(
                {
                    "parse_family": self.family.name,
                    "tools": list(TOOL_NAMES),
                    "system_prompt_sha256": hashlib.sha256(CHAT_SYSTEM_PROMPT.encode("utf-8")).hexdigest(),
                }
            )
        return signature


def create_served(
    *,
    base_url: str | None = None,
    model: str | None = None,
    served_mode: str | None = None,
    api_key_env: str | None = None,
    family: str | None = None,
    adapter: str | None = None,
    tokenizer: str | None = None,
    gguf_file: str | None = None,
    max_new_tokens: int | None = None,
    timeout: float | None = None,
    retries: int | None = None,
) -> ServedBackend:
    """Check the options, reach the server (one-line error when it is not there), pick the model it serves
    when --model is not given, and for template mode load the tokenizer and see whether token ids are taken."""
    mode = served_mode or "chat"
    if mode not in MODES:
        raise UserError(f"--served-mode must be one of {', '.join(MODES)}, got {mode!r}")
    if base_url is None:
        raise UserError("--backend served needs --base-url URL (e.g. http://127.0.0.1:8000/v1)")
    if mode == "chat":
        extra = [
            name for name, value in (("adapter", adapter), ("tokenizer", tokenizer), ("gguf-file", gguf_file)) if value
        ]
        if extra:
            raise UserError(f"--{extra[0]} applies to --served-mode template only")
    if max_new_tokens is not None and max_new_tokens < 1:
        raise UserError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
    if retries is not None and retries < 0:
        raise UserError(f"--retries must be 0 or more, got {retries}")
    variable = api_key_env or DEFAULT_API_KEY_ENV
    api_key = os.environ.get(variable) or None
    if api_key_env is not None and api_key is None:
        raise UserError(f"--api-key-env {api_key_env}: that environment variable is not set")

    client = ServedClient(base_url, api_key=api_key, timeout=timeout or DEFAULT_TIMEOUT_S)
    for warning in url_warnings(client.base_url):
        print(f"warning: {warning}", file=sys.stderr)
    listed = served_models(client)  # also tells at once when the server is not there
    model = model or only_model(client, listed)
    template = None
    if mode == "template":
        spec = resolve_template(family=family, adapter=adapter, tokenizer=tokenizer, gguf_file=gguf_file, model=model)
        transport = TOKEN_IDS if accepts_token_ids(client, model) else TEXT
        template = TemplatePrompts(spec, load_tokenizer(spec), transport)
    return ServedBackend(
        client,
        model,
        mode=mode,
        family=family or DEFAULT_CHAT_FAMILY,
        template=template,
        max_tokens=max_new_tokens or DEFAULT_MAX_TOKENS,
        retry=RetryPolicy(retries=DEFAULT_RETRIES if retries is None else retries),
        api_key_env=variable if api_key else None,
    )


def served_models(client: ServedClient) -> list[str] | None:
    """The model ids the server lists (GET /models), or None for a server without that endpoint."""
    try:
        listing = client.get_json("/models")
    except ServedError as e:
        if e.status in (404, 405):
            return None
        raise
    data = listing.get("data") if isinstance(listing, dict) else None
    return [m["id"] for m in data or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]


def only_model(client: ServedClient, ids: list[str] | None) -> str:
    """The one model the server lists; UserError naming them when there are several or none."""
    if ids is not None and len(ids) == 1:
        return ids[0]
    if not ids:
        raise UserError(f"the server at {client.shown_url} lists no models; pass --model NAME")
    shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
    raise UserError(f"the server at {client.shown_url} serves {len(ids)} models ({shown}); choose one with --model")


register(
    "served",
    create_served,
    "A model behind an OpenAI-compatible server (vLLM, llama.cpp, Ollama, an API): --base-url URL "
    "[--model NAME] [--served-mode chat|template]",
)
