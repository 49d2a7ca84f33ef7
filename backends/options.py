"""The command-line options that choose and configure a backend, shared by hotel-agent and evalharness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

# The served backend's (backends/served): where the server is and how to talk to it.
SERVED_OPTION_NAMES = ("base_url", "served_mode", "api_key_env", "family", "tokenizer", "timeout", "retries")
BACKEND_OPTION_NAMES = (
    "model",
    "adapter",
    "gguf_file",
    "max_new_tokens",
    "device",
    "trust_remote_code",
    *SERVED_OPTION_NAMES,
)


def backend_options(
    default_backend: str | None = "rules", *, harness_only: tuple[str, ...] = ()
) -> Callable[[Callable], Callable]:
    """The backend options as click decorators. `harness_only`: the registry's non-chat backends (gold,
    reply-only) a harness accepts too, named in --backend's help (passed in, so --help imports no backend)."""
    extra = f"; harness-only: {', '.join(harness_only)}" if harness_only else ""
    lister = "hotel-agent backends --all" if harness_only else "hotel-agent backends"

    def decorate(f: Callable) -> Callable:
        for option in reversed(
            [
                click.option(
                    "--backend",
                    "backend",
                    default=default_backend,
                    show_default=True,
                    required=default_backend is None,
                    help=f"Backend name (rules, prompt-<family>, lora-<family>, qlora-<family>{extra}); "
                    f"`{lister}` lists them with what each needs.",
                ),
                click.option("--model", default=None, help="Base model: a hub id or a local directory (LLM backends)."),
                click.option(
                    "--adapter",
                    default=None,
                    type=click.Path(),
                    help="LoRA adapter directory (default: ./adapters/<backend-name>, else the one shipped for it).",
                ),
                click.option(
                    "--gguf-file", default=None, help="Load the base model from this GGUF file in --model's directory."
                ),
                click.option(
                    "--max-new-tokens", default=None, type=int, help="Generation limit per turn (LLM backends)."
                ),
                click.option(
                    "--device", default=None, help="torch device, e.g. cuda:1 (default: cuda when available, else cpu)."
                ),
                click.option(
                    "--trust-remote-code",
                    is_flag=True,
                    default=None,  # absent: not passed on, so backends without models never see it
                    help="Run modeling code shipped with the checkpoint (glm-4-9b-chat; the -hf layout needs none).",
                ),
                *SERVED_OPTIONS,
            ]
        ):
            f = option(f)
        return f

    return decorate


def backend_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    """The backend options out of a click command's keyword arguments (None = backend default)."""
    return {k: options.get(k) for k in BACKEND_OPTION_NAMES if options.get(k) is not None}


SERVED_OPTIONS = [
    click.option("--base-url", default=None, help="served: the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1."),
    click.option(
        "--served-mode",
        type=click.Choice(["chat", "template"]),
        default=None,
        help="served: chat (/v1/chat/completions with our tools; default) or template (/v1/completions with our "
        "family template, as token ids).",
    ),
    click.option(
        "--api-key-env",
        default=None,
        metavar="VAR",
        help="served: environment variable holding the API key (default OPENAI_API_KEY); the key is never written.",
    ),
    click.option("--family", default=None, help="served: the model's family (template mode; chat: text-call format)."),
    click.option(
        "--tokenizer",
        default=None,
        help="served template mode: the model's tokenizer, a local dir or .gguf file or hub id (default: --model "
        "when it is a local path, else the family's).",
    ),
    click.option("--timeout", default=None, type=float, help="served: seconds to wait for the server (default 120)."),
    click.option(
        "--retries", default=None, type=int, help="served: retries on 429 / 5xx / connection errors (default 3)."
    ),
]
