"""The one reader of `log_history.json`, the Trainer's log that `finetune run` saves next to each adapter."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.core.errors import UserError

HISTORY = "log_history.json"


def read_history(run_dir: str | Path) -> list[dict[str, Any]]:
    """A run's log entries; a UserError naming the file when it is missing or not a list of objects."""
    path = Path(run_dir) / HISTORY
    try:
        history = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise UserError(f"{run_dir}: no {HISTORY} (not a finished `finetune run` output directory?)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = f":{e.lineno}" if isinstance(e, json.JSONDecodeError) else ""
        raise UserError(f"{path}{where}: not JSON ({getattr(e, 'msg', e)})") from None
    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise UserError(f"{path}: expected a list of log entries")
    return history


def tokens_seen(history: Sequence[dict[str, Any]]) -> int | None:
    """The Trainer's last count of input tokens (None when it did not count them)."""
    seen = [e["num_input_tokens_seen"] for e in history if isinstance(e.get("num_input_tokens_seen"), int)]
    return seen[-1] if seen else None
