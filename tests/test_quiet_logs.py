"""A LoRA load prints no bitsandbytes `kernels` warning: the one harmless message is filtered where it is
logged, and every other bitsandbytes message still shows."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backends.llm.quiet_logs import BITSANDBYTES_CPU_LOGGER, KERNELS_HINT, quiet_bitsandbytes

from tiny_models import save_tiny, tiny_model

REPO = Path(__file__).resolve().parents[1]


def test_the_kernels_hint_is_dropped_and_other_bitsandbytes_warnings_are_kept(caplog: pytest.LogCaptureFixture):
    quiet_bitsandbytes()
    quiet_bitsandbytes()  # idempotent: one filter
    logger = logging.getLogger(BITSANDBYTES_CPU_LOGGER)
    with caplog.at_level(logging.WARNING, logger=BITSANDBYTES_CPU_LOGGER):
        logger.warning(KERNELS_HINT + ": %s. Please make sure you already `pip install kernels`", "No module")
        logger.warning("some other bitsandbytes problem")
    assert [r.getMessage() for r in caplog.records] == ["some other bitsandbytes problem"]
    assert len(logger.filters) == 1


@pytest.mark.slow
def test_loading_a_lora_model_prints_no_kernels_warning(tmp_path: Path):
    pytest.importorskip("peft")
    from peft import LoraConfig, get_peft_model

    base = save_tiny("qwen2", tmp_path / "base")
    get_peft_model(tiny_model("qwen2"), LoraConfig(r=4, target_modules=["q_proj", "v_proj"])).save_pretrained(
        tmp_path / "adapter"
    )
    # A fresh interpreter: the message is logged once, when bitsandbytes is first imported (on CPUs with
    # AVX-512 BF16 and no `kernels` package, such as this project's machines).
    check = (
        "import sys; from backends.llm.loading import load, resolve; "
        f"load(resolve('qwen2', 'lora', model={str(base)!r}, adapter={str(tmp_path / 'adapter')!r}, device='cpu')); "
        "print('bitsandbytes' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "kernels" not in result.stderr, result.stderr
    # peft imported bitsandbytes (when installed) during the load: the filter was in place, not the import absent
    assert result.stdout.strip().splitlines()[-1] == str(_bitsandbytes_installed())


def _bitsandbytes_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("bitsandbytes") is not None
