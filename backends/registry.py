"""Backend names → factories. `--backend NAME` is resolved here and nowhere else.

A factory takes keyword options (model, adapter, gguf_file, max_new_tokens, ...) and returns a Backend;
factories import heavy libraries (torch) lazily so the rules backend starts fast."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.core.errors import UserError
from backends.base import Backend


@dataclass(frozen=True)
class BackendEntry:
    name: str
    factory: Callable[..., Backend]
    description: str
    chat: bool = True  # offered in the chat (False: harness-only, e.g. `gold`)


_REGISTRY: dict[str, BackendEntry] = {}


def register(name: str, factory: Callable[..., Backend], description: str, *, chat: bool = True) -> None:
    _REGISTRY[name] = BackendEntry(name, factory, description, chat)


def available(*, chat_only: bool = False) -> list[BackendEntry]:
    _load_builtin()
    return [e for e in sorted(_REGISTRY.values(), key=lambda e: e.name) if e.chat or not chat_only]


def create(name: str, *, chat_only: bool = False, **options: Any) -> Backend:
    """Build the backend called `name`; options that are None are left to the backend's defaults."""
    _load_builtin()
    entry = _REGISTRY.get(name)
    if entry is None or (chat_only and not entry.chat):
        names = ", ".join(e.name for e in available(chat_only=chat_only))
        raise UserError(f"unknown backend {name!r}; choose one of: {names}")
    given = {k: v for k, v in options.items() if v is not None}
    unknown = _unaccepted(entry.factory, given)
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise UserError(f"{flags} does not apply to --backend {name}")
    return entry.factory(**given)


def _unaccepted(factory: Callable[..., Backend], options: dict[str, Any]) -> list[str]:
    """Options the factory has no parameter for (none when it takes **options and checks them itself)."""
    import inspect

    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return []
    return [k for k in options if k not in parameters]


_loaded = False


def _load_builtin() -> None:
    """Import the modules that register the built-in backends (each registers itself on import)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for module in BUILTIN_MODULES:
        importlib.import_module(module)


# Each module calls `register(...)` at import time and must not import torch at module level.
BUILTIN_MODULES: list[str] = [
    "backends.gold",
    "backends.reply_only",
    "backends.rules.backend",
    "backends.llm.backend",
    "backends.served.backend",
]
