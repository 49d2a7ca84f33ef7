"""The transformers release the LLM code needs, checked before anything loads.

The course pinned transformers 4.44.2; a course user's environment satisfies an old `transformers>=4.x` and then
fails deep inside training. 5.2 is the first release with every argument used here (`dtype=`, a float
`warmup_steps`, `include_num_input_tokens_seen="non_padding"`, `train_sampling_strategy`); 5.6 is the oldest the
whole test suite passes with (docs/install.md, "Lowest versions"), so that is the floor we promise."""

from __future__ import annotations

import re
from importlib import metadata

from agent.core.errors import UserError

MINIMUM_TRANSFORMERS = (5, 6)
SUPPORTED_TRANSFORMERS = "transformers>=5.6,<6"  # as pyproject.toml's llm extra declares


def parse_version(text: str) -> tuple[int, ...]:
    """The leading numeric fields of a version string: "4.44.2" → (4, 44, 2), "5.2.0.dev0" → (5, 2, 0)."""
    numbers = []
    for part in text.split("."):
        match = re.match(r"\d+", part)
        if match is None:
            break
        numbers.append(int(match.group()))
        if match.group() != part:
            break
    return tuple(numbers)


def require_transformers(installed: str | None = None) -> None:
    """UserError naming the installed and the needed release when transformers is too old (or too new)."""
    if installed is None:
        try:
            installed = metadata.version("transformers")
        except metadata.PackageNotFoundError:
            raise UserError(
                f"transformers is not installed; pip install '{SUPPORTED_TRANSFORMERS}' (or hotel-agent[llm])"
            ) from None
    version = parse_version(installed)
    if version < MINIMUM_TRANSFORMERS or version >= (6,):
        raise UserError(
            f"transformers {installed} is installed but hotel-agent needs {SUPPORTED_TRANSFORMERS} "
            f"(the course pinned 4.44.2, which lacks arguments used here); pip install -U '{SUPPORTED_TRANSFORMERS}'"
        )
