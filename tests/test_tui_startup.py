"""The chat starts fast: nothing on the TUI path imports torch or transformers."""

from __future__ import annotations

import subprocess
import sys


def test_the_tui_never_imports_torch():
    code = (
        "import sys, agent.app.cli, agent.app.tui.app, backends.registry as r; r.available(); "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
