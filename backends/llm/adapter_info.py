"""`hotel_agent.json`, written by finetune next to every adapter: what the adapter was trained with.

The LoRA/QLoRA backends read it to serve the adapter with the same family, template and record layout, and
refuse an adapter whose family or template hash does not match (a silent mismatch would only show up as
bad scores)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent.core.errors import UserError
from prompts.families import RECORD_STYLES

ADAPTER_INFO_FILE = "hotel_agent.json"
TRAINED_PRECISIONS = ("bf16", "fp16", "fp32")


@dataclass(frozen=True)
class AdapterInfo:
    family: str  # a key of prompts.families.FAMILIES
    base_model: str  # hub id or path the adapter was trained on
    method: str  # "lora" or "qlora"
    template_hash: str  # prompts.template_hash(family, settings) at training time
    record_style: str  # one of RECORD_STYLES (prompts.RenderSettings.record_style)
    # "bf16", "fp16" or "fp32": what the adapter was trained in, and so what the backend serves it in on CUDA
    # (None: not recorded, an adapter from before it was; the backend then picks as for a new model)
    precision: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # anything else finetune records (hyperparameters...)


def write_adapter_info(directory: str | Path, info: AdapterInfo) -> Path:
    path = Path(directory) / ADAPTER_INFO_FILE
    path.write_text(json.dumps(asdict(info), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def read_adapter_info(directory: str | Path) -> AdapterInfo | None:
    """The adapter's info, or None when the directory has no hotel_agent.json (an adapter from elsewhere)."""
    path = Path(directory) / ADAPTER_INFO_FILE
    if not path.is_file():
        return None
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(obj, dict):
        raise UserError(f"{path}: must be a JSON object")
    missing = [k for k in ("family", "base_model", "method", "template_hash", "record_style") if k not in obj]
    if missing:
        raise UserError(f"{path}: missing field(s) {', '.join(missing)}")
    if obj["record_style"] not in RECORD_STYLES:
        raise UserError(f"{path}: record_style must be one of {', '.join(RECORD_STYLES)}, got {obj['record_style']!r}")
    precision = obj.get("precision")
    if precision is not None and precision not in TRAINED_PRECISIONS:
        raise UserError(f"{path}: precision must be one of {', '.join(TRAINED_PRECISIONS)}, got {precision!r}")
    return AdapterInfo(
        family=obj["family"],
        base_model=obj["base_model"],
        method=obj["method"],
        template_hash=obj["template_hash"],
        record_style=obj["record_style"],
        precision=precision,
        extra=obj.get("extra", {}),
    )
