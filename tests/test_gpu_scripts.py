"""The GPU scripts run only where a GPU is lent; here they must at least parse (bash -n), so a session with a
15-minute device slot does not spend it on a syntax error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.mark.parametrize("script", ["gpu_check.sh", "gpu_smollm2.sh", "gpu_bundle.sh", "_python.sh"])
def test_a_gpu_script_parses(script):
    result = subprocess.run(["bash", "-n", str(SCRIPTS / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
